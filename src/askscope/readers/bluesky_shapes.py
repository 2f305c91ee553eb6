"""The shapes of Bluesky's AT Protocol objects that :mod:`askscope.readers.bluesky` reads.

Only the fields askscope uses are declared; everything else is skipped while decoding. The same
struct serves an object in its record form and in its view form where the two share field names
(``Embed``: ``app.bsky.embed.*`` and ``*#view``; ``EmbedRecord``: a strong ref, a
``viewRecord`` or the ``recordWithMedia`` wrapper). Plus the small helpers that read embeds.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from askscope.post import Count
from askscope.readers.collected import ENVELOPE_KEY, Envelope, Skipped

POST_COLLECTION = "app.bsky.feed.post"
REPOST_COLLECTION = "app.bsky.feed.repost"


class Ref(msgspec.Struct):
    uri: str | None = None
    cid: str | None = None


class ReplyRef(msgspec.Struct):
    root: Ref | None = None
    parent: Ref | None = None


class Feature(msgspec.Struct):
    type: str | None = msgspec.field(default=None, name="$type")
    uri: str | None = None
    did: str | None = None
    tag: str | None = None


class ByteSlice(msgspec.Struct):
    byteStart: int | None = None
    byteEnd: int | None = None


class Facet(msgspec.Struct):
    index: ByteSlice | None = None
    features: list[Feature] | None = None


class External(msgspec.Struct):
    uri: str | None = None


class Embed(msgspec.Struct):
    """An embed, as a record holds it or as a view shows it."""

    type: str | None = msgspec.field(default=None, name="$type")
    images: list[Skipped] | None = None
    external: External | None = None
    record: EmbedRecord | None = None
    media: Embed | None = None
    video: Skipped | None = None
    playlist: str | None = None


class Record(msgspec.Struct):
    """An ``app.bsky.feed.post`` (or ``app.bsky.feed.repost``) record."""

    type: str | None = msgspec.field(default=None, name="$type")
    text: str | None = None
    createdAt: datetime | None = None
    langs: list[str] | None = None
    reply: ReplyRef | None = None
    embed: Embed | None = None
    facets: list[Facet] | None = None
    tags: list[str] | None = None
    subject: Ref | str | None = None  # reposts and likes: a strong ref; follows, blocks: a DID


class Profile(msgspec.Struct):
    did: str | None = None
    handle: str | None = None
    displayName: str | None = None
    description: str | None = None
    createdAt: datetime | None = None
    followersCount: Count | None = None
    followsCount: Count | None = None
    postsCount: Count | None = None


class EmbedRecord(msgspec.Struct):
    """A strong ref (record embeds), a ``viewRecord``/``viewNotFound`` (views), or the
    ``{"record": ...}`` wrapper of ``recordWithMedia``."""

    type: str | None = msgspec.field(default=None, name="$type")
    uri: str | None = None
    cid: str | None = None
    author: Profile | None = None
    value: Record | None = None
    record: EmbedRecord | None = None
    embeds: list[Embed] | None = None
    likeCount: Count | None = None
    repostCount: Count | None = None
    replyCount: Count | None = None
    quoteCount: Count | None = None
    notFound: bool | None = None
    blocked: bool | None = None


class PostView(msgspec.Struct):
    type: str | None = msgspec.field(default=None, name="$type")
    uri: str | None = None
    author: Profile | None = None
    record: Record | None = None
    embed: Embed | None = None
    replyCount: Count | None = None
    repostCount: Count | None = None
    likeCount: Count | None = None
    quoteCount: Count | None = None
    notFound: bool | None = None
    blocked: bool | None = None


class Reason(msgspec.Struct):
    type: str | None = msgspec.field(default=None, name="$type")
    by: Profile | None = None
    indexedAt: datetime | None = None
    uri: str | None = None


class FeedReply(msgspec.Struct):
    root: PostView | None = None
    parent: PostView | None = None


class FeedItem(msgspec.Struct):
    post: PostView | None = None
    reply: FeedReply | None = None
    reason: Reason | None = None


class Thread(msgspec.Struct):
    type: str | None = msgspec.field(default=None, name="$type")
    post: PostView | None = None
    parent: Thread | None = None
    replies: list[Thread] | None = None
    uri: str | None = None
    notFound: bool | None = None
    blocked: bool | None = None


class Commit(msgspec.Struct):
    operation: str | None = None
    type: str | None = None  # Jetstream v0: "c", "u", "d"
    collection: str | None = None
    rkey: str | None = None
    record: Record | None = None


class Notification(msgspec.Struct):
    uri: str | None = None
    author: Profile | None = None
    record: Record | None = None


class Doc(msgspec.Struct):
    """Any top-level object: a page, a thread, a record, a post view, a firehose line."""

    posts: list[PostView] | None = None
    notifications: list[Notification] | None = None
    feed: list[FeedItem] | None = None
    thread: Thread | None = None
    records: list[EmbedRecord] | None = None
    # A bare post view (record) or repo record (value).
    uri: str | None = None
    author: Profile | None = None
    record: Record | None = None
    value: Record | None = None
    embed: Embed | None = None
    replyCount: Count | None = None
    repostCount: Count | None = None
    likeCount: Count | None = None
    quoteCount: Count | None = None
    # Jetstream.
    did: str | None = None
    time_us: int | None = None
    kind: str | None = None
    commit: Commit | None = None
    # The collector's envelope.
    envelope: Envelope | None = msgspec.field(default=None, name=ENVELOPE_KEY)
    body: Doc | None = None


def split_uri(uri: str | None) -> tuple[str | None, str | None, str | None]:
    """``at://did/collection/rkey`` -> (did, collection, rkey)."""
    if not uri or not uri.startswith("at://"):
        return None, None, None
    parts = uri[5:].split("/")
    return parts[0] or None, parts[1] if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None


def is_post_uri(uri: str | None) -> bool:
    return split_uri(uri)[1] == POST_COLLECTION


def embedded_record(embed: Embed | None) -> EmbedRecord | None:
    """The quoted record of a record or recordWithMedia embed (view or record form)."""
    if embed is None or embed.record is None:
        return None
    inner = embed.record
    if inner.record is not None and (embed.type or "").startswith("app.bsky.embed.recordWithMedia"):
        inner = inner.record
    return inner


def quoted_uri(embed: Embed | None) -> str | None:
    inner = embedded_record(embed)
    if inner is None or not is_post_uri(inner.uri):
        return None
    return inner.uri


def quoted_view(embed: Embed | None) -> EmbedRecord | None:
    inner = embedded_record(embed)
    if inner is None or not is_post_uri(inner.uri) or inner.value is None or inner.author is None:
        return None
    return inner


def external_uri(embed: Embed | None) -> str | None:
    if embed is None:
        return None
    if embed.external is not None and embed.external.uri:
        return embed.external.uri
    return external_uri(embed.media) if embed.media is not None else None


def media_count(embed: Embed | None) -> int:
    if embed is None:
        return 0
    if embed.images is not None:
        return len(embed.images)
    if embed.video is not None or embed.playlist is not None:
        return 1
    return media_count(embed.media) if embed.media is not None else 0
