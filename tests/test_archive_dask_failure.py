"""A Dask worker killed in the middle of ``askscope analyze ARCHIVE_DIR --dask local:2``, not by
timing but deterministically: a test-only labeler plugin (registered the way plugins are, by an
``askscope`` entry point of a distribution on ``PYTHONPATH``, which the LocalCluster's worker
processes inherit) ends its worker process with ``os._exit(1)`` when it labels.

* ``once``: the first worker to label a chunk dies (a marker file says it happened); the nanny
  starts a new worker, the scheduler runs the chunk again, and the run must finish with the tables
  of a clean run.
* ``always``: every attempt dies; after ``distributed.scheduler.allowed-failures`` deaths the
  command must stop with ``Error: ...`` (exit 1, no traceback) and leave the archive exactly as
  it was, with nothing beside it (no ``.NAME.work-*`` or ``.partial`` folder).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, shared

pytest.importorskip("dask.distributed")

CAMPAIGN = """
name = "Brexit and K-pop"
hosts = ["itsLIVEofficial"]
hashtags = ["brexit", "kpop", "lisa"]
start = 2021-06-01T00:00:00Z
end = 2021-09-30T00:00:00Z
"""

PLUGIN = '''
"""Test-only labeler: labels from the text alone; dies in a Dask worker as ASKSCOPE_TEST_DYING says."""
import os

import numpy as np

from askscope.hookspecs import hookimpl

TASKS = ("sentiment", "irony", "offensive", "hate", "emotion", "question", "language", "discourse")


def _in_worker():
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


class Dying:
    name = "dying"
    text_only = True

    def versions(self):
        return {t: t + "@dying-test" for t in TASKS}

    def label(self, texts, keys):
        mode = os.environ.get("ASKSCOPE_TEST_DYING", "never")
        if _in_worker() and mode != "never":
            marker = os.environ["ASKSCOPE_TEST_DYING_MARKER"]
            if mode == "always" or not os.path.exists(marker):
                with open(marker, "a") as f:
                    f.write(str(os.getpid()) + "\\n")
                os._exit(1)
        asks = ["question" if "?" in t else "other" for t in texts]
        ones = np.ones(len(texts))
        out = {t: (["other"] * len(texts), ones) for t in TASKS}
        out["question"] = (asks, ones)
        out["discourse"] = (["question_genuine" if a == "question" else "other" for a in asks], ones)
        return out

    def error_rates(self):
        return {}


@hookimpl
def askscope_labelers():
    return [Dying]
'''

TABLES = ("threads", "relations", "labels", "answers", "answered_posts", "lens_results", "metrics")


def _site(root: Path) -> Path:
    """A folder for PYTHONPATH holding the plugin module and a distribution's metadata naming
    it in the ``askscope`` entry-point group."""
    site = root / "site"
    dist = site / "askscope_test_dying-0.0.dist-info"
    dist.mkdir(parents=True)
    (site / "askscope_test_dying.py").write_text(PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: askscope-test-dying\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[askscope]\ndying = askscope_test_dying\n")
    return site


def _analyze(archive: Path, campaign: Path, site: Path, mode: str, marker: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        ASKSCOPE_TEST_DYING=mode,
        ASKSCOPE_TEST_DYING_MARKER=str(marker),
        PYTHONIOENCODING="utf-8",
    )
    args = ["analyze", str(archive), "--campaign", str(campaign), "--labeler", "dying", "--dask", "local:2"]
    return subprocess.run(
        [sys.executable, "-m", "askscope", *args], capture_output=True, text=True, env=env, timeout=600
    )


def _listing(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dying")
    inputs = [str(shared("fixtures", "x-v2", n)) for n in ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl")]
    store = root / "store.duckdb"
    campaign = root / "campaign.toml"
    campaign.write_text(CAMPAIGN)
    for args in (("ingest", str(store), *inputs), ("export", str(store), "--parquet", str(root / "clean"))):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    for name in ("once", "always"):
        (root / name).mkdir()
        assert run_cli("export", str(store), "--parquet", str(root / name / "archive")).returncode == 0
    return {"root": root, "campaign": campaign, "site": _site(root)}


def _same_tables(a: Path, b: Path) -> None:
    con = duckdb.connect()
    for table in TABLES:
        x, y = (f"read_parquet('{folder / table}/*.parquet')" for folder in (a, b))
        n = con.execute(f"SELECT count(*) FROM {x}").fetchall()[0][0]
        assert n == con.execute(f"SELECT count(*) FROM {y}").fetchall()[0][0], table
        for left, right in ((x, y), (y, x)):
            assert con.execute(f"SELECT count(*) FROM (FROM {left} EXCEPT ALL FROM {right})").fetchall()[0][0] == 0, (
                table
            )


def test_a_worker_killed_once_the_run_finishes_with_a_clean_runs_tables(prepared: dict[str, Path]) -> None:
    root, campaign, site = prepared["root"], prepared["campaign"], prepared["site"]
    clean = _analyze(root / "clean", campaign, site, "never", root / "never.marker")
    assert clean.returncode == 0, clean.stderr
    assert not (root / "never.marker").exists()
    marker = root / "once" / "died"
    killed = _analyze(root / "once" / "archive", campaign, site, "once", marker)
    assert killed.returncode == 0, killed.stderr
    # exactly one worker process died, in the classify stage (it labels)
    assert len(marker.read_text().split()) == 1
    labelled = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{root / 'once' / 'archive' / 'labels'}/*.parquet')"
    )
    assert labelled.fetchall()[0][0] > 0
    _same_tables(root / "clean", root / "once" / "archive")
    # nothing left beside the archive: only the archive and the marker
    assert sorted(p.name for p in (root / "once").iterdir()) == ["archive", "died"]


def test_every_attempt_dying_fails_cleanly_and_leaves_the_archive_as_it_was(prepared: dict[str, Path]) -> None:
    root, campaign, site = prepared["root"], prepared["campaign"], prepared["site"]
    archive = root / "always" / "archive"
    before = _listing(archive)
    marker = root / "always" / "died"
    proc = _analyze(archive, campaign, site, "always", marker)
    assert proc.returncode == 1
    assert "Error: a Dask task killed its worker every time it ran" in proc.stderr
    assert "Traceback" not in proc.stderr
    # the scheduler gave up after allowed-failures (3) + 1 deaths of the same chunk's task
    assert len(marker.read_text().split()) >= 4
    assert _listing(archive) == before
    assert not (archive / "labels").exists()  # the archive was never analysed, and still is not
    assert sorted(p.name for p in (root / "always").iterdir()) == ["archive", "died"]
