"""``askscope ingest ARCHIVE_DIR PATH... --dask local:N|tcp://host:8786``: parse on Dask workers,
merge with the embedded store's rules, publish the archive.

1. **Plan** (here): the inputs are expanded and sniffed as the embedded ingest does
   (:func:`askscope.ingestion.plan.plan_inputs`).
2. **Parse** (one Dask task per input file): the worker reads its file with the same readers and
   batching (:func:`askscope.ingestion.parsing.read_batches`) and writes every batch as Parquet
   parts (matches, context posts, accounts, rejects, API errors; the raw block beside them) under
   ``.NAME.parts-PID/`` next to the archive (a folder the workers must see: a shared file
   system on a real cluster). It returns only the batches' small metadata.
3. **Merge** (here, in input order, while later files are still parsed): the archive's current
   tables are loaded into a temporary DuckDB store and every input's batches are written with the
   embedded path's own code (:func:`askscope.store.write.write_batch`: dedup by
   ``(platform, id)``, newer observations update, context posts become matches, edit chains
   collapse), one ingest run and one transaction per input, so ``ingests`` keeps ``read = new +
   updated + unchanged + rejected`` for every input and a re-ingest of the same files adds nothing.
4. **Publish**: the merged tables are written as the archive (posts partitioned by platform and
   day, :mod:`askscope.archive.parquet`) into a temporary folder that replaces the archive only
   when complete; a failed worker or merge leaves the archive as it was.

Posts that carry no retrieval time (``observed_at``) get the time the run started, one value for
every input of the run (the embedded path gives each input its own start time).
Not done yet: byte-range tasks inside one large JSON-lines file (one task per file), and a
distributed merge (the merge is one process; its cost is DuckDB upserts, see docs/archive.md).
"""

from __future__ import annotations

import os
import resource
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from askscope.archive.parquet import (
    MANIFEST,
    is_archive,
    load_tables,
    manifest_for,
    publish,
    read_manifest,
    write_tables,
)
from askscope.errors import UsageError
from askscope.ingestion.engine import FileResult, IngestResult, options_json, reject_reasons, reject_unknown
from askscope.ingestion.inputs import OpenedInput
from askscope.ingestion.parsing import MAX_RECORD_BYTES, damage_batch, read_batches
from askscope.ingestion.plan import Plan, plan_inputs
from askscope.readers.records import HEAD_BYTES
from askscope.store.batch import ACCOUNT_SCHEMA, API_ERROR_SCHEMA, POST_SCHEMA, REJECT_SCHEMA, Batch
from askscope.store.core import Store, now_utc, open_store, table_names
from askscope.store.write import AccountStage, begin_ingest, finish_ingests, write_batch

#: The Arrow tables of a batch, written as one Parquet part each (when not empty).
PART_SCHEMAS: dict[str, pa.Schema] = {
    "matches": POST_SCHEMA,
    "context": POST_SCHEMA,
    "account_records": ACCOUNT_SCHEMA,
    "accounts": ACCOUNT_SCHEMA,
    "rejects": REJECT_SCHEMA,
    "api_errors": API_ERROR_SCHEMA,
}


def _write_part(folder: Path, k: int, batch: Batch, damage: bool) -> dict[str, Any]:
    """Write batch ``k`` of an input as Parquet parts; return its metadata."""
    tables = []
    for name in PART_SCHEMAS:
        table: pa.Table = getattr(batch, name)
        if table.num_rows:
            pq.write_table(table, folder / f"{k:06d}.{name}.parquet")
            tables.append(name)
    if batch.raw_block is not None:
        (folder / f"{k:06d}.raw").write_bytes(batch.raw_block)
    return {
        "k": k,
        "tables": tables,
        "raw": batch.raw_block is not None,
        "match_records": batch.match_records,
        "account_record_count": batch.account_record_count,
        "raw_first_line": batch.raw_first_line,
        "raw_last_line": batch.raw_last_line,
        "raw_records": batch.raw_records,
        "edit_chains": batch.edit_chains,
        "platforms": batch.platforms,
        "damage": damage,
    }


def _read_part(folder: Path, meta: dict[str, Any]) -> Batch:
    """Batch ``meta['k']`` of an input, as the worker parsed it."""
    k = meta["k"]
    tables = {
        name: (
            pq.read_table(folder / f"{k:06d}.{name}.parquet", schema=schema)
            if name in meta["tables"]
            else schema.empty_table()
        )
        for name, schema in PART_SCHEMAS.items()
    }
    return Batch(
        matches=tables["matches"],
        context=tables["context"],
        account_records=tables["account_records"],
        accounts=tables["accounts"],
        rejects=tables["rejects"],
        api_errors=tables["api_errors"],
        match_records=meta["match_records"],
        account_record_count=meta["account_record_count"],
        raw_block=(folder / f"{k:06d}.raw").read_bytes() if meta["raw"] else None,
        raw_first_line=meta["raw_first_line"],
        raw_last_line=meta["raw_last_line"],
        raw_records=meta["raw_records"],
        edit_chains=meta["edit_chains"],
        platforms=meta["platforms"],
    )


