"""Collections in the store: checkpoints and responses written together.

Every response a collector fetches is written in one transaction with the checkpoint that
follows it: its raw body (a raw record of the platform's reader, so ``askscope reparse`` replays
it), the posts, accounts and API errors the reader finds in it, and the collection's new state.
A crash (even ``kill -9``) therefore leaves the store at a response boundary, and a resume
starts from the request after the last stored response: nothing is lost and nothing is stored
twice.

The ``collect_checkpoints`` table is created by the first collection in a store (older askscope
versions ignore it). Its ``state`` and ``query`` never hold credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from askscope.readers import reader_for
from askscope.readers.base import RawRecord, Sink
from askscope.store.batch import build_batch
from askscope.store.core import BatchCounts, IngestRecord, Store, now_utc, table_names
from askscope.store.write import begin_ingest, finish_ingests, write_batch

TABLE = "collect_checkpoints"
COLUMNS: tuple[tuple[str, str], ...] = (
    ("task", "VARCHAR PRIMARY KEY"),
    ("platform", "VARCHAR"),
    ("query", "VARCHAR"),
    ("state", "VARCHAR"),
    ("status", "VARCHAR"),
    ("responses", "BIGINT"),
    ("posts", "BIGINT"),
    ("started_at", "TIMESTAMPTZ"),
    ("updated_at", "TIMESTAMPTZ"),
    ("ingest_id", "BIGINT"),
)


def ensure_table(store: Store) -> None:
    columns = ", ".join(f'"{name}" {kind}' for name, kind in COLUMNS)
    store.con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({columns})")


@dataclass
class Checkpoint:
    task: str
    platform: str
    query: dict[str, Any]
    state: dict[str, Any]
    status: str
    responses: int
    posts: int


def load(store: Store, task: str) -> Checkpoint | None:
    rows = store.con.execute(
        f"SELECT task, platform, query, state, status, responses, posts FROM {TABLE} WHERE task = ?", [task]
    ).fetchall()
    if not rows:
        return None
    task, platform, query, state, status, responses, posts = rows[0]
    return Checkpoint(
        task=task,
        platform=platform,
        query=msgspec.json.decode(query or "{}"),
        state=msgspec.json.decode(state or "{}"),
        status=status,
        responses=int(responses or 0),
        posts=int(posts or 0),
    )


def all_checkpoints(store: Store) -> list[Checkpoint]:
    tables = table_names(store.con)
    if TABLE not in tables:
        return []
    return [
        c
        for c in (
            load(store, row[0]) for row in store.con.execute(f"SELECT task FROM {TABLE} ORDER BY task").fetchall()
        )
        if c is not None
    ]


class CollectionWriter:
    """Writes one collection session: an ingest run (``collect:<task>``) whose raw records are
    the responses, and the checkpoint after each."""

    def __init__(self, store: Store, *, task: str, platform: str, reader: str, query: dict[str, Any]) -> None:
        self.store = store
        self.task = task
        self.platform = platform
        self.reader = reader_for(reader)
        self.query = query
        self.run: IngestRecord | None = None
        self.responses = 0
        self.posts = 0
        self.counts = BatchCounts()

    def open(self, state: dict[str, Any], previous: Checkpoint | None) -> None:
        """Start the session's ingest run and save the starting state."""
        ensure_table(self.store)
        self.responses = previous.responses if previous is not None else 0
        self.posts = previous.posts if previous is not None else 0
        source = f"collect:{self.task}"
        with self.store.transaction():
            # Sessions killed while running are marked as such (their responses stay stored).
            self.store.con.execute(
                "UPDATE ingests SET status = 'interrupted' WHERE source_file = ? AND status = 'running'", [source]
            )
            self.run = begin_ingest(
                self.store,
                source_file=source,
                source_path=None,
                source_size=None,
                source_mtime=None,
                format=self.reader.name,
                compression=None,
                options=msgspec.json.encode({"framing": "jsonl", "collect": self.task}).decode(),
                transaction=False,
            )
            self._save(state, "running")

    def write(self, raw: bytes, state: dict[str, Any], observed: datetime) -> BatchCounts:
        """Store one response (its raw record) and the state after it, atomically."""
        assert self.run is not None
        line = self.responses + 1
        sink = Sink(source_file=self.run.source_file, default_observed_at=observed)
        self.reader.parse(RawRecord(line, 0, raw), sink)
        sink.raw.append((line, 0, raw))
        batch = build_batch(sink)
        with self.store.transaction():
            counts = write_batch(self.store, self.run, batch, transaction=False)
            self.responses = line
            self.posts += counts.new
            self._save(state, "running")
        self.counts.add(counts)
        return counts

    def close(self, state: dict[str, Any], done: bool) -> None:
        assert self.run is not None
        with self.store.transaction():
            finish_ingests(self.store, [self.run], status="done", sha256=None, bytes_read=None, transaction=False)
            self._save(state, "done" if done else "paused")

    def fail(self, status: str) -> None:
        """Close the session's run as ``failed`` or ``interrupted``; the checkpoint stays where the
        last stored response left it, so the same command resumes from there."""
        if self.run is None:
            return
        finish_ingests(self.store, [self.run], status=status, sha256=None, bytes_read=None)

    def _save(self, state: dict[str, Any], status: str) -> None:
        now = now_utc()
        self.store.con.execute(
            f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task) DO UPDATE SET "
            "state = excluded.state, status = excluded.status, responses = excluded.responses, "
            "posts = excluded.posts, updated_at = excluded.updated_at, ingest_id = excluded.ingest_id",
            [
                self.task,
                self.platform,
                msgspec.json.encode(self.query).decode(),
                msgspec.json.encode(state).decode(),
                status,
                self.responses,
                self.posts,
                now,
                now,
                self.run.id if self.run is not None else None,
            ],
        )
