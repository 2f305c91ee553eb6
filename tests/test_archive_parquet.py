"""The archive form: ``askscope export DB --parquet DIR`` and ``askscope import DIR DB`` round trip
a real analysed store (the bundled demo: real X v1.1 posts, the bundled classifiers, every stage)
table for table, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import fixture, run_cli

from askscope.demo import run_demo


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    return Path(run_demo(folder)["store"])


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
        "ORDER BY table_name, column_index",
        [database],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def test_export_then_import_gives_every_table_identical(demo_store: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    copy = tmp_path / "copy.duckdb"
    proc = run_cli("export", str(demo_store), "--parquet", str(archive), "--json")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(proc.stdout)
    assert manifest == json.loads((archive / "manifest.json").read_text())
    proc = run_cli("import", str(archive), str(copy))
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect()
    con.execute(f"ATTACH '{demo_store}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{copy}' AS b (READ_ONLY)")
    before, after = _tables(con, "a"), _tables(con, "b")
    # the same tables, with the same columns in the same order and of the same types
    assert before == after
    # an analysed store: the store's tables and every stage's
    assert {"posts", "rejects", "ingests", "raw", "labels", "threads", "relations", "answers", "lens_results"} <= set(
        before
    )
    assert set(manifest["tables"]) == set(before)
    for table in before:
        n = con.execute(f'SELECT count(*) FROM a."{table}"').fetchall()[0][0]
        assert manifest["tables"][table]["rows"] == n
        assert con.execute(f'SELECT count(*) FROM b."{table}"').fetchall()[0][0] == n
        for x, y in (("a", "b"), ("b", "a")):
            diff = con.execute(f'SELECT count(*) FROM (FROM {x}."{table}" EXCEPT ALL FROM {y}."{table}")').fetchall()
            assert diff[0][0] == 0, f"{table}: rows of {x} missing from {y}"
    # the demo's 103 posts of the real thread, and the report reads the imported store
    assert manifest["tables"]["posts"]["rows"] > 100
    proc = run_cli("report", str(copy), "--format", "json", "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["lenses"]["backfire"]["volume"]["audience_posts"] == 81


def test_posts_are_partitioned_by_platform_and_utc_day(demo_store: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    assert run_cli("export", str(demo_store), "--parquet", str(archive)).returncode == 0
    folders = {(p.parent.name, p.name) for p in (archive / "posts").glob("platform=*/day=*")}
    con = duckdb.connect()
    con.execute(f"ATTACH '{demo_store}' AS a (READ_ONLY)")
    expected = {
        (f"platform={platform}", f"day={day}")
        for platform, day in con.execute(
            "SELECT DISTINCT platform, coalesce(strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d'), "
            "'__HIVE_DEFAULT_PARTITION__') "
            "FROM a.posts"
        ).fetchall()
    }
    assert folders == expected and len(folders) >= 1
    # hive partitioning reads the same posts as the files' own columns
    glob = str(archive / "posts" / "**" / "*.parquet")
    hive = con.execute(
        "SELECT count(*), count(DISTINCT (platform, id)) FROM read_parquet(?, hive_partitioning = true)", [glob]
    ).fetchall()
    assert hive == con.execute("SELECT count(*), count(*) FROM a.posts").fetchall()
    # a post's day folder is its UTC creation date
    day = con.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = true) "
        "WHERE day IS DISTINCT FROM CAST(created_at AT TIME ZONE 'UTC' AS DATE)",
        [glob],
    ).fetchall()
    assert day[0][0] == 0


def test_user_errors_are_clear(demo_store: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "something").write_text("x")
    proc = run_cli("export", str(demo_store), "--parquet", str(archive))
    assert proc.returncode == 1 and "already exists and is not an empty folder" in proc.stderr
    assert "Traceback" not in proc.stderr and (archive / "something").read_text() == "x"
    proc = run_cli("export", str(tmp_path / "missing.duckdb"), "--parquet", str(tmp_path / "new"))
    assert proc.returncode == 1 and "no store at" in proc.stderr and not (tmp_path / "new").exists()
    proc = run_cli("import", str(archive), str(tmp_path / "new.duckdb"))
    assert proc.returncode == 1 and "is not an askscope archive" in proc.stderr
    assert not (tmp_path / "new.duckdb").exists()
    good = tmp_path / "good"
    assert run_cli("export", str(demo_store), "--parquet", str(good)).returncode == 0
    proc = run_cli("import", str(good), str(demo_store))
    assert proc.returncode == 1 and "already exists" in proc.stderr
    # an archive missing a file is refused, and no store is left behind
    next((good / "labels").glob("*.parquet")).unlink()
    proc = run_cli("import", str(good), str(tmp_path / "broken.duckdb"))
    assert proc.returncode == 1 and "Error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "broken.duckdb").exists()
    assert not list(tmp_path.glob(".broken.duckdb*"))


def _raw_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store of recorded X pages whose raw blocks are cut into 200-byte pieces (many rows)."""
    import askscope
    from askscope.store import write

    monkeypatch.setattr(write, "RAW_PART_BYTES", 200)
    files = [
        fixture("x-v2", f) for f in ("two_tweets.jsonl", "mentions_tweet.jsonl", "quoted_edit.jsonl", "edited.jsonl")
    ]
    askscope.ingest(str(path), [*files, fixture("x-v1", "search_tweets.json")], workers=0)
    return str(path)


