"""Writing ingests into the store: runs, batches, upserts, edit histories, superseded runs.

Two ways to write, with the same result:

* :func:`write_batch` writes one batch of one input. It learns what was new from the row counts
  before and after each upsert (cheap, whatever the size of the store).
* :func:`write_group` writes the batches of many small inputs (a folder of one-post files) with
  one upsert per table; what was new to each input is found by looking the group's keys up in
  the store first.

Update rules (both ways): ``(platform, id)`` is unique; a post or account seen again takes the
newer observation's values (missing values are filled from the other); a context-only post
becomes a match when matched, never the other way round; of an edited post only the latest
version is kept.
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from askscope._version import __version__
from askscope.post import ACCOUNT_COLUMNS, ACCOUNT_FIELDS, POST_FIELDS
from askscope.store.batch import Batch
from askscope.store.core import BatchCounts, IngestRecord, Store, now_utc
from askscope.store.schema import RAW_COLUMNS, RAW_PART_BYTES

# Columns an upsert keeps from the newer observation (or fills when missing).
_POST_CONTENT = [
    c for c in POST_FIELDS if c not in ("platform", "id", "is_context", "observed_at", "source_file", "source_line")
]
#: The columns a post's upsert merges (not its key, match status, observation time or source).
POST_CONTENT = _POST_CONTENT
_ACCOUNT_CONTENT = [c for c in ACCOUNT_FIELDS if c not in ("platform", "id", "observed_at")]
_NEWER = (
    "coalesce(excluded.observed_at, '-infinity'::TIMESTAMPTZ) >= coalesce({t}.observed_at, '-infinity'::TIMESTAMPTZ)"
)


def _merge_posts_sql(view: str) -> str:
    newer = _NEWER.format(t="posts")
    sets = [
        f'"{c}" = CASE WHEN {newer} THEN coalesce(excluded."{c}", posts."{c}") '
        f'ELSE coalesce(posts."{c}", excluded."{c}") END'
        for c in _POST_CONTENT
    ]
    take_source = (
        f"(posts.is_context AND NOT excluded.is_context) OR (({newer}) AND posts.is_context = excluded.is_context)"
    )
    sets += [
        "observed_at = greatest(posts.observed_at, excluded.observed_at)",
        "is_context = posts.is_context AND excluded.is_context",
        f"source_file = CASE WHEN {take_source} THEN excluded.source_file ELSE posts.source_file END",
        f"source_line = CASE WHEN {take_source} THEN excluded.source_line ELSE posts.source_line END",
    ]
    columns = ", ".join(f'"{c}"' for c in POST_FIELDS)
    return (
        f"INSERT INTO posts ({columns}) SELECT {columns} FROM {view} "
        f"ON CONFLICT (platform, id) DO UPDATE SET {', '.join(sets)}"
    )


def _merge_accounts_sql(view: str) -> str:
    newer = _NEWER.format(t="accounts")
    sets = [
        f'"{c}" = CASE WHEN {newer} THEN coalesce(excluded."{c}", accounts."{c}") '
        f'ELSE coalesce(accounts."{c}", excluded."{c}") END'
        for c in _ACCOUNT_CONTENT
    ]
    sets.append("observed_at = greatest(accounts.observed_at, excluded.observed_at)")
    columns = ", ".join(f'"{c}"' for c in ACCOUNT_FIELDS)
    return (
        f"INSERT INTO accounts ({columns}) SELECT {columns} FROM {view} "
        f"ON CONFLICT (platform, id) DO UPDATE SET {', '.join(sets)}"
    )


def _changed_sql(target: str, view: str, content: list[str], matches_only: bool) -> str:
    """Per ``_item`` of ``view``: how many of its rows already in ``target`` the merge would
    change (content only: ``observed_at`` and provenance are not a change) and, for posts, how
    many are stored as context and come as a match (a promotion). With ``matches_only``, rows
    stored as context are not counted as changed (a promotion is new, or replaces an edit)."""
    newer = _NEWER.format(t="t").replace("excluded.", "b.")
    merged = ", ".join(
        f'"{c}" := CASE WHEN {newer} THEN coalesce(b."{c}", t."{c}") ELSE coalesce(t."{c}", b."{c}") END'
        for c in content
    )
    stored = ", ".join(f'"{c}" := t."{c}"' for c in content)
    where = f"struct_pack({merged}) IS DISTINCT FROM struct_pack({stored})"
    promoted = "false"
    if matches_only:
        where = f"NOT t.is_context AND ({where})"
        promoted = "t.is_context AND NOT b.is_context"
    return (
        f"SELECT b._item, count(*) FILTER (WHERE {where}), count(*) FILTER (WHERE {promoted}) FROM {view} b "
        f"JOIN {target} t ON t.platform = b.platform AND t.id = b.id GROUP BY b._item"
    )


def changed_rows(
    store: Store, table: pa.Table, target: str, items: list[int] | None = None
) -> dict[int, tuple[int, int]]:
    """By item (``items[i]`` is the item of row ``i``; all item 0 without it): how many rows of
    ``table`` (posts or accounts) would change a stored row when merged, and how many posts
    stored as context come as matches (promotions; not counted as changed)."""
    if not table.num_rows:
        return {}
    content = _POST_CONTENT if target == "posts" else _ACCOUNT_CONTENT
    column = pa.array(items if items is not None else [0] * table.num_rows, pa.int64())
    view = _view_name("changed")
    store.con.register(view, table.append_column("_item", column))
    try:
        rows = store.con.execute(_changed_sql(target, view, content, matches_only=target == "posts")).fetchall()
    finally:
        _unregister(store.con, view)
    return {int(item): (int(n), int(p)) for item, n, p in rows}


def _insert_new_sql(table: str, view: str, fields: tuple[str, ...]) -> str:
    columns = ", ".join(f'"{c}"' for c in fields)
    return f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view} ON CONFLICT DO NOTHING"


MERGE_POSTS = _merge_posts_sql("_batch_posts")
MERGE_ACCOUNTS = _merge_accounts_sql("_batch_accounts")
INSERT_POSTS = _insert_new_sql("posts", "_batch_posts", POST_FIELDS)
INSERT_ACCOUNTS = _insert_new_sql("accounts", "_batch_accounts", ACCOUNT_FIELDS)
_INGEST_COLUMNS = (
    "id, source_file, source_path, source_size, source_mtime, format, compression, options, "
    "status, started_at, read, new, updated, rejected, context_new, context_updated, "
    "accounts_new, accounts_updated, api_errors, askscope_version"
)


def _in_transaction(store: Store, transaction: bool) -> Any:
    return store.transaction() if transaction else nullcontext()


# --- ingest runs -------------------------------------------------------------------------------


def begin_ingest(
    store: Store,
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
    with _in_transaction(store, transaction):
        next_id = store.con.execute("SELECT coalesce(max(id), 0) + 1 FROM ingests").fetchall()[0][0]
        store.con.execute(
            f"INSERT INTO ingests ({_INGEST_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, ?)",
            [
                next_id,
                source_file,
                source_path,
                source_size,
                source_mtime,
                format,
                compression,
                options,
                started,
                __version__,
            ],
        )
    return IngestRecord(id=int(next_id), source_file=source_file, format=format, started_at=started)


def begin_ingests(store: Store, runs: list[dict[str, Any]]) -> list[IngestRecord]:
    """Record the start of several ingest runs at once (inside the caller's transaction); each
    item holds the keyword arguments of :func:`begin_ingest`."""
    if not runs:
        return []
    first = int(store.con.execute("SELECT coalesce(max(id), 0) + 1 FROM ingests").fetchall()[0][0])
    started = now_utc()
    table = pa.table(
        {
            "id": pa.array(range(first, first + len(runs)), pa.int64()),
            "source_file": [r["source_file"] for r in runs],
            "source_path": [r["source_path"] for r in runs],
            "source_size": pa.array([r["source_size"] for r in runs], pa.int64()),
            "source_mtime": pa.array([r["source_mtime"] for r in runs], pa.float64()),
            "format": [r["format"] for r in runs],
            "compression": pa.array([r["compression"] for r in runs], pa.string()),
            "options": [r["options"] for r in runs],
            "started_at": pa.array([started] * len(runs), pa.timestamp("us", tz="UTC")),
        }
    )
    view = _view_name("begin")
    store.con.register(view, table)
    try:
        store.con.execute(
            f"INSERT INTO ingests ({_INGEST_COLUMNS}) SELECT id, source_file, source_path, source_size, "
            f"source_mtime, format, compression, options, 'running', started_at, 0, 0, 0, 0, 0, 0, 0, 0, 0, "
            f"'{__version__}' FROM {view}"
        )
    finally:
        _unregister(store.con, view)
    return [
        IngestRecord(id=first + i, source_file=r["source_file"], format=r["format"], started_at=started)
        for i, r in enumerate(runs)
    ]


def save_counts(store: Store, records: list[IngestRecord]) -> None:
    """Write the running counts of ingest runs."""
    if not records:
        return
    table = pa.table(
        {
            "id": [r.id for r in records],
            **{name: [getattr(r.counts, name) for r in records] for name in BatchCounts.__slots__},
        }
    )
    view = _view_name("counts")
    store.con.register(view, table)
    try:
        sets = ", ".join(f'"{n}" = c."{n}"' for n in BatchCounts.__slots__)
        store.con.execute(f"UPDATE ingests SET {sets} FROM {view} c WHERE ingests.id = c.id")
    finally:
        _unregister(store.con, view)


def finish_ingests(
    store: Store,
    records: list[IngestRecord],
    *,
    status: str,
    sha256: str | list[str | None] | None,
    bytes_read: int | list[int | None] | None,
    options: str | list[str | None] | None = None,
    transaction: bool = True,
) -> None:
    """Close ingest runs. A completed run supersedes earlier runs of the same content (same
    SHA-256) and interrupted runs of the same file: their raw blocks, rejects and API errors are
    dropped, so that re-ingesting never duplicates them."""
    n = len(records)

    def each(value: Any) -> list[Any]:
        return list(value) if isinstance(value, list) else [value] * n

    con = store.con
    with _in_transaction(store, transaction):
        table = pa.table(
            {
                "id": pa.array([r.id for r in records], pa.int64()),
                "sha256": pa.array(each(sha256), pa.string()),
                "bytes": pa.array(each(bytes_read), pa.int64()),
                "options": pa.array(each(options), pa.string()),
            }
        )
        view = _view_name("finish")
        con.register(view, table)
        try:
            con.execute(
                f"UPDATE ingests SET status = ?, sha256 = f.sha256, bytes = f.bytes, finished_at = ?, "
                f"options = coalesce(f.options, ingests.options) FROM {view} f WHERE ingests.id = f.id",
                [status, now_utc()],
            )
        finally:
            _unregister(con, view)
        save_counts(store, records)
        if status != "done":
            return
        ids = [r.id for r in records]
        pairs = con.execute(
            "SELECT o.id, max(n.id) FROM ingests o JOIN ingests n ON o.id < n.id "
            "WHERE n.id IN (SELECT unnest(?::BIGINT[])) AND o.superseded_by IS NULL AND o.format = n.format AND ("
            "  (o.status = 'done' AND o.sha256 = n.sha256) OR "
            "  (o.status IN ('running', 'interrupted', 'failed') AND o.source_path IS NOT NULL "
            "   AND o.source_path = n.source_path AND o.source_size = n.source_size "
            "   AND o.source_mtime = n.source_mtime)) "
            "AND o.id NOT IN (SELECT unnest(?::BIGINT[])) GROUP BY o.id",
            [ids, ids],
        ).fetchall()
        if not pairs:
            return
        older = [p[0] for p in pairs]
        for name in ("raw", "rejects", "api_errors"):
            con.execute(f"DELETE FROM {name} WHERE ingest_id IN (SELECT unnest(?::BIGINT[]))", [older])
        superseded = pa.table({"id": pa.array(older, pa.int64()), "by": pa.array([p[1] for p in pairs], pa.int64())})
        view = _view_name("superseded")
        con.register(view, superseded)
        try:
            con.execute(
                f"UPDATE ingests SET superseded_by = s.by, "
                f"status = CASE WHEN ingests.status = 'running' THEN 'interrupted' ELSE ingests.status END "
                f"FROM {view} s WHERE ingests.id = s.id"
            )
        finally:
            _unregister(con, view)


def _view_name(prefix: str) -> str:
    return f"_{prefix}_{uuid.uuid4().hex[:8]}"


# --- one batch ---------------------------------------------------------------------------------


def _match_counts(store: Store) -> tuple[int, int]:
    row = store.con.execute(
        "SELECT count(*) FILTER (WHERE is_context), count(*) FILTER (WHERE NOT is_context) FROM posts"
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def _account_count(store: Store) -> int:
    return int(store.con.execute("SELECT count(*) FROM accounts").fetchall()[0][0])


@dataclass
class RowEffects:
    """What merging one batch's rows did to the posts and accounts tables: row counts, each a
    sum over ``(platform, id)`` keys, so the effects of disjoint parts of a batch (a distributed
    merge's key partitions) add up to the effect of the whole batch. :func:`batch_counts` turns
    them into the batch's counts."""

    inserted: int = 0
    changed: int = 0
    promoted: int = 0
    new_matches: int = 0
    context_delta: int = 0
    context_rows: int = 0
    new_account_records: int = 0
    accounts_new: int = 0
    account_rows: int = 0

    def add(self, other: RowEffects) -> None:
        for name in RowEffects.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def merge_rows(store: Store, batch: Batch, stage: AccountStage | None = None) -> RowEffects:
    """Upsert a batch's posts and accounts (edit chains collapsed; accounts that came along with
    posts staged when ``stage`` is given) and return what that did, inside the caller's transaction."""
    context0, matches0 = _match_counts(store)
    inserted = changed = promoted = 0
    if batch.matches.num_rows:
        inserted, changed, promoted = upsert_posts(store, batch.matches, count_changed=True)
        if batch.edit_chains:
            collapse_edits(store, batch.edit_chains)
    context1, matches1 = _match_counts(store)
    if batch.context.num_rows:
        upsert_posts(store, batch.context)
        if batch.edit_chains:
            collapse_edits(store, batch.edit_chains)
    context2, _ = _match_counts(store)

    accounts0 = _account_count(store)
    if batch.account_records.num_rows:
        changed += upsert_accounts(store, batch.account_records, count_changed=True)[1]
    accounts1 = _account_count(store)
    if batch.accounts.num_rows and stage is not None:
        stage.add(batch.accounts)
    elif batch.accounts.num_rows:
        upsert_accounts(store, batch.accounts)
    accounts2 = _account_count(store)
    staged = batch.accounts.num_rows if stage is not None else 0
    return RowEffects(
        inserted=inserted,
        changed=changed,
        promoted=promoted,
        new_matches=matches1 - matches0,
        context_delta=context2 - context1,
        context_rows=batch.context.num_rows,
        new_account_records=accounts1 - accounts0,
        accounts_new=accounts2 - accounts0,
        account_rows=batch.account_records.num_rows + batch.accounts.num_rows - staged,
    )


def batch_counts(batch: Batch, effects: RowEffects) -> BatchCounts:
    """A batch's counts from its records and what merging its rows did (:func:`merge_rows`)."""
    counts = BatchCounts(read=batch.records, rejected=batch.rejects.num_rows, api_errors=batch.api_errors.num_rows)
    counts.context_new = max(effects.context_delta, 0)
    counts.context_updated = effects.context_rows - counts.context_new
    counts.accounts_new = effects.accounts_new
    counts.accounts_updated = effects.account_rows - effects.accounts_new
    counts.new = effects.new_matches + effects.new_account_records
    # a record already stored is updated when its merge changed the stored row, else unchanged;
    # a match inserted or promoted from context is new, unless it replaces a stored version of
    # an edited post (deleted by collapse_edits, so the matched set did not grow by it)
    replaced = max(0, effects.inserted + effects.promoted - effects.new_matches)
    counts.updated = effects.changed + replaced
    counts.unchanged = batch.match_records + batch.account_record_count - counts.new - counts.updated
    return counts


def write_batch(
    store: Store,
    ingest: IngestRecord,
    batch: Batch,
    *,
    keep_raw: bool = True,
    transaction: bool = True,
    save: bool = True,
    stage: AccountStage | None = None,
) -> BatchCounts:
    """Write one batch atomically (in its own transaction unless ``transaction`` is false, when
    the caller holds one) and return what it did. With ``stage``, the accounts that came along
    with posts are staged and merged once at the end of the input (:class:`AccountStage`)."""
    with _in_transaction(store, transaction):
        counts = batch_counts(batch, merge_rows(store, batch, stage))
        write_side_tables(store, [(ingest, batch)], keep_raw)
        ingest.counts.add(counts)
        if stage is not None and stage.rows >= STAGE_ROWS:
            stage.flush(final=False)  # bounds the stage (memory, and the size of the last commit)
        if save:
            save_counts(store, [ingest])
    return counts


#: Staged account rows merged early, so that the stage of a large input stays small.
STAGE_ROWS = 250_000


class AccountStage:
    """Accounts that come along with posts, staged for one input and merged once at its end.

    The same authors appear on page after page of a collection; upserting them with every batch
    costs more than the posts themselves. Staged rows go to a temporary table (lost in a crash,
    which is harmless: a re-run stages them again) and :meth:`flush` merges the latest
    observation of each account (later rows winning ties, as batch by batch) in the input's final
    transaction, counting what was new.
    """

    def __init__(self, store: Store, ingest: IngestRecord) -> None:
        self.store = store
        self.ingest = ingest
        self.table = f"_staged_accounts_{ingest.id}_{uuid.uuid4().hex[:6]}"
        self.rows = 0
        columns = ", ".join(f'"{c}" {t}' for c, t in ACCOUNT_COLUMNS).replace(" NOT NULL", "")
        store.con.execute(f"CREATE TEMP TABLE {self.table} ({columns}, _seq BIGINT)")

    def add(self, table: pa.Table) -> None:
        seq = pa.array(range(self.rows, self.rows + table.num_rows), pa.int64())
        view = _view_name("stage")
        self.store.con.register(view, table.append_column("_seq", seq))
        try:
            self.store.con.execute(f"INSERT INTO {self.table} SELECT * FROM {view}")
        finally:
            _unregister(self.store.con, view)
        self.rows += table.num_rows

    def flush(self, final: bool = True) -> BatchCounts:
        """Merge the staged accounts (inside the caller's transaction) and empty the stage (drop
        it when ``final``). Counts go to the ingest run."""
        counts = BatchCounts()
        con = self.store.con
        if self.rows:
            before = _account_count(self.store)
            latest = _arrow(
                con,
                f"SELECT * EXCLUDE (_seq) FROM {self.table} QUALIFY row_number() OVER "
                f"(PARTITION BY platform, id ORDER BY observed_at DESC NULLS LAST, _seq DESC) = 1 "
                f"ORDER BY platform, id",
            )
            upsert_accounts(self.store, latest)
            counts.accounts_new = _account_count(self.store) - before
            counts.accounts_updated = self.rows - counts.accounts_new
        con.execute(f"DROP TABLE IF EXISTS {self.table}" if final else f"DELETE FROM {self.table}")
        self.ingest.counts.add(counts)
        self.rows = 0
        return counts

    def discard(self) -> None:
        try:
            self.store.con.execute(f"DROP TABLE IF EXISTS {self.table}")
        except Exception:  # noqa: BLE001 - the connection may be mid-rollback; temp tables die with it
            pass


def _unregister(con: Any, view: str) -> None:
    """Unregister a view in a ``finally``: when DuckDB has aborted the transaction (out of memory,
    disk full) unregistering fails too, and must not hide the error that says why."""
    try:
        con.unregister(view)
    except duckdb.Error:
        pass


def _arrow(con: Any, query: str) -> pa.Table:
    relation = con.sql(query)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def write_side_tables(store: Store, items: list[tuple[IngestRecord, Batch]], keep_raw: bool) -> None:
    """Rejects, API errors and raw blocks of batches, tagged with their ingest run."""
    con = store.con
    for name, table_name, columns in (
        ("rejects", "rejects", "source_file, source_line, reason, excerpt, detail, item, byte_offset"),
        ("api_errors", "api_errors", "source_file, source_line, resource_type, resource_id, title, detail"),
    ):
        parts = [
            getattr(batch, name).append_column(
                "ingest_id", pa.array([ingest.id] * getattr(batch, name).num_rows, pa.int64())
            )
            for ingest, batch in items
            if getattr(batch, name).num_rows
        ]
        if not parts:
            continue
        view = _view_name(name)
        con.register(view, pa.concat_tables(parts))
        try:
            con.execute(f"INSERT INTO {table_name} ({columns}, ingest_id) SELECT {columns}, ingest_id FROM {view}")
        finally:
            _unregister(con, view)
    if not keep_raw:
        return
    raws = [(ingest, batch) for ingest, batch in items if batch.raw_block is not None]
    if raws:
        # each block in pieces of at most RAW_PART_BYTES, one row each (reparse joins them); the
        # block's lines and record count are on its first piece only, so sums over rows hold
        # (numbered in order, so two blocks of one run in the same call get numbers of their own)
        rows: list[tuple[int, int, Batch | None, int, bytes]] = []
        numbers: dict[int, int] = {}
        for ingest, batch in raws:
            number = numbers[ingest.id] = numbers.get(ingest.id, ingest.raw_blocks - 1) + 1
            block = batch.raw_block or b""
            for part, start in enumerate(range(0, max(len(block), 1), RAW_PART_BYTES)):
                piece = block[start : start + RAW_PART_BYTES]
                rows.append((ingest.id, number, batch if part == 0 else None, part, piece))
        table = pa.table(
            {
                "ingest_id": pa.array([r[0] for r in rows], pa.int64()),
                "block": pa.array([r[1] for r in rows], pa.int32()),
                "first_line": pa.array([r[2].raw_first_line if r[2] else None for r in rows], pa.int64()),
                "last_line": pa.array([r[2].raw_last_line if r[2] else None for r in rows], pa.int64()),
                "records": pa.array([r[2].raw_records if r[2] else None for r in rows], pa.int32()),
                "payload": pa.array([r[4] for r in rows], pa.binary()),
                "part": pa.array([r[3] for r in rows], pa.int32()),
            }
        )
        view = _view_name("raw")
        con.register(view, table)
        try:
            names = ", ".join(name for name, _ in RAW_COLUMNS)
            con.execute(f"INSERT INTO raw ({names}) SELECT {names} FROM {view}")
        finally:
            _unregister(con, view)
        for ingest, _ in raws:
            ingest.raw_blocks += 1


def _upsert(
    store: Store, table: pa.Table, view: str, target: str, insert_sql: str, merge_sql: str, count_changed: bool
) -> tuple[int, int, int]:
    """Insert the rows that are new; merge the others with the update rules. Returns the rows
    inserted and, when ``count_changed``, how many stored rows the merge changed and how many
    context posts it made matches (:func:`changed_rows`).

    A plain insert is far cheaper to plan than the merge (which matters for the many small
    batches of a folder of one-post files), and on a fresh store no row needs merging (nor the
    comparison that counts changes).
    """
    con = store.con
    changed = promoted = 0
    con.register(view, table)
    try:
        before = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0]
        con.execute(insert_sql)
        inserted = con.execute(f"SELECT count(*) FROM {target}").fetchall()[0][0] - before
        if inserted < table.num_rows:
            if count_changed:
                # the rows just inserted equal themselves: only stored rows can count as changed
                changed, promoted = changed_rows(store, table, target).get(0, (0, 0))
            con.execute(merge_sql)
    finally:
        _unregister(con, view)
    return int(inserted), changed, promoted


def upsert_posts(store: Store, table: pa.Table, *, count_changed: bool = False) -> tuple[int, int, int]:
    return _upsert(store, table, "_batch_posts", "posts", INSERT_POSTS, MERGE_POSTS, count_changed)


def upsert_accounts(store: Store, table: pa.Table, *, count_changed: bool = False) -> tuple[int, int, int]:
    return _upsert(store, table, "_batch_accounts", "accounts", INSERT_ACCOUNTS, MERGE_ACCOUNTS, count_changed)


def collapse_edits(store: Store, chains: list[list[str]]) -> None:
    """Keep only the latest stored version of each edited post (X edit history).

    The latest version is the one that comes last in the longest known history; the others
    are deleted. A match among the versions makes the kept row a match.
    """
    con = store.con
    ids = sorted({i for chain in chains for i in chain})
    rows = con.execute(
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
        con.execute("DELETE FROM posts WHERE platform = 'x' AND id IN (SELECT unnest(?::VARCHAR[]))", [drop])
        if any_match:
            con.execute("UPDATE posts SET is_context = false WHERE platform = 'x' AND id = ?", [keep])


# --- many small inputs at once -----------------------------------------------------------------


def _keys(table: pa.Table) -> list[tuple[str, str]]:
    return list(zip(table.column("platform").to_pylist(), table.column("id").to_pylist()))


def _latest_rows(tables: list[pa.Table]) -> pa.Table:
    """One row per (platform, id) over several tables: the latest observation, later tables
    winning ties (the order in which they would have been written one by one)."""
    combined = pa.concat_tables(tables)
    if combined.num_rows < 2:
        return combined
    observed = combined.column("observed_at").to_pylist()
    chosen: dict[tuple[str, str], int] = {}
    for index, key in enumerate(_keys(combined)):
        previous = chosen.get(key)
        if (
            previous is None
            or (observed[index] is not None and (observed[previous] is None or observed[index] >= observed[previous]))
            or (observed[index] is None and observed[previous] is None)
        ):
            chosen[key] = index
    if len(chosen) == combined.num_rows:
        return combined
    return combined.take(sorted(chosen.values()))


def _existing(
    store: Store, table_name: str, keys: set[tuple[str, str]], with_context: bool
) -> dict[tuple[str, str], bool]:
    """Which of ``keys`` are already in ``table_name`` (and, for posts, whether as context)."""
    if not keys:
        return {}
    platforms, ids = zip(*sorted(keys))
    view = _view_name("keys")
    store.con.register(view, pa.table({"platform": list(platforms), "id": list(ids)}))
    try:
        column = "t.is_context" if with_context else "false"
        rows = store.con.execute(
            f"SELECT t.platform, t.id, {column} FROM {table_name} t SEMI JOIN {view} k "
            f"ON t.platform = k.platform AND t.id = k.id"
        ).fetchall()
    finally:
        _unregister(store.con, view)
    return {(p, i): bool(c) for p, i, c in rows}


def _repeats(items: list[tuple[IngestRecord, Batch]]) -> bool:
    """True when two inputs of a group hold the same post or account record: whether the later
    one changes the earlier one's row is only known by writing them in turn."""
    seen: set[tuple[str, str, str]] = set()
    for _, batch in items:
        keys = {("post", *key) for key in _keys(batch.matches)} | {
            ("account", *key) for key in _keys(batch.account_records)
        }
        if keys & seen:
            return True
        seen |= keys
    return False


def write_group(store: Store, items: list[tuple[IngestRecord, Batch]], *, keep_raw: bool = True) -> None:
    """Write the batches of several small inputs with one upsert per table (inside the caller's
    transaction). Each run's counts are what writing its batch alone, in order, would give.
    Batches with edit histories, and groups in which two inputs hold the same record, are written
    one by one (their counts depend on deletions, or on the earlier input's row)."""
    if any(batch.edit_chains for _, batch in items) or _repeats(items):
        for ingest, batch in items:
            write_batch(store, ingest, batch, keep_raw=keep_raw, transaction=False, save=False)
        save_counts(store, [ingest for ingest, _ in items])
        return
    post_keys: set[tuple[str, str]] = set()
    account_keys: set[tuple[str, str]] = set()
    for _, batch in items:
        post_keys.update(_keys(batch.matches))
        post_keys.update(_keys(batch.context))
        account_keys.update(_keys(batch.account_records))
        account_keys.update(_keys(batch.accounts))
    posts_before = _existing(store, "posts", post_keys, with_context=True)
    accounts_before = _existing(store, "accounts", account_keys, with_context=False)
    # records already stored before the group: which change their stored row (by item)
    changed: dict[int, int] = {}
    if posts_before or accounts_before:
        for target, name in (("posts", "matches"), ("accounts", "account_records")):
            tables = [(i, getattr(batch, name)) for i, (_, batch) in enumerate(items) if getattr(batch, name).num_rows]
            if tables:
                combined = pa.concat_tables([table for _, table in tables])
                owners = [i for i, table in tables for _ in range(table.num_rows)]
                for item, (n, _) in changed_rows(store, combined, target, owners).items():
                    changed[item] = changed.get(item, 0) + n
    seen_match = {key for key, is_context in posts_before.items() if not is_context}
    seen_post = set(posts_before)
    seen_account = set(accounts_before)
    for index, (ingest, batch) in enumerate(items):
        counts = BatchCounts(read=batch.records, rejected=batch.rejects.num_rows, api_errors=batch.api_errors.num_rows)
        match_keys = _keys(batch.matches)
        new_matches = sum(1 for key in match_keys if key not in seen_match)
        seen_match.update(match_keys)
        seen_post.update(match_keys)
        context_keys = _keys(batch.context)
        counts.context_new = sum(1 for key in context_keys if key not in seen_post)
        counts.context_updated = len(context_keys) - counts.context_new
        seen_post.update(context_keys)
        record_keys = _keys(batch.account_records)
        new_account_records = sum(1 for key in record_keys if key not in seen_account)
        seen_account.update(record_keys)
        other_keys = _keys(batch.accounts)
        new_other = sum(1 for key in other_keys if key not in seen_account)
        seen_account.update(other_keys)
        counts.accounts_new = new_account_records + new_other
        counts.accounts_updated = len(record_keys) + len(other_keys) - counts.accounts_new
        counts.new = new_matches + new_account_records
        counts.updated = changed.get(index, 0)
        counts.unchanged = batch.match_records + batch.account_record_count - counts.new - counts.updated
        ingest.counts.add(counts)

    for name, upsert in (
        ("matches", upsert_posts),
        ("context", upsert_posts),
        ("account_records", upsert_accounts),
        ("accounts", upsert_accounts),
    ):
        tables = [getattr(batch, name) for _, batch in items if getattr(batch, name).num_rows]
        if tables:
            upsert(store, _latest_rows(tables))
    write_side_tables(store, items, keep_raw)
    save_counts(store, [ingest for ingest, _ in items])
