"""The real command line: exact exit codes, messages and outputs."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest
from conftest import fixture, run_cli

from askscope.readers import format_names
from askscope.store import schema

FILES = [
    fixture("x-v2", "two_tweets.jsonl"),
    fixture("x-v2", "streaming_output_with_error.jsonl"),
    fixture("x-v1", "search_tweets.json"),
]


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "c.duckdb")
    proc = run_cli("ingest", path, *FILES)
    assert proc.returncode == 0, proc.stderr
    return path


BUILTIN_FORMATS = ("cassette", "mastodon", "bluesky", "reddit", "x-v2", "x-v1", "csv")


def test_ingest_prints_the_reconciliation(tmp_path):
    path = str(tmp_path / "c.duckdb")
    proc = run_cli("ingest", path, *FILES)
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0] == f"{FILES[0]} [x-v2]: read 1 = new 1 + updated 0 + unchanged 0 + rejected 0"
    assert lines[1] == f"{FILES[1]} [x-v2]: read 8 = new 7 + updated 0 + unchanged 0 + rejected 1"
    assert lines[2] == f"{FILES[2]} [x-v1]: read 15 = new 15 + updated 0 + unchanged 0 + rejected 0"
    assert lines[3].startswith("Total: read 24 = new 23 + updated 0 + unchanged 0 + rejected 1 (")
    assert "SELECT * FROM rejects" in proc.stderr
    again = run_cli("ingest", path, *FILES, "--json")
    out = json.loads(again.stdout)
    # the same files again: the 23 stored records are read again, unchanged
    assert (out["read"], out["new"], out["updated"], out["unchanged"], out["rejected"]) == (24, 0, 0, 23, 1)
    assert out["reconciles"] is True
    assert [f["format"] for f in out["files"]] == ["x-v2", "x-v2", "x-v1"]


def test_strict_stops_at_the_first_bad_record_with_its_location(tmp_path):
    path = str(tmp_path / "c.duckdb")
    proc = run_cli("ingest", path, FILES[1], "--strict")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == (f"Error: {FILES[1]}:8: invalid_json: Input data was truncated")
    assert proc.stderr.splitlines()[1].startswith("Hint: ")
    # the seven good lines before it are stored
    out = run_cli("sql", path, "SELECT count(*) AS n FROM posts WHERE NOT is_context", "--json")
    assert json.loads(out.stdout) == [{"n": 7}]
    status = run_cli("sql", path, "SELECT status FROM ingests", "--csv")
    assert status.stdout == "status\nfailed\n"


def test_unknown_format_names_the_formats_tried(tmp_path):
    unknown = fixture("x-v2", "tweets_compliance.jsonl")
    proc = run_cli("ingest", str(tmp_path / "c.duckdb"), unknown)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-2] == (
        f"Error: 1 input(s) not recognised, the others ingested: {unknown}: unrecognised format "
        f"(tried {', '.join(format_names())})"
    )
    assert "tried cassette, mastodon, bluesky, reddit" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("Hint: askscope formats")
    assert proc.stdout.splitlines()[0] == f"{unknown} [unknown]: read 1 = new 0 + updated 0 + unchanged 0 + rejected 1"


def test_one_rule_for_unrecognised_inputs_named_or_in_a_folder(tmp_path):
    # An unrecognised file is a file-level reject (line 0, the formats tried) whether it is named
    # or found in a folder; the other inputs are ingested; the command exits 1 with a summary.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "notes.txt").write_text("not posts at all\n")
    named = tmp_path / "readme.md"
    named.write_text("# also not posts\n")
    db = str(tmp_path / "c.duckdb")
    proc = run_cli("ingest", db, str(named), FILES[0], str(folder), "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert (out["read"], out["new"], out["rejected"]) == (3, 1, 2) and out["reconciles"]
    assert "2 input(s) not recognised, the others ingested" in proc.stderr
    stored = run_cli("sql", db, "SELECT source_file, source_line, reason FROM rejects ORDER BY 1", "--csv")
    assert stored.stdout.splitlines()[1:] == [f"{folder / 'notes.txt'},0,unknown_format", f"{named},0,unknown_format"]
    # the same inputs again: nothing doubles (the new runs supersede the old)
    assert run_cli("ingest", db, str(named), FILES[0], str(folder)).returncode == 1
    again = run_cli("sql", db, "SELECT count(*) AS n FROM rejects", "--csv")
    assert again.stdout == "n\n2\n"
    # reparse replays what it can and keeps the file-level rejects
    assert run_cli("reparse", db).returncode == 0
    assert run_cli("sql", db, "SELECT count(*) AS n FROM rejects", "--csv").stdout == "n\n2\n"
    # --strict stops at once, before anything is written
    strict = run_cli("ingest", str(tmp_path / "s.duckdb"), FILES[0], str(named), "--strict")
    assert strict.returncode == 1 and strict.stderr.startswith(f"Error: {named}: unrecognised format")
    assert not (tmp_path / "s.duckdb").exists()


def test_an_input_whose_every_record_is_rejected_exits_1_with_the_reason(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,created_at\n1,hello,yesterday\n2,hi,tomorrow\n")
    proc = run_cli("ingest", str(tmp_path / "c.duckdb"), str(bad))
    assert proc.returncode == 1
    assert "  2 rejected as invalid_value, e.g. created_at is not a v1.1 date: " in proc.stderr
    assert f"Error: every record of {bad} was rejected (invalid_value: created_at is not a v1.1 date: " in proc.stderr


def test_missing_input_file(tmp_path):
    proc = run_cli("ingest", str(tmp_path / "c.duckdb"), str(tmp_path / "nope.jsonl"))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: no such file: {tmp_path / 'nope.jsonl'}\nHint: ")


def test_info_text_and_json(db):
    proc = run_cli("info", db)
    assert proc.returncode == 0
    text = proc.stdout
    assert "Posts: " in text and "matched" in text
    assert "Rejects: 1\n  invalid_json" in text
    data = json.loads(run_cli("info", db, "--json").stdout)
    assert data["posts"]["matches"] == 23
    assert data["rejects"] == {"total": 1, "by_reason": [{"reason": "invalid_json", "records": 1}]}
    kinds = {(r["platform"], r["kind"]): r["posts"] for r in data["by_platform_kind"]}
    assert sum(kinds.values()) == 23
    assert data["time_range"]["first"] < data["time_range"]["last"]
    # deterministic
    assert run_cli("info", db, "--json").stdout == run_cli("info", db, "--json").stdout


def test_sql_outputs(db):
    query = (
        "SELECT id, kind, hashtags FROM posts WHERE id IN ('1394735776701816833', '1149698684646563840') ORDER BY id"
    )
    table = run_cli("sql", db, query)
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "kind", "hashtags"]
    assert lines[2].split()[0:2] == ["1149698684646563840", "post"]
    assert lines[-1] == "(2 rows)"
    as_json = json.loads(run_cli("sql", db, query, "--json").stdout)
    assert as_json[1] == {"id": "1394735776701816833", "kind": "repost", "hashtags": ["POIUYTREWQ"]}
    as_csv = list(csv.reader(io.StringIO(run_cli("sql", db, query, "--csv").stdout)))
    assert as_csv[0] == ["id", "kind", "hashtags"]
    assert as_csv[2] == ["1394735776701816833", "repost", '["POIUYTREWQ"]']
    param = run_cli("sql", db, "SELECT count(*) AS n FROM posts WHERE kind = ?", "-p", "repost", "--json")
    assert json.loads(param.stdout)[0]["n"] > 0


def test_sql_is_read_only_and_errors_are_clean(db):
    write = run_cli("sql", db, "DELETE FROM posts")
    assert write.returncode == 1
    assert write.stderr.startswith("Error: query failed: ")
    assert "read-only" in write.stderr
    bad = run_cli("sql", db, "SELEC nonsense")
    assert bad.returncode == 1 and bad.stderr.startswith("Error: query failed: Parser Error")
    missing = run_cli("sql", db, "SELECT * FROM nope")
    assert missing.returncode == 1 and "Hint: the tables are listed by" in missing.stderr
    both = run_cli("sql", db, "SELECT 1", "--json", "--csv")
    assert both.returncode == 1 and both.stderr.startswith("Error: --json and --csv exclude each other")
    assert run_cli("sql", db, "SELECT count(*) FROM posts", "--json").returncode == 0


def test_reparse(db):
    before = run_cli("sql", db, "SELECT * FROM posts ORDER BY id", "--json").stdout
    proc = run_cli("reparse", db, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["posts_before"] == out["posts_after"]
    assert out["read"] == out["new"] + out["updated"] + out["rejected"] == 24
    assert run_cli("sql", db, "SELECT * FROM posts ORDER BY id", "--json").stdout == before


def test_store_errors(tmp_path, db):
    missing = run_cli("info", str(tmp_path / "nope.duckdb"))
    assert missing.returncode == 1 and missing.stderr.startswith(f"Error: no store at {tmp_path / 'nope.duckdb'}")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    foreign = run_cli("info", str(notes))
    assert foreign.returncode == 1 and foreign.stderr.startswith(f"Error: {notes} is not a DuckDB file")
    con = duckdb.connect(db)
    con.execute("UPDATE meta SET schema_version = ?", [schema.SCHEMA_VERSION + 5])
    con.close()
    newer = run_cli("info", db)
    assert newer.returncode == 1
    assert "newer than this askscope" in newer.stderr.splitlines()[0]
    assert newer.stderr.splitlines()[1] == "Hint: upgrade askscope: pip install --upgrade askscope"


def test_store_in_use_by_another_process(db):
    con = duckdb.connect(db)  # a writer holds the lock
    try:
        proc = run_cli("ingest", db, FILES[0])
        assert proc.returncode == 1
        assert proc.stderr.startswith(f"Error: {db} is in use by another process")
    finally:
        con.close()


def test_usage_errors_exit_1_with_a_hint(tmp_path):
    proc = run_cli("ingest", str(tmp_path / "c.duckdb"))
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == "Error: Missing argument 'PATHS...'."
    assert proc.stderr.splitlines()[1] == "Hint: see: askscope ingest --help"
    unknown = run_cli("frobnicate")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error: No such command 'frobnicate'.")
    bad_option = run_cli("ingest", str(tmp_path / "c.duckdb"), FILES[0], "--format", "nope")
    assert bad_option.returncode == 1 and "Invalid value for '--format'" in bad_option.stderr


def test_help_and_version():
    top = run_cli("--help")
    assert top.returncode == 0 and "Commands:" in top.stdout
    assert run_cli().returncode == 0
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("askscope, version ")
    formats = run_cli("formats")
    # askscope's own readers in sniffing order (an installed plugin's reader, e.g. the example
    # Telegram plugin in CI, comes in between at its sniff_order)
    listed = [line.split()[0] for line in formats.stdout.splitlines()]
    assert [name for name in listed if name in BUILTIN_FORMATS] == list(BUILTIN_FORMATS)
    assert listed == format_names()


def test_a_failing_store_is_a_clean_error_and_a_rerun_completes(tmp_path, monkeypatch):
    """DuckDB out of memory mid-ingest (a real 1 MB limit): Error and hint, exit 1, no traceback;
    the same command afterwards gives what a clean run gives."""
    path = str(tmp_path / "c.duckdb")
    monkeypatch.setenv("ASKSCOPE_INGEST_MEMORY", "1MB")
    proc = run_cli("ingest", path, *FILES)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: the campaign store ran out of memory: Out of Memory Error"), proc.stderr
    assert "Traceback" not in proc.stderr and "Hint: " in proc.stderr
    monkeypatch.setenv("ASKSCOPE_INGEST_MEMORY", "banana")
    bad = run_cli("ingest", path, *FILES)
    assert bad.returncode == 1
    assert bad.stderr.splitlines()[0] == "Error: ASKSCOPE_INGEST_MEMORY='banana' is not a memory size"
    monkeypatch.delenv("ASKSCOPE_INGEST_MEMORY")
    again = run_cli("ingest", path, *FILES, "--json")
    assert again.returncode == 0, again.stderr
    clean = str(tmp_path / "clean.duckdb")
    assert run_cli("ingest", clean, *FILES).returncode == 0
    query = "SELECT platform, id, is_context, text FROM posts ORDER BY ALL"
    assert run_cli("sql", path, query, "--json").stdout == run_cli("sql", clean, query, "--json").stdout
