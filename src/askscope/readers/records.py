"""JSON records: split an input into raw records and build the head that sniffers look at.

Two layouts exist for JSON inputs:

* ``jsonl``: one JSON value per line (twarc, streaming APIs, dumps). Each non-blank line is a
  record, with its 1-based line number and byte offset. Memory stays flat whatever the size.
* ``json``: one (usually pretty-printed) document, as an API returns it. The document is decoded
  whole; if it is an array, each element is a record (line = the line where the element starts);
  otherwise the document is one record.

The layout is decided from the first line alone (a line that only opens a document, like ``{``
or ``[`` or ``"statuses": [``, means a pretty-printed document), so a broken first line in a JSONL
file stays a rejected line instead of turning the file into something else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import msgspec


@dataclass(slots=True)
class RawRecord:
    """One input record: where it starts and its bytes. ``value`` is set when the record splitting already
    decoded it (elements of a JSON document); ``parse`` then need not decode ``raw`` again."""

    line: int
    offset: int
    raw: bytes
    value: Any = None


@dataclass(slots=True)
class Head:
    """What sniffers look at: the first bytes of the (decompressed) input and, for JSON, up to a
    few decoded sample records."""

    data: bytes
    layout: str  # "jsonl", "json" (one document) or "text"
    samples: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace").lstrip("\ufeff")


HEAD_BYTES = 256 * 1024
SAMPLE_LINES = 20
_decoder = msgspec.json.Decoder()
_OPENER = re.compile(rb"^\s*(?:[\[{]|.*[\[{,:])\s*$")


def _first_line(data: bytes) -> bytes:
    for line in data.splitlines():
        if line.strip():
            return line
    return b""


def detect_layout(head: bytes) -> str:
    """``jsonl``, ``json`` or ``text`` for the first bytes of an input."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped or stripped[:1] not in (b"{", b"["):
        return "text"
    first = _first_line(stripped)
    if _OPENER.match(first) and not _complete_json(first):
        return "json"
    return "jsonl"


def _complete_json(line: bytes) -> bool:
    try:
        _decoder.decode(line)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False
    return True


def make_head(data: bytes) -> Head:
    """The head of an input: layout plus decoded samples (JSONL: the first complete lines)."""
    layout = detect_layout(data)
    head = Head(data=data, layout=layout)
    if layout == "jsonl":
        for line in data.splitlines():  # a cut last line fails to decode and is skipped
            if not line.strip():
                continue
            try:
                head.samples.append(_decoder.decode(line))
            except (msgspec.DecodeError, UnicodeDecodeError):
                continue
            if len(head.samples) >= SAMPLE_LINES:
                break
    return head


def decode_document(stream: BinaryIO, head: Head) -> tuple[bytes, Any]:
    """Read and decode a whole JSON document (layout ``json``). Raises ``msgspec.DecodeError``."""
    data = stream.read()
    return data, _decoder.decode(data)


def json_records(stream: BinaryIO, head: Head) -> Iterator[RawRecord]:
    """Raw records of a JSON input, in order."""
    if head.layout == "json":
        yield from _document_records(stream)
        return
    line_no = 0
    offset = 0
    for line in stream:
        line_no += 1
        size = len(line)
        if line.strip():
            yield RawRecord(line_no, offset, line.rstrip(b"\r\n"))
        offset += size


def _document_records(stream: BinaryIO) -> Iterator[RawRecord]:
    data = stream.read()
    try:
        value = _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        # The layout is known (a document); its content is broken. Hand the whole document to
        # the reader as one record: it will reject it with the decoder's message.
        yield RawRecord(1, 0, data)
        return
    if isinstance(value, list) and value:
        starts = _element_lines(data, len(value))
        for index, element in enumerate(value):
            line, offset = starts[index] if index < len(starts) else (1, 0)
            yield RawRecord(line, offset, msgspec.json.encode(element), element)
    else:
        yield RawRecord(1, 0, data, value)


def _element_lines(data: bytes, count: int) -> list[tuple[int, int]]:
    """Line number and byte offset where each top-level array element starts.

    A single pass over the document tracking strings and nesting depth; only used for JSON
    documents (API responses), which are small.
    """
    starts: list[tuple[int, int]] = []
    depth = 0
    in_string = False
    escape = False
    line = 1
    expecting = False
    for offset, byte in enumerate(data):
        if byte == 0x0A:
            line += 1
        if in_string:
            if escape:
                escape = False
            elif byte == 0x5C:
                escape = True
            elif byte == 0x22:
                in_string = False
            continue
        if byte in (0x20, 0x09, 0x0A, 0x0D):
            continue
        if depth == 1 and expecting:
            starts.append((line, offset))
            expecting = False
            if len(starts) == count:
                break
        if byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth == 1:
                expecting = True
        elif byte in (0x5D, 0x7D):
            depth -= 1
        elif byte == 0x2C and depth == 1:
            expecting = True
    return starts
