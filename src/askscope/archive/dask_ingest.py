"""``askscope ingest ARCHIVE_DIR PATH... --dask local:N|tcp://host:8786``: parse on Dask workers,
merge with the embedded store's rules, publish the archive.

1. **Plan** (here): the inputs are expanded and sniffed as the embedded ingest does
   (:func:`askscope.ingestion.plan.plan_inputs`).
2. **Parse** (one Dask task per input file, or per byte range of a large JSON-lines file: see
   :func:`byte_ranges`): the worker reads its file with the same readers and batching
   (:func:`askscope.ingestion.parsing.read_batches`, ``range_batches``) and writes every batch as Parquet
   parts (matches, context posts, accounts, rejects, API errors; the raw block beside them) under
   ``.NAME.parts-PID/`` next to the archive (a folder the workers must see: a shared file
   system on a real cluster). It returns only the batches' small metadata.
3. **Merge** (one Dask task per key partition): every post has a partition, a hash of
   ``(platform, key)`` where the key is its id, or for an X post with an edit history the
   history's first id (so the versions of an edited post meet, and ``collapse_edits`` sees them
   all); an account's is a hash of ``(platform, id)``. The parse tasks write each batch's posts
   and accounts by partition; a merge task loads its partition of the archive's posts and
   accounts into its own DuckDB store and writes every input's batches there in order, with
   the embedded path's own code (:func:`askscope.store.write.merge_rows`: dedup by ``(platform,
   id)``, newer observations update, context posts become matches, edit chains collapse; the
   accounts staged and flushed after the same batches as one process would). What merging did
   is a sum over keys (:class:`~askscope.store.write.RowEffects`), so the partitions' effects
   add up to each batch's counts, and ``ingests`` keeps ``read = new + updated + unchanged +
   rejected`` for every input, as one process would count it; a re-ingest of the same files adds
   nothing. The rejects, API errors, raw blocks and ingest runs are written in one process, in
   input order.

   One case cannot be partitioned by key alone: a version of an edited post stored without its
   history (X API v1.1, an older collection), whose own id puts it in another partition than the
   versions that carry the history. The merge tasks look for such posts first (the ids of every
   edit history, from the inputs and the archive, are sent to them) and when there is one the
   whole merge runs in one process instead (:func:`_merge_input`, the same result, slower).
4. **Publish**: the merged tables are written as the archive (posts partitioned by platform and
   day, :mod:`askscope.archive.parquet`; each merge task writes its partition's files) into a
   temporary folder that replaces the archive only when complete; a failed worker or merge
   leaves the archive as it was.

Posts that carry no retrieval time (``observed_at``) get the time the run started, one value for
every input of the run (the embedded path gives each input its own start time).
A compressed input is one task, however large (a compressed stream cannot be entered midway).
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from askscope.archive.cluster import limit_task
from askscope.archive.parquet import (
    MANIFEST,
    archive_lock,
    copy_posts,
    dataset_files,
    is_archive,
    load_archive,
    manifest_for,
    publish,
    quote_name,
    quote_path,
    read_manifest,
    table_entry,
    write_tables,
)
from askscope.errors import UsageError
from askscope.ingestion.engine import (
    MEMORY_LIMIT,
    FileResult,
    IngestResult,
    options_json,
    reject_reasons,
    reject_unknown,
)
from askscope.ingestion.inputs import OpenedInput
from askscope.ingestion.parsing import BLOCK_BYTES, MAX_RECORD_BYTES, damage_batch, range_batches, read_batches
from askscope.ingestion.plan import Plan, plan_inputs
from askscope.readers.records import HEAD_BYTES
from askscope.store.batch import ACCOUNT_SCHEMA, API_ERROR_SCHEMA, POST_SCHEMA, REJECT_SCHEMA, Batch
from askscope.store.core import (
    BatchCounts,
    IngestRecord,
    Store,
    column_names,
    memory_setting,
    now_utc,
    open_store,
    table_names,
)
from askscope.store.write import (
    POST_CONTENT,
    STAGE_ROWS,
    AccountStage,
    RowEffects,
    batch_counts,
    begin_ingest,
    finish_ingests,
    merge_rows,
    write_batch,
    write_side_tables,
)

#: The Arrow tables of a batch: the keyed ones are written by key partition (all of an input's
#: batches in one file per partition, with the batch number ``_k`` and the row's place ``_row``),
#: the others as one Parquet part per batch.
PART_SCHEMAS: dict[str, pa.Schema] = {
    "matches": POST_SCHEMA,
    "context": POST_SCHEMA,
    "account_records": ACCOUNT_SCHEMA,
    "accounts": ACCOUNT_SCHEMA,
    "rejects": REJECT_SCHEMA,
    "api_errors": API_ERROR_SCHEMA,
}
KEYED = ("matches", "context", "account_records", "accounts")
POST_TABLES = ("matches", "context")
#: A post's key partition (``{m}``: how many): the hash of its platform and id, or for an X post
#: with an edit history, of the history's first id (every version of an edited post in one).
POST_PARTITION_SQL = (
    "(hash(platform, CASE WHEN platform = 'x' AND len(edit_ids) > 0 THEN edit_ids[1] ELSE id END) % {m})::INTEGER"
)
ACCOUNT_PARTITION_SQL = "(hash(platform, id) % {m})::INTEGER"
#: Key partitions per worker (more, smaller merge tasks balance better than one each).
PARTITIONS_PER_WORKER = 2


def partition_count(workers: int) -> int:
    """Key partitions of the merge: ``ASKSCOPE_MERGE_PARTITIONS`` when set (more partitions, each
    smaller, bound a merge task's memory on a large archive), else two per worker."""
    value = os.environ.get("ASKSCOPE_MERGE_PARTITIONS", "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise UsageError(
                f"ASKSCOPE_MERGE_PARTITIONS={value!r} is not a positive whole number", "give e.g. 16, or unset it"
            )
        return int(value)
    return max(1, workers) * PARTITIONS_PER_WORKER


#: The share of its worker's memory limit a merge task's DuckDB may use before it spills to disk
#: (the rest: the batches' Arrow tables, Python, DuckDB's own overshoot).
MERGE_MEMORY_SHARE = 0.4


def _partition_sql(table: str, m: int) -> str:
    return (POST_PARTITION_SQL if table in POST_TABLES else ACCOUNT_PARTITION_SQL).format(m=int(m))


def _keyed_path(folder: Path, table: str, b: int) -> Path:
    return folder / f"p{b:05d}.{table}.parquet"


class KeyedWriter:
    """Writes an input's posts and accounts by key partition: one Parquet file per (table,
    partition), each batch's rows as row groups of their own (so a reader can pick one batch by
    its ``_k`` statistics)."""

    def __init__(self, folder: Path, m: int) -> None:
        self.folder, self.m = folder, m
        self.writers: dict[tuple[str, int], pq.ParquetWriter] = {}
        self.con = duckdb.connect()

    def write(self, k: int, table_name: str, table: pa.Table) -> None:
        if not table.num_rows:
            return
        table = table.append_column("_k", pa.array([k] * table.num_rows, pa.int32()))
        table = table.append_column("_row", pa.array(range(table.num_rows), pa.int32()))
        self.con.register("_keyed", table)
        try:
            parts = self.con.execute(f"SELECT {_partition_sql(table_name, self.m)} AS p FROM _keyed").fetchnumpy()["p"]
        finally:
            self.con.unregister("_keyed")
        column = pa.array(parts)
        for b in sorted(set(parts.tolist())):
            rows = table.filter(pc.equal(column, b))
            writer = self.writers.get((table_name, b))
            if writer is None:
                writer = pq.ParquetWriter(_keyed_path(self.folder, table_name, b), rows.schema)
                self.writers[(table_name, b)] = writer
            writer.write_table(rows)

    def close(self) -> dict[str, list[int]]:
        """Close the files; the partitions each table has rows in."""
        for writer in self.writers.values():
            writer.close()
        self.con.close()
        out: dict[str, list[int]] = {name: [] for name in KEYED}
        for name, b in sorted(self.writers):
            out[name].append(b)
        return out


def _write_part(folder: Path, k: int, batch: Batch, damage: bool, keyed: KeyedWriter) -> dict[str, Any]:
    """Write batch ``k`` of an input (its keyed tables by partition); return its metadata."""
    tables = []
    for name in PART_SCHEMAS:
        table: pa.Table = getattr(batch, name)
        if not table.num_rows:
            continue
        tables.append(name)
        if name in KEYED:
            keyed.write(k, name, table)
        else:
            pq.write_table(table, folder / f"{k:06d}.{name}.parquet")
    if batch.raw_block is not None:
        (folder / f"{k:06d}.raw").write_bytes(batch.raw_block)
    return {
        "k": k,
        "tables": tables,
        "raw": batch.raw_block is not None,
        "match_records": batch.match_records,
        "account_record_count": batch.account_record_count,
        "accounts_rows": batch.accounts.num_rows,
        "raw_first_line": batch.raw_first_line,
        "raw_last_line": batch.raw_last_line,
        "raw_records": batch.raw_records,
        "edit_chains": batch.edit_chains,
        "platforms": batch.platforms,
        "damage": damage,
    }


def _read_keyed(folder: Path, name: str, k: int, partitions: list[int]) -> pa.Table:
    """Batch ``k``'s rows of the keyed table ``name`` in ``partitions``, in the batch's order."""
    schema = PART_SCHEMAS[name]
    pieces = []
    for b in partitions:
        path = _keyed_path(folder, name, b)
        if path.exists():
            piece = pq.read_table(path, filters=[("_k", "=", k)])
            if piece.num_rows:
                pieces.append(piece)
    if not pieces:
        return schema.empty_table()
    table = pa.concat_tables(pieces)
    if len(pieces) > 1:
        table = table.take(pc.sort_indices(table, [("_row", "ascending")]))
    return table.drop_columns(["_k", "_row"]).cast(schema)


def _read_part(folder: Path, meta: dict[str, Any], partitions: list[int], side: bool = True) -> Batch:
    """Batch ``meta['k']`` of an input, as the worker parsed it: its keyed tables' rows in
    ``partitions`` (all of them: the whole batch), and with ``side`` its rejects, API errors and
    raw block."""
    k = meta["k"]
    tables: dict[str, pa.Table] = {}
    for name, schema in PART_SCHEMAS.items():
        if name not in meta["tables"] or (name not in KEYED and not side):
            tables[name] = schema.empty_table()
        elif name in KEYED:
            tables[name] = _read_keyed(folder, name, k, partitions)
        else:
            tables[name] = pq.read_table(folder / f"{k:06d}.{name}.parquet", schema=schema)
    return Batch(
        matches=tables["matches"],
        context=tables["context"],
        account_records=tables["account_records"],
        accounts=tables["accounts"],
        rejects=tables["rejects"],
        api_errors=tables["api_errors"],
        match_records=meta["match_records"],
        account_record_count=meta["account_record_count"],
        raw_block=(folder / f"{k:06d}.raw").read_bytes() if meta["raw"] and side else None,
        raw_first_line=meta["raw_first_line"],
        raw_last_line=meta["raw_last_line"],
        raw_records=meta["raw_records"],
        edit_chains=meta["edit_chains"],
        platforms=meta["platforms"],
    )


def parse_input(
    index: int,
    plan: Plan,
    options: dict[str, Any],
    observed: datetime,
    parts: str,
    m: int = 1,
    byte_range: tuple[int, int, int] | None = None,
    part: int = 0,
) -> dict[str, Any]:
    """The Dask task: parse one input (or with ``byte_range`` = ``(start, end, first line)``, part
    ``part`` of it: :func:`askscope.ingestion.parsing.range_batches`) into Parquet parts under
    ``parts/input-INDEX.PART``, its posts and accounts by key partition (``m`` of them).

    Runs on a worker; returns the batches' metadata and, for a whole input, its digest, size and
    damage (a part's come from :func:`hash_file`)."""
    started = time.perf_counter()
    folder = Path(parts) / f"input-{index:06d}.{part:04d}"
    if folder.exists():  # a retry after a lost worker starts over
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    metas: list[dict[str, Any]] = []
    keyed = KeyedWriter(folder, m)
    max_record = options.get("max_record_bytes", MAX_RECORD_BYTES)
    sha: str | None = None
    size: int | None = None
    damage: Any = None
    try:
        if byte_range is not None:
            start, end, first_line = byte_range
            for batch in range_batches(plan, start, end, first_line, observed, max_record):
                metas.append(_write_part(folder, len(metas), batch, False, keyed))
        else:
            with OpenedInput(plan.source, HEAD_BYTES) as opened:
                for batch in read_batches(plan, opened, observed, workers=0, strict=False, max_record=max_record):
                    metas.append(_write_part(folder, len(metas), batch, False, keyed))
                if opened.damage is not None:
                    metas.append(_write_part(folder, len(metas), damage_batch(plan.source.name, opened), True, keyed))
                sha, size, damage = opened.sha256(), opened.bytes_read, opened.damage
    finally:
        partitions = keyed.close()
    (folder / "batches.msgpack").write_bytes(msgspec.msgpack.encode(metas))
    return {
        "index": index,
        "part": part,
        "folder": str(folder),
        "batches": len(metas),
        "partitions": partitions,
        "sha256": sha,
        "bytes": size,
        "damage": damage,
        "seconds": time.perf_counter() - started,
        "pid": os.getpid(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


#: Byte ranges of a large JSON-lines file parsed as tasks of their own (``ASKSCOPE_RANGE_MIB``, a
#: multiple of the parser's 8 MiB blocks).
RANGE_MIB = 128


def range_bytes() -> int:
    """The size of a byte range: ``ASKSCOPE_RANGE_MIB`` MiB when set, else ``RANGE_MIB``."""
    block_mib = BLOCK_BYTES >> 20
    value = os.environ.get("ASKSCOPE_RANGE_MIB", "").strip() or str(RANGE_MIB)
    if not value.isdigit() or int(value) < block_mib or int(value) % block_mib:
        raise UsageError(
            f"ASKSCOPE_RANGE_MIB={value!r} is not a whole multiple of {block_mib} (MiB)",
            f"give e.g. {RANGE_MIB}, or unset it",
        )
    return int(value) << 20


def byte_ranges(plan: Plan, size: int) -> list[tuple[int, int]] | None:
    """Where one large JSON-lines file is cut into tasks: ``(start, end)`` byte ranges of about
    ``size`` bytes, each cut where the parser cuts a block (after the last newline before a
    multiple of ``size``, which is one of ``BLOCK_BYTES``; a multiple with no newline in the block
    before it is not a cut). None when the input is not such a file or is one range."""
    source = plan.source
    if (
        plan.framing != "jsonl"
        or not plan.reader.parallel
        or plan.reader.name == "csv"
        or plan.compression is not None
        or source.member is not None
        or source.path is None
        or not source.size
        or source.size <= size
    ):
        return None
    cuts = [0]
    with open(source.path, "rb") as handle:
        for multiple in range(size, source.size, size):
            handle.seek(multiple - BLOCK_BYTES)
            window = handle.read(BLOCK_BYTES)
            newline = window.rfind(b"\n")
            if newline >= 0 and multiple - BLOCK_BYTES + newline + 1 > cuts[-1]:
                cuts.append(multiple - BLOCK_BYTES + newline + 1)
    cuts.append(source.size)
    ranges = [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
    return ranges if len(ranges) > 1 else None


def scan_range(path: str, start: int, end: int) -> dict[str, int]:
    """The Dask task before a byte range is parsed: its newlines (so the next range knows its
    first line number) and its longest line (a line over the record limit moves the parser's
    cuts: then the file is parsed whole)."""
    lines, longest, previous = 0, 0, start - 1
    with open(path, "rb") as handle:
        handle.seek(start)
        position = start
        while position < end:
            chunk = handle.read(min(BLOCK_BYTES, end - position))
            if not chunk:
                break
            found = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10) + position
            if len(found):
                gaps = np.diff(found, prepend=previous)
                longest = max(longest, int(gaps.max()))
                previous = int(found[-1])
                lines += len(found)
            position += len(chunk)
    return {"lines": lines, "longest": max(longest, end - 1 - previous)}


def hash_file(path: str) -> tuple[str, int]:
    """The Dask task beside a file's byte ranges: its SHA-256 and size (what the ingest log keeps
    for the input: a re-ingest of the same content supersedes this run)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(BLOCK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _metas(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """The batches of one parsed part."""
    metas: list[dict[str, Any]] = msgspec.msgpack.decode((Path(parsed["folder"]) / "batches.msgpack").read_bytes())
    return metas


def _input_metas(parsed: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The batches of one input, ``(folder, meta)`` in order over its parts."""
    return [(part["folder"], meta) for part in parsed["parts"] for meta in _metas(part)]


def flush_points(metas: list[dict[str, Any]]) -> list[int]:
    """The batches (positions in ``metas``, an input's batches in order) after which one process
    would flush its staged accounts early (when the stage reaches ``STAGE_ROWS`` rows): the merge
    tasks flush after the same ones, so that the accounts come out the same (a flush is an
    upsert: when it happens matters to the merge)."""
    points, rows = [], 0
    for position, meta in enumerate(metas):
        if meta["damage"]:
            continue
        rows += meta.get("accounts_rows", 0)
        if rows >= STAGE_ROWS:
            points.append(position)
            rows = 0
    return points


def _begin(db: Store, plan: Plan, observed: datetime) -> IngestRecord:
    source = plan.source
    return begin_ingest(
        db,
        source_file=source.name,
        source_path=source.path if source.member is None else f"{source.path}:{source.member}",
        source_size=source.size,
        source_mtime=os.path.getmtime(source.path) if source.path and source.member is None else None,
        format=plan.reader.name,
        compression=plan.compression,
        options="{}",
        started_at=observed,
        transaction=False,
    )


def _finish(db: Store, plan: Plan, parsed: dict[str, Any], record: IngestRecord, options: dict[str, Any]) -> FileResult:
    finish_ingests(
        db,
        [record],
        status="done",
        sha256=parsed["sha256"],
        bytes_read=parsed["bytes"],
        options=options_json(plan.reader, options, plan.framing),
        transaction=False,
    )
    return FileResult(
        source_file=plan.source.name,
        format=plan.reader.name,
        ingest_id=record.id,
        status="done",
        counts=record.counts,
        sha256=parsed["sha256"],
        bytes=parsed["bytes"] or 0,
        seconds=parsed["seconds"],
        damage=parsed["damage"],
    )


def _merge_input(
    db: Store, plan: Plan, parsed: dict[str, Any], options: dict[str, Any], observed: datetime, m: int
) -> FileResult:
    """One process: write one parsed input into the merge store as the embedded ingest writes it:
    one run, its batches in order (accounts staged), the damage note, the run closed; one
    transaction."""
    con = db.con
    con.execute("BEGIN TRANSACTION")
    try:
        record = _begin(db, plan, observed)
        stage = AccountStage(db, record)
        try:
            for folder, meta in _input_metas(parsed):
                batch = _read_part(Path(folder), meta, list(range(m)))
                write_batch(db, record, batch, transaction=False, stage=None if meta["damage"] else stage)
            stage.flush()
        finally:
            stage.discard()
        result = _finish(db, plan, parsed, record, options)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


#: Batches of an input the coordinator records per transaction (``_record_input``; about 6 MB
#: of raw pieces; tests/test_archive_byte_ranges.py's 5-batch input commits once in between).
RECORD_COMMIT_BATCHES = 4


def _record_input(
    db: Store,
    plan: Plan,
    parsed: dict[str, Any],
    options: dict[str, Any],
    observed: datetime,
    effects: list[RowEffects],
    flushed: BatchCounts,
) -> FileResult:
    """The coordinator's part of a partitioned merge, for one input: its run, each batch's
    counts from the partitions' summed row effects, its rejects, API errors and raw blocks, the
    staged accounts' counts, the run closed.

    Committed every :data:`RECORD_COMMIT_BATCHES` batches: this store is the run's temporary
    one, discarded whole on any failure, so the commits only bound the memory (one transaction
    held a 1.25M-post input's 670 MB of raw pieces until its end)."""
    con = db.con
    con.execute("BEGIN TRANSACTION")
    try:
        record = _begin(db, plan, observed)
        for n, ((folder, meta), effect) in enumerate(zip(_input_metas(parsed), effects), 1):
            batch = _read_part(Path(folder), meta, [])
            record.counts.add(batch_counts(batch, effect))
            write_side_tables(db, [(record, batch)], keep_raw=True)
            if n % RECORD_COMMIT_BATCHES == 0:
                con.execute("COMMIT")
                con.execute("BEGIN TRANSACTION")
        record.counts.add(flushed)
        result = _finish(db, plan, parsed, record, options)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def edit_members(parsed: list[dict[str, Any]], archive: Path | None, manifest: dict[str, Any] | None) -> dict[str, str]:
    """Every id of an X edit history (in the inputs and the archive) -> the first id of its
    history (the least first id when histories that share an id disagree): where its versions
    are merged."""
    chains: list[list[str]] = [chain for p in parsed for _, meta in _input_metas(p) for chain in meta["edit_chains"]]
    if archive is not None and manifest is not None and manifest["tables"].get("posts", {}).get("rows"):
        con = duckdb.connect()
        try:
            rows = con.execute(
                "SELECT edit_ids FROM read_parquet(?, hive_partitioning = false) "
                "WHERE platform = 'x' AND len(edit_ids) > 1",
                [dataset_files(archive, "posts")],
            ).fetchall()
        finally:
            con.close()
        chains += [list(r[0]) for r in rows]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    firsts: dict[str, str] = {}
    for chain in chains:
        for version in chain[1:]:
            a, b = find(chain[0]), find(version)
            if a != b:
                parent[b] = a
    for chain in chains:
        root = find(chain[0])
        firsts[root] = min(firsts.get(root, chain[0]), chain[0])
    return {x: firsts[find(x)] for x in list(parent)}


def merge_partition(
    b: int,
    m: int,
    inputs: list[dict[str, Any]],
    archive: str | None,
    members: dict[str, str],
    work: str,
) -> dict[str, Any]:
    """The Dask task of key partition ``b`` of ``m``: the archive's posts and accounts of the
    partition and every input's rows of it, merged in input and batch order in a DuckDB store
    of its own; the result written as Parquet under ``work/partition-B``. Returns each batch's
    row effects and each input's staged-account counts, or the number of misplaced edit versions
    (then nothing is merged: the caller merges in one process)."""
    started = time.perf_counter()
    folder = Path(work) / f"partition-{b:05d}"
    if folder.exists():  # a retry after a lost worker starts over
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    db = open_store(folder / "store.duckdb")
    try:
        con = db.con
        limit_task(con, folder / "spill", MERGE_MEMORY_SHARE)
        # a transaction per merge (not one around the task): DuckDB keeps the Arrow tables a
        # transaction scanned until it ends (a whole partition's batches in memory), and the
        # store is this task's own, thrown away on a failure
        if archive is not None:
            _load_partition(con, archive, b, m)
        if members:
            misplaced = _misplaced(con, inputs, members, b, m)
            if misplaced:
                return {"partition": b, "misplaced": misplaced}
        results: list[dict[str, Any]] = []
        for item in inputs:
            record = IngestRecord(id=item["index"] + 1, source_file="", format="", started_at=now_utc())
            stage = AccountStage(db, record)
            try:
                effects, flushed, upserts = _merge_input_partition(db, item, b, stage)
                flushed.add(stage.flush())
            finally:
                stage.discard()
            results.append({"effects": effects, "flushed": flushed.as_dict(), "merges": upserts})
        rows = _write_partition(con, folder, b)
    finally:
        db.close()
    (folder / "store.duckdb").unlink(missing_ok=True)
    Path(str(folder / "store.duckdb") + ".wal").unlink(missing_ok=True)
    return {
        "partition": b,
        "misplaced": 0,
        "inputs": results,
        "rows": rows,
        "folder": str(folder),
        "seconds": time.perf_counter() - started,
        "pid": os.getpid(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


#: Rows a merge task merges at once when it joins consecutive batches (see _merge_input_partition).
GROUP_ROWS = 100_000


class _Group:
    """Consecutive batches of one input merged at once (see :func:`_merge_input_partition`)."""

    def __init__(self) -> None:
        self.batches: list[Batch] = []
        self.matches: set[tuple[str, str]] = set()
        self.records: set[tuple[str, str]] = set()
        self.context: dict[tuple[str, str], tuple[int, int]] = {}  # key -> (batch, row)
        self.rows = 0
        self.repeats = 0

    def accepts(self, batch: Batch) -> bool:
        """Whether ``batch`` can join: none of its matches or account records was in the group;
        its context posts may have been, as matches (merged after them either way: the group's
        matches are merged before its context posts) or as context posts with the same content
        (kept once)."""
        if self.rows + batch.matches.num_rows + batch.context.num_rows > GROUP_ROWS:
            return False
        matches = set(_keys(batch.matches))
        context = _keys(batch.context)
        if (
            matches & self.matches
            or matches.intersection(self.context)
            or set(_keys(batch.account_records)) & self.records
        ):
            return False
        repeated = [(i, self.context[key]) for i, key in enumerate(context) if key in self.context]
        if not repeated:
            return True
        now = batch.context.take([i for i, _ in repeated]).select(POST_CONTENT)
        return bool(now.equals(_take_rows(self.batches, [loc for _, loc in repeated])))

    def add(self, batch: Batch) -> None:
        index = len(self.batches)
        self.batches.append(batch)
        self.matches.update(_keys(batch.matches))
        self.records.update(_keys(batch.account_records))
        for row, key in enumerate(_keys(batch.context)):
            if key in self.context:
                self.repeats += 1
            self.context[key] = (index, row)
        self.rows += batch.matches.num_rows + batch.context.num_rows

    def batch(self) -> Batch:
        """The group's rows as one batch, each repeated context post once (its latest observation,
        the later one on a tie: what upserting them in turn leaves, their content being equal)."""
        if len(self.batches) == 1:
            return self.batches[0]
        first = self.batches[0]
        context = pa.concat_tables([x.context for x in self.batches])
        if self.repeats:
            context = _latest_context(context)
        return Batch(
            matches=pa.concat_tables([x.matches for x in self.batches]),
            context=context,
            account_records=pa.concat_tables([x.account_records for x in self.batches]),
            accounts=pa.concat_tables([x.accounts for x in self.batches]),
            rejects=first.rejects,
            api_errors=first.api_errors,
            match_records=0,
            account_record_count=0,
            raw_block=None,
            raw_first_line=first.raw_first_line,
            raw_last_line=first.raw_last_line,
            raw_records=0,
            edit_chains=[],
            platforms=first.platforms,
        )


def _merged(db: Store, batch: Batch, stage: AccountStage | None) -> RowEffects:
    """:func:`merge_rows` in a transaction of its own."""
    db.con.execute("BEGIN TRANSACTION")
    try:
        effect = merge_rows(db, batch, stage=stage)
        db.con.execute("COMMIT")
    except BaseException:
        db.con.execute("ROLLBACK")
        raise
    return effect


def _keys(table: pa.Table) -> list[tuple[str, str]]:
    if not table.num_rows:
        return []
    return list(zip(table.column("platform").to_pylist(), table.column("id").to_pylist()))


def _take_rows(batches: list[Batch], locations: list[tuple[int, int]]) -> pa.Table:
    """The content columns of the context rows at ``(batch, row)`` locations, in that order."""
    pieces, positions = [], []
    for b in sorted({b for b, _ in locations}):
        picked = [(i, r) for i, (bb, r) in enumerate(locations) if bb == b]
        pieces.append(batches[b].context.take([r for _, r in picked]).select(POST_CONTENT))
        positions += [i for i, _ in picked]
    return pa.concat_tables(pieces).take(pc.sort_indices(pa.array(positions, pa.int64())))


def _latest_context(context: pa.Table) -> pa.Table:
    """One row per ``(platform, id)``: the latest ``observed_at`` (none counts as earliest), the
    later row on a tie; in the order of the rows kept."""
    con = duckdb.connect()
    try:
        con.register("_context", context.append_column("_pos", pa.array(range(context.num_rows), pa.int64())))
        kept = con.execute(
            "SELECT _pos FROM _context QUALIFY row_number() OVER (PARTITION BY platform, id ORDER BY "
            "coalesce(observed_at, '-infinity'::TIMESTAMPTZ) DESC, _pos DESC) = 1 ORDER BY _pos"
        ).fetchnumpy()["_pos"]
    finally:
        con.close()
    return context.take(pa.array(kept))


def _merge_input_partition(
    db: Store, item: dict[str, Any], b: int, stage: AccountStage
) -> tuple[list[dict[str, int]], BatchCounts, int]:
    """Merge partition ``b``'s rows of one input's batches, in order; returns each batch's row
    effects, the counts of the accounts flushed early and how many merges it took.

    A partition's share of a batch is small, and every upsert has a fixed cost (about 10 ms), so
    consecutive batches are merged at once when that cannot change anything: no post is in two
    of them except context posts with equal content (kept once, as upserting them in turn would
    leave them), no account record is in two, none has an edit history (no deletions), none is
    an input's damage note, and no early flush of the staged accounts falls between them. Their
    effects are then non-negative and additive, and are reported on the group's last batch
    (zeros on the others, the repeated context posts counted as rows merged): the input's
    counts, a sum over its batches, are the same."""
    effects: list[dict[str, int]] = []
    flushed = BatchCounts()
    group = _Group()
    upserts = 0

    def merge_group() -> None:
        nonlocal group, upserts
        if not group.batches:
            return
        upserts += 1
        effect = _merged(db, group.batch(), stage)
        effect.context_rows += group.repeats
        effects.extend(vars(RowEffects()) for _ in group.batches[1:])
        effects.append(vars(effect))
        group = _Group()

    flush_after = set(item["flush_after"])
    for position, (folder, meta) in enumerate(item["metas"]):
        batch = _read_part(Path(folder), meta, [b], side=False)
        if meta["damage"] or meta["edit_chains"]:
            merge_group()
            upserts += 1
            effects.append(vars(_merged(db, batch, None if meta["damage"] else stage)))
        else:
            if not group.accepts(batch):
                merge_group()
            group.add(batch)
        if position in flush_after:
            merge_group()
            flushed.add(stage.flush(final=False))
    merge_group()
    return effects, flushed, upserts


def _load_partition(con: duckdb.DuckDBPyConnection, archive: str, b: int, m: int) -> None:
    """The archive's posts and accounts of partition ``b`` into the task's store."""
    for table, key in (("posts", "matches"), ("accounts", "accounts")):
        files = sorted(str(p) for p in (Path(archive) / table).rglob("*.parquet"))
        if not files:
            continue
        names = ", ".join(quote_name(c) for c in sorted(column_names(con, table)[table]))
        con.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM read_parquet(?, hive_partitioning = false) "
            f"WHERE {_partition_sql(key, m)} = ?" + (" ORDER BY platform, id" if table == "posts" else ""),
            [files, b],
        )


def _misplaced(
    con: duckdb.DuckDBPyConnection, inputs: list[dict[str, Any]], members: dict[str, str], b: int, m: int
) -> int:
    """How many X posts of partition ``b`` (stored or new) belong to an edit history merged in
    another partition: versions stored without their history, placed by their own id."""
    files = [
        str(_keyed_path(Path(part["folder"]), name, b))
        for item in inputs
        for part in item["parts"]
        for name in POST_TABLES
        if b in part["partitions"][name]
    ]
    con.register("_members", pa.table({"id": list(members), "first": list(members.values())}))
    try:
        sources = ["SELECT platform, id FROM posts"]
        if files:
            sources.append("SELECT platform, id FROM read_parquet(?)")
        row = con.execute(
            f"SELECT count(*) FROM ({' UNION ALL '.join(sources)}) r JOIN _members s ON r.platform = 'x' AND r.id = s.id "
            f"WHERE (hash('x', s.first) % {int(m)})::INTEGER <> ?",
            [files, b] if files else [b],
        ).fetchall()[0]
    finally:
        con.unregister("_members")
    return int(row[0])


def _write_partition(con: duckdb.DuckDBPyConnection, folder: Path, b: int) -> dict[str, int]:
    """The partition's posts (by platform and day, as the archive lays them out) and accounts as
    Parquet under ``folder``; returns their row counts."""
    rows = {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]) for t in ("posts", "accounts")}
    if rows["posts"]:
        copy_posts(con, folder / "posts", f"part-p{b:05d}-{{i}}")
    if rows["accounts"]:
        con.execute(
            f"COPY (SELECT * FROM accounts ORDER BY platform, id) TO {quote_path(folder / 'accounts.parquet')} "
            "(FORMAT PARQUET)"
        )
    return rows


def _gather_partitions(partial: Path, outputs: list[dict[str, Any]]) -> None:
    """Move the merge tasks' files into the archive being written."""
    (partial / "posts").mkdir(exist_ok=True)
    (partial / "accounts").mkdir(exist_ok=True)
    for out in outputs:
        folder = Path(out["folder"])
        posts = folder / "posts"
        if posts.is_dir():
            for path in sorted(posts.rglob("*.parquet")):
                target = partial / "posts" / path.relative_to(posts)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
        if (folder / "accounts.parquet").exists():
            os.replace(folder / "accounts.parquet", partial / "accounts" / f"part-p{out['partition']:05d}.parquet")


def check_archive_target(folder: str | os.PathLike[str]) -> Path:
    """The archive folder to ingest into: an archive, an empty folder or a new path."""
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise UsageError(
            f"{target} is a file, not an archive folder",
            "--dask ingests into an archive folder; to move a store there: askscope export DB --parquet DIR",
        )
    if target.is_dir() and not is_archive(target) and any(target.iterdir()):
        raise UsageError(
            f"{target} is a folder but not an askscope archive (no {MANIFEST})",
            "give a new or empty folder, or an archive written by askscope",
        )
    return target


def _parse_all(
    client: Any,
    plans: list[Plan],
    options: dict[str, Any],
    observed: datetime,
    parts: str,
    m: int,
    phases: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parse every input on the cluster: one task per input, or per byte range of a large
    JSON-lines file (each range's first line number from a scan of the ranges before it; the
    file's digest from a task of its own). Returns each input's parts in order, with its digest,
    size, damage, batches and seconds, and every parse task's report."""
    size = range_bytes()
    max_record = options.get("max_record_bytes", MAX_RECORD_BYTES)
    cut = {i: byte_ranges(plan, size) for i, plan in enumerate(plans)}
    scans = {
        i: (
            [client.submit(scan_range, plans[i].source.path, a, b, pure=False, retries=1) for a, b in ranges],
            client.submit(hash_file, plans[i].source.path, pure=False, retries=1),
        )
        for i, ranges in cut.items()
        if ranges
    }
    whole = {
        i: client.submit(parse_input, i, plan, options, observed, parts, m, pure=False, retries=1)
        for i, plan in enumerate(plans)
        if not cut[i]
    }
    pieces: dict[int, list[Any]] = {}
    for i, (scanned, _) in scans.items():
        found = [future.result() for future in scanned]
        ranges = cut[i] or []
        if max(f["longest"] for f in found) > max_record:
            # a line over the record limit moves the parser's cuts: the file is parsed whole
            whole[i] = client.submit(parse_input, i, plans[i], options, observed, parts, m, pure=False, retries=1)
            continue
        first, futures = 1, []
        for j, ((a, b), f) in enumerate(zip(ranges, found)):
            futures.append(
                client.submit(
                    parse_input, i, plans[i], options, observed, parts, m, (a, b, first), j, pure=False, retries=1
                )
            )
            first += f["lines"]
        pieces[i] = futures
    parsed, reports = [], []
    for i in range(len(plans)):
        if i in pieces:
            done = [future.result() for future in pieces[i]]
            sha, size_read = scans[i][1].result()
            damage = None
        else:
            done = [whole[i].result()]
            sha, size_read, damage = done[0]["sha256"], done[0]["bytes"], done[0]["damage"]
        reports += done
        parsed.append(
            {
                "index": i,
                "parts": done,
                "sha256": sha,
                "bytes": size_read,
                "damage": damage,
                "batches": sum(r["batches"] for r in done),
                "seconds": sum(r["seconds"] for r in done),
            }
        )
    phases["byte_ranges"] = {plans[i].source.name: len(pieces[i]) for i in pieces}
    return parsed, reports


def ingest_archive(
    folder: str | os.PathLike[str], paths: list[str], *, dask: str, **options: Any
) -> tuple[IngestResult, list[dict[str, Any]], dict[str, Any]]:
    """:func:`_ingest_archive` with the archive held exclusively while it runs
    (:func:`~askscope.archive.parquet.archive_lock`: a concurrent analysis would write its tables
    back over this ingest's rows, a concurrent report would read a folder being replaced)."""
    target = check_archive_target(folder)
    created = False
    if not target.exists() and target.parent.is_dir():
        # a first ingest makes the (empty) folder now, to hold it: two first ingests into the same
        # path would otherwise both publish there
        try:
            target.mkdir()
            created = True
        except FileExistsError:
            pass
    try:
        with archive_lock(target, write=True):
            return _ingest_archive(target, paths, dask=dask, **options)
    except BaseException:
        if created and target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # still the empty folder made above: leave the path as it was
        raise


def _ingest_archive(
    folder: str | os.PathLike[str],
    paths: list[str],
    *,
    dask: str,
    format: str | None = None,
    mapping: dict[str, str] | None = None,
    platform: str | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    date_order: str | None = None,
    date_format: str | None = None,
    progress: Any = None,
) -> tuple[IngestResult, list[dict[str, Any]], dict[str, Any]]:
    """Ingest ``paths`` into the archive ``folder`` on the Dask cluster ``dask``.

    Returns the embedded ingest's result object (per input counts), each parse task's report
    (worker pid, seconds, peak RSS) and the run's phases (seconds: loading the archive, starting
    the cluster, parsing, merging, recording the runs, writing the archive; the number of key
    partitions, the merge tasks' peak RSS, and whether the merge had to run in one process)."""
    from askscope.archive.cluster import dask_client, worker_count

    target = check_archive_target(folder)
    partition_count(1)  # a bad ASKSCOPE_MERGE_PARTITIONS or ASKSCOPE_RANGE_MIB stops here, before any work
    range_bytes()
    options = {
        "mapping": mapping or {},
        "platform": platform,
        "max_record_bytes": max_record_bytes,
        "date_order": date_order,
        "date_format": date_format,
    }
    manifest = read_manifest(target) if is_archive(target) else None
    if not target.parent.is_dir():
        raise UsageError(f"folder {target.parent} does not exist", "create it first or choose another path")
    plans, unknown = plan_inputs(paths, format, options, strict=False)
    if any(p.opened is not None for p in plans):
        raise UsageError("--dask cannot read stdin (-)", "save the input to a file first")
    result = IngestResult(store=str(target), skipped=[(u.source.name, u.why) for u in unknown])
    started = time.perf_counter()
    observed = now_utc()
    pid = os.getpid()
    parts = target.parent / f".{target.name}.parts-{pid}"
    merge_path = target.parent / f".{target.name}.merge-{pid}.duckdb"
    partial = target.parent / f".{target.name}.partial-{pid}"
    reports: list[dict[str, Any]] = []
    phases: dict[str, Any] = {}
    keyed_tables = ("posts", "accounts")
    try:
        for stale in (merge_path, Path(str(merge_path) + ".wal")):
            stale.unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)
        shutil.rmtree(partial, ignore_errors=True)
        parts.mkdir()
        db = open_store(merge_path)
        try:
            # the embedded ingest's memory limit (ASKSCOPE_INGEST_MEMORY) while the runs, rejects and
            # raw blocks are written: they spill to disk instead of growing this process
            db.con.execute(f"SET memory_limit = '{memory_setting('ASKSCOPE_INGEST_MEMORY', MEMORY_LIMIT)}'")
            if manifest is not None:
                load_archive(db.con, target, manifest, skip=keyed_tables)
            phases["load_archive_s"] = time.perf_counter() - started
            with dask_client(dask) as client:
                clock = time.perf_counter()
                phases["cluster_start_s"] = clock - started - phases["load_archive_s"]
                m = partition_count(worker_count(client))
                parsed, reports = _parse_all(client, plans, options, observed, str(parts), m, phases)
                phases["parse_s"] = time.perf_counter() - clock
                clock = time.perf_counter()
                members = edit_members(parsed, target if manifest is not None else None, manifest)
                inputs = [
                    {
                        "index": p["index"],
                        "parts": [{"folder": r["folder"], "partitions": r["partitions"]} for r in p["parts"]],
                        "metas": (metas := _input_metas(p)),
                        "flush_after": flush_points([meta for _, meta in metas]),
                    }
                    for p in parsed
                ]
                archive = str(target) if manifest is not None else None
                merges = [
                    client.submit(merge_partition, b, m, inputs, archive, members, str(parts), pure=False, retries=1)
                    for b in range(m)
                ]
                outputs = [future.result() for future in merges]
                phases["merge_s"] = time.perf_counter() - clock
            phases["partitions"] = m
            phases["batch_parts"] = m * sum(p["batches"] for p in parsed)
            phases["merges"] = sum(i.get("merges", 0) for o in outputs for i in o.get("inputs", []))
            phases["merge_peak_rss_mib"] = max((o.get("peak_rss_mib", 0.0) for o in outputs), default=0.0)
            misplaced = sum(o["misplaced"] for o in outputs)
            phases["one_process_merge"] = bool(misplaced)
            clock = time.perf_counter()
            if misplaced:
                # a version of an edited post without its history sits in another partition than
                # its history: only one process sees them all (the same result, serially)
                if manifest is not None:
                    load_archive(db.con, target, manifest, only=keyed_tables)
                for plan, one in zip(plans, parsed):
                    result.files.append(_merge_input(db, plan, one, options, observed, m))
                    if progress is not None:
                        progress(plan.source.name, plan.source.size or 0, plan.source.size)
            else:
                for i, (plan, one) in enumerate(zip(plans, parsed)):
                    effects = [RowEffects() for _ in range(one["batches"])]
                    flushed = BatchCounts()
                    for out in outputs:
                        for total, part in zip(effects, out["inputs"][i]["effects"]):
                            total.add(RowEffects(**part))
                        flushed.add(BatchCounts(**out["inputs"][i]["flushed"]))
                    result.files.append(_record_input(db, plan, one, options, observed, effects, flushed))
                    if progress is not None:
                        progress(plan.source.name, plan.source.size or 0, plan.source.size)
            for item in unknown:
                result.files.append(reject_unknown(db, item))
            result.reject_reasons = reject_reasons(db, result.files)
            phases["record_s"] = time.perf_counter() - clock
            publishing = time.perf_counter()
            # the archive is written under its own limit (write_tables: ASKSCOPE_ARCHIVE_MEMORY)
            partial.mkdir()
            names = sorted(table_names(db.con))
            if misplaced:
                entries = write_tables(db.con, partial, names)
            else:
                entries = write_tables(db.con, partial, [n for n in names if n not in keyed_tables])
                _gather_partitions(partial, outputs)
                for table in keyed_tables:
                    entries[table] = table_entry(db.con, table, sum(o["rows"][table] for o in outputs))
        finally:
            db.close()
        (partial / MANIFEST).write_text(
            msgspec.json.format(
                msgspec.json.encode(manifest_for(entries, written_by="askscope ingest --dask"))
            ).decode()
            + "\n",
            encoding="utf-8",
        )
        old = target.parent / f".{target.name}.old-{pid}"
        if is_archive(target):
            os.replace(target, old)
        publish(partial, target)
        shutil.rmtree(old, ignore_errors=True)
        phases["write_archive_s"] = time.perf_counter() - publishing
    finally:
        shutil.rmtree(parts, ignore_errors=True)
        shutil.rmtree(partial, ignore_errors=True)
        for stale in (merge_path, Path(str(merge_path) + ".wal")):
            stale.unlink(missing_ok=True)
    result.seconds = time.perf_counter() - started
    return result, reports, phases
