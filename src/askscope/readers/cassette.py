"""Recorded HTTP exchanges (cassettes): every response body read by its platform's reader.

Researchers and test suites keep API responses as cassettes: Betamax JSON (PRAW, tweepy) and
VCR YAML (vcrpy, Mastodon.py, R's vcr). This reader opens one, takes each successful response
body in recorded order and hands it to the reader whose sniffer recognises it (Mastodon,
Bluesky, Reddit, X v2, X v1.1). Mastodon, Bluesky and Reddit bodies are stored inside the
collector's envelope (:mod:`askscope.readers.collected`) with the request URL and the recording
time, so a Mastodon status gets the host of the instance that served it and every post the time
it was recorded as ``observed_at``; ``askscope reparse`` replays those records alone.

Responses that hold no post (an OAuth token, an error) are rejected as ``not_a_post``, so that
``read = new + updated + unchanged + rejected`` still counts every response; only a note of them (method,
URL, status) is kept, never their body, which may hold credentials. Request headers and bodies
are never read, and query parameters that may carry credentials are dropped from stored URLs.
YAML cassettes need PyYAML.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec

from askscope.errors import InputError
from askscope.readers.base import Head, RawRecord, Reader, Sink, excerpt_of
from askscope.readers.collected import wrap
from askscope.readers.records import make_head

SKIPPED = "__askscope_skipped"
BROKEN = "__askscope_broken_cassette"
_SECRET = re.compile(r"token|key|secret|password|passwd|auth|sig|session|code", re.I)


class CassetteReader(Reader):
    """Betamax JSON and VCR YAML cassettes of Mastodon, Bluesky, Reddit and X API responses."""

    name = "cassette"
    platform = "any"
    description = "recorded HTTP exchanges (Betamax JSON, VCR YAML): each response read by its platform's reader"
    sniff_order = 0
    parallel = False

    def __init__(self) -> None:
        from askscope import registry

        # every registered reader of API responses (built-ins and plugins), in sniffing order
        self._readers: list[Reader] = [cls() for cls in registry.readers() if cls.in_cassettes]

    def sniff(self, head: Head) -> bool:
        start = head.data.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
        if head.layout == "text":
            return start.startswith((b"interactions:", b"http_interactions:"))
        if not start.startswith(b"{"):
            return False
        return (b'"interactions"' in start or b'"http_interactions"' in start) and b'"request"' in head.data[:65536]

    def records(self, stream: BinaryIO, head: Head) -> Iterator[RawRecord]:
        data = stream.read()
        try:
            recorded_exchanges = list(_exchanges(data, head.layout))
        except InputError as exc:
            # A damaged cassette is one bad record (rejected with the decoder's message), not an
            # error that stops the other inputs.
            reason = "invalid_value" if head.layout == "text" else "invalid_json"
            yield RawRecord(1, 0, msgspec.json.encode({BROKEN: [reason, exc.message, excerpt_of(data)]}))
            return
        for number, (method, url, recorded, status, body) in enumerate(recorded_exchanges, 1):
            url = _safe_url(url)
            reader = self._reader_for(body) if 200 <= status < 300 else None
            if reader is None:
                # Not a post response (an OAuth token, an error): only a note of it is kept, never
                # its body, which may hold credentials. parse rejects it, so it is still counted.
                yield RawRecord(number, 0, msgspec.json.encode({SKIPPED: f"{method} {url} (HTTP {status})"}))
                continue
            if reader.needs_request:
                body = wrap(reader.name, url, recorded or datetime.now(UTC), body)
            yield RawRecord(number, 0, body)

    def parse(self, record: RawRecord, sink: Sink) -> None:
        if record.raw.startswith(b'{"' + BROKEN.encode()):
            reason, detail, excerpt = msgspec.json.decode(record.raw)[BROKEN]
            sink.reject(record, reason, detail, excerpt=excerpt)
            return
        if record.raw.startswith(b'{"' + SKIPPED.encode()):
            note = msgspec.json.decode(record.raw).get(SKIPPED, "")
            sink.reject(record, "not_a_post", f"a recorded response that holds no posts: {note}", excerpt="")
            return
        reader = self._reader_for(record.raw)
        if reader is None:
            sink.reject(record, "not_a_post", "a recorded response that holds no posts")
            return
        reader.parse(RawRecord(record.line, record.offset, record.raw), sink)

    def _reader_for(self, body: bytes) -> Reader | None:
        head = make_head(body[:262144])
        if head.layout == "jsonl" and not head.samples:
            # A one-line document longer than the head: decode it whole to sniff it.
            try:
                head.samples.append(msgspec.json.decode(body))
            except (msgspec.DecodeError, UnicodeDecodeError):
                return None
        for reader in self._readers:
            if reader.sniff(head):
                return reader
        return None


def _safe_url(url: str) -> str:
    """The request URL without query parameters that may carry credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:  # unparsable: keep nothing of its query (it may hold credentials)
        return url.split("?", 1)[0]
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _SECRET.search(k)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), ""))


def _exchanges(data: bytes, layout: str) -> Iterator[tuple[str, str, datetime | None, int, bytes]]:
    """(method, request URL, recording time, status, response body) of each recorded exchange."""
    if layout == "text":
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - PyYAML is installed with the test extra
            raise InputError("reading VCR YAML cassettes needs PyYAML", "pip install pyyaml") from exc
        try:
            document = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise InputError(
                f"the cassette is not valid YAML: {str(exc).splitlines()[0]}",
                "check the file; each response body can also be ingested on its own",
            ) from exc
    else:
        try:
            document = msgspec.json.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"the cassette is not valid JSON: {exc}", "check the file") from exc
    items = (
        (document.get("interactions") or document.get("http_interactions") or []) if isinstance(document, dict) else []
    )
    for item in items:
        if not isinstance(item, dict):
            continue
        request = item.get("request") or {}
        response = item.get("response") or {}
        status = response.get("status")
        code = status.get("code") if isinstance(status, dict) else status
        yield (
            str(request.get("method") or "GET").upper(),
            str(request.get("uri") or ""),
            _when(item.get("recorded_at")),
            int(code or 0),
            _body(response),
        )


def _body(response: dict[str, Any]) -> bytes:
    body = response.get("body")
    if isinstance(body, dict):
        if isinstance(body.get("base64_string"), str):
            raw = base64.b64decode(body["base64_string"])
        else:
            value = body.get("string")
            raw = value if isinstance(value, bytes) else str(value or "").encode("utf-8")
    elif isinstance(body, (str, bytes)):
        raw = body.encode("utf-8") if isinstance(body, str) else body
    else:
        raw = b""
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            pass
    return raw


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None
