"""Reddit: API listings with comment trees, ``morechildren`` results, and NDJSON dumps.

Shapes handled (each with a fixture test):

* a thread page ``[<listing with the submission>, <listing with the comment tree>]`` as
  ``/comments/<id>`` returns it; comments nest in ``replies`` listings;
* a listing ``{"kind": "Listing", "data": {"children": [...]}}`` (``/top``, ``/new``,
  ``/api/info``, a user's comments) and a bare thing ``{"kind": "t1", "data": {...}}``;
* a ``morechildren`` result ``{"json": {"errors": [...], "data": {"things": [...]}}}``: a flat
  list whose comments carry their ``parent_id``;
* dumps with one submission or comment per line (the bare ``data`` objects, as Pushshift and
  its successors write them; ``retrieved_on`` becomes ``observed_at``, string timestamps are
  read);
* any of these inside the collector's envelope.

Ids are fullnames (``t3_`` submissions, ``t1_`` comments); ``in_reply_to_id`` is ``parent_id``
and ``conversation_id`` the submission (``link_id``), so a thread fetched in pieces stitches by
id alone. ``more`` stubs (comments the API did not load: ``children`` to fetch with
``morechildren``, or a "continue this thread" stub with none) are kept in ``api_errors``
(``resource_type = 'more'``, ``resource_id`` = the parent, ``detail`` = the missing fullnames) so
the collector can expand them and coverage can be reported. Deleted and removed comments stay in
the tree (their replies need them) with empty text, no author, and ``withheld`` set to
``deleted`` / ``removed``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec

from askscope.post import Account, ApiError, Post
from askscope.readers.base import Head, RawRecord, Reader, Sink
from askscope.readers.collected import (
    ENVELOPE_KEY,
    Envelope,
    Skipped,
    convert,
    convert_or_reject,
    decode_typed,
    envelope_platform,
    head_names_platform,
    observed,
)

PLATFORM = "reddit"
_GONE = {"[deleted]": "deleted", "[removed]": "removed"}
_MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})")
_HASHTAG = re.compile(r"(?<![\w&#/])#([A-Za-z][\w]*)")
_LINK = re.compile(r"https?://[^\s)\]>\"']+")


class _Gallery(msgspec.Struct):
    items: list[Skipped] | None = None


class _Data(msgspec.Struct):
    """The ``data`` of a thing (t1, t3, more), or a dump line."""

    id: str | None = None
    name: str | None = None
    author: str | None = None
    author_fullname: str | None = None
    created_utc: float | str | None = None
    retrieved_on: float | str | None = None
    title: str | None = None
    selftext: str | None = None
    body: str | None = None
    parent_id: str | None = None
    link_id: str | None = None
    score: int | None = None
    num_comments: int | None = None
    permalink: str | None = None
    url: str | None = None
    is_self: bool | None = None
    is_video: bool | None = None
    post_hint: str | None = None
    gallery_data: _Gallery | None = None
    crosspost_parent: str | None = None
    removed_by_category: str | None = None
    replies: str | _Listing | None = None
    # more stubs: the ids to load; a listing's data (same object shape): its things
    count: int | None = None
    children: list[str | _Thing] | None = None


class _Thing(msgspec.Struct):
    kind: str | None = None
    data: _Data | None = None


class _Listing(msgspec.Struct):
    kind: str | None = None
    data: _Data | None = None


class _MoreData(msgspec.Struct):
    things: list[_Thing] | None = None


class _MoreJson(msgspec.Struct):
    errors: list[list[str]] | None = None
    data: _MoreData | None = None


class _Doc(_Data):
    """Any top-level object: a listing, a thing, a morechildren result, a dump line, an envelope."""

    kind: str | None = None
    data: _Data | None = None  # a listing's or a thing's
    json: _MoreJson | None = None
    envelope: Envelope | None = msgspec.field(default=None, name=ENVELOPE_KEY)
    #: A comment's text in a dump line; the response inside the collector's envelope.
    # wider than _Data.body (msgspec decodes the union; a _Doc is never passed where a _Data is
    # expected, it only shares the dump line's fields), hence the ignore
    body: str | list[_Listing] | _Doc | None = None  # type: ignore[assignment]


_decoder = msgspec.json.Decoder(list[_Listing] | _Doc)


def _is_dump_line(obj: dict[str, Any]) -> bool:
    return "id" in obj and "created_utc" in obj and "subreddit" in obj and ("body" in obj or "title" in obj)


def _looks_reddit(obj: Any) -> bool:
    if envelope_platform(obj) == PLATFORM:
        return True
    if isinstance(obj, list):
        return bool(obj) and _looks_reddit(obj[0])
    if not isinstance(obj, dict):
        return False
    kind = obj.get("kind")
    if kind == "Listing" and isinstance(obj.get("data"), dict):
        return True
    if kind in ("t1", "t3") and isinstance(obj.get("data"), dict):
        return True
    more = obj.get("json")
    if isinstance(more, dict) and isinstance(more.get("data"), dict) and "things" in more["data"]:
        return True
    return _is_dump_line(obj)


def _timestamp(value: float | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


class RedditReader(Reader):
    """Reddit listings, comment trees, morechildren results and NDJSON dumps."""

    name = "reddit"
    platform = PLATFORM
    description = "Reddit API listings and comment trees, morechildren results, NDJSON dumps"
    in_cassettes = True
    needs_request = True

    def sniff(self, head: Head) -> bool:
        if head.layout == "jsonl":
            return any(_looks_reddit(sample) for sample in head.samples[:5])
        if head.layout == "json":
            if head_names_platform(head.data, PLATFORM):
                return True
            text = head.data[:65536]
            return (b'"kind": "Listing"' in text or b'"kind":"Listing"' in text or b'"things"' in text) and (
                b'"t3_' in text or b'"t1_' in text
            )
        return False

    def parse(self, record: RawRecord, sink: Sink) -> None:
        value = decode_typed(record, sink, _decoder, list[_Listing] | _Doc, self._parse_lenient)
        if value is None:
            return
        envelope = None
        if isinstance(value, _Doc) and value.envelope is not None:
            envelope = value.envelope
            if value.body is None or isinstance(value.body, str):
                sink.reject(record, "missing_field", "collector envelope without a body")
                return
            value = value.body
        builder = _Builder(record, sink, envelope)
        if isinstance(value, list):
            for listing in value:
                builder.listing(listing)
        else:
            builder.document(value)
        builder.finish()

    def _parse_lenient(self, value: Any, record: RawRecord, sink: Sink) -> None:
        """A field of the wrong type somewhere: convert thing by thing, rejecting only bad ones."""
        envelope = None
        if envelope_platform(value) == PLATFORM:
            envelope = convert(value.get(ENVELOPE_KEY), Envelope)
            value = value.get("body")
        builder = _Builder(record, sink, envelope)
        things: list[Any] = []
        _collect_raw_things(value, things)
        if not things:
            if isinstance(value, dict) and _is_dump_line(value):
                sink.reject(record, "invalid_value", "a dump line with a field of the wrong type")
            else:
                sink.reject(record, "not_a_post", "no Reddit submission or comment in the record")
            return
        for index, (kind, data) in enumerate(things, 1):
            converted = convert_or_reject(data, _Data, record, sink, index)
            if converted is not None:
                builder.thing(kind, converted)
        builder.finish()


def _collect_raw_things(value: Any, out: list[tuple[str | None, Any]]) -> None:
    """Every (kind, data) in a generic JSON value, depth first, comments' replies included."""
    if isinstance(value, list):
        for item in value:
            _collect_raw_things(item, out)
        return
    if not isinstance(value, dict):
        return
    kind = value.get("kind")
    data = value.get("data")
    if kind == "Listing" and isinstance(data, dict):
        _collect_raw_things(data.get("children"), out)
    elif kind in ("t1", "t3", "more") and isinstance(data, dict):
        replies = data.get("replies")
        out.append((kind, {k: v for k, v in data.items() if k != "replies"}))
        _collect_raw_things(replies, out)
    elif isinstance(value.get("json"), dict):
        inner = value["json"].get("data")
        if isinstance(inner, dict):
            _collect_raw_things(inner.get("things"), out)
    elif _is_dump_line(value):
        out.append((None, value))


