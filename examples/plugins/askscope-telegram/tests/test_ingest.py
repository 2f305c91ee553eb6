"""The plugin through the real ``askscope`` command: discovery, ingest of the recorded export
(values read by hand from tests/data/teknologi-umum-gcp-ingress.json), broken inputs, reparse."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import CHAT, EXPORT, rows, run_cli

TEXT = EXPORT.read_text(encoding="utf-8")


def start_line(message_id: int) -> int:
    """The line where a message's object opens: the line before its ``"id": N,`` line (the
    export puts ``{`` alone on a line and ``id`` first), found by text search."""
    return TEXT[: TEXT.index(f'"id": {message_id},')].count("\n")


def counts(stdout: str) -> tuple[int, ...]:
    """(read, new, updated, rejected) from an ingest's first line ``read R = new N + updated U
    [+ unchanged C] + rejected J``, checking that it reconciles; posts seen again unchanged count
    as updated here (askscope may report them apart)."""
    line = stdout.splitlines()[0]
    parts = {key: int(value) for key, value in re.findall(r"(read|new|updated|unchanged|rejected) (\d+)", line)}
    assert {"read", "new", "updated", "rejected"} <= set(parts), stdout
    assert parts["read"] == parts["new"] + parts["updated"] + parts.get("unchanged", 0) + parts["rejected"]
    return parts["read"], parts["new"], parts["updated"] + parts.get("unchanged", 0), parts["rejected"]


def test_plugins_lists_the_plugin_with_its_reader_lens_and_section() -> None:
    result = run_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    mine = [row for row in json.loads(result.stdout) if row["distribution"] == "askscope-telegram"]
    assert len(mine) == 1
    assert mine[0]["module"] == "askscope_telegram.plugin"
    assert mine[0]["builtin"] is False
    assert mine[0]["adds"] == {"readers": ["telegram"], "lenses": ["telegram"], "report sections": ["telegram"]}


def test_formats_lists_telegram() -> None:
    result = run_cli("formats")
    assert result.returncode == 0, result.stderr
    assert "telegram Telegram Desktop JSON export of a channel or group (result.json)" in result.stdout.splitlines()


def test_ingest_of_the_recorded_export(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    result = run_cli("ingest", str(db), str(EXPORT))
    assert result.returncode == 0, result.stderr
    # 38 elements in "messages", every one "type": "message" (no service message in this export)
    assert counts(result.stdout) == (38, 38, 0, 0)
    assert rows(db, "SELECT count(*) FROM rejects") == [(0,)]
    first = rows(
        db,
        "SELECT author_id, created_at, kind, in_reply_to_id, conversation_id, text, mentions, media_count, "
        "source_line FROM posts WHERE platform = 'telegram' AND id = ?",
        [f"{CHAT}:269046"],
    )
    # message 269046: from_id user522266589, date_unixtime 1676702143 (= 2023-02-18 06:35:43 UTC;
    # its "date" 13:35:43 is the exporter's local time, UTC+7), no reply_to_message_id, text =
    # the mention entity "@zasdaym" + " pak, di gcp ...", opening on line 6 (lines 1-5: "{",
    # name, type, id, "messages": [)
    assert first == [
        (
            "user522266589",
            datetime(2023, 2, 18, 6, 35, 43, tzinfo=UTC),
            "post",
            None,
            f"{CHAT}:269046",
            "@zasdaym pak, di gcp Ingress disable backend service gimana ya",
            ["zasdaym"],
            0,
            6,
        )
    ]
    # 269062 replies to 269047 and has a photo; date_unixtime 1676704287 = 07:11:27 UTC
    assert rows(
        db,
        "SELECT kind, in_reply_to_id, media_count, created_at, source_line FROM posts WHERE id = ?",
        [f"{CHAT}:269062"],
    ) == [("reply", f"{CHAT}:269047", 1, datetime(2023, 2, 18, 7, 11, 27, tzinfo=UTC), start_line(269062))]
    # 270195: a reply to 270188 whose text has one "link" entity; 270216: a link and no reply
    assert rows(db, "SELECT in_reply_to_id, urls FROM posts WHERE id = ?", [f"{CHAT}:270195"]) == [
        (f"{CHAT}:270188", ["https://github.com/kubernetes/ingress-nginx"])
    ]
    assert rows(db, "SELECT kind, urls FROM posts WHERE id = ?", [f"{CHAT}:270216"]) == [
        ("post", ["https://cloud.google.com/run/"])
    ]
    # 270188: text parts joined (a plain string, a "pre" block, a string, a "pre" block)
    (text,) = rows(db, "SELECT text FROM posts WHERE id = ?", [f"{CHAT}:270188"])[0]
    assert text.startswith("enggak ada pak, service nya gini doang\n\napiVersion: v1\nkind: Service\n")
    assert text.endswith("utk ingressnya begini\n" + text.split("utk ingressnya begini\n")[1])
    assert text.endswith("status:\n  loadBalancer: {}")
    # Counted by hand in the file: 18 messages carry reply_to_message_id, 5 a photo; authors
    # user522266589 (Muhammad Nasrul) 12 messages, user311785123 (Zasda Yusuf Mikail) 11,
    # user230072954 (Jason Wihardja) 15
    assert rows(
        db, "SELECT count(*) FILTER (WHERE kind = 'reply'), count(*) FILTER (WHERE media_count > 0) FROM posts"
    ) == [(18, 5)]
    assert rows(db, "SELECT author_id, count(*) FROM posts GROUP BY 1 ORDER BY 1") == [
        ("user230072954", 15),
        ("user311785123", 11),
        ("user522266589", 12),
    ]
    assert rows(db, "SELECT id, handle, name FROM accounts ORDER BY id") == [
        ("user230072954", None, "Jason Wihardja"),
        ("user311785123", None, "Zasda Yusuf Mikail"),
        ("user522266589", None, "Muhammad Nasrul"),
    ]
    # every post's line is where its message opens in the file
    lines = rows(db, "SELECT id, source_line FROM posts")
    assert all(line == start_line(int(pid.split(":")[1])) for pid, line in lines)
    again = run_cli("ingest", str(db), str(EXPORT))
    assert counts(again.stdout) == (38, 0, 38, 0)  # the same posts seen again: nothing new
    assert rows(db, "SELECT count(*) FROM posts") == [(38,)]


def _without_id(text: str) -> str:
    return text.replace('\t\t\t"id": 269048,\n', "", 1)


def _as_service(text: str) -> str:
    head, rest = text.split('"id": 269048,', 1)
    return (
        head + '"id": 269048,' + rest.replace('"type": "message",', '"type": "service",\n"action": "pin_message",', 1)
    )


def _bad_time(text: str) -> str:
    return text.replace('"date_unixtime": "1676702184"', '"date_unixtime": "yesterday"', 1)


def _number_element(text: str) -> str:
    return text.replace('"messages": [\n', '"messages": [\n\t\t42,\n', 1)


def _truncated(text: str) -> str:
    return text[: text.index("udah request quota")]


# (name, how the recorded export is broken, read, new, rejected, reason, line of the reject, why);
# every row is sniffed as Telegram except the last, which the strict sniff refuses (its first
# message is no object) and which is read with --format telegram
BROKEN = [
    # cut inside message 269048 (the third): the two complete messages are kept, the rest is one reject
    ("truncated", _truncated, 3, 2, 1, "invalid_json", start_line(269048), "Input data was truncated"),
    # message 269048 without its "id" line: 37 stored, that one missing_field where it opens
    ("no-id", _without_id, 38, 37, 1, "missing_field", start_line(269048), "without an id"),
    # message 269048 turned into a service message (a pin): not a post
    ("service", _as_service, 38, 37, 1, "not_a_post", start_line(269048), "pin_message"),
    # date_unixtime that is no number
    ("bad-time", _bad_time, 38, 37, 1, "invalid_value", start_line(269048), "'yesterday'"),
    # --format telegram: a number among the messages is its own record on line 6, not a post
    ("number", _number_element, 39, 38, 1, "not_a_post", 6, "JSON object"),
]


@pytest.mark.parametrize(("name", "breaking", "read", "new", "rejected", "reason", "line", "detail"), BROKEN)
def test_broken_inputs_are_rejects_with_file_line_and_reason(
    tmp_path: Path, name: str, breaking, read: int, new: int, rejected: int, reason: str, line: int, detail: str
) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(breaking(TEXT), encoding="utf-8")
    db = tmp_path / "t.duckdb"
    forced = ["--format", "telegram"] if name == "number" else []
    result = run_cli("ingest", str(db), path.name, *forced, cwd=str(tmp_path))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert counts(result.stdout) == (read, new, 0, rejected)
    found = rows(db, "SELECT source_file, source_line, reason, detail FROM rejects")
    assert [(f, ln, r) for f, ln, r, _ in found] == [(f"{name}.json", line, reason)]
    assert detail in found[0][3]


def test_reparse_rebuilds_the_same_posts_from_the_stored_raw_records(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    assert run_cli("ingest", str(db), str(EXPORT)).returncode == 0
    query = "SELECT id, author_id, created_at, in_reply_to_id, text, source_line FROM posts ORDER BY id"
    before = rows(db, query)
    result = run_cli("reparse", str(db))
    assert result.returncode == 0, result.stderr
    # the chat id is not in any message: reparse gets it back from what the reader kept
    assert rows(db, query) == before
    assert all(pid.startswith(f"{CHAT}:") for pid, *_ in before)


def test_an_export_without_unix_times_reads_the_local_date_as_utc(tmp_path: Path) -> None:
    # Telegram Desktop before 3.x wrote only "date" (the exporting computer's local time)
    old = re.sub(r'\t+"date_unixtime": "\d+",\n', "", TEXT)
    old = re.sub(r'\t+"edited_unixtime": "\d+",\n', "", old)
    assert "unixtime" not in old
    path = tmp_path / "old.json"
    path.write_text(old, encoding="utf-8")
    db = tmp_path / "t.duckdb"
    assert counts(run_cli("ingest", str(db), str(path)).stdout) == (38, 38, 0, 0)
    # 269046: "date": "2023-02-18T13:35:43", taken as UTC (7 hours after its real time)
    assert rows(db, "SELECT created_at FROM posts WHERE id = ?", [f"{CHAT}:269046"]) == [
        (datetime(2023, 2, 18, 13, 35, 43, tzinfo=UTC),)
    ]


def test_a_minified_export_on_one_line(tmp_path: Path) -> None:
    # the same export written without indentation: one line, so askscope sees "JSON lines";
    # the reader still cuts the document into its 38 messages, all on line 1
    path = tmp_path / "min.json"
    path.write_text(json.dumps(json.loads(TEXT), ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "t.duckdb"
    result = run_cli("ingest", str(db), str(path))
    assert result.returncode == 0, result.stderr
    assert counts(result.stdout) == (38, 38, 0, 0)
    assert rows(db, "SELECT DISTINCT source_line FROM posts") == [(1,)]
    assert rows(db, "SELECT text FROM posts WHERE id = ?", [f"{CHAT}:270220"]) == [
        ("But still, limitnya tuh gede, kayak berapa ratus gitu",)
    ]


def test_an_export_over_the_record_size_limit_is_one_reject(tmp_path: Path) -> None:
    # the export is one JSON document of 21,332 bytes: over a 10 KB limit it is not read at all
    db = tmp_path / "t.duckdb"
    result = run_cli("ingest", str(db), str(EXPORT), "--max-record-size", "10KB")
    assert "Traceback" not in result.stderr
    assert result.returncode == 1 and "Error: every record of" in result.stderr
    assert counts(result.stdout) == (1, 0, 0, 1)
    assert rows(db, "SELECT source_line, reason FROM rejects") == [(1, "record_too_large")]
