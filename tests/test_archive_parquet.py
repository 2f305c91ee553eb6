"""The archive form: ``askscope export DB --parquet DIR`` and ``askscope import DIR DB`` round trip
a real analysed store (the bundled demo: real X v1.1 posts, the bundled classifiers, every stage)
table for table, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli

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
