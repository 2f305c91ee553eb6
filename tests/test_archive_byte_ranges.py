"""One large JSON-lines file parsed as byte ranges on Dask (``archive/dask_ingest.py``,
``ingestion/parsing.range_batches``): the ranges give the very batches one pass over the file
gives, with the same line numbers, and the archive is the embedded store's."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, shared

from askscope.archive.dask_ingest import byte_ranges, hash_file, scan_range
from askscope.ingestion.inputs import OpenedInput
from askscope.ingestion.parsing import BLOCK_BYTES, range_batches, read_batches
from askscope.ingestion.plan import plan_inputs
from askscope.readers.records import HEAD_BYTES

T0 = datetime(2015, 3, 13, 12, 0, tzinfo=UTC)
OPTIONS = {"mapping": {}, "platform": None, "max_record_bytes": 64 << 20, "date_order": None, "date_format": None}


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC twarc2 file (real texts from ../shared/data) of about 40 MB, over four 8 MiB
    blocks, with a bad line every 5 pages of 100 posts (rejects with line numbers in every range)."""
    from askscope.synthetic.twarc2 import load_texts, write_twarc2

    folder = tmp_path_factory.mktemp("big")
    plain = folder / "pages.jsonl"
    write_twarc2(plain, 14_000, load_texts(shared(), limit=4000), seed=3, start=T0)
    lines = plain.read_bytes().splitlines(keepends=True)
    out = folder / "big.jsonl"
    with out.open("wb") as handle:
        for n, line in enumerate(lines):
            if n % 5 == 2:
                handle.write(b'{"data": [{"id": "1", "text": \n')
            handle.write(line)
    plain.unlink()
    return out


def _plan(path: Path):  # type: ignore[no-untyped-def]
    plans, _ = plan_inputs([str(path)], None, OPTIONS, strict=False)
    return plans[0]


def test_the_ranges_give_the_batches_of_one_pass(big_file: Path) -> None:
    plan = _plan(big_file)
    size = big_file.stat().st_size
    assert size > 4 * BLOCK_BYTES
    ranges = byte_ranges(plan, BLOCK_BYTES)
    assert ranges is not None and len(ranges) >= 4
    data = big_file.read_bytes()
    # each range starts after a newline, the last newline before a multiple of 8 MiB; they tile the file
    assert ranges[0][0] == 0 and ranges[-1][1] == size
    assert all(a == d for (_, a), (d, _) in zip(ranges, ranges[1:]))
    for start, _ in ranges[1:]:
        multiple = -(-start // BLOCK_BYTES) * BLOCK_BYTES
        assert data[start - 1 : start] == b"\n" and b"\n" not in data[start:multiple]
    with OpenedInput(plan.source, HEAD_BYTES) as opened:
        whole = list(read_batches(plan, opened, T0, workers=0, strict=False))
    scanned = [scan_range(str(big_file), a, b) for a, b in ranges]
    assert sum(s["lines"] for s in scanned) == data.count(b"\n")
    assert max(s["longest"] for s in scanned) == max(len(line) for line in data.split(b"\n")) + 1
    parts, first = [], 1
    for (a, b), s in zip(ranges, scanned):
        parts += list(range_batches(plan, a, b, first, T0))
        first += s["lines"]
    assert len(parts) == len(whole) >= 5
    for x, y in zip(parts, whole):
        assert (x.raw_first_line, x.raw_last_line, x.raw_records) == (y.raw_first_line, y.raw_last_line, y.raw_records)
        assert x.raw_block == y.raw_block
        assert x.matches.equals(y.matches) and x.context.equals(y.context) and x.rejects.equals(y.rejects)
    assert sum(b.rejects.num_rows for b in whole) == data.count(b'{"data": [{"id": "1", "text": \n')
    assert hash_file(str(big_file)) == (hashlib.sha256(data).hexdigest(), size)


def test_a_file_of_one_range_or_compressed_is_not_cut(big_file: Path, tmp_path: Path) -> None:
    assert byte_ranges(_plan(big_file), 64 * BLOCK_BYTES) is None  # one range
    small = shared("fixtures", "x-v2", "brexit.jsonl")
    assert byte_ranges(_plan(small), BLOCK_BYTES) is None


def test_a_line_over_the_record_limit_is_seen_by_the_scan(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b'{"b": "' + b"x" * 5000 + b'"}\n' + b'{"c": 3}')
    size = path.stat().st_size
    # the long line: 7 bytes of {"b": ", 5,000 x, 2 bytes of "}, its newline
    assert scan_range(str(path), 0, size) == {"lines": 2, "longest": 7 + 5000 + 2 + 1}
    # from the middle: lines counted from the range's start, the last line without its newline
    start = 9
    assert scan_range(str(path), start, size)["lines"] == 1


def test_dask_ingests_byte_ranges_as_the_embedded_store(
    big_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, archive = tmp_path / "embedded.duckdb", tmp_path / "archive"
    proc = run_cli("ingest", str(store), str(big_file), "--json")
    assert proc.returncode == 0, proc.stderr
    embedded = json.loads(proc.stdout)
    monkeypatch.setenv("ASKSCOPE_RANGE_MIB", "8")
    proc = run_cli("ingest", str(archive), str(big_file), "--dask", "local:2", "--json")
    assert proc.returncode == 0, proc.stderr
    ranges = byte_ranges(_plan(big_file), BLOCK_BYTES)
    assert ranges is not None
    assert "1 inputs parsed on" in proc.stderr and f"in {len(ranges)} task(s)" in proc.stderr
    dask = json.loads(proc.stdout)
    leave = ("seconds",)
    assert [{k: v for k, v in f.items() if k not in leave} for f in dask["files"]] == [
        {k: v for k, v in f.items() if k not in leave} for f in embedded["files"]
    ]
    assert embedded["files"][0]["rejected"] == 28  # 140 pages, a bad line before every fifth
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    for table, glob in (
        ("posts", "posts/**/*.parquet"),
        ("rejects", "rejects/*.parquet"),
        ("raw", "raw/*.parquet"),
        ("accounts", "accounts/*.parquet"),
    ):
        names = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'e' AND table_name = ? "
                "ORDER BY column_index",
                [table],
            ).fetchall()
        ]
        columns = ", ".join(f'"{n}"' for n in names)
        a = f"SELECT {columns} FROM e.{table}"
        b = f"SELECT {columns} FROM read_parquet('{archive / glob}', hive_partitioning = false)"
        for x, y in ((a, b), (b, a)):
            assert con.execute(f"SELECT count(*) FROM ({x} EXCEPT ALL {y})").fetchall()[0][0] == 0, table
    # the ingest log keeps the file's digest, so a re-ingest of the same content supersedes the run
    sha = con.execute(f"SELECT sha256, bytes FROM read_parquet('{archive}/ingests/*.parquet')").fetchall()
    assert sha == [(hashlib.sha256(big_file.read_bytes()).hexdigest(), big_file.stat().st_size)]
    monkeypatch.setenv("ASKSCOPE_RANGE_MIB", "12")
    proc = run_cli("ingest", str(tmp_path / "none"), str(big_file), "--dask", "local:1")
    assert proc.returncode == 1 and "ASKSCOPE_RANGE_MIB='12' is not a whole multiple of 8" in proc.stderr
