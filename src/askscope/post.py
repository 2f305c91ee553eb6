"""The canonical records every reader produces: :class:`Post`, :class:`Account`, :class:`Reject`.

One record shape serves X, Mastodon, Bluesky and Reddit (the field mapping of each platform is in
``docs/schema.md``). The store's public tables have exactly these columns, in this order, so the
column lists below are the single source of truth for the schema, the Arrow conversion and the
docs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

import msgspec

#: An engagement count as the store holds it (BIGINT): a value outside this range is rejected.
Count = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
MAX_COUNT: Final = 2**63 - 1

#: Values of :attr:`Post.kind`.
KINDS: Final = ("post", "reply", "quote", "repost")


class Post(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One post (tweet, status, skeet, submission or comment) as askscope stores it.

    ``text`` is the full text: the long-form text where a platform truncates (X v1.1
    ``extended_tweet``, X v2 ``note_tweet``) and the original's text for reposts. ``is_context``
    is true for posts that only arrived as referenced posts (the original inside a repost or
    quote, X v2 ``includes``) rather than as matches of the collection.
    """

    platform: str
    id: str
    author_id: str | None = None
    author_handle: str | None = None
    created_at: datetime | None = None
    text: str = ""
    lang: str | None = None
    kind: str = "post"
    in_reply_to_id: str | None = None
    in_reply_to_author_id: str | None = None
    conversation_id: str | None = None
    quoted_id: str | None = None
    reposted_id: str | None = None
    hashtags: list[str] = []
    mentions: list[str] = []
    urls: list[str] = []
    media_count: int = 0
    like_count: int | None = None
    repost_count: int | None = None
    reply_count: int | None = None
    quote_count: int | None = None
    view_count: int | None = None
    observed_at: datetime | None = None
    is_context: bool = False
    source_file: str | None = None
    source_line: int | None = None
    # Columns beyond the contract (documented in docs/schema.md).
    mention_ids: list[str] = []
    edit_ids: list[str] = []
    withheld: list[str] = []
    url: str | None = None


class Account(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An account (user, actor) as last observed."""

    platform: str
    id: str
    handle: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    followers_count: int | None = None
    following_count: int | None = None
    posts_count: int | None = None
    verified: bool | None = None
    location: str | None = None
    description: str | None = None
    observed_at: datetime | None = None
    # Beyond the contract.
    url: str | None = None
    protected: bool | None = None


class Reject(msgspec.Struct, kw_only=True):
    """An input record that could not be stored, with where it was and why.

    ``reason`` is a short stable code (see :data:`REJECT_REASONS`); ``detail`` the specific message;
    ``item`` the position of the record inside its line (0 when the whole line is rejected).
    """

    source_file: str
    source_line: int
    reason: str
    detail: str = ""
    excerpt: str = ""
    item: int = 0
    byte_offset: int | None = None


class ApiError(msgspec.Struct, kw_only=True):
    """An error object the API put inside a response (a referenced post not found, a suspended
    account...). Not an input record: kept so coverage reports can explain missing posts."""

    source_file: str
    source_line: int
    resource_type: str | None = None
    resource_id: str | None = None
    title: str | None = None
    detail: str | None = None


#: Stable reject reasons and what they mean.
REJECT_REASONS: Final = {
    "invalid_json": "the record is not valid JSON (often a truncated last line)",
    "invalid_csv": "the CSV row cannot be read (wrong number of fields, bad quoting)",
    "invalid_encoding": "the record is not valid UTF-8 text",
    "not_a_post": "the record is valid but holds no post (a counts bucket, a list, a message)",
    "control_message": "a streaming control message (delete, limit, scrub_geo...)",
    "missing_field": "a field every post needs (id) is missing or empty",
    "invalid_value": "a field has a value of the wrong type or form",
    "truncated_input": "the input's compressed data ends early or is damaged; what follows is lost (line 0)",
    "decompression_bomb": (
        "a compressed input gave more than 1,000 times its size (and over 1 GiB): reading stopped there (line 0)"
    ),
    "record_too_large": "one record (line, document, row) is over the size limit (--max-record-size)",
    "unknown_format": "no reader recognises the input; the whole file is one reject (line 0)",
}

# Column definitions: (name, DuckDB type). Order = table order.
POST_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("platform", "VARCHAR NOT NULL"),
    ("id", "VARCHAR NOT NULL"),
    ("author_id", "VARCHAR"),
    ("author_handle", "VARCHAR"),
    ("created_at", "TIMESTAMPTZ"),
    ("text", "VARCHAR"),
    ("lang", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("in_reply_to_id", "VARCHAR"),
    ("in_reply_to_author_id", "VARCHAR"),
    ("conversation_id", "VARCHAR"),
    ("quoted_id", "VARCHAR"),
    ("reposted_id", "VARCHAR"),
    ("hashtags", "VARCHAR[]"),
    ("mentions", "VARCHAR[]"),
    ("urls", "VARCHAR[]"),
    ("media_count", "INTEGER"),
    ("like_count", "BIGINT"),
    ("repost_count", "BIGINT"),
    ("reply_count", "BIGINT"),
    ("quote_count", "BIGINT"),
    ("view_count", "BIGINT"),
    ("observed_at", "TIMESTAMPTZ"),
    ("is_context", "BOOLEAN"),
    ("source_file", "VARCHAR"),
    ("source_line", "BIGINT"),
    ("mention_ids", "VARCHAR[]"),
    ("edit_ids", "VARCHAR[]"),
    ("withheld", "VARCHAR[]"),
    ("url", "VARCHAR"),
)

ACCOUNT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("platform", "VARCHAR NOT NULL"),
    ("id", "VARCHAR NOT NULL"),
    ("handle", "VARCHAR"),
    ("name", "VARCHAR"),
    ("created_at", "TIMESTAMPTZ"),
    ("followers_count", "BIGINT"),
    ("following_count", "BIGINT"),
    ("posts_count", "BIGINT"),
    ("verified", "BOOLEAN"),
    ("location", "VARCHAR"),
    ("description", "VARCHAR"),
    ("observed_at", "TIMESTAMPTZ"),
    ("url", "VARCHAR"),
    ("protected", "BOOLEAN"),
)

POST_FIELDS: Final = tuple(name for name, _ in POST_COLUMNS)
ACCOUNT_FIELDS: Final = tuple(name for name, _ in ACCOUNT_COLUMNS)