def test_raw_is_written_in_bounded_row_groups_under_the_archive_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # at 1M posts DuckDB's COPY put all of raw (513 MiB) in one row group and the export peaked at
    # 2.7 GB: raw is streamed in row groups of RAW_ROW_GROUP pieces, every write under the limit
    from askscope.archive import parquet

    store = _raw_store(tmp_path / "s.duckdb", monkeypatch)
    monkeypatch.setattr(parquet, "RAW_ROW_GROUP", 3)
    monkeypatch.setenv("ASKSCOPE_ARCHIVE_MEMORY", "64MB")
    seen: list[str] = []
    copy_raw = parquet.copy_raw

    def spy(con: duckdb.DuckDBPyConnection, path: Path) -> None:
        seen.append(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        copy_raw(con, path)

    monkeypatch.setattr(parquet, "copy_raw", spy)
    archive = tmp_path / "archive"
    parquet.export_store(store, archive)
    assert len(seen) == 1 and abs(parquet.size_bytes(seen[0]) - 64 * 10**6) < 10**6
    con = duckdb.connect(store, read_only=True)
    n = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    original = con.execute("SELECT * FROM raw ORDER BY ingest_id, block, part").fetchall()
    con.close()
    assert n >= 20
    meta = pq.ParquetFile(archive / "raw" / "part-0.parquet").metadata
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert groups == [3] * (n // 3) + ([n % 3] if n % 3 else [])
    # and back, row for row, with the connection's own limit restored after each part
    copy = tmp_path / "copy.duckdb"
    parquet.import_archive(archive, copy)
    con = duckdb.connect(str(copy), read_only=True)
    assert con.execute("SELECT * FROM raw ORDER BY ingest_id, block, part").fetchall() == original
    con.close()
    con = duckdb.connect()
    con.execute("SET memory_limit = '300MB'")
    before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"ATTACH '{copy}' AS c (READ_ONLY)")
    con.execute("USE c")
    parquet.write_tables(con, tmp_path, ["raw"])
    # restored to DuckDB's display precision (a tenth of a MiB)
    after = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert abs(parquet.size_bytes(after) - parquet.size_bytes(before)) <= 2**20 // 10


def test_an_archive_with_raw_in_one_large_row_group_still_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # archives written before the bounded row groups hold raw in one row group, which DuckDB reads
    # whole and needed 3-6 times of: 8 MiB of pieces failed to load under limits up to 40 MB
    import numpy as np

    from askscope.archive import parquet

    store = _raw_store(tmp_path / "s.duckdb", monkeypatch)
    archive = tmp_path / "archive"
    parquet.export_store(store, archive)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE raw (ingest_id BIGINT, block INTEGER, first_line BIGINT, last_line BIGINT, "
        "records INTEGER, payload BLOB, part INTEGER)"
    )
    pieces = [(99, 0, 1, 1, 1 if i == 0 else None, np.random.default_rng(i).bytes(65536), i) for i in range(128)]
    con.executemany("INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?)", pieces)
    con.execute(f"COPY raw TO '{archive / 'raw' / 'part-0.parquet'}' (FORMAT PARQUET)")
    meta = pq.ParquetFile(archive / "raw" / "part-0.parquet").metadata
    assert meta.num_row_groups == 1 and meta.row_group(0).total_byte_size > 8 * 10**6
    manifest = json.loads((archive / "manifest.json").read_text())
    manifest["tables"]["raw"]["rows"] = 128
    (archive / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("ASKSCOPE_ARCHIVE_MEMORY", "24MB")
    proc = run_cli("import", str(archive), str(tmp_path / "copy.duckdb"))
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True)
    assert con.execute("SELECT list(part ORDER BY part), sum(octet_length(payload)) FROM raw").fetchall() == [
        (list(range(128)), 128 * 65536)
    ]


def test_a_bad_archive_memory_setting_is_a_user_error(
    demo_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKSCOPE_ARCHIVE_MEMORY", "lots")
    proc = run_cli("export", str(demo_store), "--parquet", str(tmp_path / "a"))
    assert proc.returncode == 1 and "Error: ASKSCOPE_ARCHIVE_MEMORY='lots' is not a memory size" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "a").exists() and not list(tmp_path.glob(".a.*"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512MB", 512 * 10**6),
        ("488.2 MiB", int(488.2 * 2**20)),
        ("2GB", 2 * 10**9),
        ("1.5 GiB", 3 * 2**29),
        ("64kib", 65536),
    ],
)
def test_size_bytes(text: str, expected: int) -> None:
    from askscope.archive.parquet import size_bytes

    assert size_bytes(text) == expected


def test_a_load_makes_room_for_the_primary_key_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a load is one transaction, and DuckDB builds the posts' (platform, id) index in memory until
    # the commit, unspillable: 600,000 posts failed to import under a 64 MB limit without the room
    # load_archive adds per indexed row (a 10M-post archive's analysis failed under 512 MB)
    from askscope.archive import parquet
    from askscope.store.core import open_store

    n = 600_000
    with open_store(tmp_path / "s.duckdb") as store:
        store.con.execute(
            "INSERT INTO posts (platform, id, created_at) SELECT 'x', (1000000000000000000 + i * 7919)::VARCHAR, "
            "TIMESTAMPTZ '2015-03-01 00:00:00+00' + to_seconds(i % 86400) FROM range(?) r(i)",
            [n],
        )
    parquet.export_store(tmp_path / "s.duckdb", tmp_path / "archive")
    monkeypatch.setenv("ASKSCOPE_ARCHIVE_MEMORY", "64MB")
    proc = run_cli("import", str(tmp_path / "archive"), str(tmp_path / "copy.duckdb"))
    assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM posts").fetchall() == [
        (n, n, "1000000000000000000", str(1000000000000000000 + (n - 1) * 7919))
    ]


