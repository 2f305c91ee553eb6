"""``kill -9`` of a collecting ``askscope collect`` process, then the same command again: the
store ends with exactly the posts of a clean run, and every response stored once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import one, rows
from loopback import ReplayServer
from recorded_apis import REDDIT_THREAD, reddit_thread
from test_collect import fast_client, snapshot

import askscope
import askscope.collect.runner
from askscope.collect.reddit import RedditThread

RESPONSES = 19  # the recorded thread: 1 page, 12 morechildren, 6 "continue this thread" pages


def test_kill_9_while_collecting_then_resume(tmp_path):
    clean_path = str(tmp_path / "clean.duckdb")
    with ReplayServer(reddit_thread()) as server:
        client = fast_client("reddit")
        askscope.collect.runner.collect(clean_path, RedditThread(REDDIT_THREAD, api_url=server.url), client)
        client.close()

    path = str(tmp_path / "killed.duckdb")
    env = dict(os.environ, ASKSCOPE_COLLECT_BACKOFF="0.01", PYTHONIOENCODING="utf-8")
    command = [sys.executable, "-m", "askscope", "collect", "reddit", path, REDDIT_THREAD, "--no-progress"]
    with ReplayServer(reddit_thread(), delay=0.15) as server:
        proc = subprocess.Popen(
            [*command, "--api-url", server.url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 60
        while len(server.seen) < 8 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        killed_after = len(server.seen)
    assert proc.returncode == -signal.SIGKILL

    with askscope.open_store(path, read_only=True) as store:
        stored = one(store, "SELECT responses FROM collect_checkpoints")
    assert 1 <= stored < RESPONSES and stored <= killed_after

    with ReplayServer(reddit_thread()) as server:
        again = subprocess.run([*command, "--api-url", server.url], env=env, capture_output=True, timeout=120)
        assert again.returncode == 0, again.stderr.decode()
        assert len(server.seen) == RESPONSES - stored  # only what was not stored yet
    assert snapshot(path) == snapshot(clean_path)
    with askscope.open_store(path, read_only=True) as store:
        assert one(store, "SELECT sum(records) FROM raw") == RESPONSES
        assert rows(store, "SELECT status FROM ingests ORDER BY id") == [("interrupted",), ("done",)]
        assert one(store, "SELECT status FROM collect_checkpoints") == "done"
