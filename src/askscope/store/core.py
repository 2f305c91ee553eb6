"""The campaign store: one embedded DuckDB file, the spine of every askscope command.

Guarantees:

* ``(platform, id)`` is unique in ``posts`` and ``accounts`` (a primary key); a post seen again
  is updated in place (counts, ``observed_at``; its text when the new observation is newer), and a
  context-only post becomes a match when matched later.
* Each batch is written in one transaction together with the ingest's running counts, so after a
  crash the store opens with whole batches only, and re-running the same ingest converges to the
  posts of a clean run.
* The raw payload of every input record is kept (zstd-compressed blocks in ``raw``) so that
  ``reparse`` can rebuild the derived tables with a fixed reader.
* The schema version lives in ``meta``; older stores are migrated, newer or foreign ones are
  refused with a message saying what to do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from askscope._version import __version__
from askscope.errors import QueryError, StoreBusyError, StoreError, StoreVersionError, UsageError
from askscope.store.schema import MIGRATIONS, OLDEST_MIGRATABLE, SCHEMA_VERSION, create_statements


@dataclass(slots=True)
class BatchCounts:
    """What writing one batch did."""

    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    context_new: int = 0
    context_updated: int = 0
    accounts_new: int = 0
    accounts_updated: int = 0
    api_errors: int = 0

    def add(self, other: BatchCounts) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class IngestRecord:
    """Identity of one ingest run (one input file)."""

    id: int
    source_file: str
    format: str
    started_at: datetime
    raw_blocks: int = 0
    counts: BatchCounts = field(default_factory=BatchCounts)


def now_utc() -> datetime:
    return datetime.now(UTC)


class Store:
    """An open campaign store. Use :func:`open_store`; close it (or use ``with``) when done."""

    def __init__(self, path: str, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only
        #: Called once after the connection is closed (a snapshot's reader count, for example).
        self.on_close: Callable[[], None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.con.close()
        callback, self.on_close = self.on_close, None
        if callback is not None:
            callback()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.con.execute("SELECT schema_version FROM meta").fetchall()[0][0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # --- queries ---------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query; returns column names and rows. User SQL errors become :class:`QueryError`."""
        try:
            cursor = self.con.execute(sql, params or [])
            if cursor.description is None:
                return [], []
            columns = [d[0] for d in cursor.description]
            return columns, cursor.fetchall()
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            hint = 'the tables are listed by: askscope sql DB "SHOW TABLES"'
            if self.read_only and ("read-only" in message.lower() or "read only" in message.lower()):
                hint = "askscope sql opens the store read-only; use the library or duckdb to change it"
            elif isinstance(exc, duckdb.PermissionException) or "configuration" in message.lower():
                hint = (
                    "askscope sql reads only the store itself: other files, extensions and the "
                    "network are shut off, and so is changing settings"
                )
            raise QueryError(f"query failed: {message}", hint) from exc


_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B)", re.IGNORECASE)


def memory_setting(variable: str, default: str) -> str:
    """DuckDB's memory limit for a long job: the environment variable ``variable`` (a size such
    as ``2GB``) or ``default``. Checked, so it can go into a ``SET`` statement."""
    value = os.environ.get(variable, "").strip() or default
    if not _MEMORY_SIZE.fullmatch(value):
        raise UsageError(f"{variable}={value!r} is not a memory size", "give a size such as 512MB or 2GB, or unset it")
    return value


@contextmanager
def memory_limit(store: Store, limit: str) -> Iterator[None]:
    """DuckDB's memory limit set to ``limit`` (from :func:`memory_setting`) for a block."""
    store.con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        try:
            store.con.execute("RESET memory_limit")
        except duckdb.Error:
            pass  # the connection failed; the error on its way says why


def _is_duckdb_file(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            header = handle.read(16)
    except OSError:
        return False
    return len(header) >= 12 and header[8:12] == b"DUCK"


#: Settings that confine a connection to the store it opened: no other file read or written
#: (COPY, EXPORT, read_csv, ATTACH, ...), no extension installed or loaded (no network), and the
#: configuration locked so that a query cannot switch them back on.
LOCKDOWN = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET lock_configuration = true",
)


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """Confine ``con`` to its own database (see :data:`LOCKDOWN`); irreversible for ``con``."""
    for statement in LOCKDOWN:
        con.execute(statement)


