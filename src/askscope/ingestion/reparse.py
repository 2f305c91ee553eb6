"""Rebuild the derived tables from the raw payloads kept in the store.

When a reader is fixed, ``askscope reparse DB`` replays every stored raw record through the
current reader of its format, in the original ingest order and with each ingest's original time
as the default observation time, and rewrites ``posts``, ``accounts``, ``rejects`` and
``api_errors`` in one transaction (a crash leaves the old tables untouched). The original input
files are not needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import msgspec

from askscope.ingestion.parsing import MAX_RECORD_BYTES
from askscope.readers import reader_for
from askscope.readers.base import RawRecord, Sink
from askscope.readers.csv import CsvReader
from askscope.store.batch import build_batch, decode_raw
from askscope.store.core import BatchCounts, IngestRecord, Store
from askscope.store.write import write_batch

_REBUILT = ("posts", "accounts", "rejects", "api_errors")
#: Rejects whose records are not in ``raw`` (a whole unrecognised file, a damaged compressed tail,
#: a record over the size limit): nothing can replay them, so they are kept as they are.
KEPT_REJECTS = ("unknown_format", "truncated_input", "decompression_bomb", "record_too_large")


@dataclass
class ReparseResult:
    ingests: int = 0
    blocks: int = 0
    counts: BatchCounts = field(default_factory=BatchCounts)
    posts_before: int = 0
    posts_after: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingests": self.ingests,
            "blocks": self.blocks,
            **self.counts.as_dict(),
            "posts_before": self.posts_before,
            "posts_after": self.posts_after,
        }


def reparse(store: Store) -> ReparseResult:
    """Re-derive posts, accounts, rejects and API errors from ``raw``; returns what it did."""
    result = ReparseResult()
    con = store.con
    result.posts_before = int(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
    ingests = con.execute(
        "SELECT id, source_file, format, options, started_at FROM ingests WHERE superseded_by IS NULL ORDER BY id"
    ).fetchall()
    with store.transaction():
        for table in _REBUILT:
            if table == "rejects":
                con.execute(
                    "DELETE FROM rejects WHERE reason NOT IN (SELECT unnest(?::VARCHAR[]))", [list(KEPT_REJECTS)]
                )
            else:
                con.execute(f"DELETE FROM {table}")
        for ingest_id, source_file, fmt, options_json, started_at in ingests:
            if fmt == "unknown":
                continue  # an unrecognised input: its one reject is kept, there is nothing to replay
            options: dict[str, Any] = msgspec.json.decode(options_json or "{}")
            limit = int(options.get("max_record_bytes") or MAX_RECORD_BYTES)
            reader = reader_for(
                fmt,
                {
                    "mapping": options.get("mapping"),
                    "platform": options.get("platform"),
                    "date_order": options.get("date_order"),
                    "date_format": options.get("date_format"),
                },
            )
            header = options.get("header")
            if isinstance(reader, CsvReader):
                if header is None:
                    continue  # the ingest never got past its header
                reader.configure_from_header(header.encode("utf-8"))
            elif header is not None and hasattr(reader, "configure_from_header"):
                reader.configure_from_header(header.encode("utf-8"))  # e.g. the Mastodon instance
            record = IngestRecord(id=ingest_id, source_file=source_file, format=fmt, started_at=started_at)
            for payload in _blocks(con, ingest_id):
                sink = _replay(reader, source_file, started_at, decode_raw(payload), limit)
                write_batch(store, record, build_batch(sink, compress=False), keep_raw=False, transaction=False)
                result.blocks += 1
            result.counts.add(record.counts)
            result.ingests += 1
    result.posts_after = int(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
    return result


def _blocks(con: duckdb.DuckDBPyConnection, ingest_id: int) -> Iterator[bytes]:
    """An ingest run's raw blocks in order, each joined from its pieces (``raw.part``), read one
    block at a time."""
    blocks = con.execute(
        "SELECT block, count(*) FROM raw WHERE ingest_id = ? GROUP BY block ORDER BY block", [ingest_id]
    ).fetchall()
    for block, _ in blocks:
        pieces = con.execute(
            "SELECT payload FROM raw WHERE ingest_id = ? AND block = ? ORDER BY part", [ingest_id, block]
        ).fetchall()
        yield b"".join(piece for (piece,) in pieces)


def _replay(
    reader: Any,
    source_file: str,
    observed: datetime,
    records: list[tuple[int, int, bytes]],
    limit: int = MAX_RECORD_BYTES,
) -> Sink:
    sink = Sink(source_file=source_file, default_observed_at=observed)
    for line, offset, raw in records:
        if len(raw) > limit:
            continue  # rejected at ingest as record_too_large; that reject is kept
        reader.parse(RawRecord(line, offset, raw), sink)
    return sink
