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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from askscope._version import __version__
from askscope.batch import Batch
from askscope.errors import QueryError, StoreError, StoreVersionError
from askscope.post import ACCOUNT_FIELDS, POST_FIELDS
from askscope.schema import MIGRATIONS, OLDEST_MIGRATABLE, SCHEMA_VERSION, create_statements

# Columns an upsert keeps from the newer observation (or fills when missing).
_POST_CONTENT = [c for c in POST_FIELDS if c not in ("platform", "id", "is_context", "observed_at",
                                                      "source_file", "source_line")]
_ACCOUNT_CONTENT = [c for c in ACCOUNT_FIELDS if c not in ("platform", "id", "observed_at")]
_NEWER = "coalesce(excluded.observed_at, '-infinity'::TIMESTAMPTZ) >= coalesce({t}.observed_at, '-infinity'::TIMESTAMPTZ)"


def _upsert_posts_sql(view: str) -> str:
    newer = _NEWER.format(t="posts")
    sets = [
        f'"{c}" = CASE WHEN {newer} THEN coalesce(excluded."{c}", posts."{c}") '
        f'ELSE coalesce(posts."{c}", excluded."{c}") END'
        for c in _POST_CONTENT
    ]
    take_source = (f"(posts.is_context AND NOT excluded.is_context) OR "
                   f"(({newer}) AND posts.is_context = excluded.is_context)")
    sets += [
        "observed_at = greatest(posts.observed_at, excluded.observed_at)",
        "is_context = posts.is_context AND excluded.is_context",
        f"source_file = CASE WHEN {take_source} THEN excluded.source_file ELSE posts.source_file END",
        f"source_line = CASE WHEN {take_source} THEN excluded.source_line ELSE posts.source_line END",
    ]
    columns = ", ".join(f'"{c}"' for c in POST_FIELDS)
    return (f"INSERT INTO posts ({columns}) SELECT {columns} FROM {view} "
            f"ON CONFLICT (platform, id) DO UPDATE SET {', '.join(sets)}")


def _upsert_accounts_sql(view: str) -> str:
    newer = _NEWER.format(t="accounts")
    sets = [
        f'"{c}" = CASE WHEN {newer} THEN coalesce(excluded."{c}", accounts."{c}") '
        f'ELSE coalesce(accounts."{c}", excluded."{c}") END'
        for c in _ACCOUNT_CONTENT
    ]
    sets.append("observed_at = greatest(accounts.observed_at, excluded.observed_at)")
    columns = ", ".join(f'"{c}"' for c in ACCOUNT_FIELDS)
    return (f"INSERT INTO accounts ({columns}) SELECT {columns} FROM {view} "
            f"ON CONFLICT (platform, id) DO UPDATE SET {', '.join(sets)}")


def _insert_new_sql(table: str, view: str, fields: tuple[str, ...]) -> str:
    columns = ", ".join(f'"{c}"' for c in fields)
    return f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view} ON CONFLICT DO NOTHING"


UPSERT_POSTS = _upsert_posts_sql("_batch_posts")
UPSERT_ACCOUNTS = _upsert_accounts_sql("_batch_accounts")
INSERT_POSTS = _insert_new_sql("posts", "_batch_posts", POST_FIELDS)
INSERT_ACCOUNTS = _insert_new_sql("accounts", "_batch_accounts", ACCOUNT_FIELDS)


@dataclass(slots=True)
class BatchCounts:
    """What writing one batch did."""

    read: int = 0
    new: int = 0
    updated: int = 0
    rejected: int = 0
    context_new: int = 0
    context_updated: int = 0
    accounts_new: int = 0
    accounts_updated: int = 0
    api_errors: int = 0

    def add(self, other: BatchCounts) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


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
    return datetime.now(timezone.utc)


