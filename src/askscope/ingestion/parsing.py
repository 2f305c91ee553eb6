"""Parsing inputs into batches: record splitting with a size cap, JSON-lines blocks parsed in
worker processes (:func:`parse_block` runs there), and the damage note of an input that ends
badly."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from askscope.ingestion import vectorised
from askscope.ingestion.inputs import InputSource, OpenedInput
from askscope.ingestion.plan import Plan
from askscope.readers import Reader, make_head
from askscope.readers.base import RawRecord, Sink, excerpt_of
from askscope.store.batch import Batch, build_batch, iter_lines

#: Input bytes per block (one worker task, one transaction).
BLOCK_BYTES = 8 << 20
#: The largest record (one JSON line, one JSON document, one CSV row) read by default. A larger
#: one is rejected (``record_too_large``) without being held in memory whole, and the rest of
#: the input is read on; ``--max-record-size`` raises it.
MAX_RECORD_BYTES = 64 << 20
#: Records per batch for inputs read record by record (JSON documents, CSV).
BATCH_RECORDS = 20_000
#: Inputs at least this large (or of unknown size) are parsed by worker processes.
PARALLEL_MIN_BYTES = 24 << 20


def read_batches(
    plan: Plan,
    opened: OpenedInput,
    observed: datetime,
    *,
    workers: int | None,
    strict: bool,
    max_record: int = MAX_RECORD_BYTES,
) -> Iterator[Batch]:
    """The batches of one opened input, by the framing its format uses."""
    head = make_head(opened.head)
    if plan.framing == "jsonl" and plan.reader.parallel and plan.reader.name != "csv":
        return _jsonl_batches(opened.stream, plan.reader, plan.source, observed, workers, strict, max_record)
    if plan.framing == "json":
        # a proxy that caps read() and hands every other attribute to the stream (__getattr__)
        stream: BinaryIO = _CappedStream(opened.stream, max_record)  # type: ignore[assignment]
    else:
        stream = opened.stream
    return _record_batches(stream, head, plan.reader, plan.source.name, observed, strict, max_record)


class _CappedStream:
    """A JSON document's stream that refuses to be read whole past ``limit`` bytes: the document
    is then one oversized record (see :func:`_record_batches`)."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream, self.limit, self.size, self.over = stream, limit, 0, False

    def read(self, size: int = -1) -> bytes:
        want = self.limit + 1 - self.size if size is None or size < 0 else min(size, self.limit + 1 - self.size)
        data = self.stream.read(max(want, 0)) if want > 0 else b""
        self.size += len(data)
        if self.size > self.limit:
            self.over = True
            while self.stream.read(BLOCK_BYTES):  # drain, counting, without keeping it
                pass
            return b""
        return data

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _too_large(
    source_file: str, line: int, offset: int, size: int, limit: int, excerpt: bytes, observed: datetime | None = None
) -> Batch:
    """A batch holding only the reject of one record over the size limit."""
    sink = Sink(source_file=source_file, default_observed_at=observed)
    sink.reject(
        RawRecord(line, offset, excerpt),
        "record_too_large",
        f"a record of {size:,}{'+' if size > limit else ''} bytes is over the limit of {limit:,} bytes",
        excerpt=excerpt_of(excerpt),
    )
    return build_batch(sink)


def damage_batch(source_file: str, opened: OpenedInput) -> Batch:
    """A reject saying the rest of a damaged compressed input is unreadable (line 0 = the input
    as a whole; the byte offset is in the decompressed data)."""
    tail = Sink(source_file=source_file)
    tail.reject(RawRecord(0, opened.bytes_read, b""), opened.damage_reason, opened.damage or "", excerpt="")
    return build_batch(tail)


# --- record batches (JSON documents, CSV) ----------------------------------------------------


