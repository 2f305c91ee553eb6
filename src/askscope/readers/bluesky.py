"""Bluesky (AT Protocol): AppView post views and raw ``app.bsky.feed.post`` records.

Shapes handled (each with a fixture test):

* ``{"posts": [...]}``: ``searchPosts``, ``getPosts``, ``getQuotes``;
* ``{"feed": [...]}``: author feeds, timelines, custom feeds, likes. A feed item's ``reply.root``
  and ``reply.parent`` post views are kept as context posts; an item with a ``reasonRepost`` is
  a ``repost`` by ``reason.by`` (id: the repost record's URI when the API gives it, else
  ``<post uri>#repost-by-<did>``) and its post becomes context;
* ``{"notifications": [...]}``: mentions, replies and quotes are posts, reposts repost records;
  likes and follows are left out;
* ``{"thread": ...}``: ``getPostThread``: the post and its nested ``replies`` are matches, the
  ``parent`` chain context posts. A branch cut by the depth limit (``replies`` missing while
  ``replyCount`` > 0) and posts the thread could not show (``notFoundPost``, ``blockedPost``) are
  kept in ``api_errors`` (``replies_not_loaded``, ``not_found``, ``blocked``) so the collector can
  fetch them and coverage can be reported;
* raw records: ``listRecords`` / ``getRecord`` (``uri`` + ``value``), a bare post view, and
  firehose lines as Jetstream writes them (``{"did", "kind": "commit", "commit": {...}}``):
  posts become posts, ``app.bsky.feed.repost`` records reposts, deletes and identity/account
  events are control messages, other collections (likes, follows) are not posts;
* any of these inside the collector's envelope.

The post id is its ``at://`` URI; the author's DID is the URI's authority, so the parent's
author is known for every reply. Quotes (``app.bsky.embed.record``, ``recordWithMedia``) give
``quoted_id`` and, in views, the quoted post as a context post. Hashtags, mentions and links come
from the facets (byte ranges into the UTF-8 text) and ``tags``; an external embed's URI is a link.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from askscope.post import Account, ApiError, Post
from askscope.readers import bluesky_shapes as shapes
from askscope.readers.base import Head, RawRecord, Reader, Sink, utc
from askscope.readers.bluesky_shapes import POST_COLLECTION, REPOST_COLLECTION, split_uri
from askscope.readers.collected import (
    ENVELOPE_KEY,
    Envelope,
    convert,
    convert_or_reject,
    decode_typed,
    envelope_platform,
    head_names_platform,
    observed,
)

PLATFORM = "bluesky"


_decoder = msgspec.json.Decoder(shapes.Doc)


def _looks_bluesky(obj: Any) -> bool:
    if envelope_platform(obj) == PLATFORM:
        return True
    if not isinstance(obj, dict):
        return False
    uri = obj.get("uri")
    if isinstance(uri, str) and uri.startswith("at://"):
        return True
    for key in ("posts", "feed", "notifications"):
        items = obj.get(key)
        if isinstance(items, list) and items:
            first = items[0].get("post", items[0]) if isinstance(items[0], dict) else None
            if isinstance(first, dict) and str(first.get("uri", "")).startswith("at://"):
                return True
    thread = obj.get("thread")
    if isinstance(thread, dict) and str(thread.get("$type", "")).startswith("app.bsky.feed.defs#"):
        return True
    records = obj.get("records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        return str(records[0].get("uri", "")).startswith("at://")
    commit = obj.get("commit")
    return isinstance(obj.get("did"), str) and "time_us" in obj and (isinstance(commit, dict) or "kind" in obj)


class BlueskyReader(Reader):
    """Bluesky post views (search, feeds, threads) and raw post records (Jetstream, listRecords)."""

    name = "bluesky"
    platform = PLATFORM
    description = "Bluesky post views (searchPosts, feeds, getPostThread) and app.bsky.feed.post records (Jetstream)"
    in_cassettes = True
    needs_request = True

    def sniff(self, head: Head) -> bool:
        if head.layout == "jsonl":
            return any(_looks_bluesky(sample) for sample in head.samples[:5])
        if head.layout == "json":
            if head_names_platform(head.data, PLATFORM):
                return True
            text = head.data[:65536]
            return b'"at://did:' in text and (b'"app.bsky.feed.post"' in text or b"app.bsky.feed.defs#" in text)
        return False

    def parse(self, record: RawRecord, sink: Sink) -> None:
        doc = decode_typed(record, sink, _decoder, shapes.Doc, self._parse_lenient)
        if doc is None:
            return
        envelope = None
        if doc.envelope is not None:
            envelope = doc.envelope
            if doc.body is None:
                sink.reject(record, "missing_field", "collector envelope without a body")
                return
            doc = doc.body
        _Builder(record, sink, envelope).document(doc)

    def _parse_lenient(self, value: Any, record: RawRecord, sink: Sink) -> None:
        """A value of the wrong type somewhere: keep the items that convert, reject the others."""
        envelope = None
        if envelope_platform(value) == PLATFORM:
            envelope = convert(value.get(ENVELOPE_KEY), Envelope)
            value = value.get("body")
        if not isinstance(value, dict):
            sink.reject(record, "not_a_post", f"a JSON {type(value).__name__}, not an object")
            return
        builder = _Builder(record, sink, envelope)
        for key, kind in (
            ("posts", shapes.PostView),
            ("feed", shapes.FeedItem),
            ("records", shapes.EmbedRecord),
            ("notifications", shapes.Notification),
        ):
            items = value.get(key)
            if isinstance(items, list):
                good = []
                for index, item in enumerate(items, 1):
                    converted = convert_or_reject(item, kind, record, sink, index)
                    if converted is not None:
                        good.append(converted)
                fields: dict[str, Any] = {key: good}
                builder.document(shapes.Doc(**fields))
                return
        sink.reject(record, "invalid_value", "a Bluesky object with a field of the wrong type")


class _Builder:
    """Turns one decoded document into posts, accounts, rejects and thread gaps."""

    def __init__(self, record: RawRecord, sink: Sink, envelope: Envelope | None) -> None:
        self.record = record
        self.sink = sink
        self.envelope = envelope
        self.observed = observed(envelope, sink)

    def document(self, doc: shapes.Doc) -> None:
        if doc.posts is not None:
            for index, view in enumerate(doc.posts, 1):
                self._match_view(view, index)
        elif doc.feed is not None:
            for index, item in enumerate(doc.feed, 1):
                self._feed_item(item, index)
        elif doc.thread is not None:
            self._thread(doc.thread)
        elif doc.notifications is not None:
            for note in doc.notifications:
                self._notification(note)
        elif doc.records is not None:
            for index, entry in enumerate(doc.records, 1):
                self._repo_record(entry.uri, entry.value, index)
        elif doc.did is not None and (doc.commit is not None or doc.kind is not None):
            if doc.time_us and self.envelope is None:
                self.observed = time_us_to_datetime(doc.time_us)
            self._firehose(doc)
        elif doc.uri is not None and doc.value is not None:
            self._repo_record(doc.uri, doc.value, 1)
        elif doc.uri is not None and doc.record is not None:
            view = shapes.PostView(
                uri=doc.uri,
                author=doc.author,
                record=doc.record,
                embed=doc.embed,
                replyCount=doc.replyCount,
                repostCount=doc.repostCount,
                likeCount=doc.likeCount,
                quoteCount=doc.quoteCount,
            )
            self._match_view(view, 1)
        else:
            self.sink.reject(self.record, "not_a_post", "a Bluesky object that holds no post")

    # --- shapes ---------------------------------------------------------------------------

    def _match_view(self, view: shapes.PostView, index: int) -> None:
        if not view.uri or view.record is None:
            self.sink.reject(self.record, "missing_field", "post view without uri or record", item=index)
            return
        self.sink.matches.append(self._view_post(view, is_context=False))

    def _feed_item(self, item: shapes.FeedItem, index: int) -> None:
        view = item.post
        if view is None or not view.uri or view.record is None:
            self.sink.reject(self.record, "missing_field", "feed item without a post", item=index)
            return
        if item.reply is not None:
            for ref in (item.reply.root, item.reply.parent):
                if ref is not None:
                    self._context_view(ref)
        reason = item.reason
        if reason is not None and reason.type == "app.bsky.feed.defs#reasonRepost" and reason.by is not None:
            self._context_view(view)
            self.sink.matches.append(self._repost(view, reason))
        else:
            self.sink.matches.append(self._view_post(view, is_context=False))

    def _thread(self, thread: shapes.Thread) -> None:
        if thread.post is None:
            self._gap(thread)
            return
        parent = thread.parent
        while parent is not None:
            if parent.post is not None:
                self._context_view(parent.post)
            else:
                self._gap(parent)
            parent = parent.parent
        stack = [thread]
        while stack:
            node = stack.pop()
            view = node.post
            if view is None:
                self._gap(node)
                continue
            if view.uri and view.record is not None:
                self.sink.matches.append(self._view_post(view, is_context=False))
            if node.replies is None:
                if view.replyCount:
                    self._error(
                        "replies_not_loaded",
                        view.uri,
                        "depth limit",
                        f"{view.replyCount} replies not loaded: the thread was cut at its depth limit",
                    )
            else:
                stack.extend(reversed(node.replies))

    def _notification(self, note: shapes.Notification) -> None:
        """Mentions, replies and quotes carry the post; reposts the repost record; likes and
        follows are not posts (a notification list is one record: they are left out, not rejected)."""
        _, collection, _ = split_uri(note.uri)
        if note.record is None or not note.uri:
            return
        author = note.author or shapes.Profile()
        if author.did:
            self.sink.defer("account", PLATFORM, author.did, self.observed, self.record.line, self._account, author)
        if collection == POST_COLLECTION:
            self.sink.matches.append(
                self._post(note.uri, author.did, author.handle, note.record, None, shapes.PostView(), is_context=False)
            )
        elif collection == REPOST_COLLECTION:
            post = self._repost_record(note.uri, author.did, note.record)
            post.author_handle = author.handle
            self.sink.matches.append(post)

    def _gap(self, node: shapes.Thread) -> None:
        kind = "blocked" if node.blocked or (node.type or "").endswith("blockedPost") else "not_found"
        self._error(
            kind,
            node.uri,
            "blocked post" if kind == "blocked" else "post not found",
            "the thread references a post the API did not return",
        )

    def _repo_record(self, uri: str | None, value: shapes.Record | None, index: int) -> None:
        did, collection, _ = split_uri(uri)
        if value is None or not uri:
            self.sink.reject(self.record, "missing_field", "record without uri or value", item=index)
        elif collection == POST_COLLECTION or (collection is None and value.type == POST_COLLECTION):
            self.sink.matches.append(self._post(uri, did, None, value, None, shapes.PostView(), is_context=False))
        elif collection == REPOST_COLLECTION:
            self.sink.matches.append(self._repost_record(uri, did, value))
        else:
            self.sink.reject(self.record, "not_a_post", f"a {collection or value.type} record", item=index)

    def _firehose(self, doc: shapes.Doc) -> None:
        commit = doc.commit
        if commit is None or (doc.kind not in (None, "commit")):
            self.sink.reject(self.record, "control_message", f"a firehose {doc.kind or 'event'} event")
            return
        operation = commit.operation or {"c": "create", "u": "update", "d": "delete"}.get(commit.type or "", "")
        if operation == "delete":
            self.sink.reject(self.record, "control_message", f"a firehose delete of {commit.collection}")
            return
        if not doc.did or not commit.collection or not commit.rkey:
            self.sink.reject(self.record, "missing_field", "firehose commit without did, collection or rkey")
            return
        uri = f"at://{doc.did}/{commit.collection}/{commit.rkey}"
        self._repo_record(uri, commit.record, 1)

    # --- records --------------------------------------------------------------------------

    def _context_view(self, view: shapes.PostView) -> None:
        if view.uri and view.record is not None:
            self._note(view)
            self.sink.defer("context", PLATFORM, view.uri, self.observed, self.record.line, self._context_built, view)
        elif view.uri and (view.notFound or view.blocked):
            self._error(
                "blocked" if view.blocked else "not_found",
                view.uri,
                "blocked post" if view.blocked else "post not found",
                "a reply's root or parent the API did not return",
            )

    def _context_built(self, view: shapes.PostView, _: Any = None) -> Post:
        return self._built_view(view, is_context=True)

    def _note(self, view: shapes.PostView) -> None:
        """Defer what a view brings along: its author, the post it quotes and that post's author.
        (Done here, never inside a deferred build, which runs while the sink iterates.)"""
        author = view.author
        if author is not None and author.did:
            self.sink.defer("account", PLATFORM, author.did, self.observed, self.record.line, self._account, author)
        quoted = shapes.quoted_view(view.embed)
        if quoted is not None:
            self.sink.defer(
                "context", PLATFORM, quoted.uri or "", self.observed, self.record.line, self._quoted_built, quoted
            )
            if quoted.author is not None and quoted.author.did:
                self.sink.defer(
                    "account",
                    PLATFORM,
                    quoted.author.did,
                    self.observed,
                    self.record.line,
                    self._account,
                    quoted.author,
                )

    def _view_post(self, view: shapes.PostView, *, is_context: bool) -> Post:
        self._note(view)
        return self._built_view(view, is_context=is_context)

    def _built_view(self, view: shapes.PostView, *, is_context: bool) -> Post:
        author = view.author
        did = author.did if author is not None else split_uri(view.uri)[0]
        return self._post(
            view.uri or "",
            did,
            author.handle if author is not None else None,
            view.record or shapes.Record(),
            view.embed,
            view,
            is_context=is_context,
        )

    def _quoted_built(self, embedded: shapes.EmbedRecord, _: Any = None) -> Post:
        author = embedded.author
        embed = embedded.embeds[0] if embedded.embeds else None
        view = shapes.PostView(
            uri=embedded.uri,
            replyCount=embedded.replyCount,
            repostCount=embedded.repostCount,
            likeCount=embedded.likeCount,
            quoteCount=embedded.quoteCount,
        )
        did = author.did if author is not None else split_uri(embedded.uri)[0]
        return self._post(
            embedded.uri or "",
            did,
            author.handle if author is not None else None,
            embedded.value or shapes.Record(),
            embed,
            view,
            is_context=True,
        )

    def _post(
        self,
        uri: str,
        did: str | None,
        handle: str | None,
        record: shapes.Record,
        view_embed: shapes.Embed | None,
        counts: shapes.PostView,
        *,
        is_context: bool,
    ) -> Post:
        text = record.text or ""
        hashtags, mentions, mention_ids, urls = _facets(text, record)
        embed = view_embed or record.embed
        quoted = shapes.quoted_uri(embed) or shapes.quoted_uri(record.embed)
        external = shapes.external_uri(embed) or shapes.external_uri(record.embed)
        if external and external not in urls:
            urls.append(external)
        reply = record.reply
        parent = reply.parent.uri if reply is not None and reply.parent is not None else None
        root = reply.root.uri if reply is not None and reply.root is not None else None
        kind = "reply" if parent else ("quote" if quoted else "post")
        _, _, rkey = split_uri(uri)
        return Post(
            platform=PLATFORM,
            id=uri,
            author_id=did,
            author_handle=handle,
            created_at=utc(record.createdAt),
            text=text,
            lang=record.langs[0] if record.langs else None,
            kind=kind,
            in_reply_to_id=parent,
            in_reply_to_author_id=split_uri(parent)[0] if parent else None,
            conversation_id=(root or parent) if parent else uri,
            quoted_id=quoted,
            hashtags=hashtags,
            mentions=mentions,
            urls=urls,
            media_count=shapes.media_count(embed),
            like_count=counts.likeCount,
            repost_count=counts.repostCount,
            reply_count=counts.replyCount,
            quote_count=counts.quoteCount,
            observed_at=self.observed,
            is_context=is_context,
            source_file=self.sink.source_file,
            source_line=self.record.line,
            mention_ids=mention_ids,
            url=f"https://bsky.app/profile/{handle or did}/post/{rkey}" if rkey and (handle or did) else None,
        )

    def _repost(self, view: shapes.PostView, reason: shapes.Reason) -> Post:
        by = reason.by or shapes.Profile()
        if by.did:
            self.sink.defer("account", PLATFORM, by.did, self.observed, self.record.line, self._account, by)
        original = view.author or shapes.Profile()
        uri = reason.uri or f"{view.uri}#repost-by-{by.did}"
        record = view.record or shapes.Record()
        hashtags, mentions, mention_ids, _ = _facets(record.text or "", record)
        if original.handle:
            mentions = [original.handle] + [m for m in mentions if m != original.handle]
        if original.did:
            mention_ids = [original.did] + [m for m in mention_ids if m != original.did]
        return Post(
            platform=PLATFORM,
            id=uri,
            author_id=by.did,
            author_handle=by.handle,
            created_at=utc(reason.indexedAt),
            text=record.text or "",
            lang=record.langs[0] if record.langs else None,
            kind="repost",
            conversation_id=uri,
            reposted_id=view.uri,
            hashtags=hashtags,
            mentions=mentions,
            mention_ids=mention_ids,
            observed_at=self.observed,
            source_file=self.sink.source_file,
            source_line=self.record.line,
        )

    def _repost_record(self, uri: str, did: str | None, value: shapes.Record) -> Post:
        subject = value.subject.uri if isinstance(value.subject, shapes.Ref) else None
        return Post(
            platform=PLATFORM,
            id=uri,
            author_id=did,
            created_at=utc(value.createdAt),
            kind="repost",
            conversation_id=uri,
            reposted_id=subject,
            observed_at=self.observed,
            source_file=self.sink.source_file,
            source_line=self.record.line,
        )

    def _account(self, profile: shapes.Profile, _: Any = None) -> Account:
        return Account(
            platform=PLATFORM,
            id=profile.did or "",
            handle=profile.handle,
            name=profile.displayName or None,
            created_at=utc(profile.createdAt),
            followers_count=profile.followersCount,
            following_count=profile.followsCount,
            posts_count=profile.postsCount,
            description=profile.description,
            observed_at=self.observed,
            url=f"https://bsky.app/profile/{profile.handle or profile.did}",
        )

    def _error(self, kind: str, uri: str | None, title: str, detail: str) -> None:
        self.sink.api_errors.append(
            ApiError(
                source_file=self.sink.source_file,
                source_line=self.record.line,
                resource_type=kind,
                resource_id=uri,
                title=title,
                detail=detail,
            )
        )


def _facets(text: str, record: shapes.Record) -> tuple[list[str], list[str], list[str], list[str]]:
    hashtags: list[str] = []
    mentions: list[str] = []
    mention_ids: list[str] = []
    urls: list[str] = []
    encoded: bytes | None = None
    for facet in record.facets or ():
        for feature in facet.features or ():
            kind = feature.type or ""
            if kind.endswith("#tag") and feature.tag:
                if feature.tag not in hashtags:
                    hashtags.append(feature.tag)
            elif kind.endswith("#link") and feature.uri:
                urls.append(feature.uri)
            elif kind.endswith("#mention") and feature.did:
                mention_ids.append(feature.did)
                index = facet.index
                if index is not None and index.byteStart is not None and index.byteEnd is not None:
                    if encoded is None:
                        encoded = text.encode("utf-8")
                    handle = encoded[index.byteStart : index.byteEnd].decode("utf-8", "replace").lstrip("@")
                    if handle:
                        mentions.append(handle)
    for tag in record.tags or ():
        if tag and tag not in hashtags:
            hashtags.append(tag)
    return hashtags, mentions, mention_ids, urls


def time_us_to_datetime(value: int) -> datetime:
    """Jetstream's ``time_us`` (microseconds since the epoch) as an aware datetime."""
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)
