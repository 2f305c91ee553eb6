"""The web app while another process writes the store (a real writer process, as
tests/test_snapshot.py): pages keep being served from the last snapshot with a banner saying so,
and show the new posts once the writer is done; the app never keeps the writer out."""

from __future__ import annotations

import subprocess
import sys

from conftest import fixture, one
from fastapi.testclient import TestClient

import askscope
from askscope.web.app import create_app

WRITER = """
import sys, askscope
store = askscope.open_store(sys.argv[1])
askscope.ingest(store, [sys.argv[2]])
print("written", flush=True)
sys.stdin.readline()
store.close()
"""
BANNER = "the store is being written"


def matched(db: str) -> int:
    with askscope.open_store(db, read_only=True) as store:
        return int(one(store, "SELECT count(*) FROM posts WHERE NOT is_context"))


def test_served_from_the_snapshot_while_a_writer_holds_the_store(tmp_path) -> None:
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    before = matched(db)
    # what the second input adds, counted on a separate store
    alone = str(tmp_path / "alone.duckdb")
    askscope.ingest(alone, [fixture("x-v2", "two_tweets.jsonl"), fixture("x-v1", "search_tweets.json")])
    after = matched(alone)
    assert after > before
    with TestClient(create_app([db], snapshot_dir=tmp_path / "snaps")) as client:
        assert client.get("/api/posts", params={"set": "all"}).json()["count"] == before
        page = client.get("/posts?set=all", headers={"accept": "text/html"})
        assert page.status_code == 200 and BANNER not in page.text
        # the app holds a snapshot, not the store: a writer process gets in
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, db, fixture("x-v1", "search_tweets.json")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
            # the writer holds the store: the app answers from its snapshot and says so
            assert client.get("/api/posts", params={"set": "all"}).json()["count"] == before
            page = client.get("/posts?set=all", headers={"accept": "text/html"})
            assert page.status_code == 200 and BANNER in page.text
            assert f'data-count="{before}"' in page.text
        finally:
            assert writer.stdin is not None
            writer.stdin.write("\n")
            writer.stdin.flush()
            assert writer.wait(timeout=120) == 0
        # the writer is done: the next request reads a new snapshot with its posts, no banner
        assert client.get("/api/posts", params={"set": "all"}).json()["count"] == after
        page = client.get("/posts?set=all", headers={"accept": "text/html"})
        assert BANNER not in page.text and f'data-count="{after}"' in page.text
    assert matched(db) == after  # the store itself is whole


def test_no_snapshot_is_taken_while_paused(tmp_path) -> None:
    # the coding pages write the store under Snapshots.paused(): a refresh meanwhile waits for
    # the write to end, then snapshots the written store
    import threading

    from askscope.store.snapshot import Snapshots

    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    before = matched(db)
    snapshots = Snapshots(db, tmp_path / "snaps")
    snapshots.refresh()
    first = snapshots.state
    taken = threading.Event()
    with snapshots.paused():
        askscope.ingest(db, [fixture("x-v1", "search_tweets.json")])  # the store changes
        worker = threading.Thread(target=lambda: (snapshots.refresh(), taken.set()))
        worker.start()
        assert not taken.wait(1.0)  # the refresh waits while paused
        assert snapshots.state == first
    worker.join(timeout=60)
    assert taken.is_set() and snapshots.state is not None and snapshots.state != first
    with snapshots.reading() as store:
        assert int(one(store, "SELECT count(*) FROM posts WHERE NOT is_context")) > before
    snapshots.close()
