"""What the Mastodon, Bluesky and Reddit readers share: the collector's envelope and lenient
decoding.

``askscope collect`` keeps every API response body as one raw record. Where the body alone does
not say where and when it was fetched (a Mastodon timeline is a bare array; its status ids only
mean something on the instance that served them), the collector wraps it::

    {"__askscope": {"platform": "mastodon", "url": "https://host/api/v1/...", "retrieved_at": "..."},
     "body": <the response body, unchanged>}

Readers accept the bare body and the wrapped one; ``retrieved_at`` becomes ``observed_at``.
The URL never carries credentials (they travel in headers, which are not kept).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from askscope.readers.base import RawRecord, Sink, excerpt_of, utc
from askscope.timefmt import iso

ENVELOPE_KEY = "__askscope"
#: Marker returned by :func:`decode_any` after it rejected a record.
REJECTED: Any = object()

_any_decoder = msgspec.json.Decoder()


class Skipped(msgspec.Struct):
    """An object whose content is not needed (only counted): decoding it keeps no fields, and
    unlike ``msgspec.Raw`` it also converts from already decoded values."""


class Envelope(msgspec.Struct):
    """Where and when the collector fetched a response."""

    platform: str | None = None
    url: str | None = None
    retrieved_at: datetime | None = None

    @property
    def host(self) -> str | None:
        if not self.url:
            return None
        try:
            return urlsplit(self.url).netloc.lower() or None
        except ValueError:  # an unparsable URL (e.g. an unclosed "[" of an IPv6 host)
            return None


def wrap(platform: str, url: str, retrieved_at: datetime, body: bytes) -> bytes:
    """The raw record a collector stores for one response ``body`` (kept byte for byte)."""
    meta = msgspec.json.encode({"platform": platform, "url": url, "retrieved_at": iso(retrieved_at)})
    return b'{"' + ENVELOPE_KEY.encode() + b'":' + meta + b',"body":' + body.strip() + b"}"


def envelope_platform(value: Any) -> str | None:
    """The platform named by a decoded envelope, or None when ``value`` is not one."""
    if isinstance(value, dict):
        meta = value.get(ENVELOPE_KEY)
        if isinstance(meta, dict) and "body" in value:
            platform = meta.get("platform")
            return platform if isinstance(platform, str) else None
    return None


def head_names_platform(data: bytes, platform: str) -> bool:
    """True when the first bytes are an envelope of ``platform`` (documents are not decoded for
    sniffing)."""
    start = data.lstrip()[:400]
    return (
        start.startswith(b'{"' + ENVELOPE_KEY.encode() + b'"') and b'"platform":"' + platform.encode() + b'"' in start
    )


def observed(envelope: Envelope | None, sink: Sink) -> datetime | None:
    if envelope is not None and envelope.retrieved_at is not None:
        return utc(envelope.retrieved_at)
    return sink.default_observed_at


def decode_any(record: RawRecord, sink: Sink) -> Any:
    """The record as generic JSON, or :data:`REJECTED` after rejecting it."""
    if record.value is not None:
        return record.value
    try:
        return _any_decoder.decode(record.raw)
    except msgspec.DecodeError as exc:
        sink.reject(record, "invalid_json", str(exc))
    except UnicodeDecodeError as exc:
        sink.reject(record, "invalid_encoding", f"not valid UTF-8: {exc}")
    return REJECTED


def decode_typed(
    record: RawRecord,
    sink: Sink,
    decoder: msgspec.json.Decoder[Any],
    kind: Any,
    lenient: Callable[[Any, RawRecord, Sink], None],
) -> Any:
    """The record decoded as ``kind`` (with ``decoder`` from bytes, or converted when the record splitting
    already decoded it), or None when it was handled otherwise: JSON that is broken is rejected,
    JSON with a value of the wrong type somewhere goes to ``lenient`` (which keeps what it can,
    item by item)."""
    if record.value is not None:
        value = convert(record.value, kind)
        if value is None:
            lenient(record.value, record, sink)
        return value
    try:
        return decoder.decode(record.raw)
    except msgspec.ValidationError:
        generic = decode_any(record, sink)
        if generic is not REJECTED:
            lenient(generic, record, sink)
    except msgspec.DecodeError as exc:
        sink.reject(record, "invalid_json", str(exc))
    except UnicodeDecodeError as exc:
        sink.reject(record, "invalid_encoding", f"not valid UTF-8: {exc}")
    return None


def convert(value: Any, kind: Any) -> Any:
    """``value`` converted to ``kind``, or None when it does not fit."""
    if value is None:
        return None
    try:
        return msgspec.convert(value, kind)
    except (msgspec.ValidationError, TypeError, OverflowError):
        return None


def convert_or_reject(value: Any, kind: Any, record: RawRecord, sink: Sink, item: int) -> Any:
    """``value`` converted to ``kind``; a value that does not fit is rejected as ``invalid_value``
    (or ``not_a_post`` when it is not even an object) and None returned."""
    if not isinstance(value, dict):
        sink.reject(record, "not_a_post", f"item is a JSON {type(value).__name__}", item=item)
        return None
    try:
        return msgspec.convert(value, kind)
    except (msgspec.ValidationError, TypeError, OverflowError) as exc:
        sink.reject(record, "invalid_value", str(exc), item=item, excerpt=excerpt_of(msgspec.json.encode(value)))
        return None
