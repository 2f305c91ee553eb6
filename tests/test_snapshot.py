"""Reading a store while another process writes it (issue 16): long-lived readers read a snapshot,
keep answering while an ingest holds the store, and see the new data once it is done; a reader
never keeps a writer out."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import fixture, one, run_cli

import askscope
from askscope.errors import StoreBusyError
from askscope.store.snapshot import Snapshots

WRITER = """
import sys, askscope
store = askscope.open_store(sys.argv[1])
askscope.ingest(store, [sys.argv[2]])
print("written", flush=True)
sys.stdin.readline()
store.close()
"""


def count(store: askscope.Store) -> int:
    return int(one(store, "SELECT count(*) FROM posts WHERE NOT is_context"))


@pytest.fixture
def two_inputs(tmp_path):
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    with askscope.open_store(db, read_only=True) as store:
        before = count(store)
    # what the second input adds, from a separate store (an independent count)
    alone = str(tmp_path / "alone.duckdb")
    askscope.ingest(alone, [fixture("x-v2", "two_tweets.jsonl"), fixture("x-v1", "search_tweets.json")])
    with askscope.open_store(alone, read_only=True) as store:
        after = count(store)
    assert after > before
    return db, before, after


def test_a_reader_never_keeps_a_writer_out(two_inputs, tmp_path) -> None:
    db, before, after = two_inputs
    snapshots = Snapshots(db, tmp_path / "snaps")
    with snapshots.reading() as store:
        assert count(store) == before
        # the reader has its snapshot open; an ingest into the store still runs
        askscope.ingest(db, [fixture("x-v1", "search_tweets.json")])
        assert count(store) == before  # a snapshot does not move under its reader
    with snapshots.reading() as store:
        assert count(store) == after  # the next read sees the write
    snapshots.close()


def test_while_another_process_writes_the_reader_serves_the_last_snapshot(two_inputs, tmp_path) -> None:
    db, before, after = two_inputs
    snapshots = Snapshots(db, tmp_path / "snaps")
    assert snapshots.refresh() is True
    first = snapshots.state
    assert first is not None and not first.busy
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, db, fixture("x-v1", "search_tweets.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
        # the writer holds the store: other commands get a clean error ...
        cli = run_cli("sql", db, "SELECT count(*) FROM posts")
        assert cli.returncode == 1 and "in use by another process" in cli.stderr
        # ... while the reader keeps answering from its snapshot and says it may be behind
        assert snapshots.refresh() is False
        with snapshots.reading() as store:
            assert count(store) == before
        state = snapshots.state
        assert state is not None and state.busy and state.taken_at == first.taken_at
    finally:
        assert writer.stdin is not None
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.wait(timeout=120) == 0
    # the writer is done: the next read takes a new snapshot with its posts
    with snapshots.reading() as store:
        assert count(store) == after
    state = snapshots.state
    assert state is not None and not state.busy and state.taken_at > first.taken_at
    snapshots.close()


def test_no_snapshot_yet_and_a_writer_is_a_busy_error(two_inputs, tmp_path) -> None:
    db, _, _ = two_inputs
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, db, fixture("x-v1", "search_tweets.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
        with pytest.raises(StoreBusyError, match="being written by another process and has no snapshot yet"):
            Snapshots(db, tmp_path / "snaps").open(wait=0.5)
    finally:
        assert writer.stdin is not None
        writer.stdin.write("\n")
        writer.stdin.flush()
        writer.wait(timeout=120)


def test_old_snapshots_go_once_no_reader_has_them(two_inputs, tmp_path) -> None:
    db, before, after = two_inputs
    folder = tmp_path / "snaps"
    snapshots = Snapshots(db, folder)
    old = snapshots.open()
    askscope.ingest(db, [fixture("x-v1", "search_tweets.json")])
    with snapshots.reading() as new:
        assert count(new) == after
        # the first snapshot is still open by its reader: it stays until that reader closes
        assert sorted(p.name for p in folder.glob("snapshot-*.duckdb")) == ["snapshot-1.duckdb", "snapshot-2.duckdb"]
    assert count(old) == before
    old.close()
    assert sorted(p.name for p in folder.glob("snapshot-*.duckdb")) == ["snapshot-2.duckdb"]
    snapshots.close()
    assert not list(folder.glob("snapshot-*"))


def test_snapshot_readers_are_confined_to_the_snapshot(two_inputs, tmp_path) -> None:
    db, _, _ = two_inputs
    snapshots = Snapshots(db, tmp_path / "snaps")
    with snapshots.reading() as store:
        with pytest.raises(askscope.QueryError):
            store.query("SELECT * FROM read_csv('/etc/passwd')")
        with pytest.raises(askscope.QueryError):
            store.query("DELETE FROM posts")
    snapshots.close()
