"""The stores the app serves and how a request reads one.

Each store is read through :class:`askscope.store.snapshot.Snapshots` (a private copy taken
while no writer holds the store), so that ``askscope ingest`` or ``analyze`` can write it while
the app runs. A :class:`StoreHandle` keeps one read-only, locked-down connection open on the
freshest snapshot and gives every request its own cursor on it (DuckDB cursors share the
database and its locked configuration; opening a second locked connection in one process would
fail). When the store changes and no writer holds it, the next request moves to a new snapshot;
the old connection is closed once its last request is done. While a writer holds the store,
requests are served from the last snapshot and the pages say so (:attr:`StoreHandle.state`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from fastapi import HTTPException, Request

from askscope.errors import AskscopeError
from askscope.store.core import Store, table_names
from askscope.store.snapshot import Snapshots, SnapshotState


@dataclass
class Reading:
    """What one request reads: a cursor on a snapshot of one store, and facts about it."""

    name: str
    path: str
    con: duckdb.DuckDBPyConnection
    tables: frozenset[str]
    state: SnapshotState | None
    #: Changes whenever the snapshot does: a key for per-snapshot caches.
    version: str


class StoreHandle:
    """One served store: its snapshots and the connection on the newest one."""

    def __init__(self, name: str, path: str, folder: str | os.PathLike[str] | None = None) -> None:
        self.name = name
        self.path = os.path.abspath(path)
        self.snapshots = Snapshots(self.path, folder)
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._store_path: str | None = None
        self._tables: frozenset[str] = frozenset()
        self._users: dict[int, int] = {}
        self._retired: dict[int, Store] = {}
        #: Per-snapshot cache (lens results, charts), emptied when the snapshot changes.
        self.cache: dict[Any, Any] = {}
        self._explore_lock = threading.Lock()
        self._explore: tuple[str, duckdb.DuckDBPyConnection] | None = None
        # the explorer table built in the background (start_indexing): since when, by which thread
        self._build_guard = threading.Lock()
        self._build_started: float | None = None
        self._build_thread: threading.Thread | None = None

    @property
    def state(self) -> SnapshotState | None:
        return self.snapshots.state

    def _current(self) -> Store:
        """The connection on the freshest snapshot (a new one when the snapshot changed)."""
        self.snapshots.refresh()
        state = self.snapshots.state
        if self._store is not None and state is not None and state.path == self._store_path:
            return self._store
        store = self.snapshots.open(locked=True, wait=5.0)
        old = self._store
        self._store, self._store_path = store, self.snapshots.state.path if self.snapshots.state else None
        self._tables = frozenset(table_names(store.con))
        self.cache = {}
        if old is not None:
            if self._users.get(id(old), 0) == 0:
                old.close()
            else:
                self._retired[id(old)] = old
        return store

    @contextmanager
    def reading(self) -> Iterator[Reading]:
        """A cursor on the freshest snapshot for the length of a request."""
        with self._lock:
            store = self._current()
            key = id(store)
            self._users[key] = self._users.get(key, 0) + 1
            tables, state, version = self._tables, self.state, self._store_path or ""
        cursor = store.con.cursor()
        try:
            yield Reading(self.name, self.path, cursor, tables, state, version)
        finally:
            cursor.close()
            with self._lock:
                self._users[key] -= 1
                if self._users[key] == 0:
                    del self._users[key]
                    retired = self._retired.pop(key, None)
                    if retired is not None:
                        retired.close()

    def explore(self, r: Reading, *, wait: bool = True) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the snapshot's explorer table (:func:`askscope.web.postquery.explore_sql`:
        one row per post with the filters' columns, joined once per snapshot and kept in memory,
        so that a filter over a million posts reads one table) and its reply edges (``edges``:
        platform, post_id, parent_id, indexed), or None before an analysis.

        It lives in its own in-memory DuckDB database, confined like the store's connection.
        With ``wait=False`` it is never built here: None until the table of this snapshot is
        ready, a build in the background started meanwhile (:meth:`start_indexing`), so that a
        page answers through the direct queries instead of waiting for it."""
        from askscope.store.core import lock_down
        from askscope.web import textindex
        from askscope.web.postquery import explore_sql

        sql = explore_sql(r.tables)
        if sql is None:
            return None
        if not wait:
            current = self._explore
            if current is not None and current[0] == r.version:
                return current[1].cursor()
            self.start_indexing()
            return None
        with self._explore_lock:
            if self._explore is None or self._explore[0] != r.version:
                relation = r.con.sql(sql)
                table = (getattr(relation, "to_arrow_table", None) or relation.arrow)()
                memory = duckdb.connect(":memory:")
                memory.execute("SET TimeZone = 'UTC'")
                memory.register("_explore_source", table)
                memory.execute("CREATE TABLE explore AS SELECT * FROM _explore_source")
                memory.unregister("_explore_source")
                del table
                textindex.build(memory)  # the posts' tokens: text search through an index
                if "threads" in r.tables:
                    # the reply edges, indexed both ways: a thread is walked one lookup per post
                    relation = r.con.sql("SELECT platform, post_id, parent_id FROM threads")
                    edges = (getattr(relation, "to_arrow_table", None) or relation.arrow)()
                    memory.register("_edges_source", edges)
                    memory.execute("CREATE TABLE edges AS SELECT * FROM _edges_source")
                    memory.unregister("_edges_source")
                    memory.execute("CREATE INDEX edges_post ON edges (post_id)")
                    memory.execute("CREATE INDEX edges_parent ON edges (parent_id)")
                lock_down(memory)
                old, self._explore = self._explore, (r.version, memory)
                if old is not None:
                    old[1].close()
            return self._explore[1].cursor()

    def start_indexing(self) -> None:
        """Build the explorer table of the freshest snapshot (and its text index) in a background
        thread, unless one is being built: ``askscope serve`` starts it with the app, so that the
        first posts page of a large store need not wait for it (8 s at 1M posts)."""
        with self._build_guard:
            if self._build_thread is not None and self._build_thread.is_alive():
                return
            self._build_started = time.monotonic()
            self._build_thread = threading.Thread(target=self._build, name=f"askscope-index-{self.name}", daemon=True)
            self._build_thread.start()

    def _build(self) -> None:
        try:
            with self.reading() as r:
                cursor = self.explore(r)
                if cursor is not None:
                    cursor.close()
        except Exception as exc:  # a page then reads the store directly; say why in the log
            logging.getLogger("askscope.web").warning("indexing %s failed: %s", self.name, exc)
        finally:
            with self._build_guard:
                self._build_started = None

    @property
    def indexing(self) -> float | None:
        """Seconds the background build of the explorer table has been running, None when none is."""
        started = self._build_started
        return None if started is None else time.monotonic() - started

    def close(self) -> None:
        thread = self._build_thread
        if thread is not None and thread.is_alive():
            thread.join(timeout=120)  # a build in flight holds the snapshot: let it end first
        if self._explore is not None:
            self._explore[1].close()
            self._explore = None
        with self._lock:
            for store in [self._store, *self._retired.values()]:
                if store is not None:
                    store.close()
            self._store, self._retired = None, {}
            self.snapshots.close()


