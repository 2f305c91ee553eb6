"""Input formats: one module per format, all with the small :class:`Reader` interface.

:func:`detect` asks each reader, in order, whether the head of an input looks like its format;
an input no reader recognises is an :class:`~askscope.errors.UnknownFormatError` that names the
formats tried. New formats register by being added to :data:`READERS`.
"""

from __future__ import annotations

from typing import Any

from askscope.errors import UnknownFormatError, UsageError
from askscope.readers.base import Head, RawRecord, Reader, Sink
from askscope.readers.bluesky import BlueskyReader
from askscope.readers.cassette import CassetteReader
from askscope.readers.csv import CsvReader
from askscope.readers.framing import make_head
from askscope.readers.mastodon import MastodonReader
from askscope.readers.reddit import RedditReader
from askscope.readers.x_v1 import XV1Reader
from askscope.readers.x_v2 import XV2Reader

#: Reader classes in sniffing order. Cassettes (recorded HTTP exchanges) are unwrapped first; the
#: Mastodon, Bluesky and Reddit readers come next: their
#: sniffers need platform-specific fields, while the X readers accept any object with an id and a
#: text (a deleted Mastodon status has both).
READERS: tuple[type[Reader], ...] = (
    CassetteReader,
    MastodonReader,
    BlueskyReader,
    RedditReader,
    XV2Reader,
    XV1Reader,
    CsvReader,
)

__all__ = ["READERS", "Head", "RawRecord", "Reader", "Sink", "detect", "make_head", "reader_for", "format_names"]


def format_names() -> list[str]:
    return [r.name for r in READERS]


def reader_for(name: str, options: dict[str, Any] | None = None) -> Reader:
    """A reader by its format name (``x-v2``), configured with ``options`` (CSV: mapping,
    platform)."""
    for cls in READERS:
        if cls.name == name:
            return _make(cls, options or {})
    raise UsageError(f"unknown format {name!r}", "formats: " + ", ".join(format_names()))


def _make(cls: type[Reader], options: dict[str, Any]) -> Reader:
    if cls is CsvReader:
        return CsvReader(
            mapping=options.get("mapping"),
            platform=options.get("platform") or "x",
            date_order=options.get("date_order"),
            date_format=options.get("date_format"),
        )
    return cls()


def detect(head: Head, name: str, options: dict[str, Any] | None = None) -> Reader:
    """The first reader whose ``sniff`` accepts ``head``; ``name`` is the input's name for the
    error message."""
    options = options or {}
    for cls in READERS:
        reader = _make(cls, options)
        if reader.sniff(head):
            return reader
    if not head.data.strip():
        raise UnknownFormatError(f"{name} is empty", "nothing to ingest; check the file")
    tried = ", ".join(r.name for r in READERS)
    hint = "askscope formats describes each format; name one with --format if you know it"
    if head.framing == "text":
        hint = "for a CSV with other column names, map them: --map COLUMN=id --map COLUMN=text"
    raise UnknownFormatError(f"{name}: unrecognised format (tried {tried})", hint)
