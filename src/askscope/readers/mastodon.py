"""Mastodon API statuses: timelines, hashtag timelines, single statuses, ``context``, search.

Shapes handled (each with a fixture test):

* an array of statuses (home, public, list and hashtag timelines, an account's statuses), one
  status object, or one status per line (JSON lines);
* a ``context`` response ``{"ancestors": [...], "descendants": [...]}``: descendants are matches,
  ancestors context posts; both get the thread's root as ``conversation_id``;
* a v2 search response ``{"accounts", "statuses", "hashtags"}`` and arrays of accounts
  (``favourited_by``, ``reblogged_by``), which become account records;
* any of these inside the collector's envelope (:mod:`askscope.readers.collected`).

Status ids are only unique on the instance that served them, so every id is
``<instance host>:<id>``. The instance is, in order: the envelope's URL, the instance found in the
input's first records (the host of a *local* status or account, one whose ``acct`` has no
``@domain``; JSON lines: the first 20 lines, a document: all of it; kept for ``reparse``), a
local status in the same record, else ``unknown``.

Quirks: a reblog is a ``repost`` whose text is its original's, and the original is kept as a
context post; ``quote`` (Mastodon 4.5: ``{"state", "quoted_status"}``; older forks: a status or
``quote_id``) gives ``quoted_id`` and the quoted status as context; an edited status keeps its id
(the latest observation wins; ``edited_at`` is not a new post); the HTML content becomes text
(:mod:`askscope.readers.mastodon_html`) with the spoiler text first; status edit histories and
``/source`` objects are not posts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import msgspec

from askscope.post import Account, Count, Post
from askscope.readers.base import Head, RawRecord, Reader, Sink, utc
from askscope.readers.collected import (
    ENVELOPE_KEY,
    REJECTED,
    Envelope,
    Skipped,
    convert,
    convert_or_reject,
    decode_any,
    decode_typed,
    envelope_platform,
    head_names_platform,
    observed,
)
from askscope.readers.mastodon_html import html_to_text

PLATFORM = "mastodon"
UNKNOWN_INSTANCE = "unknown"


class _Account(msgspec.Struct):
    id: str | None = None
    username: str | None = None
    acct: str | None = None
    display_name: str | None = None
    created_at: datetime | None = None
    note: str | None = None
    url: str | None = None
    uri: str | None = None
    followers_count: Count | None = None
    following_count: Count | None = None
    statuses_count: Count | None = None
    bot: bool | None = None
    locked: bool | None = None


class _Mention(msgspec.Struct):
    id: str | None = None
    acct: str | None = None


class _Tag(msgspec.Struct):
    name: str | None = None


class _Quote(msgspec.Struct):
    state: str | None = None
    quoted_status: _Status | None = None
    quoted_status_id: str | None = None
    id: str | None = None  # forks that embed the quoted status itself


class _Status(msgspec.Struct):
    id: str | None = None
    created_at: datetime | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    spoiler_text: str | None = None
    language: str | None = None
    uri: str | None = None
    url: str | None = None
    replies_count: Count | None = None
    reblogs_count: Count | None = None
    favourites_count: Count | None = None
    quotes_count: Count | None = None
    content: str | None = None
    reblog: _Status | None = None
    account: _Account | None = None
    media_attachments: list[Skipped] | None = None
    mentions: list[_Mention] | None = None
    tags: list[_Tag] | None = None
    quote: _Quote | None = None
    quote_id: str | None = None
    # Markers of objects that are not statuses.
    acct: str | None = None
    text: str | None = None


class _Doc(_Status):
    """Any top-level object: a status, a context, a search result or an envelope."""

    ancestors: list[_Status] | None = None
    descendants: list[_Status] | None = None
    statuses: list[_Status] | None = None
    accounts: list[Any] | None = None
    hashtags: list[Skipped] | None = None
    envelope: Envelope | None = msgspec.field(default=None, name=ENVELOPE_KEY)
    body: list[_Status] | _Doc | None = None


_decoder = msgspec.json.Decoder(list[_Status] | _Doc)


def _is_status(obj: Any) -> bool:
    """A status, or a status edit (history entry): content written by an account."""
    if not isinstance(obj, dict):
        return False
    account = obj.get("account")
    return "content" in obj and isinstance(account, dict) and "acct" in account


def _is_account(obj: Any) -> bool:
    return isinstance(obj, dict) and "acct" in obj and "username" in obj and "statuses_count" in obj


def _looks_mastodon(obj: Any) -> bool:
    if envelope_platform(obj) == PLATFORM:
        return True
    if isinstance(obj, list):
        return bool(obj) and (_is_status(obj[0]) or _is_account(obj[0]))
    if not isinstance(obj, dict):
        return False
    if "spoiler_text" in obj and "id" in obj:
        return True  # a status, or its /source
    if isinstance(obj.get("ancestors"), list) and isinstance(obj.get("descendants"), list):
        return True
    if isinstance(obj.get("statuses"), list) and "hashtags" in obj:
        return True
    return _is_status(obj)


def _local_host(status: _Status) -> str | None:
    """The instance of a status that is local to the server that returned it."""
    account = status.account
    if account is None and status.acct is not None:  # an account in an account list
        account = _Account(acct=status.acct)
    if account is None or not account.acct or "@" in account.acct:
        return None
    for link in (status.uri, status.url):
        if link:
            try:
                host = urlsplit(link).netloc.lower()
            except ValueError:  # an unparsable link (e.g. "http://[host/..."): try the next one
                continue
            if host:
                return host
    return None


def _first_local_host(statuses: list[_Status]) -> str | None:
    for status in statuses:
        host = _local_host(status) or (_local_host(status.reblog) if status.reblog is not None else None)
        if host:
            return host
    return None


class MastodonReader(Reader):
    """Mastodon API statuses (timelines, context, search), bare or in the collector's envelope."""

    name = "mastodon"
    platform = PLATFORM
    description = "Mastodon API statuses (timelines, hashtag timelines, context, search)"
    in_cassettes = True
    needs_request = True
    #: Records are read in one process, in order: the instance found in the input's first records
    #: (see :meth:`records`) qualifies the ids of the records after them.
    parallel = False

    def __init__(self, instance: str | None = None) -> None:
        #: The instance host every id is qualified with when a record does not say.
        self.instance = instance

    def sniff(self, head: Head) -> bool:
        if head.layout == "jsonl":
            return any(_looks_mastodon(sample) for sample in head.samples[:5])
        if head.layout == "json":
            if head_names_platform(head.data, PLATFORM):
                return True
            text = head.data[:65536]
            if b'"ancestors"' in text and b'"descendants"' in text:
                return True
            if b'"spoiler_text"' in text and (b'"acct"' in text or text.lstrip()[:1] == b"{"):
                return True  # statuses, edit histories, a status /source
            return b'"acct"' in text and b'"statuses_count"' in text and b'"screen_name"' not in text
        return False

    def records(self, stream: BinaryIO, head: Head) -> Iterator[RawRecord]:
        records = super().records(stream, head)
        if self.instance is not None:
            return records
        if head.layout == "json":
            # A document is decoded whole anyway: look for a local status in all of it.
            items = list(records)
            self.instance = _instance_in_values([item.value for item in items])
            return iter(items)
        self.instance = _instance_in_values(head.samples)
        return records

    def raw_header(self) -> bytes | None:
        return self.instance.encode("utf-8") if self.instance else None

    def configure_from_header(self, header: bytes) -> None:
        """Re-read the stored instance (``askscope reparse``)."""
        self.instance = header.decode("utf-8") or None

    def parse(self, record: RawRecord, sink: Sink) -> None:
        value = decode_typed(record, sink, _decoder, list[_Status] | _Doc, self._parse_lenient)
        if value is None:
            return
        if _has_account_items(value):
            generic = decode_any(record, sink)
            if generic is not REJECTED:
                self._parse_lenient(generic, record, sink)
            return
        self._parse_value(value, record, sink)

    def _parse_value(self, value: Any, record: RawRecord, sink: Sink, envelope: Envelope | None = None) -> None:
        if isinstance(value, _Doc) and value.envelope is not None:
            if value.body is None:
                sink.reject(record, "missing_field", "collector envelope without a body")
                return
            self._parse_value(value.body, record, sink, value.envelope)
            return
        builder = _Builder(self, record, sink, envelope)
        if isinstance(value, list):
            builder.statuses(value, matches=True)
        elif value.ancestors is not None or value.descendants is not None:
            builder.context(value.ancestors or [], value.descendants or [])
        elif value.statuses is not None or value.accounts is not None:
            builder.statuses(value.statuses or [], matches=True)
            if value.accounts:
                builder.account_items(value.accounts)
        else:
            builder.statuses([value], matches=True)

    def _parse_lenient(self, value: Any, record: RawRecord, sink: Sink) -> None:
        """Some value has the wrong type: convert item by item, rejecting only the bad ones."""
        envelope = None
        if envelope_platform(value) == PLATFORM:
            envelope = convert(value.get(ENVELOPE_KEY), Envelope)
            value = value.get("body")
        builder = _Builder(self, record, sink, envelope)
        if isinstance(value, list):
            builder.statuses(self._items(value, record, sink), matches=True, raw_items=value)
        elif isinstance(value, dict) and ("ancestors" in value or "descendants" in value):
            ancestors = self._items(value.get("ancestors") or [], record, sink)
            descendants = self._items(value.get("descendants") or [], record, sink, offset=len(ancestors))
            builder.context([a for a in ancestors if a is not None], [d for d in descendants if d is not None])
        elif isinstance(value, dict) and ("statuses" in value or "accounts" in value):
            builder.statuses(self._items(value.get("statuses") or [], record, sink), matches=True)
            builder.account_items(value.get("accounts") or [])
        elif isinstance(value, dict):
            builder.statuses(self._items([value], record, sink), matches=True, raw_items=[value])
        else:
            sink.reject(record, "not_a_post", f"a JSON {type(value).__name__}, not an object")
            return

    @staticmethod
    def _items(items: Any, record: RawRecord, sink: Sink, offset: int = 0) -> list[Any]:
        if not isinstance(items, list):
            sink.reject(record, "invalid_value", "expected an array of statuses")
            return []
        return [convert_or_reject(item, _Status, record, sink, offset + i) for i, item in enumerate(items, 1)]