def parse_input(index: int, plan: Plan, options: dict[str, Any], observed: datetime, parts: str) -> dict[str, Any]:
    """The Dask task: parse one input into Parquet parts under ``parts/input-INDEX``.

    Runs on a worker; returns the batches' metadata and the input's digest, size and damage."""
    started = time.perf_counter()
    folder = Path(parts) / f"input-{index:06d}"
    if folder.exists():  # a retry after a lost worker starts over
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    metas: list[dict[str, Any]] = []
    with OpenedInput(plan.source, HEAD_BYTES) as opened:
        for batch in read_batches(
            plan,
            opened,
            observed,
            workers=0,
            strict=False,
            max_record=options.get("max_record_bytes", MAX_RECORD_BYTES),
        ):
            metas.append(_write_part(folder, len(metas), batch, damage=False))
        if opened.damage is not None:
            metas.append(_write_part(folder, len(metas), damage_batch(plan.source.name, opened), damage=True))
        sha, size, damage = opened.sha256(), opened.bytes_read, opened.damage
    (folder / "batches.msgpack").write_bytes(msgspec.msgpack.encode(metas))
    return {
        "index": index,
        "folder": str(folder),
        "batches": len(metas),
        "sha256": sha,
        "bytes": size,
        "damage": damage,
        "seconds": time.perf_counter() - started,
        "pid": os.getpid(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _merge_input(
    db: Store, plan: Plan, parsed: dict[str, Any], options: dict[str, Any], observed: datetime
) -> FileResult:
    """Write one parsed input into the merge store as the embedded ingest writes it: one run,
    its batches in order (accounts staged), the damage note, the run closed; one transaction."""
    source, reader = plan.source, plan.reader
    folder = Path(parsed["folder"])
    metas = msgspec.msgpack.decode((folder / "batches.msgpack").read_bytes())
    con = db.con
    con.execute("BEGIN TRANSACTION")
    try:
        record = begin_ingest(
            db,
            source_file=source.name,
            source_path=source.path if source.member is None else f"{source.path}:{source.member}",
            source_size=source.size,
            source_mtime=os.path.getmtime(source.path) if source.path and source.member is None else None,
            format=reader.name,
            compression=plan.compression,
            options="{}",
            started_at=observed,
            transaction=False,
        )
        stage = AccountStage(db, record)
        try:
            for meta in metas:
                batch = _read_part(folder, meta)
                write_batch(db, record, batch, transaction=False, stage=None if meta["damage"] else stage)
            stage.flush()
        finally:
            stage.discard()
        finish_ingests(
            db,
            [record],
            status="done",
            sha256=parsed["sha256"],
            bytes_read=parsed["bytes"],
            options=options_json(reader, options, plan.framing),
            transaction=False,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    shutil.rmtree(folder, ignore_errors=True)
    return FileResult(
        source_file=source.name,
        format=reader.name,
        ingest_id=record.id,
        status="done",
        counts=record.counts,
        sha256=parsed["sha256"],
        bytes=parsed["bytes"] or 0,
        seconds=parsed["seconds"],
        damage=parsed["damage"],
    )


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


def ingest_archive(
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
) -> tuple[IngestResult, list[dict[str, Any]], dict[str, float]]:
    """Ingest ``paths`` into the archive ``folder`` on the Dask cluster ``dask``.

    Returns the embedded ingest's result object (per input counts), each parse task's report
    (worker pid, seconds, peak RSS, the merge's wait for it and its merge time) and the run's
    phases (seconds: loading the archive, starting the cluster, merging, writing the archive)."""
    from askscope.archive.cluster import dask_client

    target = check_archive_target(folder)
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
    phases: dict[str, float] = {}
    try:
        for stale in (merge_path, Path(str(merge_path) + ".wal")):
            stale.unlink(missing_ok=True)
        shutil.rmtree(parts, ignore_errors=True)
        shutil.rmtree(partial, ignore_errors=True)
        parts.mkdir()
        db = open_store(merge_path)
        try:
            if manifest is not None:
                db.con.execute("BEGIN TRANSACTION")
                load_tables(db.con, target, manifest)
                db.con.execute("COMMIT")
            phases["load_archive_s"] = time.perf_counter() - started
            with dask_client(dask) as client:
                phases["cluster_start_s"] = time.perf_counter() - started - phases["load_archive_s"]
                futures = [
                    client.submit(parse_input, i, plan, options, observed, str(parts), pure=False, retries=1)
                    for i, plan in enumerate(plans)
                ]
                for plan, future in zip(plans, futures):
                    waited = time.perf_counter()
                    parsed = future.result()
                    merging = time.perf_counter()
                    parsed["waited_s"] = merging - waited
                    result.files.append(_merge_input(db, plan, parsed, options, observed))
                    parsed["merge_s"] = time.perf_counter() - merging
                    reports.append(parsed)
                    if progress is not None:
                        progress(plan.source.name, plan.source.size or 0, plan.source.size)
            for item in unknown:
                result.files.append(reject_unknown(db, item))
            result.reject_reasons = reject_reasons(db, result.files)
            publishing = time.perf_counter()
            partial.mkdir()
            entries = write_tables(db.con, partial, sorted(table_names(db.con)))
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
    phases["merge_s"] = sum(r["merge_s"] for r in reports)
    phases["waited_for_workers_s"] = sum(r["waited_s"] for r in reports)
    return result, reports, phases