def _things(listing: _Listing) -> list[_Thing]:
    """A listing's things, reversed (for a depth-first stack)."""
    children = listing.data.children if listing.data is not None else None
    return [c for c in reversed(children or []) if isinstance(c, _Thing)]


class _Builder:
    """Turns the things of one record into posts, accounts, rejects and ``more`` stubs."""

    def __init__(self, record: RawRecord, sink: Sink, envelope: Envelope | None) -> None:
        self.record = record
        self.sink = sink
        self.envelope = envelope
        self.observed = observed(envelope, sink)
        self.posts: list[Post] = []
        self.authors: dict[str, str | None] = {}

    def document(self, doc: _Doc) -> None:
        if doc.json is not None:
            for error in doc.json.errors or ():
                self.sink.api_errors.append(
                    ApiError(
                        source_file=self.sink.source_file,
                        source_line=self.record.line,
                        resource_type="morechildren",
                        title=error[0] if error else None,
                        detail=": ".join(error[1:]) if len(error) > 1 else None,
                    )
                )
            for thing in (doc.json.data.things if doc.json.data is not None else None) or ():
                self._thing(thing)
        elif doc.kind == "Listing" and doc.data is not None:
            self.listing(_Listing(kind="Listing", data=doc.data))
        elif doc.kind is not None and doc.data is not None:
            self.thing(doc.kind, doc.data)
        elif doc.id is not None and (isinstance(doc.body, str) or doc.title is not None):
            self.thing(None, doc)
        else:
            self.sink.reject(self.record, "not_a_post", "a Reddit object that holds no submission or comment")

    def listing(self, listing: _Listing) -> None:
        stack = _things(listing)
        while stack:
            thing = stack.pop()
            self._thing(thing)
            data = thing.data
            if data is not None and isinstance(data.replies, _Listing):
                stack.extend(_things(data.replies))

    def _thing(self, thing: _Thing) -> None:
        if thing.data is None:
            self.sink.reject(self.record, "missing_field", f"a {thing.kind} thing without data")
            return
        self.thing(thing.kind, thing.data)

    def thing(self, kind: str | None, data: _Data) -> None:
        if kind == "more":
            self._more(data)
            return
        if kind is None:
            kind = "t3" if data.title is not None else "t1"
        if kind not in ("t1", "t3"):
            self.sink.reject(self.record, "not_a_post", f"a {kind} thing (not a submission or comment)")
            return
        if not data.id and not data.name:
            self.sink.reject(self.record, "missing_field", f"a {kind} without an id")
            return
        post = self._post(kind, data)
        self.posts.append(post)
        self.authors[post.id] = post.author_id

    def finish(self) -> None:
        """Fill each reply's parent author from the same record, then hand the posts over."""
        for post in self.posts:
            if post.in_reply_to_id and post.in_reply_to_author_id is None:
                post.in_reply_to_author_id = self.authors.get(post.in_reply_to_id)
        self.sink.matches.extend(self.posts)

    def _more(self, data: _Data) -> None:
        children = [c if c.startswith("t1_") else f"t1_{c}" for c in data.children or () if isinstance(c, str)]
        title = f"more: {data.count or len(children)} comments not loaded" if children else "continue this thread"
        self.sink.api_errors.append(
            ApiError(
                source_file=self.sink.source_file,
                source_line=self.record.line,
                resource_type="more",
                resource_id=data.parent_id,
                title=title,
                detail=",".join(children),
            )
        )

    def _post(self, kind: str, data: _Data) -> Post:
        fullname = data.name or f"{kind}_{data.id}"
        author = data.author
        gone_author = author is None or author in _GONE
        author_id = None if gone_author else (data.author_fullname or author)
        if not gone_author and author_id:
            self.sink.defer(
                "account", PLATFORM, author_id, self.observed, self.record.line, self._account, (author_id, author)
            )
        withheld: list[str] = []
        urls: list[str] = []
        media = 0
        if kind == "t3":
            body = data.selftext or ""
            if body in _GONE:
                withheld.append(_GONE[body])
                body = ""
            if data.removed_by_category and not withheld:
                withheld.append("removed")
            title = data.title or ""
            text = f"{title}\n\n{body}" if body else title
            if data.url and not data.is_self and not (data.permalink and data.url.endswith(data.permalink)):
                urls.append(data.url)
            if data.gallery_data is not None:
                media = len(data.gallery_data.items or ())
            elif data.is_video or (data.post_hint or "") in ("image", "hosted:video", "rich:video"):
                media = 1
            quoted = data.crosspost_parent
            post_kind = "quote" if quoted else "post"
            parent = None
            conversation: str | None = fullname
        else:
            text = data.body or ""
            if text in _GONE:
                withheld.append(_GONE[text])
                text = ""
            quoted = None
            post_kind = "reply"
            parent = data.parent_id
            conversation = data.link_id
        for link in _LINK.findall(text):
            if link not in urls:
                urls.append(link)
        when = self.observed
        if self.envelope is None and data.retrieved_on is not None:
            when = _timestamp(data.retrieved_on) or when
        return Post(
            platform=PLATFORM,
            id=fullname,
            author_id=author_id,
            author_handle=None if gone_author else author,
            created_at=_timestamp(data.created_utc),
            text=text,
            kind=post_kind,
            in_reply_to_id=parent,
            conversation_id=conversation,
            quoted_id=quoted,
            hashtags=list(dict.fromkeys(_HASHTAG.findall(text))),
            mentions=list(dict.fromkeys(_MENTION.findall(text))),
            urls=urls,
            media_count=media,
            like_count=data.score,
            reply_count=data.num_comments if kind == "t3" else None,
            observed_at=when,
            source_file=self.sink.source_file,
            source_line=self.record.line,
            withheld=withheld,
            url=f"https://www.reddit.com{data.permalink}" if data.permalink else None,
        )

    def _account(self, key: tuple[str, str], _: Any = None) -> Account:
        author_id, name = key
        return Account(
            platform=PLATFORM,
            id=author_id,
            handle=name,
            observed_at=self.observed,
            url=f"https://www.reddit.com/user/{name}",
        )