def store_names(paths: list[str]) -> list[str]:
    """A short, unique, URL-safe name per store: the file's stem, numbered when two share one."""
    names: list[str] = []
    for path in paths:
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(path).stem) or "store"
        name, n = stem, 2
        while name in names:
            name, n = f"{stem}-{n}", n + 1
        names.append(name)
    return names


def handles(request: Request) -> dict[str, StoreHandle]:
    """Every served store, by name, in the order given on the command line."""
    found: dict[str, StoreHandle] = request.app.state.stores
    return found


def handle(request: Request, db: str | None = None) -> StoreHandle:
    """The store named ``db`` (the first one when None); 404 for an unknown name."""
    stores = handles(request)
    if db is None or db == "":
        return next(iter(stores.values()))
    if db not in stores:
        raise HTTPException(status_code=404, detail=f"no store named {db!r}; served: {', '.join(stores)}")
    return stores[db]


@contextmanager
def reading(request: Request, db: str | None = None) -> Iterator[Reading]:
    """``with reading(request, db) as r:`` a cursor on the store ``db`` (see :class:`StoreHandle`).
    A store that cannot be read (busy with no snapshot yet, not a store) is a 503 with the reason."""
    target = handle(request, db)
    try:
        with target.reading() as r:
            yield r
    except AskscopeError as exc:
        raise HTTPException(status_code=503, detail=f"{exc.message} ({exc.hint})" if exc.hint else exc.message) from exc