class Store:
    """An open campaign store. Use :func:`open_store`; close it (or use ``with``) when done."""

    def __init__(self, path: str, con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        self.path = path
        self.con = con
        self.read_only = read_only

    # --- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.con.execute("SELECT schema_version FROM meta").fetchall()[0][0])  # type: ignore[index]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # --- ingest ----------------------------------------------------------------------------

    def begin_ingest(
        self,
        *,
        source_file: str,
        source_path: str | None,
        source_size: int | None,
        source_mtime: float | None,
        format: str,
        compression: str | None,
        options: str,
        started_at: datetime | None = None,
        transaction: bool = True,
    ) -> IngestRecord:
        """Record the start of an ingest run (in its own transaction unless ``transaction`` is
        false, when the caller holds one)."""
        started = started_at or now_utc()
        with (self.transaction() if transaction else nullcontext()):
            next_id = self.con.execute("SELECT coalesce(max(id), 0) + 1 FROM ingests").fetchall()[0][0]  # type: ignore[index]
            self.con.execute(
                "INSERT INTO ingests (id, source_file, source_path, source_size, source_mtime, format, "
                "compression, options, status, started_at, read, new, updated, rejected, context_new, "
                "context_updated, accounts_new, accounts_updated, api_errors, askscope_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, ?)",
                [next_id, source_file, source_path, source_size, source_mtime, format, compression,
                 options, started, __version__],
            )
        return IngestRecord(id=int(next_id), source_file=source_file, format=format, started_at=started)

    def _counts(self) -> tuple[int, int]:
        row = self.con.execute(
            "SELECT count(*) FILTER (WHERE is_context), count(*) FILTER (WHERE NOT is_context) FROM posts"
        ).fetchall()[0]
        return int(row[0]), int(row[1])  # type: ignore[index]

    def _account_count(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM accounts").fetchall()[0][0])  # type: ignore[index]

    def write_batch(self, ingest: IngestRecord, batch: Batch, *, keep_raw: bool = True,
                    transaction: bool = True) -> BatchCounts:
        """Write one batch atomically (in its own transaction unless ``transaction`` is false,
        when the caller holds one) and return what it did."""
        counts = BatchCounts(read=batch.records, rejected=batch.rejects.num_rows,
                             api_errors=batch.api_errors.num_rows)
        con = self.con
        with (self.transaction() if transaction else nullcontext()):
            context0, matches0 = self._counts()
            if batch.matches.num_rows:
                self._upsert_posts(batch.matches)
                if batch.edit_chains:
                    self._collapse_edits(batch.edit_chains)
            context1, matches1 = self._counts()
            if batch.context.num_rows:
                self._upsert_posts(batch.context)
                if batch.edit_chains:
                    self._collapse_edits(batch.edit_chains)
            context2, _ = self._counts()
            new_matches = matches1 - matches0
            counts.context_new = max(context2 - context1, 0)
            counts.context_updated = batch.context.num_rows - counts.context_new

            accounts0 = self._account_count()
            if batch.account_records.num_rows:
                self._upsert_accounts(batch.account_records)
            accounts1 = self._account_count()
            if batch.accounts.num_rows:
                self._upsert_accounts(batch.accounts)
            accounts2 = self._account_count()
            new_account_records = accounts1 - accounts0
            counts.accounts_new = accounts2 - accounts0
            counts.accounts_updated = (batch.account_records.num_rows + batch.accounts.num_rows
                                       - counts.accounts_new)

            counts.new = new_matches + new_account_records
            counts.updated = batch.match_records + batch.account_record_count - counts.new

            if batch.rejects.num_rows:
                con.register("_batch_rejects", batch.rejects)
                con.execute(
                    "INSERT INTO rejects (source_file, source_line, reason, excerpt, detail, item, "
                    f"byte_offset, ingest_id) SELECT *, {ingest.id} FROM _batch_rejects"
                )
                con.unregister("_batch_rejects")
            if batch.api_errors.num_rows:
                con.register("_batch_errors", batch.api_errors)
                con.execute(
                    "INSERT INTO api_errors (source_file, source_line, resource_type, resource_id, "
                    f"title, detail, ingest_id) SELECT *, {ingest.id} FROM _batch_errors"
                )
                con.unregister("_batch_errors")
            if keep_raw and batch.raw_block is not None:
                con.execute(
                    "INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?)",
                    [ingest.id, ingest.raw_blocks, batch.raw_first_line, batch.raw_last_line,
                     batch.raw_records, batch.raw_block],
                )
            ingest.counts.add(counts)
            self._save_counts(ingest)
        if keep_raw and batch.raw_block is not None:
            ingest.raw_blocks += 1
        return counts

    def _save_counts(self, ingest: IngestRecord) -> None:
        c = ingest.counts
        self.con.execute(
            "UPDATE ingests SET read = ?, new = ?, updated = ?, rejected = ?, context_new = ?, "
            "context_updated = ?, accounts_new = ?, accounts_updated = ?, api_errors = ? WHERE id = ?",
            [c.read, c.new, c.updated, c.rejected, c.context_new, c.context_updated, c.accounts_new,
             c.accounts_updated, c.api_errors, ingest.id],
        )

    def _upsert(self, table: pa.Table, view: str, target: str, insert_sql: str, merge_sql: str) -> None:
        """Insert the rows that are new; merge the others with the update rules.

        A plain insert is far cheaper to plan than the merge (which matters for the many small
        batches of a folder of one-post files), and on a fresh store no row needs merging.
        """
        self.con.register(view, table)
        try:
            before = self.con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
            self.con.execute(insert_sql)
            inserted = self.con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0] - before
            if inserted < table.num_rows:
                self.con.execute(merge_sql)
        finally:
            self.con.unregister(view)

    def _upsert_posts(self, table: pa.Table) -> None:
        self._upsert(table, "_batch_posts", "posts", INSERT_POSTS, UPSERT_POSTS)

    def _upsert_accounts(self, table: pa.Table) -> None:
        self._upsert(table, "_batch_accounts", "accounts", INSERT_ACCOUNTS, UPSERT_ACCOUNTS)

    def _collapse_edits(self, chains: list[list[str]]) -> None:
        """Keep only the latest stored version of each edited post (X edit history).

        The latest version is the one that comes last in the longest known history; the others
        are deleted. A match among the versions makes the kept row a match.
        """
        ids = sorted({i for chain in chains for i in chain})
        rows = self.con.execute(
            "SELECT id, edit_ids, is_context FROM posts WHERE platform = 'x' AND id IN (SELECT unnest(?::VARCHAR[]))",
            [ids],
        ).fetchall()
        if len(rows) < 2:
            return
        by_id = {row[0]: row for row in rows}
        order: dict[str, int] = {}
        for chain in sorted((list(r[1] or []) for r in rows), key=len):
            for position, version in enumerate(chain):
                order[version] = position
        groups: dict[str, list[str]] = {}
        for row in rows:
            chain = list(row[1] or [])
            root = chain[0] if chain else row[0]
            groups.setdefault(root, []).append(row[0])
        for versions in groups.values():
            if len(versions) < 2:
                continue
            versions.sort(key=lambda v: order.get(v, -1))
            keep, drop = versions[-1], versions[:-1]
            any_match = any(not by_id[v][2] for v in versions)
            self.con.execute(
                "DELETE FROM posts WHERE platform = 'x' AND id IN (SELECT unnest(?::VARCHAR[]))", [drop]
            )
            if any_match:
                self.con.execute("UPDATE posts SET is_context = false WHERE platform = 'x' AND id = ?", [keep])

    def finish_ingest(self, ingest: IngestRecord, *, status: str, sha256: str | None,
                      bytes_read: int | None, options: str | None = None, transaction: bool = True) -> None:
        """Close an ingest run. A completed run supersedes earlier runs of the same content (same
        SHA-256) and interrupted runs of the same file: their raw blocks, rejects and API errors
        are dropped so that re-ingesting never duplicates them."""
        with (self.transaction() if transaction else nullcontext()):
            if options is not None:
                self.con.execute("UPDATE ingests SET options = ? WHERE id = ?", [options, ingest.id])
            self.con.execute(
                "UPDATE ingests SET status = ?, sha256 = ?, bytes = ?, finished_at = ? WHERE id = ?",
                [status, sha256, bytes_read, now_utc(), ingest.id],
            )
            if status != "done":
                return
            older = [row[0] for row in self.con.execute(
                "SELECT o.id FROM ingests o, ingests n WHERE n.id = ? AND o.id < n.id "
                "AND o.superseded_by IS NULL AND o.format = n.format AND ("
                "  (o.status = 'done' AND o.sha256 = n.sha256) OR "
                "  (o.status IN ('running', 'interrupted', 'failed') AND o.source_path IS NOT NULL "
                "   AND o.source_path = n.source_path AND o.source_size = n.source_size "
                "   AND o.source_mtime = n.source_mtime))",
                [ingest.id],
            ).fetchall()]
            if older:
                for table in ("raw", "rejects", "api_errors"):
                    self.con.execute(f"DELETE FROM {table} WHERE ingest_id IN (SELECT unnest(?::BIGINT[]))", [older])
                self.con.execute(
                    "UPDATE ingests SET superseded_by = ? WHERE id IN (SELECT unnest(?::BIGINT[]))",
                    [ingest.id, older],
                )
                self.con.execute(
                    "UPDATE ingests SET status = 'interrupted' WHERE status = 'running' AND id IN (SELECT unnest(?::BIGINT[]))",
                    [older],
                )

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
            hint = "the tables are listed by: askscope sql DB \"SHOW TABLES\""
            if self.read_only and ("read-only" in message.lower() or "read only" in message.lower()):
                hint = "askscope sql opens the store read-only; use the library or duckdb to change it"
            raise QueryError(f"query failed: {message}", hint) from exc


def _is_duckdb_file(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            header = handle.read(16)
    except OSError:
        return False
    return len(header) >= 12 and header[8:12] == b"DUCK"


def open_store(path: str | os.PathLike[str], *, create: bool = True, read_only: bool = False) -> Store:
    """Open (or create) a campaign store.

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
            raise StoreError(f"{path} is in use by another process",
                             "close the other askscope or duckdb session using it, then retry") from exc
        raise StoreError(f"cannot open {path}: {message.splitlines()[0]}",
                         "is it a DuckDB file written by a compatible DuckDB?") from exc
    except duckdb.Error as exc:
        raise StoreError(f"cannot open {path}: {str(exc).splitlines()[0]}",
                         "is it a DuckDB file written by a compatible DuckDB?") from exc
    con.execute("SET TimeZone = 'UTC'")
    store = Store(path, con, read_only)
    try:
        _prepare(store, new=not exists or os.path.getsize(path) == 0)
    except BaseException:
        con.close()
        raise
    return store


def _prepare(store: Store, *, new: bool) -> None:
    con = store.con
    tables = {row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    if "meta" not in tables:
        if tables:
            raise StoreError(f"{store.path} is a DuckDB file but not an askscope store (no meta table)",
                             "give the path of an askscope store, or a new file name to create one")
        if store.read_only:
            raise StoreError(f"{store.path} is empty", "ingest something into it first")
        with store.transaction():
            for statement in create_statements():
                con.execute(statement)
            con.execute("INSERT INTO meta VALUES (?, ?, ?, ?)",
                        [SCHEMA_VERSION, now_utc(), __version__, __version__])
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
