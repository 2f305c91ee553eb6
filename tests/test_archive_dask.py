"""``askscope ingest ARCHIVE_DIR PATH... --dask local:2`` against the embedded ingest, on real
recorded inputs: the same posts, accounts and rejects, the same counts, idempotent re-ingest.

The inputs (../shared/data/fixtures, copied unchanged except one): twarc2 search pages that
overlap (``brexit``, ``kpop`` and ``2sets`` = both again: 200 unchanged records), withheld posts,
an edited post before and after its edit (the edit chain collapses), a stream with a broken line,
a recorded X v1.1 HTTP session (posts without a retrieval time), and the ``noflat`` pages with two
bad lines inserted between whole lines (``invalid_json`` rejects).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, shared

from askscope.errors import UsageError

X2 = ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl", "withheld.jsonl", "edited_before.jsonl", "edited_after.jsonl")
# posts of this input carry no retrieval time: observed_at is the time of the run, in both paths
NO_RETRIEVAL_TIME = "testusertimeline.json"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("inputs")
    files = [shared("fixtures", "x-v2", name) for name in X2]
    files += [shared("fixtures", "x-v2", "streaming_output_with_error.jsonl")]
    files += [shared("fixtures", "x-v1", NO_RETRIEVAL_TIME)]
    out = []
    for path in files:
        copy = folder / path.name
        copy.write_bytes(path.read_bytes())
        out.append(str(copy))
    lines = shared("fixtures", "x-v2", "noflat.jsonl").read_bytes().splitlines(keepends=True)
    bad = folder / "noflat-with-bad-lines.jsonl"
    bad.write_bytes(b"".join(lines[:2]) + b'{"data": [{"id": "1", "text": \n' + b"not json\n" + b"".join(lines[2:]))
    out.append(str(bad))
    return out


def _ingest_json(*args: str) -> dict:
    proc = run_cli("ingest", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def both(inputs: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict]:
    folder = tmp_path_factory.mktemp("both")
    store, archive = folder / "embedded.duckdb", folder / "archive"
    embedded = _ingest_json(str(store), *inputs)
    proc = run_cli("ingest", str(archive), *inputs, "--dask", "local:2", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "parsed on" in proc.stderr and "worker(s)" in proc.stderr
    # two workers: four key partitions, each merged by its own task (the edit chain stays in one)
    assert "merged in 4 key partitions" in proc.stderr
    return store, archive, embedded, json.loads(proc.stdout)


def _counts(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k not in ("store", "seconds")}
    out["files"] = [{k: v for k, v in f.items() if k != "seconds"} for f in result["files"]]
    return out


def _columns(con: duckdb.DuckDBPyConnection, table: str, leave_out: tuple[str, ...] = ()) -> str:
    names = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'e' AND table_name = ? ORDER BY column_index",
            [table],
        ).fetchall()
    ]
    return ", ".join(f'"{n}"' for n in names if n not in leave_out)


def _differences(con: duckdb.DuckDBPyConnection, table: str, glob: str, columns: str, where: str = "true") -> int:
    a = f"SELECT {columns} FROM e.{table} WHERE {where}"
    b = f"SELECT {columns} FROM read_parquet('{glob}', hive_partitioning = false) WHERE {where}"
    return sum(con.execute(f"SELECT count(*) FROM ({x} EXCEPT ALL {y})").fetchall()[0][0] for x, y in ((a, b), (b, a)))


def _connect(store: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    return con


def test_dask_ingest_gives_the_embedded_posts_rejects_and_counts(both: tuple[Path, Path, dict, dict]) -> None:
    store, archive, embedded, dask = both
    con = _connect(store)
    posts = str(archive / "posts" / "**" / "*.parquet")
    # the same counts for every input and in total (times and the target's name apart)
    assert _counts(dask) == _counts(embedded)
    # the inputs hold real rejects and records seen again
    assert sum(f["rejected"] for f in embedded["files"]) >= 3  # 2 inserted bad lines + the stream's
    assert sum(f["unchanged"] for f in embedded["files"]) >= 200
    n = con.execute("SELECT count(*) FROM e.posts").fetchall()[0][0]
    assert con.execute("SELECT count(*) FROM read_parquet(?)", [posts]).fetchall()[0][0] == n > 500
    # every post identical, column for column (observed_at apart where the input has no retrieval time)
    assert _differences(con, "posts", posts, _columns(con, "posts", ("observed_at",))) == 0
    assert (
        _differences(con, "posts", posts, _columns(con, "posts"), f"source_file NOT LIKE '%{NO_RETRIEVAL_TIME}'") == 0
    )
    rejects = str(archive / "rejects" / "*.parquet")
    assert con.execute("SELECT count(*) FROM e.rejects").fetchall()[0][0] >= 3
    assert _differences(con, "rejects", rejects, _columns(con, "rejects")) == 0
    accounts = str(archive / "accounts" / "*.parquet")
    assert _differences(con, "accounts", accounts, _columns(con, "accounts", ("observed_at",))) == 0
    # the archive's ingest log: one run per input, read = new + updated + unchanged + rejected
    log = con.execute(
        "SELECT source_file, read, new, updated, unchanged, rejected, status FROM read_parquet(?) ORDER BY id",
        [str(archive / "ingests" / "*.parquet")],
    ).fetchall()
    assert [row[0] for row in log] == [f["source_file"] for f in embedded["files"]]
    assert all(
        read == new + updated + unchanged + rejected and status == "done"
        for _, read, new, updated, unchanged, rejected, status in log
    )
    manifest = json.loads((archive / "manifest.json").read_text())
    assert manifest["tables"]["posts"]["rows"] == n and manifest["written_by"] == "askscope ingest --dask"


def test_re_ingesting_the_same_files_on_dask_adds_nothing(
    both: tuple[Path, Path, dict, dict], inputs: list[str]
) -> None:
    store, archive, _, first = both
    again = _ingest_json(str(archive), *inputs, "--dask", "local:2")
    assert all(f["new"] == 0 and f["updated"] == 0 and f["context_new"] == 0 for f in again["files"])
    assert [f["read"] for f in again["files"]] == [f["read"] for f in first["files"]]
    con = _connect(store)
    posts = str(archive / "posts" / "**" / "*.parquet")
    assert _differences(con, "posts", posts, _columns(con, "posts", ("observed_at",))) == 0
    # the runs superseded by the same content left their rejects: each reject once, as before
    assert (
        _differences(con, "rejects", str(archive / "rejects" / "*.parquet"), _columns(con, "rejects", ("ingest_id",)))
        == 0
    )
    runs = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE superseded_by IS NOT NULL) FROM read_parquet(?)",
        [str(archive / "ingests" / "*.parquet")],
    ).fetchall()[0]
    assert runs == (2 * len(inputs), len(inputs))


def test_dask_user_errors(tmp_path: Path, inputs: list[str]) -> None:
    proc = run_cli("ingest", str(tmp_path), inputs[0])
    assert proc.returncode == 1 and "an archive is ingested on a Dask cluster" in proc.stderr
    proc = run_cli("ingest", str(tmp_path / "a"), inputs[0], "--dask", "local:x")
    assert proc.returncode == 1 and "not a positive number" in proc.stderr and not (tmp_path / "a").exists()
    proc = run_cli("ingest", str(tmp_path / "a"), inputs[0], "--dask", "local:1", "--strict")
    assert proc.returncode == 1 and "--strict is not supported with --dask" in proc.stderr
    store = tmp_path / "s.duckdb"
    store.write_bytes(b"")
    proc = run_cli("ingest", str(store), inputs[0], "--dask", "local:1")
    assert proc.returncode == 1 and "is a file, not an archive folder" in proc.stderr
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    proc = run_cli("ingest", str(other), inputs[0], "--dask", "local:1")
    assert proc.returncode == 1 and "not an askscope archive" in proc.stderr and "Traceback" not in proc.stderr


def test_any_number_of_key_partitions_gives_the_same_archive(
    both: tuple[Path, Path, dict, dict], inputs: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, embedded, _ = both
    monkeypatch.setenv("ASKSCOPE_MERGE_PARTITIONS", "7")
    archive = tmp_path / "seven"
    proc = run_cli("ingest", str(archive), *inputs, "--dask", "local:1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "merged in 7 key partitions" in proc.stderr
    assert _counts(json.loads(proc.stdout)) == _counts(embedded)
    con = _connect(store)
    posts = str(archive / "posts" / "**" / "*.parquet")
    assert _differences(con, "posts", posts, _columns(con, "posts", ("observed_at",))) == 0
    accounts = str(archive / "accounts" / "*.parquet")
    assert _differences(con, "accounts", accounts, _columns(con, "accounts", ("observed_at",))) == 0
    # each partition's task wrote its own files: 7 partitions over the busiest day
    files = list((archive / "posts").rglob("*.parquet"))
    assert {f.name.split("-")[1] for f in files} == {f"p{b:05d}" for b in range(7)}
    monkeypatch.setenv("ASKSCOPE_MERGE_PARTITIONS", "zero")
    proc = run_cli("ingest", str(tmp_path / "none"), *inputs, "--dask", "local:1")
    assert proc.returncode == 1 and "ASKSCOPE_MERGE_PARTITIONS='zero' is not a positive whole number" in proc.stderr
    assert not (tmp_path / "none").exists() and "Traceback" not in proc.stderr


def test_without_dask_installed_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from askscope.archive.cluster import import_distributed

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # what a base install gives
    with pytest.raises(UsageError) as caught:
        import_distributed()
    assert "pip install 'askscope[archive]'" in caught.value.hint


def test_the_command_line_does_not_import_dask_without_dask() -> None:
    probe = (
        "import sys\nsys.argv = ['askscope', 'ingest', '--help']\nfrom askscope.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "--dask" in proc.stdout
    assert "LOADED []" in proc.stdout, proc.stdout[-500:]


# API v1.1 gives a post without its edit history: this is the edited version of
# edited_before.jsonl's post (history [1576994746135764992, 1576994789110992896]).
V1_EDITED_VERSION = {
    "created_at": "Mon Oct 03 17:57:11 +0000 2022",
    "id": 1576994789110992896,
    "id_str": "1576994789110992896",
    "full_text": "hey :) seen again through API v1.1",
    "truncated": False,
    "entities": {"hashtags": [], "user_mentions": [], "urls": []},
    "user": {"id": 337119125, "id_str": "337119125", "name": "Someone", "screen_name": "someone"},
    "retweet_count": 3,
    "favorite_count": 32,
    "lang": "en",
}


def test_a_version_stored_without_its_edit_history_is_merged_in_one_process(tmp_path: Path) -> None:
    # The version without history is placed by its own id (key partition 3 of 4), its history by
    # the first id (partition 1): no partition holds both, so the merge runs in one process and
    # gives the embedded result: the earlier version replaced by the later one (updated 1).
    v1 = tmp_path / "v1_edited_version.jsonl"
    v1.write_text(json.dumps(V1_EDITED_VERSION) + "\n")
    inputs = [str(v1), str(shared("fixtures", "x-v2", "edited_before.jsonl"))]
    store, archive = tmp_path / "embedded.duckdb", tmp_path / "archive"
    embedded = _ingest_json(str(store), *inputs)
    proc = run_cli("ingest", str(archive), *inputs, "--dask", "local:2", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "merged in one process (a version of an edited post came without its edit history)" in proc.stderr
    assert _counts(json.loads(proc.stdout)) == _counts(embedded)
    assert [(f["new"], f["updated"]) for f in embedded["files"]] == [(1, 0), (0, 1)]
    con = _connect(store)
    posts = str(archive / "posts" / "**" / "*.parquet")
    assert con.execute("SELECT id FROM read_parquet(?)", [posts]).fetchall() == [("1576994789110992896",)]
    assert _differences(con, "posts", posts, _columns(con, "posts", ("observed_at",))) == 0
