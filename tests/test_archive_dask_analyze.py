"""``askscope analyze ARCHIVE_DIR --campaign F --dask local:2`` against the embedded analysis of
the same real inputs (recorded X API v2 search pages; the bundled classifiers): identical labels,
lens results and metrics, and ``askscope report ARCHIVE_DIR --format json`` gives the embedded
store's report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, shared

CAMPAIGN = """
name = "Brexit and K-pop"
hosts = ["itsLIVEofficial"]
hashtags = ["brexit", "kpop", "lisa"]
start = 2021-06-01T00:00:00Z
end = 2021-09-30T00:00:00Z

# frames: their similarities are computed by Dask tasks on an archive (``DaskFrameMap``)
[frames.music]
keywords = ["album", "concert"]
examples = ["the new album is out and the concert tour starts next week"]

[frames.politics]
examples = ["parliament voted on the deal with the european union today"]
"""


#: The archive's raw files (name -> inode, sha256) and raw manifest entry, before its analysis.
RAW_BEFORE: dict[str, object] = {}


def files(archive: Path, table: str) -> str:
    """The table's Parquet files as a SQL list (listed here: the archive's name has glob characters)."""
    pattern = "**/*.parquet" if table == "posts" else "*.parquet"
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in sorted((archive / table).glob(pattern))) + "]"


def raw_files(archive: Path, table: str = "raw") -> dict[str, tuple[int, str]]:
    """A table's files in the archive (path under the table's folder -> inode, sha256)."""
    return {
        str(p.relative_to(archive / table)): (p.stat().st_ino, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in (archive / table).rglob("*.parquet")
    }


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("analyse")
    inputs = [str(shared("fixtures", "x-v2", n)) for n in ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl")]
    campaign = folder / "campaign.toml"
    campaign.write_text(CAMPAIGN)
    # glob characters in the archive's name (and so in the work folders named after it): every
    # read of its files must list them, not hand DuckDB a pattern it would misread
    store, archive = folder / "embedded.duckdb", folder / "archive [2015]*"
    for args in (
        ("ingest", str(store), *inputs),
        ("ingest", str(archive), *inputs, "--dask", "local:2"),
        ("analyze", str(store), "--campaign", str(campaign)),
    ):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    RAW_BEFORE["files"] = raw_files(archive)
    for table in ("posts", "accounts"):
        RAW_BEFORE[table] = raw_files(archive, table)
    RAW_BEFORE["entry"] = json.loads((archive / "manifest.json").read_text())["tables"]["raw"]
    proc = run_cli("analyze", str(archive), "--campaign", str(campaign), "--dask", "local:2")
    assert proc.returncode == 0, proc.stderr
    return store, archive, proc.stderr


def test_dask_analysis_gives_the_embedded_labels_and_lens_results(analysed: tuple[Path, Path, str]) -> None:
    store, archive, stderr = analysed
    # the command says what ran on the workers and what did not
    assert "classify run on 2 worker(s)" in stderr and "the backfire lens's audience is summarised there" in stderr
    assert "of the lenses runs embedded" in stderr
    assert "reply_trees on Dask" in stderr and "relations on Dask" in stderr and "answers on Dask" in stderr
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    tables = ("labels", 111 * 8), ("lens_results", 1), ("metrics", 100), ("relations", 200), ("frame_scores", 200)
    for table, n_min in (*tables, ("frame_calibration", 2)):
        glob = files(archive, table)
        n = con.execute(f"SELECT count(*) FROM e.{table}").fetchall()[0][0]
        assert n >= n_min
        assert con.execute(f"SELECT count(*) FROM read_parquet({glob})").fetchall()[0][0] == n
        for x, y in ((f"e.{table}", f"read_parquet({glob})"), (f"read_parquet({glob})", f"e.{table}")):
            assert con.execute(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchall()[0][0] == 0, table
    # the frames' similarities were computed by tasks on the cluster, and some posts use a frame
    settings = con.execute(
        f"SELECT settings FROM read_parquet({files(archive, 'stage_runs')}) WHERE stage = 'classify'"
    ).fetchall()
    assert [json.loads(s)["frame_map"] for (s,) in settings] == ["dask local:2 (2 workers)"]
    used = con.execute("SELECT count(*) FILTER (WHERE uses), count(similarity) FROM e.frame_scores").fetchall()[0]
    assert 0 < used[0] < used[1]
    # a labelled, non-trivial result (the lens document, not only its presence)
    document = json.loads(con.execute("SELECT results FROM e.lens_results").fetchall()[0][0])
    assert document["backfire"]["volume"]["audience_posts"] > 0


def test_report_reads_an_archive(analysed: tuple[Path, Path, str]) -> None:
    store, archive, _ = analysed
    from_archive = run_cli("report", str(archive), "--format", "json", "-o", "-")
    from_store = run_cli("report", str(store), "--format", "json", "-o", "-")
    assert from_archive.returncode == 0, from_archive.stderr
    assert json.loads(from_archive.stdout) == json.loads(from_store.stdout)
    # reading left nothing beside the archive
    assert sorted(p.name for p in archive.parent.iterdir() if p.name.startswith(".")) == []


def test_the_analysis_carries_raw_over_without_loading_it(analysed: tuple[Path, Path, str]) -> None:
    """``raw`` (the input blocks kept for reparse) is neither read nor written by an analysis or a
    report: the temporary store leaves it empty, and the analysed archive holds the very files the
    ingest wrote (the same inodes: hard links, not a rewrite) with the embedded store's rows."""
    from askscope.archive.dask_analyze import archive_as_store

    store, archive, _ = analysed
    carried = raw_files(archive)
    assert carried and carried == RAW_BEFORE["files"]
    manifest = json.loads((archive / "manifest.json").read_text())
    assert manifest["tables"]["raw"] == RAW_BEFORE["entry"] and RAW_BEFORE["entry"]["rows"] > 0
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    glob = files(archive, "raw")
    for x, y in (("e.raw", f"read_parquet({glob})"), (f"read_parquet({glob})", "e.raw")):
        assert con.execute(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchall()[0][0] == 0
    assert manifest["tables"]["raw"]["rows"] == con.execute("SELECT count(*) FROM e.raw").fetchall()[0][0]
    with archive_as_store(archive, write_back=False) as path:
        temporary = duckdb.connect(path, read_only=True)
        try:
            assert temporary.execute("SELECT count(*) FROM raw").fetchall()[0][0] == 0
            posts = temporary.execute("SELECT count(*) FROM posts").fetchall()[0][0]
            assert posts == con.execute("SELECT count(*) FROM e.posts").fetchall()[0][0] > 0
        finally:
            temporary.close()


def test_the_analysis_reads_posts_and_accounts_in_place(analysed: tuple[Path, Path, str]) -> None:
    """No stage writes ``posts`` or ``accounts``: the analysis's temporary store reads them as views
    over the archive's files, and the analysed archive holds the very files the ingest wrote (the
    same inodes and bytes) with the embedded store's rows. A report (nothing written back) reads
    every table in place."""
    from askscope.archive.dask_analyze import archive_as_store

    store, archive, _ = analysed
    for table in ("posts", "accounts"):
        assert RAW_BEFORE[table] and raw_files(archive, table) == RAW_BEFORE[table], table
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    for table in ("posts", "accounts"):
        listed = f"read_parquet({files(archive, table)}, hive_partitioning = false)"
        columns = ", ".join(
            name for (name,) in con.execute(f"SELECT name FROM pragma_table_info('e.{table}')").fetchall()
        )
        if table == "accounts":  # the archive's ingest stamps its own observation time
            columns = columns.replace(", observed_at", "")
        for x, y in ((f"e.{table}", listed), (listed, f"e.{table}")):
            found = con.execute(
                f"SELECT count(*) FROM (SELECT {columns} FROM {x} EXCEPT ALL SELECT {columns} FROM {y})"
            )
            assert found.fetchall()[0][0] == 0, table

    def kinds(path: str) -> dict[str, str]:
        temporary = duckdb.connect(path, read_only=True)
        try:
            rows = temporary.execute(
                "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        finally:
            temporary.close()
        return dict(rows)

    manifest = json.loads((archive / "manifest.json").read_text())
    with archive_as_store(archive, write_back=True) as path:
        found = kinds(path)
        assert found["posts"] == found["accounts"] == "VIEW"
        assert found["labels"] == found["relations"] == found["lens_results"] == "BASE TABLE"
    with archive_as_store(archive, write_back=False) as path:
        found = kinds(path)
        stored = [t for t, entry in manifest["tables"].items() if entry["rows"] and t != "raw"]
        assert len(stored) > 10 and all(found[t] == "VIEW" for t in stored)
        assert found["raw"] == "BASE TABLE"


def test_an_archive_folder_without_dask_is_a_clear_error(analysed: tuple[Path, Path, str], tmp_path: Path) -> None:
    _, archive, _ = analysed
    campaign = tmp_path / "c.toml"
    campaign.write_text(CAMPAIGN)
    proc = run_cli("analyze", str(archive), "--campaign", str(campaign))
    assert proc.returncode == 1 and "an archive is analysed on a Dask cluster" in proc.stderr
    proc = run_cli("report", str(tmp_path), "--format", "json", "-o", "-")
    assert proc.returncode == 1 and "not an askscope archive" in proc.stderr and "Traceback" not in proc.stderr


def test_a_worker_process_loads_a_named_labeler_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from askscope.archive import dask_analyze
    from askscope.stages import labeling

    real, loads = labeling.get_labeler, []

    def counting(spec: object) -> object:
        loads.append(spec)
        return real(spec)

    monkeypatch.setattr(labeling, "get_labeler", counting)
    monkeypatch.setattr(dask_analyze, "_LOADED", {})
    first = dask_analyze.label_chunk("bundled", ["what happens if he sneezes?"], [("x", "1")])
    second = dask_analyze.label_chunk("bundled", ["thank you for answering"], [("x", "2")])
    assert loads == ["bundled"]  # the second task reused the worker's labeler
    assert len(first["question"][0]) == len(second["discourse"][0]) == 1 and set(first) == set(second)