def _has_account_items(value: Any) -> bool:
    """True when a list holds accounts (``favourited_by``): they need their own fields."""
    if isinstance(value, _Doc) and value.envelope is not None:
        value = value.body
    return isinstance(value, list) and any(s.account is None and s.acct is not None for s in value)


def _instance_in_values(values: list[Any]) -> str | None:
    """The instance of the first local status among decoded records (JSON lines samples, the
    elements of a document)."""
    for sample in values:
        statuses = convert(sample, list[_Status] | _Doc)
        if statuses is None:
            continue
        if isinstance(statuses, _Doc):
            if statuses.envelope is not None and statuses.envelope.host:
                return statuses.envelope.host
            statuses = [
                statuses,
                *(statuses.ancestors or []),
                *(statuses.descendants or []),
                *(statuses.statuses or []),
            ]
        host = _first_local_host(statuses)
        if host:
            return host
    return None


class _Builder:
    """Turns the statuses of one record into posts, accounts and rejects."""

    def __init__(self, reader: MastodonReader, record: RawRecord, sink: Sink, envelope: Envelope | None) -> None:
        self.reader = reader
        self.record = record
        self.sink = sink
        self.envelope = envelope
        self.observed = observed(envelope, sink)
        self.host = (envelope.host if envelope is not None else None) or reader.instance
        self.seen: list[_Status] = []

    def _resolve_host(self, statuses: list[_Status]) -> str:
        if self.host is None:
            self.host = _first_local_host(statuses) or UNKNOWN_INSTANCE
        return self.host

    def statuses(
        self, items: list[Any], *, matches: bool, raw_items: list[Any] | None = None, root: str | None = None
    ) -> None:
        good = [s for s in items if s is not None]
        self._resolve_host(good)
        for index, status in enumerate(items, 1):
            if status is None:
                continue
            if status.account is None and status.acct is not None and raw_items is not None:
                self.account_items([raw_items[index - 1]], first=index)
            elif not status.id:
                if status.content is not None and status.account is not None:
                    self.sink.reject(
                        self.record, "not_a_post", "a status edit (history entry), not a status", item=index
                    )
                else:
                    self.sink.reject(self.record, "missing_field", "status without an id", item=index)
            elif status.account is None and status.content is None:
                self.sink.reject(
                    self.record,
                    "not_a_post",
                    "an object with an id but no account or content (a status source, a filter...)",
                    item=index,
                )
            else:
                self._note(status)
                post = self._post(status, is_context=not matches, root=root)
                (self.sink.matches if matches else self.sink.context).append(post)

    def context(self, ancestors: list[_Status], descendants: list[_Status]) -> None:
        self._resolve_host(ancestors + descendants)
        root: str | None = None
        if ancestors and ancestors[0].in_reply_to_id is None and ancestors[0].id:
            root = ancestors[0].id
        elif not ancestors and descendants and descendants[0].in_reply_to_id:
            root = descendants[0].in_reply_to_id  # the status whose context this is
        self.statuses(ancestors, matches=False, root=root)
        self.statuses(descendants, matches=True, root=root)

    def account_items(self, items: list[Any], first: int = 1) -> None:
        self._resolve_host([s for s in (convert(item, _Status) for item in items) if s is not None])
        for index, item in enumerate(items, first):
            account = convert(item, _Account)
            if account is None or not account.id:
                self.sink.reject(self.record, "missing_field", "account without an id", item=index)
                continue
            self.sink.account_records.append(self._account(account))

    # --- records ---------------------------------------------------------------------------

    def _qualify(self, local_id: str | None) -> str | None:
        return f"{self.host}:{local_id}" if local_id else None

    def _post(self, status: _Status, *, is_context: bool, root: str | None = None) -> Post:
        kind = "post"
        reposted = quoted = None
        content = status
        if status.reblog is not None and status.reblog.id:
            kind = "repost"
            content = status.reblog
            reposted = status.reblog.id
        quote = content.quote
        if quote is not None:
            quoted_status = quote.quoted_status
            quoted = (quoted_status.id if quoted_status is not None else None) or quote.quoted_status_id or quote.id
        quoted = quoted or content.quote_id
        if kind == "post":
            if status.in_reply_to_id:
                kind = "reply"
            elif quoted:
                kind = "quote"
        text, urls = html_to_text(content.content or "")
        if not text and content.text:
            text = content.text  # a deleted status returns its source text
        if content.spoiler_text:
            text = f"{content.spoiler_text}\n\n{text}" if text else content.spoiler_text
        mentions = [m.acct for m in content.mentions or () if m.acct]
        mention_ids = [self._qualify(m.id) or "" for m in content.mentions or () if m.id]
        if kind == "repost" and content.account is not None and content.account.acct:
            author = content.account.acct
            if author in mentions:
                mentions.remove(author)
            mentions.insert(0, author)
            if content.account.id:
                reposted_author = self._qualify(content.account.id) or ""
                if reposted_author in mention_ids:
                    mention_ids.remove(reposted_author)
                mention_ids.insert(0, reposted_author)
        account = status.account
        conversation = None
        if status.in_reply_to_id:
            conversation = self._qualify(root) if root else None
        else:
            conversation = self._qualify(status.id)
        return Post(
            platform=PLATFORM,
            id=self._qualify(status.id) or "",
            author_id=self._qualify(account.id) if account is not None else None,
            author_handle=account.acct if account is not None else None,
            created_at=utc(status.created_at),
            text=text,
            lang=content.language,
            kind=kind,
            in_reply_to_id=self._qualify(status.in_reply_to_id),
            in_reply_to_author_id=self._qualify(status.in_reply_to_account_id),
            conversation_id=conversation,
            quoted_id=self._qualify(quoted),
            reposted_id=self._qualify(reposted),
            hashtags=[t.name for t in content.tags or () if t.name],
            mentions=mentions,
            urls=urls,
            media_count=len(content.media_attachments or ()),
            like_count=status.favourites_count,
            repost_count=status.reblogs_count,
            reply_count=status.replies_count,
            quote_count=status.quotes_count,
            observed_at=self.observed,
            is_context=is_context,
            source_file=self.sink.source_file,
            source_line=self.record.line,
            mention_ids=mention_ids,
            url=status.url or status.uri,
        )

    def _note(self, status: _Status, depth: int = 0) -> None:
        """Defer what a status brings along: its author, and (as context posts, with theirs) the
        reblogged original and the quoted status. Done here, never inside a deferred build,
        which runs while the sink iterates."""
        account = status.account
        if account is not None and account.id:
            self.sink.defer(
                "account",
                PLATFORM,
                self._qualify(account.id) or "",
                self.observed,
                self.record.line,
                self._account_built,
                account,
            )
        if depth > 2:
            return
        referenced = [status.reblog] if status.reblog is not None else []
        content = status.reblog or status
        if content.quote is not None and content.quote.quoted_status is not None:
            referenced.append(content.quote.quoted_status)
        for other in referenced:
            if other.id:
                self.sink.defer(
                    "context",
                    PLATFORM,
                    self._qualify(other.id) or "",
                    self.observed,
                    self.record.line,
                    self._context_built,
                    other,
                )
                self._note(other, depth + 1)

    def _context_built(self, status: _Status, _: Any = None) -> Post:
        return self._post(status, is_context=True)

    def _account_built(self, account: _Account, _: Any = None) -> Account:
        return self._account(account)

    def _account(self, account: _Account) -> Account:
        note, _ = html_to_text(account.note or "")
        return Account(
            platform=PLATFORM,
            id=self._qualify(account.id) or "",
            handle=account.acct or account.username,
            name=account.display_name or None,
            created_at=utc(account.created_at),
            followers_count=account.followers_count,
            following_count=account.following_count,
            posts_count=account.statuses_count,
            description=note or None,
            observed_at=self.observed,
            url=account.url,
            protected=account.locked,
        )
