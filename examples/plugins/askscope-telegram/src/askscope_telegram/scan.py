"""Split a Telegram Desktop export into its messages without trusting it to be whole.

A Telegram export is one JSON document (``{"name", "type", "id", "messages": [...]}``). askscope
wants one raw record per message, with the line it starts on, so that a rejected message can be
found in the file and a stored one replayed by ``askscope reparse``. :func:`scan` returns the
byte span of every element of the top-level ``messages`` array plus the top-level scalars
(``id``, ``name``, ``type``).

A valid export is decoded by msgspec and each message located by its exact bytes (fast). A
broken one is walked token by token (:func:`scan_tokens`: strings, brackets, commas and bare
literals; a JSON string cannot hold a raw newline, so lines are counted between tokens), which
does not need the document to be valid: a truncated export (a copy cut short, a disk that
filled up) still yields every message that was complete, and :attr:`Scan.tail` says where the
unreadable rest begins, so that it becomes one reject instead of losing the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

# One token: a whole string, a bracket or separator, or a bare literal (number, true, false, null).
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s"{}\[\],:]+')
_decoder = msgspec.json.Decoder()


@dataclass(slots=True)
class Span:
    """One element of ``messages``: its bytes are ``data[start:end]``; ``line`` is 1-based."""

    start: int
    end: int
    line: int


@dataclass(slots=True)
class Scan:
    """What :func:`scan` found in an export."""

    #: Top-level scalar fields (``id``, ``name``, ``type``), decoded.
    header: dict[str, Any] = field(default_factory=dict)
    #: True when a top-level ``messages`` array was found.
    has_messages: bool = False
    #: The complete elements of ``messages``, in order.
    messages: list[Span] = field(default_factory=list)
    #: Where the part that could not be read starts (offset, line), or None when the document
    #: ended properly.
    tail: tuple[int, int] | None = None


class _Export(msgspec.Struct):
    """A whole, valid export: its header scalars and the raw bytes of each message."""

    messages: list[msgspec.Raw]
    id: Any = None
    name: Any = None
    type: Any = None


_export = msgspec.json.Decoder(_Export)
_OPEN = re.compile(rb'"messages"\s*:\s*\[')
_SEPARATORS = b" \t\r\n,"


def scan(data: bytes) -> Scan:
    """The messages and header of an export held in ``data`` (see the module docstring).

    A valid export is decoded by msgspec (in C) and each message found by its exact bytes, in
    order, checked to follow the previous one with only separators between; anything else
    (a truncated or broken export) is walked token by token by :func:`scan_tokens`."""
    try:
        whole = _export.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return scan_tokens(data)
    opened = _OPEN.search(data)
    if opened is None:
        return scan_tokens(data)
    result = Scan(has_messages=True)
    result.header = {
        key: value
        for key, value in (("id", whole.id), ("name", whole.name), ("type", whole.type))
        if isinstance(value, str | int | float | bool)
    }
    position, line, counted = opened.end(), 1, 0
    for raw in whole.messages:
        start = data.find(raw, position)
        if start < 0 or data[position:start].strip(_SEPARATORS):
            return scan_tokens(data)  # not where the array says: let the tokens decide
        line += data.count(b"\n", counted, start)
        counted = start
        position = start + len(raw)
        result.messages.append(Span(start, position, line))
    return result


def scan_tokens(data: bytes) -> Scan:
    """:func:`scan` by walking the tokens: works on a truncated or otherwise broken export."""
    result = Scan()
    depth = 0
    key: bytes | None = None  # the last key read at depth 1
    expect_key = False  # at depth 1, the next string is a key
    value_for: bytes | None = None  # at depth 1, the key whose value comes next
    in_messages = False
    element_start = -1  # start of the element of messages under way
    line, counted = 1, 0  # line number at offset ``counted``
    closed = False

    def line_at(offset: int) -> int:
        nonlocal line, counted
        line += data.count(b"\n", counted, offset)
        counted = offset
        return line

    for match in _TOKEN.finditer(data):
        token = match.group()
        first = token[:1]
        if depth == 0:
            if first == b"{" and not closed:
                depth, expect_key = 1, True
                continue
            if first in (b"}", b"]") or closed:
                continue
            break  # not an object: nothing of an export here
        if depth == 1:
            if first == b"}":
                depth, closed = 0, True
            elif first == b",":
                expect_key, value_for = True, None
            elif first == b":":
                value_for = key
            elif expect_key and first == b'"':
                key, expect_key = _string(token), False
            elif first == b"[" and value_for == b"messages":
                depth, in_messages, result.has_messages = 2, True, True
                element_start = -2  # an element may start
            elif first in (b"{", b"["):
                depth += 1
            elif value_for in (b"id", b"name", b"type"):
                try:
                    result.header[value_for.decode()] = _decoder.decode(token)
                except msgspec.DecodeError:
                    pass
            continue
        # depth >= 2
        if in_messages and depth == 2:
            if first == b"]":
                depth, in_messages = 1, False
            elif first == b",":
                element_start = -2
            elif element_start == -2:
                if first in (b"{", b"["):
                    element_start = match.start()
                    depth += 1
                else:  # a bare literal or string element: complete in itself
                    result.messages.append(Span(match.start(), match.end(), line_at(match.start())))
                    element_start = -1
            elif first in (b"{", b"["):
                depth += 1
            continue
        if first in (b"{", b"["):
            depth += 1
        elif first in (b"}", b"]"):
            depth -= 1
            if in_messages and depth == 2 and element_start >= 0:
                result.messages.append(Span(element_start, match.end(), line_at(element_start)))
                element_start = -1
    if not closed:
        start = element_start if element_start >= 0 else (result.messages[-1].end if result.messages else 0)
        result.tail = (start, _line_of(data, start))
    return result


def _string(token: bytes) -> bytes:
    """A key token without its quotes (keys of an export never need unescaping)."""
    return token[1:-1]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
