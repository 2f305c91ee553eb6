"""The classify stage in worker processes (``stages/labeling.py``, :class:`ProcessLabelMap`).

A labeler that declares ``cpu_bound = True`` (the bundled one) labels its chunks in a process
per core once a campaign has enough texts, or in ``ASKSCOPE_CLASSIFY_PROCESSES`` processes when
that is set. The store: real recorded X API v2 search pages. Each test runs the real command.

* The labels written with two processes are the rows, in the order, of the analysing process's
  own labelling (the encoder labels one post per call, so a post's labels do not depend on the
  process or the chunk; the 111 texts go as 8 chunks, 4 per process); the command says it used the processes, so the comparison cannot pass
  by labelling in one process both times.
* A worker process that dies (a test-only plugin labeler, ``cpu_bound``, that ends its process
  with ``os._exit(1)`` when it labels in a worker) ends the command with ``Error: ...``, exit 1,
  and the store's labels as they were (the stage's transaction is rolled back).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import run_cli, shared

from askscope.errors import AskscopeError
from askscope.stages.labeling import (
    PROCESS_MAX,
    PROCESS_MIN_TEXTS,
    BundledLabeler,
    ProcessLabelMap,
    processes_for,
)

CAMPAIGN = """
name = "Brexit and K-pop"
hosts = ["itsLIVEofficial"]
hashtags = ["brexit", "kpop", "lisa"]
start = 2021-06-01T00:00:00Z
end = 2021-09-30T00:00:00Z
"""

PLUGIN = '''
"""Test-only labeler: cpu_bound, and it ends its process when it labels in a worker process."""
import multiprocessing
import os

import numpy as np

from askscope.hookspecs import hookimpl

TASKS = ("sentiment", "irony", "offensive", "hate", "emotion", "question", "language", "discourse")


class Dying:
    name = "dying"
    text_only = True
    cpu_bound = True

    def versions(self):
        return {t: t + "@dying-test" for t in TASKS}

    def label(self, texts, keys):
        if multiprocessing.parent_process() is not None:
            os._exit(1)
        ones = np.ones(len(texts))
        return {t: (["other"] * len(texts), ones) for t in TASKS}

    def error_rates(self):
        return {}


@hookimpl
def askscope_labelers():
    return [Dying]
'''


def _site(root: Path) -> Path:
    """A PYTHONPATH folder with the plugin module and a distribution's metadata naming it in the
    ``askscope`` entry-point group (the spawned worker processes inherit PYTHONPATH)."""
    site = root / "site"
    dist = site / "askscope_test_dying_cls-0.0.dist-info"
    dist.mkdir(parents=True)
    (site / "askscope_test_dying_cls.py").write_text(PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: askscope-test-dying-cls\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[askscope]\ndying = askscope_test_dying_cls\n")
    return site


def _analyze(store: Path, campaign: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "askscope", "analyze", str(store), "--campaign", str(campaign), *extra],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONIOENCODING="utf-8", **env),
        timeout=600,
    )


def _labels(store: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT rowid, * FROM labels ORDER BY rowid").fetchall()


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A store of the recorded pages analysed with the bundled models in the analysing process."""
    root = tmp_path_factory.mktemp("processes")
    store, campaign = root / "store.duckdb", root / "campaign.toml"
    campaign.write_text(CAMPAIGN)
    inputs = [str(shared("fixtures", "x-v2", n)) for n in ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl")]
    assert run_cli("ingest", str(store), *inputs).returncode == 0
    proc = _analyze(store, campaign, ASKSCOPE_CLASSIFY_PROCESSES="1")
    assert proc.returncode == 0, proc.stderr
    assert "worker processes" not in proc.stdout + proc.stderr
    return {"root": root, "store": store, "campaign": campaign}


def test_two_worker_processes_write_the_labels_of_one_process(analysed: dict[str, Path]) -> None:
    before = _labels(analysed["store"])
    assert len(before) == 8 * 111  # every post of P, eight tasks each: 8 chunks of 14 texts or fewer
    copy = analysed["root"] / "two.duckdb"
    shutil.copy(analysed["store"], copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("DELETE FROM labels")
    proc = _analyze(copy, analysed["campaign"], "--only", "classify", ASKSCOPE_CLASSIFY_PROCESSES="2")
    assert proc.returncode == 0, proc.stderr
    assert "classifying in 2 worker processes" in proc.stdout + proc.stderr
    after = _labels(copy)
    assert [row[1:] for row in after] == [row[1:] for row in before]
    assert after == before  # the same rows in the same order


def test_a_dying_worker_process_fails_the_command_cleanly(analysed: dict[str, Path]) -> None:
    copy = analysed["root"] / "dying.duckdb"
    shutil.copy(analysed["store"], copy)
    before = _labels(copy)
    site = _site(analysed["root"])
    proc = _analyze(
        copy,
        analysed["campaign"],
        "--only",
        "classify",
        "--labeler",
        "dying",
        ASKSCOPE_CLASSIFY_PROCESSES="2",
        PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Error: a classify worker process ended before it gave its labels back" in proc.stderr
    assert "ASKSCOPE_CLASSIFY_PROCESSES=1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _labels(copy) == before  # the stage was rolled back: the bundled labels are still there


def test_a_malformed_process_count_is_a_user_error(analysed: dict[str, Path]) -> None:
    proc = _analyze(analysed["store"], analysed["campaign"], "--only", "classify", ASKSCOPE_CLASSIFY_PROCESSES="two")
    assert proc.returncode == 1
    assert "Error: ASKSCOPE_CLASSIFY_PROCESSES must be a whole number, not 'two'" in proc.stderr
    assert "Traceback" not in proc.stderr


class _Cheap:
    name = "cheap"


def test_which_labelers_go_to_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = BundledLabeler()
    monkeypatch.delenv("ASKSCOPE_CLASSIFY_PROCESSES", raising=False)
    monkeypatch.setenv("ASKSCOPE_THREADS", "3")
    # unset: a process per core once the campaign has enough texts, and only then
    chosen = processes_for(None, bundled, PROCESS_MIN_TEXTS)
    assert isinstance(chosen, ProcessLabelMap) and (chosen.spec, chosen.processes) == ("bundled", 3)
    assert processes_for("bundled", bundled, PROCESS_MIN_TEXTS - 1) is None
    monkeypatch.setenv("ASKSCOPE_THREADS", "64")  # each process holds the models: at most PROCESS_MAX
    chosen = processes_for("bundled", bundled, PROCESS_MIN_TEXTS)
    assert isinstance(chosen, ProcessLabelMap) and chosen.processes == PROCESS_MAX == 8
    monkeypatch.setenv("ASKSCOPE_THREADS", "1")
    assert processes_for("bundled", bundled, 10 * PROCESS_MIN_TEXTS) is None  # one core: no gain
    # set: that many whatever the size; 0 or 1: none
    monkeypatch.setenv("ASKSCOPE_CLASSIFY_PROCESSES", "4")
    chosen = processes_for("bundled", bundled, 10)
    assert isinstance(chosen, ProcessLabelMap) and chosen.processes == 4
    assert processes_for("bundled", bundled, 0) is None  # nothing to label
    for value in ("1", "0", "-2"):
        monkeypatch.setenv("ASKSCOPE_CLASSIFY_PROCESSES", value)
        assert processes_for("bundled", bundled, 10 * PROCESS_MIN_TEXTS) is None
    # a labeler passed as an object (a process cannot load it by name), or one that does not
    # declare itself cpu_bound, labels in the analysing process
    monkeypatch.setenv("ASKSCOPE_CLASSIFY_PROCESSES", "4")
    assert processes_for(bundled, bundled, 10 * PROCESS_MIN_TEXTS) is None
    assert processes_for("cheap", _Cheap(), 10 * PROCESS_MIN_TEXTS) is None
    monkeypatch.setenv("ASKSCOPE_CLASSIFY_PROCESSES", "4.5")
    with pytest.raises(AskscopeError, match="whole number"):
        processes_for("bundled", bundled, 10)