def open_store(
    path: str | os.PathLike[str], *, create: bool = True, read_only: bool = False, locked: bool = False
) -> Store:
    """Open (or create) a campaign store.

    ``locked``: confine the connection to the store file (:func:`lock_down`), for connections that
    run SQL written by a user (``askscope sql``, the web app): reading and writing other files,
    installing or loading extensions and changing those settings back all fail.

    Raises :class:`StoreError` when ``path`` is not a DuckDB file, is locked by another process
    or is not an askscope store, and :class:`StoreVersionError` when its schema is newer than this
    askscope or too old to migrate.
    """
    path = os.fspath(path)
    exists = os.path.exists(path)
    if exists and os.path.isdir(path):
        raise StoreError(f"{path} is a folder, not a store file", "give a file path such as campaign.duckdb")
    if not exists and (read_only or not create):
        raise StoreError(f"no store at {path}", "create one with: askscope ingest " + path + " FILE...")
    if exists and os.path.getsize(path) > 0 and not _is_duckdb_file(path):
        raise StoreError(f"{path} is not a DuckDB file", "give the path of an askscope store (a .duckdb file)")
    if not exists:
        parent = Path(path).resolve().parent
        if not parent.exists():
            raise StoreError(f"folder {parent} does not exist", "create it first or choose another path")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise StoreBusyError(
                f"{path} is in use by another process",
                "close the other askscope or duckdb session using it, then retry",
            ) from exc
        raise StoreError(
            f"cannot open {path}: {message.splitlines()[0]}", "is it a DuckDB file written by a compatible DuckDB?"
        ) from exc
    except duckdb.Error as exc:
        raise StoreError(
            f"cannot open {path}: {str(exc).splitlines()[0]}", "is it a DuckDB file written by a compatible DuckDB?"
        ) from exc
    con.execute("SET TimeZone = 'UTC'")
    store = Store(path, con, read_only)
    try:
        _prepare(store, new=not exists or os.path.getsize(path) == 0)
        if locked:
            lock_down(con)
    except BaseException:
        con.close()
        raise
    return store


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables and views of the main schema (the one place askscope asks the catalog)."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    return {row[0] for row in rows}


def column_names(con: duckdb.DuckDBPyConnection, table: str | None = None) -> dict[str, set[str]]:
    """Column names by table of the main schema (of ``table`` only when given)."""
    sql = "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    rows = con.execute(sql + " AND table_name = ?", [table]).fetchall() if table else con.execute(sql).fetchall()
    out: dict[str, set[str]] = {}
    for name, column in rows:
        out.setdefault(name, set()).add(column)
    return out


def _prepare(store: Store, *, new: bool) -> None:
    con = store.con
    tables = table_names(con)
    if "meta" not in tables:
        if tables:
            raise StoreError(
                f"{store.path} is a DuckDB file but not an askscope store (no meta table)",
                "give the path of an askscope store, or a new file name to create one",
            )
        if store.read_only:
            raise StoreError(f"{store.path} is empty", "ingest something into it first")
        with store.transaction():
            for statement in create_statements():
                con.execute(statement)
            con.execute("INSERT INTO meta VALUES (?, ?, ?, ?)", [SCHEMA_VERSION, now_utc(), __version__, __version__])
        return
    version = store.schema_version
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"{store.path} has schema version {version}, newer than this askscope "
            f"{__version__} understands (schema {SCHEMA_VERSION})",
            "upgrade askscope: pip install --upgrade askscope",
        )
    if version < OLDEST_MIGRATABLE or any(v not in MIGRATIONS for v in range(version, SCHEMA_VERSION)):
        raise StoreVersionError(
            f"{store.path} has schema version {version}, too old for this askscope "
            f"(schema {SCHEMA_VERSION}) to migrate",
            "re-ingest the original files into a new store, or open it with the askscope that wrote it",
        )
    if store.read_only:
        raise StoreVersionError(
            f"{store.path} has schema version {version} and needs a migration to {SCHEMA_VERSION}",
            f"run any writing command once, e.g.: askscope reparse {store.path}",
        )
    with store.transaction():
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](con)
            con.execute("UPDATE meta SET schema_version = ?, updated_with = ?", [step + 1, __version__])
