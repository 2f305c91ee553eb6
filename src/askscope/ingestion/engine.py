"""Ingest: read inputs, turn every record into canonical rows, and write them to the store.

The flow for one input: open it (decompressing), sniff its format, split it into raw records,
parse them into a :class:`~askscope.readers.base.Sink`, fold the sink into a columnar
:class:`~askscope.store.batch.Batch` and write that in one transaction. JSON-lines inputs are cut into
blocks of whole lines (:data:`BLOCK_BYTES`) that worker processes parse in parallel while the main
process writes the previous block, so memory stays flat and both cores work.

Every record read ends in ``posts``/``accounts`` or in ``rejects``: for each input and in total,
``read = new + updated + unchanged + rejected``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import msgspec

from askscope.errors import AskscopeError, RecordError
from askscope.ingestion.inputs import OpenedInput, expand_paths
from askscope.ingestion.parsing import MAX_RECORD_BYTES, damage_batch, read_batches
from askscope.ingestion.plan import Plan, Unknown, group_plans, plan_inputs
from askscope.readers import Reader, detect, make_head, reader_for
from askscope.readers.base import RawRecord, Sink, excerpt_of
from askscope.readers.records import HEAD_BYTES
from askscope.store.batch import Batch, build_batch
from askscope.store.core import BatchCounts, IngestRecord, Store, memory_setting, now_utc, open_store
from askscope.store.write import (
    AccountStage,
    begin_ingest,
    begin_ingests,
    finish_ingests,
    save_counts,
    write_batch,
    write_group,
)

#: DuckDB writes a checkpoint when its write-ahead log passes this size; the default (16 MB)
#: makes every large batch checkpoint, which doubles the writes of a bulk load.
CHECKPOINT_THRESHOLD = "256MB"
#: DuckDB's memory during ingest (it spills beyond). Before raw blocks were stored in 64 KiB
#: pieces (schema 3) 256 MB made the checkpoints of a 1M-post input fail ("failed to pin block")
#: and 512 MB gave a peak RSS of 1.4 GB; with the pieces, 256 MB ingests 1M posts into a store
#: of 1M (2M in all) within 1 GiB of peak RSS (docs/benchmarks.md).
#: The environment variable ``ASKSCOPE_INGEST_MEMORY`` (e.g. ``1GB``) overrides it.
MEMORY_LIMIT = "256MB"

ProgressCallback = Callable[[str, int, int | None], None]


def _memory_limit() -> str:
    return memory_setting("ASKSCOPE_INGEST_MEMORY", MEMORY_LIMIT)


@dataclass
class FileResult:
    """The outcome of ingesting one input."""

    source_file: str
    format: str
    ingest_id: int
    status: str
    counts: BatchCounts
    sha256: str | None = None
    bytes: int = 0
    seconds: float = 0.0
    damage: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "damage": self.damage,
            "source_file": self.source_file,
            "format": self.format,
            "ingest_id": self.ingest_id,
            "status": self.status,
            **self.counts.as_dict(),
            "sha256": self.sha256,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class IngestResult:
    """The outcome of one ``ingest`` call: per input and in total."""

    store: str
    files: list[FileResult] = field(default_factory=list)
    #: Inputs whose format no reader recognised: (name, why). Each is also in ``files`` as a
    #: run of format ``unknown`` with one file-level reject (line 0, ``unknown_format``).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    #: The commonest reasons for rejects in this call: (reason, count, an example's detail).
    reject_reasons: list[tuple[str, int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def all_rejected(self) -> list[FileResult]:
        """Inputs that were read but of which not one record was stored."""
        return [f for f in self.files if f.format != "unknown" and f.counts.read and f.counts.rejected == f.counts.read]

    @property
    def totals(self) -> BatchCounts:
        total = BatchCounts()
        for result in self.files:
            total.add(result.counts)
        return total

    @property
    def reconciles(self) -> bool:
        t = self.totals
        return t.read == t.new + t.updated + t.unchanged + t.rejected

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            **self.totals.as_dict(),
            "reconciles": self.reconciles,
            "seconds": round(self.seconds, 3),
            "files": [f.as_dict() for f in self.files],
            "skipped": [{"source_file": name, "reason": why} for name, why in self.skipped],
            "reject_reasons": [{"reason": r, "count": n, "example": d} for r, n, d in self.reject_reasons],
        }


def ingest(
    store: Store | str | os.PathLike[str],
    paths: Sequence[str],
    *,
    format: str | None = None,
    mapping: dict[str, str] | None = None,
    platform: str | None = None,
    strict: bool = False,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    date_order: str | None = None,
    date_format: str | None = None,
) -> IngestResult:
    """Ingest ``paths`` (files, folders, zip archives, ``-`` for stdin) into ``store``.

    Every input is checked (exists, readable, known format) before anything is written. Bad
    records are rejected and counted; with ``strict=True`` the first one stops the ingest with a
    :class:`~askscope.errors.RecordError` naming its file and line (everything before it stays
    stored). ``workers`` sets the parser processes for large JSON-lines inputs, besides this
    process, which parses too when they are busy (default: one per CPU but one; 0 = parse here).
    CSV dates: ``date_order`` (``dmy`` or ``mdy``) or ``date_format`` (strptime) read spreadsheet
    dates such as ``15/12/2014 14:20``. A record larger than ``max_record_bytes`` is rejected as ``record_too_large`` and the rest of
    its input is read on; memory stays bounded by that size.
    """
    if max_record_bytes < 1024:
        raise AskscopeError(
            f"a record size limit of {max_record_bytes} bytes is too small",
            "give at least 1KB, e.g. --max-record-size 256MB",
        )
    memory = _memory_limit()
    options = {
        "mapping": mapping or {},
        "platform": platform,
        "max_record_bytes": max_record_bytes,
        "date_order": date_order,
        "date_format": date_format,
    }
    plans, unknown = plan_inputs(paths, format, options, strict)
    own = not isinstance(store, Store)
    db = store if isinstance(store, Store) else open_store(store)
    result = IngestResult(store=db.path, skipped=[(u.source.name, u.why) for u in unknown])
    db.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    db.con.execute(f"SET memory_limit = '{memory}'")  # checked: digits and a unit
    started = time.perf_counter()
    try:
        for group in group_plans(plans, strict):
            if len(group) == 1:
                result.files.append(
                    _ingest_one(db, group[0], options, strict=strict, workers=workers, progress=progress)
                )
            else:
                result.files.extend(_ingest_group(db, group, options, progress=progress))
        for item in unknown:
            result.files.append(reject_unknown(db, item))
        result.reject_reasons = reject_reasons(db, result.files)
    finally:
        for plan in plans:
            if plan.opened is not None:
                plan.opened.close()
        if own:
            db.close()
        else:
            db.con.execute("RESET checkpoint_threshold")
            db.con.execute("RESET memory_limit")
    result.seconds = time.perf_counter() - started
    return result


def reject_reasons(db: Store, files: list[FileResult]) -> list[tuple[str, int, str]]:
    """The five commonest reject reasons of these inputs' runs: (reason, count, one detail)."""
    return [
        (r, int(n), d or "")
        for r, n, d in db.con.execute(
            "SELECT reason, count(*) AS n, min(detail) FROM rejects WHERE ingest_id IN (SELECT unnest(?::BIGINT[])) "
            "GROUP BY reason ORDER BY n DESC, reason LIMIT 5",
            [[f.ingest_id for f in files]],
        ).fetchall()
    ]