def _record_batches(
    stream: BinaryIO,
    head: Any,
    reader: Reader,
    source_file: str,
    observed: datetime,
    strict: bool,
    max_record: int = MAX_RECORD_BYTES,
) -> Iterator[Batch]:
    sink = Sink(source_file=source_file, default_observed_at=observed)
    for raw in reader.records(stream, head):
        before, mark = len(sink.rejects), sink.mark()
        if isinstance(stream, _CappedStream) and stream.over:
            sink.reject(
                RawRecord(raw.line, raw.offset, raw.raw),
                "record_too_large",
                f"a JSON document of {stream.size - 1:,}+ bytes is over the limit of {max_record:,} bytes",
                excerpt=excerpt_of(head.data[:400]),
            )
        elif len(raw.raw) > max_record:
            sink.reject(
                raw, "record_too_large", f"a record of {len(raw.raw):,} bytes is over the limit of {max_record:,} bytes"
            )
        else:
            reader.parse(raw, sink)
        if len(raw.raw) <= max_record and not (isinstance(stream, _CappedStream) and stream.over):
            sink.raw.append((raw.line, raw.offset, raw.raw))  # an oversized record is not kept (see reparse)
        if strict and len(sink.rejects) > before:
            sink.undo(mark)  # in strict mode a record is stored whole or not at all
            yield build_batch(sink)
            return
        if sink.records >= BATCH_RECORDS:
            yield build_batch(sink)
            sink = Sink(source_file=source_file, default_observed_at=observed)
    if sink.raw or sink.rejects:
        yield build_batch(sink)


# --- JSON-lines blocks, optionally parsed by worker processes --------------------------------


@dataclass
class _Oversized:
    """A line over the size limit, skipped by :func:`_blocks` without being kept whole."""

    line: int
    offset: int
    size: int
    excerpt: bytes


def _blocks(
    stream: BinaryIO,
    max_record: int = MAX_RECORD_BYTES,
    chunk_bytes: int = BLOCK_BYTES,
    line: int = 1,
    offset: int = 0,
) -> Iterator[tuple[bytes, int, int] | _Oversized]:
    """Whole-line blocks of about ``chunk_bytes``: (bytes, first line number, byte offset), and an
    :class:`_Oversized` for each line longer than ``max_record``, which is read past (never held
    whole), so memory stays bounded by the limit whatever the input. ``line`` and ``offset``: where
    the stream starts in its file (a byte range, :func:`range_batches`)."""
    carry = bytearray()  # the line under way; grown and cut in place (no copies of a long line)
    while True:
        chunk = stream.read(chunk_bytes)
        if not chunk:
            break
        carry += chunk
        cut = carry.rfind(b"\n") + 1
        if cut:
            block = bytes(carry[:cut])
            del carry[:cut]
            yield block, line, offset
            line += block.count(b"\n")
            offset += len(block)
            del block
        if len(carry) > max_record:
            # the line under way is too long: skip to its end, counting its bytes
            excerpt, size = bytes(carry[:400]), len(carry)
            carry = bytearray()
            while True:
                more = stream.read(chunk_bytes)
                if not more:
                    break
                end = more.find(b"\n")
                if end >= 0:
                    size += end + 1
                    carry += more[end + 1 :]
                    break
                size += len(more)
            yield _Oversized(line, offset, size, excerpt)
            line += 1
            offset += size
    if carry:
        yield bytes(carry), line, offset


def _serial_batches(
    blocks: Iterator[tuple[bytes, int, int] | _Oversized],
    reader: Reader,
    source_file: str,
    observed: datetime,
    strict: bool,
    max_record: int,
) -> Iterator[Batch]:
    """The batches of ``blocks``, parsed in this process, in order."""
    for item in blocks:
        if isinstance(item, _Oversized):
            batch = _too_large(source_file, item.line, item.offset, item.size, max_record, item.excerpt, observed)
        else:
            block, line, offset = item
            batch = parse_block(reader, source_file, block, line, offset, observed, strict, max_record)
        yield batch
        if strict and batch.rejects.num_rows:
            return


