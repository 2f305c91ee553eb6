"""Input formats: one module per format, all with the small :class:`Reader` interface.

:func:`detect` asks each reader, in order, whether the head of an input looks like its format;
an input no reader recognises is an :class:`~askscope.errors.UnknownFormatError` that names the
formats tried. Readers are registered through the ``askscope_readers`` hook (built-ins in
:mod:`askscope.builtins`, plugins by entry point): :func:`readers` lists them in sniffing order.
"""

from __future__ import annotations

from typing import Any

from askscope.errors import UnknownFormatError, UsageError
from askscope.readers.base import Head, RawRecord, Reader, Sink
from askscope.readers.records import make_head

__all__ = ["readers", "Head", "RawRecord", "Reader", "Sink", "detect", "make_head", "reader_for", "format_names"]


def readers() -> list[type[Reader]]:
    """Every registered reader class (built-ins and plugins) in sniffing order."""
    from askscope import registry

    found: list[type[Reader]] = registry.readers()
    return found


def format_names() -> list[str]:
    return [r.name for r in readers()]


def reader_for(name: str, options: dict[str, Any] | None = None) -> Reader:
    """A reader by its format name (``x-v2``), configured with ``options`` (CSV: mapping,
    platform)."""
    for cls in readers():
        if cls.name == name:
            return _make(cls, options or {})
    raise UsageError(f"unknown format {name!r}", "formats: " + ", ".join(format_names()))


def _make(cls: type[Reader], options: dict[str, Any]) -> Reader:
    from askscope.readers.csv import CsvReader

    if issubclass(cls, CsvReader):
        return cls(
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
    for cls in readers():
        reader = _make(cls, options)
        if reader.sniff(head):
            return reader
    if not head.data.strip():
        raise UnknownFormatError(f"{name} is empty", "nothing to ingest; check the file")
    tried = ", ".join(r.name for r in readers())
    hint = "askscope formats describes each format; name one with --format if you know it"
    if head.layout == "text":
        hint = "for a CSV with other column names, map them: --map COLUMN=id --map COLUMN=text"
    raise UnknownFormatError(f"{name}: unrecognised format (tried {tried})", hint)
