"""Reading a store that another process may be writing.

DuckDB admits one writing process per file and, while it writes, no other process at all, not
even a read-only one. ``askscope ingest`` and ``askscope analyze`` hold the store for their whole
run; a long-lived reader (the web app, the live console's viewers, a notebook) must not hold it,
or no ingest could start, and must not stop answering while one runs.

Such a reader reads a **snapshot**: a copy of the store file taken while no writer held it. To
take one, :class:`Snapshots` opens the store read-only (which keeps writers out for the moment),
copies the file (and its write-ahead log when there is one) into its own folder, and lets go. It
takes a new snapshot when the store's file has changed since the last one and no writer holds
it; while a writer does, it goes on serving the last snapshot and says so (``busy``, the time the
snapshot was taken). Old snapshots are removed once a newer one exists and no reader still has
them open. Nothing here ever writes the store; a writer never waits on a reader for longer than
one file copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from askscope.errors import StoreBusyError, StoreError
from askscope.store.core import Store, now_utc, open_store


@dataclass(frozen=True)
class SnapshotState:
    """What a reader should tell its user about the data it shows."""

    #: When the snapshot being served was taken.
    taken_at: datetime
    #: True when a writer holds the store, so that newer data may exist than the snapshot shows.
    busy: bool
    #: The snapshot's file (inside the reader's folder).
    path: str


#: Stores this process writes and reads at once (``askscope live``: its console holds the
#: read-write connection, its web app reads snapshots): absolute path -> a context manager that
#: keeps the writer still while a snapshot is copied. DuckDB refuses a read-only connection in a
#: process holding a read-write one on the same file, so such a store is copied under its
#: writer's guard instead (:func:`register_writer`).
_WRITERS: dict[str, Callable[[], AbstractContextManager[object]]] = {}


def register_writer(path: str | os.PathLike[str], guard: Callable[[], AbstractContextManager[object]] | None) -> None:
    """Snapshots of ``path`` in this process are taken under ``guard()`` (None: forget it)."""
    key = os.path.abspath(os.fspath(path))
    if guard is None:
        _WRITERS.pop(key, None)
    else:
        _WRITERS[key] = guard


def _fingerprint(path: str) -> tuple[int, int, int, int]:
    """Size and modification time of the store file and of its write-ahead log."""
    main = os.stat(path)
    try:
        wal = os.stat(path + ".wal")
        wal_part = (wal.st_size, wal.st_mtime_ns)
    except FileNotFoundError:
        wal_part = (0, 0)
    return (main.st_size, main.st_mtime_ns, *wal_part)


class Snapshots:
    """Snapshots of the store at ``path``, kept in ``folder`` (a new temporary folder by default).

    ``open()`` gives a read-only :class:`~askscope.store.core.Store` on the freshest snapshot
    (confined to it with ``locked=True`` when asked); ``state`` says when it was taken and
    whether a writer holds the store now. With no snapshot yet and a writer holding the store,
    ``open()`` waits up to ``wait`` seconds for the writer, then raises
    :class:`~askscope.errors.StoreBusyError`.
    """

    def __init__(self, path: str | os.PathLike[str], folder: str | os.PathLike[str] | None = None) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise StoreError(f"no store at {self.path}", "create one with: askscope ingest " + self.path + " FILE...")
        self._own_folder = folder is None
        self.folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="askscope-snapshots-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._current: Path | None = None
        self._source: tuple[int, int, int, int] | None = None
        self._taken_at: datetime | None = None
        self._busy = False
        self._serial = 0
        self._readers: dict[Path, int] = {}

    @property
    def state(self) -> SnapshotState | None:
        """The snapshot served now, or None before the first one."""
        if self._current is None or self._taken_at is None:
            return None
        return SnapshotState(taken_at=self._taken_at, busy=self._busy, path=str(self._current))

    def refresh(self) -> bool:
        """Take a new snapshot if the store changed and no writer holds it; True when one was
        taken. A writer holding the store only sets ``state.busy``."""
        with self._lock:
            fingerprint = _fingerprint(self.path)
            if self._current is not None and fingerprint == self._source:
                self._busy = False
                return False
            guard = _WRITERS.get(os.path.abspath(self.path))
            con: duckdb.DuckDBPyConnection | None = None
            if guard is None:
                try:
                    con = duckdb.connect(self.path, read_only=True)
                except duckdb.IOException as exc:
                    if "lock" not in str(exc).lower():
                        raise StoreError(f"cannot read {self.path}: {str(exc).splitlines()[0]}", None) from exc
                    self._busy = True
                    return False
            try:
                with guard() if guard is not None else nullcontext():
                    # the read-only connection (or this process's writer's guard) keeps writers out while
                    # the file is copied
                    fingerprint = _fingerprint(self.path)
                    self._serial += 1
                    target = self.folder / f"snapshot-{self._serial}.duckdb"
                    partial = target.with_suffix(".partial")
                    shutil.copyfile(self.path, partial)
                    if os.path.exists(self.path + ".wal"):
                        shutil.copyfile(self.path + ".wal", str(partial) + ".wal")
                        os.replace(str(partial) + ".wal", str(target) + ".wal")
                    os.replace(partial, target)
            finally:
                if con is not None:
                    con.close()
            previous = self._current
            self._current, self._source, self._taken_at, self._busy = target, fingerprint, now_utc(), False
            if previous is not None:
                self._discard(previous)
            return True

    def open(self, *, locked: bool = True, wait: float = 0.0) -> Store:
        """A read-only store on the freshest snapshot (refreshed first). Close it when done
        (or use :meth:`reading`)."""
        deadline = time.monotonic() + wait
        while True:
            self.refresh()
            if self._current is not None:
                break
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"{self.path} is being written by another process and has no snapshot yet",
                    "wait for the ingest or analyze to finish (readers then see it at once), or retry",
                )
            time.sleep(0.2)
        with self._lock:
            current = self._current
            self._readers[current] = self._readers.get(current, 0) + 1
        try:
            store = open_store(current, read_only=True, locked=locked)
        except BaseException:
            self._release(current)
            raise
        store.on_close = lambda: self._release(current)
        return store

    @contextmanager
    def reading(self, *, locked: bool = True, wait: float = 0.0) -> Iterator[Store]:
        """``with snapshots.reading() as store:`` a read-only store on the freshest snapshot."""
        store = self.open(locked=locked, wait=wait)
        try:
            yield store
        finally:
            store.close()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """``with snapshots.paused():`` no snapshot is taken meanwhile (``refresh`` and ``open``
        wait). For a reader that also writes the store itself, briefly (the web app's coding
        tables): a snapshot is a read-only open of the store file, which its own write would
        conflict with, and a copy taken in the middle of the write would be torn."""
        with self._lock:
            yield

    def close(self) -> None:
        """Remove the snapshots (and the folder when it was created here)."""
        with self._lock:
            paths = list(self.folder.glob("snapshot-*"))
            for path in paths:
                path.unlink(missing_ok=True)
            if self._own_folder:
                shutil.rmtree(self.folder, ignore_errors=True)
            self._current = None

    def _release(self, path: Path) -> None:
        with self._lock:
            self._readers[path] -= 1
            if self._readers[path] == 0:
                del self._readers[path]
                if path != self._current:
                    self._remove(path)

    def _discard(self, path: Path) -> None:
        if path not in self._readers:
            self._remove(path)

    @staticmethod
    def _remove(path: Path) -> None:
        path.unlink(missing_ok=True)
        Path(str(path) + ".wal").unlink(missing_ok=True)
