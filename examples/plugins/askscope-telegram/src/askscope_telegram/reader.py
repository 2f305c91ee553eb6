"""Telegram Desktop's JSON export of one channel or group (``result.json``), as askscope posts.

Telegram Desktop ("Export chat history", format JSON) writes one document::

    {"name": "...", "type": "public_channel", "id": 1712691810, "messages": [
      {"id": 269046, "type": "message", "date": "2023-02-18T13:35:43", "date_unixtime": "1676702143",
       "from": "Muhammad Nasrul", "from_id": "user522266589", "reply_to_message_id": 269047,
       "text": ["plain part", {"type": "link", "text": "https://..."}], "text_entities": [...]}, ...]}

Every element of ``messages`` is one input record (:mod:`askscope_telegram.scan` finds them and the
line each starts on, and keeps the complete ones of a truncated file). Mapping:

* ``id``: ``"<chat id>:<message id>"`` (message ids are only unique inside their chat); the chat
  id travels beside the records (:meth:`TelegramExportReader.raw_header`) so that ``askscope
  reparse`` can rebuild them;
* author: ``from_id`` (``user123``, ``channel123``: global ids) with ``from`` as the account's
  display name (an export holds no @username, so ``author_handle`` stays empty: name a host by
  its id, ``telegram:user123``);
* ``created_at``: ``date_unixtime`` (UTC); exports older than Telegram Desktop 3.x have only
  ``date``, the exporting computer's local time, which is then read as UTC;
* a message with ``reply_to_message_id`` is a ``reply`` to ``"<chat id>:<that id>"`` (with
  ``reply_to_peer_id``, a reply to a message of that other chat);
* text: the parts of ``text`` joined; hashtags, ``@mentions`` and links from ``text_entities``
  (``link`` and ``text_link``); ``media_count`` 1 with a photo or file; ``like_count`` the sum
  of the ``reactions`` counts (absent before reactions existed);
* a forwarded message is a post of the chat it was forwarded into (its origin, a name in
  ``forwarded_from``, has no field in askscope's post);
* service messages (a member joined, a title changed, a pin...) are not posts: each is rejected
  as ``not_a_post`` naming its action, so the counts reconcile (read = new + updated + rejected).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import msgspec

from askscope.post import Account, Post
from askscope.readers.base import Head, RawRecord, Reader, Sink, utc
from askscope_telegram.scan import scan

PLATFORM = "telegram"
UNKNOWN_CHAT = "unknown"
#: Chat types Telegram Desktop writes for a single-chat export.
CHAT_TYPES = (
    "personal_chat",
    "bot_chat",
    "private_group",
    "private_supergroup",
    "public_supergroup",
    "private_channel",
    "public_channel",
    "saved_messages",
    "replies",
    "verification_codes",
)
_HEAD = re.compile(rb'\A\s*\{(?P<header>[^\[\]{}]{0,4096}?)"messages"\s*:\s*\[\s*(?P<first>[\]{])')
_CHAT_TYPE = re.compile(rb'"type"\s*:\s*"(?P<type>[a-z_]+)"')
_CHAT_ID = re.compile(rb'"id"\s*:\s*-?\d+\s*[,}]')
_FIRST_MESSAGE = re.compile(rb'\A[^{}\[\]]{0,2048}?"type"\s*:\s*"(?:message|service)"', re.S)
_DATE = re.compile(rb'\A[^{}\[\]]{0,2048}?"date"\s*:\s*"', re.S)
_PEER = re.compile(r"^(?:user|channel|chat)?(\d+)$")


class _Entity(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    href: str | None = None


class _Reaction(msgspec.Struct):
    count: int | None = None


class _Message(msgspec.Struct):
    id: int | str | None = None
    type: str | None = None
    date: str | None = None
    date_unixtime: str | int | None = None
    author_name: str | None = msgspec.field(default=None, name="from")
    from_id: str | int | None = None
    action: str | None = None
    text: str | list[str | _Entity] | None = None
    text_entities: list[_Entity] | None = None
    reply_to_message_id: int | None = None
    reply_to_peer_id: str | int | None = None
    reactions: list[_Reaction] | None = None
    photo: str | None = None
    file: str | None = None
    media_type: str | None = None
    # Markers of a whole export handed over as one record (with --format telegram).
    messages: list[msgspec.Raw] | None = None


_decoder = msgspec.json.Decoder(_Message)
_any = msgspec.json.Decoder()


class TelegramExportReader(Reader):
    """Telegram Desktop JSON export (``result.json``) of a channel or group."""

    name = "telegram"
    platform = PLATFORM
    description = "Telegram Desktop JSON export of a channel or group (result.json)"
    # One document: the records are cut out of it in this process (records() below), never as
    # JSON lines by worker processes.
    parallel = False

    def __init__(self) -> None:
        self.chat: dict[str, Any] = {}

    @property
    def chat_id(self) -> str:
        value = self.chat.get("id")
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else UNKNOWN_CHAT

    def sniff(self, head: Head) -> bool:
        """Only a Telegram export: an object whose first keys are scalars with a numeric ``id``
        and a Telegram chat ``type``, then ``"messages": [``, whose first element (if any) has a
        ``type`` of ``message`` or ``service`` and a ``date``."""
        data = head.data.lstrip(b"\xef\xbb\xbf")
        found = _HEAD.match(data)
        if found is None:
            return False
        header = found.group("header")
        kind = _CHAT_TYPE.search(header)
        if kind is None or kind.group("type").decode() not in CHAT_TYPES or _CHAT_ID.search(header) is None:
            return False
        if found.group("first") == b"]":
            return True
        rest = data[found.end() :]
        return _FIRST_MESSAGE.match(rest) is not None and _DATE.match(rest) is not None

    def records(self, stream: BinaryIO, head: Head) -> Iterator[RawRecord]:
        """One record per element of ``messages`` (its exact bytes, the line it starts on); the
        unreadable rest of a truncated export is one more record, which :meth:`parse` rejects."""
        data = stream.read()
        found = scan(data)
        self.chat = {k: v for k, v in found.header.items() if k in ("id", "name", "type")}
        for span in found.messages:
            yield RawRecord(span.line, span.start, data[span.start : span.end])
        if found.tail is not None or not found.has_messages:
            offset, line = found.tail if found.tail is not None else (0, 1)
            yield RawRecord(line, offset, data[offset:])

    def raw_header(self) -> bytes | None:
        """The chat (id, name, type), which every message's id needs, kept for ``reparse``."""
        return msgspec.json.encode(self.chat) if self.chat else None

    def configure_from_header(self, header: bytes) -> None:
        """Re-read the stored chat (``askscope reparse``)."""
        value = _any.decode(header)
        self.chat = value if isinstance(value, dict) else {}

    def parse(self, record: RawRecord, sink: Sink) -> None:
        try:
            message = _decoder.decode(record.raw)
        except msgspec.ValidationError as exc:
            self._reject_invalid(record, sink, exc)
            return
        except msgspec.DecodeError as exc:
            sink.reject(record, "invalid_json", f"the export is not valid JSON here (truncated?): {exc}")
            return
        except UnicodeDecodeError as exc:
            sink.reject(record, "invalid_encoding", f"not valid UTF-8: {exc}")
            return
        if message.messages is not None:
            sink.reject(record, "not_a_post", "a whole export whose messages could not be split (is it one chat?)")
            return
        if message.type == "service":
            sink.reject(record, "not_a_post", f"a service message ({message.action or 'no action'}), not a post")
            return
        if message.type != "message":
            sink.reject(record, "not_a_post", f"not a message (type {message.type!r})")
            return
        if message.id is None or message.id == "":
            sink.reject(record, "missing_field", "a message without an id")
            return
        try:
            created = _created_at(message)
        except ValueError as exc:
            sink.reject(record, "invalid_value", str(exc))
            return
        post = self._post(message, created, record, sink)
        sink.matches.append(post)
        if post.author_id:
            sink.defer(
                "account",
                PLATFORM,
                post.author_id,
                sink.default_observed_at,
                record.line,
                _account,
                (post.author_id, message.author_name, sink.default_observed_at),
            )

    def _reject_invalid(self, record: RawRecord, sink: Sink, exc: msgspec.ValidationError) -> None:
        try:
            value = _any.decode(record.raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            value = None
        if not isinstance(value, dict):
            sink.reject(record, "not_a_post", f"a message must be a JSON object, not {type(value).__name__}")
        else:
            sink.reject(record, "invalid_value", str(exc))

    def _post(self, message: _Message, created: datetime | None, record: RawRecord, sink: Sink) -> Post:
        chat = self.chat_id
        own = f"{chat}:{message.id}"
        parent = None
        if message.reply_to_message_id is not None:
            parent_chat = chat
            if message.reply_to_peer_id not in (None, ""):
                peer = _PEER.match(str(message.reply_to_peer_id))
                parent_chat = peer.group(1) if peer else str(message.reply_to_peer_id)
            parent = f"{parent_chat}:{message.reply_to_message_id}"
        entities = message.text_entities or [part for part in message.text or () if isinstance(part, _Entity)]
        author = str(message.from_id) if message.from_id not in (None, "") else None
        return Post(
            platform=PLATFORM,
            id=own,
            author_id=author,
            created_at=created,
            text=_text(message.text),
            kind="reply" if parent else "post",
            in_reply_to_id=parent,
            conversation_id=None if parent else own,
            hashtags=[e.text[1:] for e in entities if e.type == "hashtag" and e.text and len(e.text) > 1],
            mentions=[e.text[1:] for e in entities if e.type == "mention" and e.text and len(e.text) > 1],
            urls=[u for u in (_url(e) for e in entities) if u],
            media_count=1 if (message.photo or message.file or message.media_type) else 0,
            like_count=sum(r.count or 0 for r in message.reactions) if message.reactions is not None else None,
            observed_at=sink.default_observed_at,
            source_file=sink.source_file,
            source_line=record.line,
        )


def _account(source: tuple[str, str | None, datetime | None], _: Any = None) -> Account:
    account_id, name, observed = source
    return Account(platform=PLATFORM, id=account_id, name=name or None, observed_at=observed)


def _text(text: str | list[str | _Entity] | None) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return "".join(part if isinstance(part, str) else (part.text or "") for part in text)


def _url(entity: _Entity) -> str | None:
    if entity.type == "link":
        return entity.text or None
    if entity.type == "text_link":
        return entity.href or None
    return None


def _created_at(message: _Message) -> datetime | None:
    """UTC time of a message: ``date_unixtime``, else ``date`` (local time, read as UTC)."""
    if message.date_unixtime not in (None, ""):
        try:
            return datetime.fromtimestamp(int(message.date_unixtime), tz=UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise ValueError(f"date_unixtime {message.date_unixtime!r} is not a Unix time") from exc
    if message.date:
        try:
            when: datetime | None = utc(datetime.fromisoformat(message.date))
            return when
        except ValueError as exc:
            raise ValueError(f"date {message.date!r} is not an ISO date and time") from exc
    return None
