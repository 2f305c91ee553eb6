"""Columnar batches: what a :class:`~askscope.readers.base.Sink` becomes before it is written.

Converting in one place keeps the Arrow schema next to the column lists of :mod:`askscope.post`,
and lets worker processes hand the writer ready-made Arrow tables and a compressed raw block.
Duplicates inside a batch are folded here (the latest observation of a post wins), because the
store's upsert may not touch the same row twice in one statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import msgspec
import pyarrow as pa
import zstandard

from askscope.post import ACCOUNT_COLUMNS, POST_COLUMNS, Account, Post
from askscope.readers.base import Sink

RAW_LEVEL = 1
_MIN_TIME = datetime.min.replace(tzinfo=UTC)


def _arrow_type(duck: str) -> pa.DataType:
    duck = duck.replace(" NOT NULL", "")
    return {
        "VARCHAR": pa.string(),
        "VARCHAR[]": pa.list_(pa.string()),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "BOOLEAN": pa.bool_(),
        "DOUBLE": pa.float64(),
    }[duck]


POST_SCHEMA = pa.schema([(name, _arrow_type(kind)) for name, kind in POST_COLUMNS])
ACCOUNT_SCHEMA = pa.schema([(name, _arrow_type(kind)) for name, kind in ACCOUNT_COLUMNS])
REJECT_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("reason", pa.string()),
        ("excerpt", pa.string()),
        ("detail", pa.string()),
        ("item", pa.int32()),
        ("byte_offset", pa.int64()),
    ]
)
API_ERROR_SCHEMA = pa.schema(
    [
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("resource_type", pa.string()),
        ("resource_id", pa.string()),
        ("title", pa.string()),
        ("detail", pa.string()),
    ]
)


def _table(records: list[Any], schema: pa.Schema) -> pa.Table:
    columns = []
    for field in schema:
        values = list(map(attrgetter(field.name), records))
        columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _latest(records: list[Any]) -> list[Any]:
    """One record per (platform, id): the latest observation, later records winning ties."""
    if len(records) < 2:
        return records
    chosen: dict[tuple[str, str], Any] = {}
    for record in records:
        key = (record.platform, record.id)
        previous = chosen.get(key)
        if previous is None or (record.observed_at or _MIN_TIME) >= (previous.observed_at or _MIN_TIME):
            chosen[key] = record
    if len(chosen) == len(records):
        return records
    return list(chosen.values())


@dataclass(slots=True)
class Batch:
    """A sink turned into tables, ready for :meth:`askscope.store.core.Store.write_batch`."""

    matches: pa.Table
    context: pa.Table
    account_records: pa.Table
    accounts: pa.Table
    rejects: pa.Table
    api_errors: pa.Table
    match_records: int
    account_record_count: int
    raw_block: bytes | None
    raw_first_line: int
    raw_last_line: int
    raw_records: int
    edit_chains: list[list[str]]
    platforms: list[str]

    @property
    def records(self) -> int:
        return self.match_records + self.account_record_count + int(self.rejects.num_rows)


def build_batch(sink: Sink, compress: bool = True) -> Batch:
    """Fold duplicates and convert a sink to Arrow tables plus one compressed raw block."""
    sink.materialize()
    matches = _latest(sink.matches)
    match_ids = {(p.platform, p.id) for p in matches} if sink.context else set()
    context = [p for p in _latest(sink.context) if (p.platform, p.id) not in match_ids]
    account_records = _latest(sink.account_records)
    record_ids = {(a.platform, a.id) for a in account_records} if sink.accounts else set()
    accounts = [a for a in _latest(sink.accounts) if (a.platform, a.id) not in record_ids]
    chains = [p.edit_ids for p in matches + context if len(p.edit_ids) > 1]
    platforms = sorted({p.platform for p in matches} | {p.platform for p in context})
    raw_block = None
    if compress and sink.raw_lines is not None:
        raw_block = encode_raw(block=sink.raw_lines)
    elif compress and sink.raw:
        raw_block = encode_raw(sink.raw)
    return Batch(
        matches=_table(matches, POST_SCHEMA),
        context=_table(context, POST_SCHEMA),
        account_records=_table(account_records, ACCOUNT_SCHEMA),
        accounts=_table(accounts, ACCOUNT_SCHEMA),
        rejects=_table(sink.rejects, REJECT_SCHEMA),
        api_errors=_table(sink.api_errors, API_ERROR_SCHEMA),
        match_records=len(sink.matches),
        account_record_count=len(sink.account_records),
        raw_block=raw_block,
        raw_first_line=sink.raw_span[0],
        raw_last_line=sink.raw_span[1],
        raw_records=sink.raw_count,
        edit_chains=chains,
        platforms=platforms,
    )


_raw_encoder = msgspec.msgpack.Encoder()
_raw_decoder = msgspec.msgpack.Decoder()


def iter_lines(block: bytes, first_line: int, offset: int) -> Iterator[tuple[int, int, bytes]]:
    """The non-blank lines of a block of JSON lines: (line number, byte offset, content without
    the line ending). Ingest and reparse split blocks with this same function."""
    line_no = first_line
    position = offset
    for line in block.split(b"\n"):
        content = line[:-1] if line.endswith(b"\r") else line
        if content.strip():
            yield line_no, position, content
        line_no += 1
        position += len(line) + 1


def encode_raw(
    records: list[tuple[int, int, bytes]] | None = None, block: tuple[int, int, bytes] | None = None
) -> bytes:
    """Raw input kept in the store, zstd-compressed: either a whole block of JSON lines
    (first line, byte offset, bytes; stored verbatim, split again on replay) or a list of
    records (line, byte offset, bytes)."""
    if block is not None:
        payload = _raw_encoder.encode(("lines", block[0], block[1], block[2]))
    else:
        payload = _raw_encoder.encode(("records", records or []))
    return zstandard.ZstdCompressor(level=RAW_LEVEL).compress(payload)


def decode_raw(blob: bytes) -> list[tuple[int, int, bytes]]:
    """The records of a raw block, in order."""
    value = _raw_decoder.decode(zstandard.ZstdDecompressor().decompress(blob))
    if value[0] == "lines":
        return list(iter_lines(value[3], value[1], value[2]))
    return [(line, offset, raw) for line, offset, raw in value[1]]


def posts_table(posts: list[Post]) -> pa.Table:
    return _table(posts, POST_SCHEMA)


def accounts_table(accounts: list[Account]) -> pa.Table:
    return _table(accounts, ACCOUNT_SCHEMA)