class _AlignedRange:
    """Bytes ``start`` to ``end`` of a file, read so that every read stops at a multiple of the
    size asked for, counted from the start of the file: the reads of one pass over the whole file.
    :func:`_blocks` then cuts the range into the very blocks it cuts the whole file into, when the
    range starts and ends where a block does (:func:`range_batches`)."""

    def __init__(self, handle: BinaryIO, start: int, end: int) -> None:
        self.handle, self.position, self.end = handle, start, end
        handle.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self.position >= self.end:
            return b""
        stop = self.end if size is None or size < 0 else min(self.end, (self.position // size + 1) * size)
        data = self.handle.read(stop - self.position)
        self.position += len(data)
        return data


def range_batches(
    plan: Plan,
    start: int,
    end: int,
    first_line: int,
    observed: datetime,
    max_record: int = MAX_RECORD_BYTES,
) -> Iterator[Batch]:
    """The batches of bytes ``start`` to ``end`` of a JSON-lines file (uncompressed, on disk),
    which starts at line ``first_line``: the batches a pass over the whole file gives for that
    part of it, when ``start`` and ``end`` are where the pass cuts blocks (the position after the
    last newline before a multiple of ``BLOCK_BYTES``, or the file's end) and no line in the file
    before ``end`` is over ``max_record`` (its skipping moves the cuts)."""
    if plan.source.path is None or plan.source.member is not None:
        raise ValueError(f"{plan.source.name}: byte ranges are read from a file on disk")
    with open(plan.source.path, "rb") as handle:
        view: BinaryIO = _AlignedRange(handle, start, end)  # type: ignore[assignment]  # read() is all _blocks uses
        blocks = _blocks(view, max_record, line=first_line, offset=start)
        yield from _serial_batches(blocks, plan.reader, plan.source.name, observed, False, max_record)


def parse_block(
    reader: Reader,
    source_file: str,
    block: bytes,
    first_line: int,
    offset: int,
    observed: datetime,
    strict: bool = False,
    max_record: int = MAX_RECORD_BYTES,
) -> Batch:
    """Parse one block of JSON lines into a batch (runs in a worker process or inline). The
    block is kept verbatim as the raw payload. X API v2 pages take the vectorised path
    (:mod:`askscope.ingestion.vectorised`), which gives the same batch and hands back to the
    per-record reader whatever it cannot map exactly."""
    if not strict and vectorised.enabled(reader):
        done = vectorised.parse_block(reader, source_file, block, first_line, offset, observed, max_record)
        if done is not None:
            return done[0]
    sink = Sink(source_file=source_file, default_observed_at=observed)
    first = last = 0
    count = 0
    for line_no, position, content in iter_lines(block, first_line, offset):
        record = RawRecord(line_no, position, content)
        before, mark = (len(sink.rejects), sink.mark()) if strict else (0, ())
        if len(content) > max_record:
            sink.reject(
                record,
                "record_too_large",
                f"a record of {len(content):,} bytes is over the limit of {max_record:,} bytes",
            )
        else:
            reader.parse(record, sink)
        first = first or line_no
        last = line_no
        count += 1
        if strict and len(sink.rejects) > before:
            sink.undo(mark)  # in strict mode a record is stored whole or not at all
            end = position + len(content)
            block = block[: end - offset]
            break
    if count:
        sink.raw_lines = (first_line, offset, block)
        sink.raw_lines_span = (first, last, count)
    return build_batch(sink)


def _spawn_safe() -> bool:
    """Worker processes are spawned, which re-imports ``__main__`` from its file: impossible when
    the main program came from stdin or ``-c`` (then parsing stays in this process)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


def _worker_count(workers: int | None, size: int | None) -> int:
    if not _spawn_safe():
        return 0
    if workers is not None:
        return max(workers, 0)
    if size is not None and size < PARALLEL_MIN_BYTES:
        return 0
    return max(1, (os.cpu_count() or 1) - 1)


def _jsonl_batches(
    stream: BinaryIO,
    reader: Reader,
    source: InputSource,
    observed: datetime,
    workers: int | None,
    strict: bool,
    max_record: int = MAX_RECORD_BYTES,
) -> Iterator[Batch]:
    count = 0 if strict else _worker_count(workers, source.size)
    blocks = _blocks(stream, max_record)
    if count == 0:
        yield from _serial_batches(blocks, reader, source.name, observed, strict, max_record)
        return
    # The main process writes and, whenever the workers are busy, parses a block itself: with
    # one worker per spare core both cores stay busy and memory stays low (one process fewer).
    context = multiprocessing.get_context("spawn")
    queue: deque[cf.Future[Batch] | Batch] = deque()
    with cf.ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        try:
            for piece in blocks:
                busy = sum(1 for item in queue if isinstance(item, cf.Future) and not item.done())
                if isinstance(piece, _Oversized):
                    queue.append(
                        _too_large(
                            source.name, piece.line, piece.offset, piece.size, max_record, piece.excerpt, observed
                        )
                    )
                    continue
                block, line, offset = piece
                if busy < count:
                    queue.append(
                        pool.submit(parse_block, reader, source.name, block, line, offset, observed, False, max_record)
                    )
                else:
                    queue.append(parse_block(reader, source.name, block, line, offset, observed, False, max_record))
                while queue and (not isinstance(queue[0], cf.Future) or queue[0].done() or len(queue) > count + 1):
                    ready = queue.popleft()
                    yield ready.result() if isinstance(ready, cf.Future) else ready
            while queue:
                ready = queue.popleft()
                yield ready.result() if isinstance(ready, cf.Future) else ready
        finally:
            for pending in queue:
                if isinstance(pending, cf.Future):
                    pending.cancel()
