"""Replayed records and the sinks they are parsed into (shared by the intake and the console)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from askscope.readers.base import RawRecord, Reader, Sink

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class ReplayRecord:
    """One raw record of a replayed file: when its post was created, where it came from."""

    at: datetime
    source: str
    line: int
    raw: bytes
    #: (reason, detail) for a record stored as a reject without parsing (too large, unknown format)
    reject: tuple[str, str] | None = None


def sink_for(readers: dict[str, Reader], records: list[ReplayRecord], source_file: str, line0: int) -> dict[str, Sink]:
    """Parse ``records`` into one sink per reader name (records numbered from ``line0 + 1``)."""
    sinks: dict[str, Sink] = {}
    observed = datetime.now(UTC)
    for offset, record in enumerate(records):
        line = line0 + offset + 1
        reader = readers.get(record.source)
        name = reader.name if reader is not None else "unknown"
        sink = sinks.setdefault(name, Sink(source_file=source_file, default_observed_at=observed))
        raw = RawRecord(line, 0, record.raw)
        if record.reject is not None or reader is None:
            reason, detail = record.reject or ("unknown_format", "no reader")
            sink.reject(raw, reason, detail)
            continue
        reader.parse(raw, sink)
        sink.raw.append((line, 0, record.raw))
    return sinks