def test_an_archive_read_in_place_is_checked_against_its_manifest(demo_store: Path, tmp_path: Path) -> None:
    """A report reads an archive's tables in place (views over its files); files that do not hold
    the rows or the columns the manifest gives are a clear error, not a report of other data."""
    archive = tmp_path / "archive"
    assert run_cli("export", str(demo_store), "--parquet", str(archive)).returncode == 0
    proc = run_cli("report", str(archive), "--format", "json", "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(
        run_cli("report", str(demo_store), "--format", "json", "-o", "-").stdout
    )
    manifest_path = archive / "manifest.json"
    original = manifest_path.read_text()
    for change, message in (
        (lambda m: m["tables"]["posts"].update(rows=m["tables"]["posts"]["rows"] + 1), "its manifest says"),
        (lambda m: m["tables"]["accounts"]["columns"].append({"name": "extra", "type": "VARCHAR"}), "do not have"),
    ):
        manifest = json.loads(original)
        change(manifest)
        manifest_path.write_text(json.dumps(manifest))
        proc = run_cli("report", str(archive), "--format", "json", "-o", "-")
        assert proc.returncode == 1 and "Error:" in proc.stderr and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_files_under_a_folder_named_with_glob_characters_are_listed(tmp_path: Path) -> None:
    from askscope.archive.parquet import glob_files, sql_files

    plain, odd = tmp_path / "plain", tmp_path / "odd [2015]*?"
    for folder in (plain, odd):
        (folder / "platform=x").mkdir(parents=True)
        for name in ("b.parquet", "a.parquet", "platform=x/c.parquet"):
            pq.write_table(pa_table(), folder / name)
    # an ordinary folder: DuckDB's own glob, as before
    assert glob_files(plain, "*.parquet") == str(plain / "*.parquet")
    # glob characters in the folder: the files, listed and sorted; ** reaches the subfolders
    assert glob_files(odd, "*.parquet") == [str(odd / "a.parquet"), str(odd / "b.parquet")]
    assert glob_files(odd, "**/*.parquet") == [str(odd / n) for n in ("a.parquet", "b.parquet", "platform=x/c.parquet")]
    assert glob_files(odd, "*.csv") == str(odd / "*.csv")  # nothing matches: DuckDB's "no files found"
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM read_parquet({sql_files(odd, '**/*.parquet')})").fetchall() == [(3,)]
    with pytest.raises(duckdb.IOException, match="No files found"):
        con.execute(f"SELECT count(*) FROM read_parquet({sql_files(odd, '*.csv')})")


def pa_table():  # type: ignore[no-untyped-def]
    import pyarrow as pa

    return pa.table({"a": [1]})
