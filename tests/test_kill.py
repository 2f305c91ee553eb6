"""Crash safety: ``kill -9`` during an ingest, then the same command again, ends with exactly the
posts, accounts and rejects of a clean run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import rows, shared

import askscope
from askscope.synthetic.twarc2 import load_texts, write_twarc2

POSTS = 30_000
CHECKS = {
    "posts": "SELECT platform, id, author_id, text, kind, in_reply_to_id, like_count, is_context, source_line "
    "FROM posts ORDER BY platform, id",
    "accounts": "SELECT platform, id, handle, followers_count FROM accounts ORDER BY platform, id",
    "rejects": "SELECT source_file, source_line, reason FROM rejects ORDER BY ALL",
}


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kill")
    path = folder / "campaign.jsonl"
    texts = load_texts(shared())
    with open(path, "wb") as out:
        write_twarc2(out, POSTS, texts, seed=7)
        out.write(b'{"data": [{"id": "broken", "text": \n')  # one broken record at the end
    return str(path)


def _snapshot(db: str) -> dict[str, list[tuple]]:
    with askscope.open_store(db, read_only=True) as store:
        return {name: rows(store, sql) for name, sql in CHECKS.items()}


def _ingest_cmd(db: str, path: str) -> list[str]:
    return [sys.executable, "-m", "askscope", "ingest", db, path, "--no-progress"]


def test_kill_at_any_moment_then_rerun_gives_the_clean_result(tmp_path, big_file):
    clean_db = str(tmp_path / "clean.duckdb")
    started = time.perf_counter()
    subprocess.run(_ingest_cmd(clean_db, big_file), check=True, capture_output=True)
    clean_seconds = time.perf_counter() - started
    clean = _snapshot(clean_db)
    assert len([r for r in clean["posts"] if not r[7]]) == POSTS
    assert len(clean["rejects"]) == 1

    rng = random.Random(42)
    db = str(tmp_path / "killed.duckdb")
    kills = 0
    for _attempt in range(4):
        proc = subprocess.Popen(
            _ingest_cmd(db, big_file), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        time.sleep(rng.uniform(0.05, 0.9) * clean_seconds)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its parser workers
            kills += 1
        proc.wait()
        # the store opens after every kill, with whole batches only
        with askscope.open_store(db, read_only=True) as store:
            assert rows(store, "SELECT count(*) - count(DISTINCT (platform, id)) FROM posts") == [(0,)]
    assert kills >= 2
    final = subprocess.run(_ingest_cmd(db, big_file), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    after = _snapshot(db)
    for name in CHECKS:
        assert after[name] == clean[name], name
    with askscope.open_store(db, read_only=True) as store:
        # the interrupted runs are superseded by the completed one: no doubled raw blocks
        statuses = dict(rows(store, "SELECT status, count(*) FROM ingests WHERE superseded_by IS NULL GROUP BY 1"))
        assert statuses == {"done": 1}