def reject_unknown(db: Store, item: Unknown) -> FileResult:
    """Record an unrecognised input as a run of format ``unknown`` holding one file-level reject
    (line 0, ``unknown_format``, the formats tried); the same file again supersedes it."""
    source = item.source
    digest = hashlib.sha256()
    if source.path and source.member is None and not source.is_stdin:
        with open(source.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    else:
        digest.update(item.head)
    with db.transaction():
        record = begin_ingest(
            db,
            source_file=source.name,
            source_path=source.path if source.member is None else f"{source.path}:{source.member}",
            source_size=source.size,
            source_mtime=None,
            format="unknown",
            compression=None,
            options="{}",
            transaction=False,
        )
        sink = Sink(source_file=source.name)
        sink.reject(RawRecord(0, 0, item.head), "unknown_format", item.why, excerpt=excerpt_of(item.head))
        write_batch(db, record, build_batch(sink), transaction=False)
        finish_ingests(db, [record], status="done", sha256=digest.hexdigest(), bytes_read=0, transaction=False)
    return FileResult(
        source_file=source.name,
        format="unknown",
        ingest_id=record.id,
        status="unrecognised",
        counts=record.counts,
        sha256=digest.hexdigest(),
    )


def options_json(reader: Reader, options: dict[str, Any], framing: str) -> str:
    data: dict[str, Any] = {"framing": framing}
    if options.get("max_record_bytes", MAX_RECORD_BYTES) != MAX_RECORD_BYTES:
        data["max_record_bytes"] = options["max_record_bytes"]
    if reader.name == "csv":
        data["mapping"] = options.get("mapping") or {}
        data["platform"] = options.get("platform") or "x"
        for key in ("date_order", "date_format"):
            if options.get(key):
                data[key] = options[key]
    header = reader.raw_header()
    if header is not None:
        data["header"] = header.decode("utf-8")
    return msgspec.json.encode(data).decode()


def _ingest_one(
    db: Store,
    plan: Plan,
    options: dict[str, Any],
    *,
    strict: bool,
    workers: int | None,
    progress: ProgressCallback | None,
) -> FileResult:
    """Ingest one input. The ingest row, the first batch and (for a one-batch input) the closing
    of the run share one transaction; each further batch commits on its own."""
    source, reader = plan.source, plan.reader
    opened = plan.opened or OpenedInput(source, HEAD_BYTES)
    started = time.perf_counter()
    mtime = os.path.getmtime(source.path) if source.path and source.member is None else None
    con = db.con
    con.execute("BEGIN TRANSACTION")
    in_transaction = True
    record: IngestRecord | None = None
    stage: AccountStage | None = None
    status = "failed"
    try:
        record = begin_ingest(
            db,
            source_file=source.name,
            source_path=source.path if source.member is None else f"{source.path}:{source.member}",
            source_size=source.size,
            source_mtime=mtime,
            format=reader.name,
            compression=plan.compression,
            options="{}",
            transaction=False,
        )
        stage = AccountStage(db, record)
        with opened:
            pending = read_batches(
                plan,
                opened,
                record.started_at,
                workers=workers,
                strict=strict,
                max_record=options.get("max_record_bytes", MAX_RECORD_BYTES),
            )
            batch = next(pending, None)
            first = True
            while batch is not None:
                if not in_transaction:
                    con.execute("BEGIN TRANSACTION")
                    in_transaction = True
                write_batch(db, record, batch, transaction=False, stage=stage)
                if first:
                    con.execute(
                        "UPDATE ingests SET options = ? WHERE id = ?",
                        [options_json(reader, options, plan.framing), record.id],
                    )
                    first = False
                if strict and batch.rejects.num_rows:
                    stage.flush()
                    save_counts(db, [record])
                    con.execute("COMMIT")
                    in_transaction = False
                    bad = batch.rejects.slice(0, 1).to_pylist()[0]
                    raise RecordError(
                        f"{bad['source_file']}:{bad['source_line']}: {bad['reason']}: {bad['detail']}",
                        "fix or remove that record, or ingest without --strict to skip bad records",
                        source_file=bad["source_file"],
                        source_line=bad["source_line"],
                        reason=bad["reason"],
                    )
                if progress is not None:
                    progress(source.name, opened.progress(), source.size)
                batch = next(pending, None)
                if batch is not None:  # the last batch commits together with the end of the run
                    con.execute("COMMIT")
                    in_transaction = False
            if not in_transaction:
                con.execute("BEGIN TRANSACTION")
                in_transaction = True
            if opened.damage is not None:
                write_batch(db, record, damage_batch(source.name, opened), transaction=False)
                if strict:
                    stage.flush()
                    save_counts(db, [record])
                    con.execute("COMMIT")
                    in_transaction = False
                    raise RecordError(
                        f"{source.name}: {opened.damage}",
                        "re-create or re-download the file; without --strict the readable part is kept",
                        source_file=source.name,
                        source_line=0,
                        reason=opened.damage_reason,
                    )
            stage.flush()
            finish_ingests(
                db,
                [record],
                status="done",
                sha256=opened.sha256(),
                bytes_read=opened.bytes_read,
                options=options_json(reader, options, plan.framing),
                transaction=False,
            )
            con.execute("COMMIT")
            in_transaction = False
            status = "done"
        return FileResult(
            source_file=source.name,
            format=reader.name,
            ingest_id=record.id,
            status=status,
            counts=record.counts,
            sha256=opened.sha256(),
            bytes=opened.bytes_read,
            seconds=time.perf_counter() - started,
            damage=opened.damage,
        )
    finally:
        try:
            if in_transaction:
                con.execute("ROLLBACK")
            if stage is not None:
                stage.discard()
            if status != "done" and record is not None:
                # Record the failure if the run's row was committed (it was, after its first batch).
                finish_ingests(db, [record], status=status, sha256=None, bytes_read=opened.bytes_read)
        except duckdb.Error:
            if status == "done":
                raise


def _ingest_group(
    db: Store, plans: list[Plan], options: dict[str, Any], progress: ProgressCallback | None
) -> list[FileResult]:
    """Ingest many small inputs in one transaction: their runs, batches and ends together."""
    started = time.perf_counter()
    con = db.con
    con.execute("BEGIN TRANSACTION")
    try:
        runs = []
        for plan in plans:
            source = plan.source
            runs.append(
                {
                    "source_file": source.name,
                    "source_path": source.path if source.member is None else f"{source.path}:{source.member}",
                    "source_size": source.size,
                    "source_mtime": os.path.getmtime(source.path) if source.path and source.member is None else None,
                    "format": plan.reader.name,
                    "compression": plan.compression,
                    "options": "{}",
                }
            )
        records = begin_ingests(db, runs)
        items: list[tuple[IngestRecord, Batch]] = []
        shas: list[str | None] = []
        sizes: list[int | None] = []
        opts: list[str | None] = []
        damages: list[str | None] = []
        for plan, record in zip(plans, records):
            with OpenedInput(plan.source, HEAD_BYTES) as opened:
                batches = list(
                    read_batches(
                        plan,
                        opened,
                        record.started_at,
                        workers=0,
                        strict=False,
                        max_record=options.get("max_record_bytes", MAX_RECORD_BYTES),
                    )
                )
                if opened.damage is not None:
                    batches.append(damage_batch(plan.source.name, opened))
                shas.append(opened.sha256())
                sizes.append(opened.bytes_read)
                damages.append(opened.damage)
            opts.append(options_json(plan.reader, options, plan.framing))
            if len(batches) == 1:
                items.append((record, batches[0]))
            else:
                for batch in batches:
                    write_batch(db, record, batch, transaction=False, save=False)
            if progress is not None:
                progress(plan.source.name, plan.source.size or 0, plan.source.size)
        write_group(db, items)
        finish_ingests(db, records, status="done", sha256=shas, bytes_read=sizes, options=opts, transaction=False)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    seconds = (time.perf_counter() - started) / len(plans)
    return [
        FileResult(
            source_file=plan.source.name,
            format=plan.reader.name,
            ingest_id=record.id,
            status="done",
            counts=record.counts,
            sha256=sha,
            bytes=size or 0,
            seconds=seconds,
            damage=damage,
        )
        for plan, record, sha, size, damage in zip(plans, records, shas, sizes, damages)
    ]


def read_posts(path: str, *, format: str | None = None, mapping: dict[str, str] | None = None) -> Iterator[Any]:
    """Read an input without a store: yields :class:`~askscope.post.Post` matches, in order.

    Handy in notebooks and tests; rejects are skipped (use :func:`ingest` to see them).
    """
    options = {"mapping": mapping or {}, "platform": None}
    for source in expand_paths([path]):
        with OpenedInput(source, HEAD_BYTES) as opened:
            head = make_head(opened.head)
            reader = reader_for(format, options) if format else detect(head, source.name, options)
            for raw in reader.records(opened.stream, head):
                sink = Sink(source_file=source.name, default_observed_at=now_utc())
                reader.parse(raw, sink)
                yield from sink.matches
