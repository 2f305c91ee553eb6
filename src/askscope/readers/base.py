"""What every reader shares: the sniffing head, raw records, the sink and the Reader interface.

A reader is a small object with two jobs:

* ``sniff(head) -> bool``: does this content look like my format? It inspects decoded sample
  records or the first bytes; it never decides by trying to parse and catching a failure.
* ``parse(record, sink)``: turn one raw input record (a JSON line, an array element, a CSV row)
  into canonical :class:`~askscope.post.Post` / :class:`~askscope.post.Account` records, or
  :class:`~askscope.post.Reject` entries, added to ``sink``.

Splitting an input into raw records is shared (:mod:`askscope.readers.records`) except where a
format needs its own (CSV). Keeping ``parse`` a pure function of one raw record is what lets the
store replay stored raw payloads through a fixed reader (``askscope reparse``) and lets ingest
parse records in worker processes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar

from askscope.post import Account, ApiError, Post, Reject

# Head and RawRecord are part of the reader interface: re-exported so that readers (and plugins)
# import everything they share from here.
from askscope.readers.records import Head as Head
from askscope.readers.records import RawRecord as RawRecord
from askscope.readers.records import json_records

EXCERPT_CHARS = 200
_MIN = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class Sink:
    """Collects what readers produce for a batch of raw records.

    ``matches`` are posts the collection matched; ``context`` posts that only came as references.
    ``account_records`` are accounts that were themselves input records (a users file);
    ``accounts`` those that came along with posts. ``records`` counts input records read
    (matches + account records + rejects), which is what ``read`` reports.
    """

    source_file: str
    default_observed_at: datetime | None = None
    matches: list[Post] = field(default_factory=list)
    context: list[Post] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    account_records: list[Account] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    api_errors: list[ApiError] = field(default_factory=list)
    raw: list[tuple[int, int, bytes]] = field(default_factory=list)
    #: Accounts and context posts that arrive again and again (the same author on many pages):
    #: key -> (observed_at, build function, source object). Only the latest observation of each
    #: is built into a record, when the sink is turned into a batch (see :meth:`defer`).
    deferred: dict[tuple[str, str, str], tuple[Any, int, Callable[..., Any], Any, Any]] = field(default_factory=dict)
    #: While set (``--strict``), how to undo each :meth:`defer` since the last :meth:`mark`.
    journal: list[tuple[tuple[str, str, str], Any]] | None = None
    #: Instead of ``raw``: a whole block of JSON lines (first line, byte offset, bytes).
    raw_lines: tuple[int, int, bytes] | None = None
    #: First and last line and number of raw records when ``raw_lines`` is used.
    raw_lines_span: tuple[int, int, int] = (0, 0, 0)

    @property
    def raw_span(self) -> tuple[int, int]:
        if self.raw_lines is not None:
            return self.raw_lines_span[0], self.raw_lines_span[1]
        return (self.raw[0][0], self.raw[-1][0]) if self.raw else (0, 0)

    @property
    def raw_count(self) -> int:
        return self.raw_lines_span[2] if self.raw_lines is not None else len(self.raw)

    @property
    def records(self) -> int:
        return len(self.matches) + len(self.account_records) + len(self.rejects)

    def reject(
        self,
        record: RawRecord,
        reason: str,
        detail: str,
        *,
        item: int = 0,
        excerpt: str | None = None,
    ) -> None:
        if excerpt is None:
            excerpt = excerpt_of(record.raw)
        self.rejects.append(
            Reject(
                source_file=self.source_file,
                source_line=record.line,
                reason=reason,
                detail=detail[:500],
                excerpt=excerpt,
                item=item,
                byte_offset=record.offset,
            )
        )

    def defer(
        self,
        kind: str,
        platform: str,
        key: str,
        observed: datetime | None,
        line: int,
        build: Callable[..., Any],
        source: Any,
        extra: Any = None,
    ) -> None:
        """Add an account (``kind="account"``) or context post (``"context"``) lazily: only
        the latest observation of each (platform, id) is built, by ``build(source, extra)``;
        of equal observations the later one wins."""
        full = (kind, platform, key)
        previous = self.deferred.get(full)
        if previous is not None and (observed or _MIN) < (previous[0] or _MIN):
            return
        if self.journal is not None:
            self.journal.append((full, previous))
        self.deferred[full] = (observed, line, build, source, extra)

    def materialize(self, lines: dict[str, list[int]] | None = None) -> None:
        """Build the deferred records into ``accounts`` and ``context`` (and, when ``lines`` is
        given, record the line each came from under ``lines["account"]`` / ``lines["context"]``)."""
        for (kind, _, _), (_, line, build, source, extra) in self.deferred.items():
            (self.accounts if kind == "account" else self.context).append(build(source, extra))
            if lines is not None:
                lines.setdefault(kind, []).append(line)
        self.deferred.clear()

    def mark(self) -> tuple[int, ...]:
        """Sizes of the output lists, to undo one record's output with :meth:`undo`. Starts
        journaling deferred records."""
        self.journal = []
        return (
            len(self.matches),
            len(self.context),
            len(self.accounts),
            len(self.account_records),
            len(self.api_errors),
        )

    def undo(self, mark: tuple[int, ...]) -> None:
        """Drop what was added since ``mark`` (rejects stay: they say why)."""
        del self.matches[mark[0] :]
        del self.context[mark[1] :]
        del self.accounts[mark[2] :]
        del self.account_records[mark[3] :]
        del self.api_errors[mark[4] :]
        for full, previous in reversed(self.journal or []):
            if previous is None:
                self.deferred.pop(full, None)
            else:
                self.deferred[full] = previous
        self.journal = []

    def extend(self, other: Sink) -> None:
        other.materialize()
        self.matches.extend(other.matches)
        self.context.extend(other.context)
        self.accounts.extend(other.accounts)
        self.account_records.extend(other.account_records)
        self.rejects.extend(other.rejects)
        self.api_errors.extend(other.api_errors)
        self.raw.extend(other.raw)


def excerpt_of(raw: bytes | str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of a record, decoded leniently, for the rejects table."""
    if isinstance(raw, bytes):
        raw = raw[: limit * 4].decode("utf-8", errors="replace")
    text = raw.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utc(dt: datetime | None) -> datetime | None:
    """Make a datetime timezone-aware in UTC (naive values are taken as UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    if dt.utcoffset() != UTC.utcoffset(None):
        return dt.astimezone(UTC)
    return dt


class Reader(ABC):
    """The interface of an input format. Subclasses set the class attributes and implement
    :meth:`sniff` and :meth:`parse`; JSON formats inherit :meth:`records` from :mod:`askscope.readers.records`."""

    #: Short name used on the command line and in the ``ingests`` table (``x-v2``).
    name: ClassVar[str]
    #: Platform of the posts it reads (``x``).
    platform: ClassVar[str]
    #: One line for ``askscope formats`` and error messages.
    description: ClassVar[str]
    #: True when :meth:`parse` may run in a worker process (no state between records).
    parallel: ClassVar[bool] = True
    #: Readers are asked to sniff in ascending order: cassettes 0, platform formats 50 (the
    #: default), the permissive X readers 80 (any object with an id and a text), CSV 90.
    sniff_order: ClassVar[int] = 50
    #: True when API responses of this format may come inside recorded HTTP cassettes (the
    #: cassette reader then hands each response body to the first such reader that sniffs it).
    in_cassettes: ClassVar[bool] = False
    #: True when a response needs its request URL and retrieval time to be read (the cassette
    #: reader wraps it as :func:`askscope.readers.collected.wrap` does for ``askscope collect``).
    needs_request: ClassVar[bool] = False

    @abstractmethod
    def sniff(self, head: Head) -> bool:
        """True when ``head`` looks like this format."""

    def records(self, stream: BinaryIO, head: Head) -> Iterator[RawRecord]:
        """Split the input into raw records. JSON formats share the JSON record splitting."""
        return json_records(stream, head)

    @abstractmethod
    def parse(self, record: RawRecord, sink: Sink) -> None:
        """Add what ``record`` holds to ``sink`` (posts, accounts, rejects). Never raises on bad
        data: broken records become rejects."""

    def raw_header(self) -> bytes | None:
        """Bytes that ``parse`` needs besides each record to re-read stored raw records (the CSV
        header). None for self-contained records."""
        return None
