"""CSV reader: twarc2 csv output (written by twarc-csv 0.7.2 from the real v2 fixtures) and a
generic export read through --map."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import fixture, one, post, rows, run_cli

import askscope
from askscope.readers.csv import parse_map


def ingest(store_path: str, *paths: str, **kw) -> askscope.IngestResult:
    return askscope.ingest(store_path, list(paths), workers=0, **kw)


def test_twarc_csv_columns(store_path):
    result = ingest(store_path, fixture("csv", "mentions_tweet.csv"))
    assert result.files[0].format == "csv"
    assert (result.totals.read, result.totals.new, result.totals.rejected) == (1, 1, 0)
    with askscope.open_store(store_path) as store:
        p = post(store, "1589681856941002753")
        assert p["kind"] == "repost" and p["reposted_id"] == "1589671906718134272"
        assert p["author_id"] == "68401342" and p["author_handle"] == "BaldManGamer"
        # twarc-csv merged the original's text into the retweet row and escaped its newlines
        assert "minutes old 😉)\n\nFan of: \n@Xbox" in p["text"]
        assert p["hashtags"] == ["Xbox", "PlayStation", "gaming"]
        assert p["mentions"][:3] == ["S3NT1N3L17", "Xbox", "masseffect"]  # the reposted account first
        assert p["observed_at"] == datetime(2023, 1, 5, 17, 34, 4, tzinfo=UTC)
        assert p["created_at"] == datetime(2022, 11, 7, 18, 11, 4, tzinfo=UTC)
        assert one(store, "SELECT handle FROM accounts WHERE id = '68401342'") == "BaldManGamer"


def test_twarc_csv_and_json_agree(tmp_path):
    a, b = str(tmp_path / "json.duckdb"), str(tmp_path / "csv.duckdb")
    ingest(a, fixture("x-v2", "two_tweets.jsonl"), fixture("x-v2", "mentions_tweet.jsonl"))
    ingest(b, fixture("csv", "two_tweets.csv"), fixture("csv", "mentions_tweet.csv"))
    query = (
        "SELECT id, kind, text, author_id, author_handle, reposted_id, hashtags, mentions, created_at, "
        "repost_count, observed_at FROM posts WHERE NOT is_context ORDER BY id"
    )
    with askscope.open_store(a) as sa, askscope.open_store(b) as sb:
        assert rows(sa, query) == rows(sb, query)
        # Known difference: twarc-csv gives a retweet row its original's metrics (6 likes);
        # the API gives the retweet object 0 likes.
        assert post(sa, "1589681856941002753")["like_count"] == 0
        assert post(sb, "1589681856941002753")["like_count"] == 6


def test_generic_export_with_map_and_bad_rows(store_path):
    mapping = parse_map(
        [
            "Tweet ID=id",
            "Posted=created_at",
            "User=author_handle",
            "Tweet Body=text",
            "Likes=like_count",
            "Reply To=in_reply_to_id",
        ]
    )
    result = ingest(store_path, fixture("csv", "export.csv"), mapping=mapping)
    t = result.totals
    assert (t.read, t.new, t.rejected) == (7, 3, 4)
    with askscope.open_store(store_path) as store:
        first = post(store, "1001")
        assert first["hashtags"] == ["AskHamas"]  # taken from the text: no hashtag column
        assert first["like_count"] == 12 and first["author_handle"] == "alice"
        reply = post(store, "1002")
        assert reply["kind"] == "reply" and reply["in_reply_to_id"] == "1001"
        assert reply["text"] == "Line one\nline two of a quoted, multi-line text"
        assert reply["created_at"] == datetime(2015, 3, 13, 14, 6, tzinfo=UTC)
        assert post(store, "1003")["created_at"] == datetime(2015, 3, 13, 14, 7, tzinfo=UTC)
        # the multi-line row starts on line 3, so the next rows are on lines 5..
        assert rows(store, "SELECT source_line, reason FROM rejects ORDER BY source_line") == [
            (6, "invalid_value"),
            (7, "missing_field"),
            (8, "invalid_csv"),
            (9, "invalid_value"),
        ]


def test_generic_export_without_map_is_an_error_naming_the_fix(store_path):
    # a file-level reject whose reason names the fix; with --strict, the error itself
    result = ingest(store_path, fixture("csv", "export.csv"))
    assert len(result.skipped) == 1 and "--map" in result.skipped[0][1]
    with pytest.raises(askscope.UnknownFormatError) as info:
        askscope.ingest(store_path + ".strict", [fixture("csv", "export.csv")], strict=True)
    assert "--map" in (info.value.hint or "")


@pytest.mark.parametrize(
    "spec, message",
    [
        ("Tweet ID", "is not of the form COLUMN=FIELD"),
        ("Tweet ID=identifier", "unknown post field 'identifier'"),
        ("x=account.colour", "unknown account field 'colour'"),
    ],
)
def test_bad_map_specs(spec, message):
    with pytest.raises(askscope.UsageError, match=message):
        parse_map([spec])


def test_map_on_the_command_line(tmp_path):
    db = str(tmp_path / "c.duckdb")
    proc = run_cli(
        "ingest",
        db,
        fixture("csv", "export.csv"),
        "--map",
        "Tweet ID=id",
        "--map",
        "Tweet Body=text",
        "--map",
        "Posted=created_at",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    bad = run_cli("ingest", db, fixture("csv", "export.csv"), "--map", "Tweet ID")
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: --map 'Tweet ID' is not of the form COLUMN=FIELD")
