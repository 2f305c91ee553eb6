"""Inputs: compression by magic bytes, zip members, folders, stdin, unreadable paths."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import zipfile

import pytest
import zstandard
from conftest import fixture, one, run_cli

import askscope

DATA = open(fixture("x-v2", "streaming_output_with_error.jsonl"), "rb").read()


@pytest.mark.parametrize(
    "name, compress",
    [
        ("plain.jsonl", lambda b: b),
        ("gz.jsonl.gz", gzip.compress),
        ("bz.jsonl.bz2", bz2.compress),
        ("xz.jsonl.xz", lzma.compress),
        ("zst.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b)),
        ("misnamed.jsonl", gzip.compress),  # gzip content with a plain name: recognised by magic
    ],
)
def test_compressed_inputs_give_the_same_result(tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(compress(DATA))
    result = askscope.ingest(str(tmp_path / "s.duckdb"), [str(path)], workers=0)
    t = result.totals
    assert (t.read, t.new, t.rejected) == (8, 7, 1)
    with askscope.open_store(str(tmp_path / "s.duckdb")) as store:
        # the truncated last line is still reported at its line
        assert one(store, "SELECT source_line FROM rejects") == 8


def test_zip_members_are_inputs_of_their_own(tmp_path):
    archive = tmp_path / "collection.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a/streaming.jsonl", DATA)
        z.writestr("b/two.jsonl", open(fixture("x-v2", "two_tweets.jsonl"), "rb").read())
        z.writestr("__MACOSX/", b"")
    result = askscope.ingest(str(tmp_path / "s.duckdb"), [str(archive)], workers=0)
    assert [f.source_file.rsplit(":", 1)[1] for f in result.files] == ["a/streaming.jsonl", "b/two.jsonl"]
    assert result.totals.new == 8


def test_stdin_via_the_cli(tmp_path):
    db = str(tmp_path / "s.duckdb")
    proc = run_cli("ingest", db, "-", "--json", input=gzip.compress(DATA))
    assert proc.returncode == 0, proc.stderr
    import json

    out = json.loads(proc.stdout)
    assert (out["read"], out["new"], out["rejected"]) == (8, 7, 1)
    assert out["files"][0]["source_file"] == "<stdin>"


def test_folder_is_expanded_sorted_and_hidden_files_skipped(tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.jsonl").write_bytes(DATA)
    (folder / "sub" / "a.jsonl").write_bytes(open(fixture("x-v2", "two_tweets.jsonl"), "rb").read())
    (folder / ".hidden.jsonl").write_bytes(b"garbage")
    (folder / "notes.txt").write_text("not posts at all\n")
    result = askscope.ingest(str(tmp_path / "s.duckdb"), [str(folder)], workers=0)
    read = [f for f in result.files if f.format != "unknown"]
    assert [os.path.basename(f.source_file) for f in read] == ["b.jsonl", "a.jsonl"]
    # the one rule for unrecognised inputs: a file-level reject, the others read
    assert [os.path.basename(name) for name, _ in result.skipped] == ["notes.txt"]
    (unknown,) = [f for f in result.files if f.format == "unknown"]
    assert (unknown.counts.read, unknown.counts.rejected) == (1, 1) and result.reconciles


def test_missing_and_unreadable_paths(tmp_path):
    with pytest.raises(askscope.InputError, match="no such file"):
        askscope.ingest(str(tmp_path / "s.duckdb"), [str(tmp_path / "missing.jsonl")])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(askscope.InputError, match="holds no files"):
        askscope.ingest(str(tmp_path / "s.duckdb"), [str(empty)])
    # nothing was written: the inputs are checked before the store is touched
    assert not (tmp_path / "s.duckdb").exists()


def test_empty_file_is_a_file_level_reject_or_with_strict_an_error(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    result = askscope.ingest(str(tmp_path / "s.duckdb"), [str(path)])
    assert len(result.skipped) == 1 and "is empty" in result.skipped[0][1]
    with askscope.open_store(str(tmp_path / "s.duckdb")) as store:
        assert store.con.execute("SELECT source_line, reason FROM rejects").fetchall() == [(0, "unknown_format")]
    with pytest.raises(askscope.UnknownFormatError, match="is empty"):
        askscope.ingest(str(tmp_path / "t.duckdb"), [str(path)], strict=True)


def test_damaged_gzip_keeps_the_readable_part_and_says_so(tmp_path):
    lines = DATA.splitlines(keepends=True)[:7] * 40  # 280 good lines
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(lines))[:-300])
    db = str(tmp_path / "s.duckdb")
    proc = run_cli("ingest", db, str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"Warning: {path}: the compressed data is damaged or cut short")
    import json

    out = json.loads(proc.stdout)
    assert out["reconciles"] and out["new"] == 7 and out["rejected"] >= 1
    with askscope.open_store(db) as store:
        reasons = [r for (r,) in store.con.execute("SELECT reason FROM rejects").fetchall()]
        assert "truncated_input" in reasons
    strict = run_cli("ingest", str(tmp_path / "t.duckdb"), str(path), "--strict")
    assert strict.returncode == 1
    assert strict.stderr.startswith("Error: ") and "Traceback" not in strict.stderr
