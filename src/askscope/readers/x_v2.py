"""X (Twitter) API v2: twarc2 response pages, twarc2 flattened lines and plain ``data`` arrays.

Shapes handled (each with a fixture test):

* a response page ``{"data": [...], "includes": {"users", "tweets", ...}, "errors": [...],
  "meta": {...}, "__twarc": {...}}`` as twarc2 writes it, one per line; streaming pages have a
  single tweet object as ``data``;
* twarc2 flattened lines: one tweet per line with ``author``, ``in_reply_to_user`` and full
  ``referenced_tweets`` inlined;
* a plain ``data`` array or a bare tweet object;
* users pages (``twarc2 users``): their users become account records.

Quirks: ``note_tweet`` holds the full text of long posts; a repost's text is its original's;
edited posts are kept at their latest version with the ids of all versions in ``edit_ids``
(when a page holds an older version and the latest one, the latest is stored); ``withheld``
becomes a list of country codes plus ``copyright``/``scope:...`` markers; ``errors`` objects are
kept in ``api_errors``; counts buckets, lists and other non-posts are rejected as ``not_a_post``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from askscope.post import Account, ApiError, Count, Post
from askscope.readers.base import Head, RawRecord, Reader, Sink, excerpt_of, utc
from askscope.readers.collected import convert

PLATFORM = "x"


# --- msgspec shapes: only the fields askscope uses; unknown fields are skipped while decoding ---


class _Tag(msgspec.Struct):
    tag: str | None = None


class _Mention(msgspec.Struct):
    username: str | None = None
    id: str | None = None


class _Url(msgspec.Struct):
    url: str | None = None
    expanded_url: str | None = None
    unwound_url: str | None = None
    media_key: str | None = None


class _Entities(msgspec.Struct):
    hashtags: list[_Tag] | None = None
    mentions: list[_Mention] | None = None
    urls: list[_Url] | None = None


class _Metrics(msgspec.Struct):
    retweet_count: Count | None = None
    reply_count: Count | None = None
    like_count: Count | None = None
    quote_count: Count | None = None
    impression_count: Count | None = None


class _Attachments(msgspec.Struct):
    media_keys: list[str] | None = None


class _NoteTweet(msgspec.Struct):
    text: str | None = None
    entities: _Entities | None = None


class _Withheld(msgspec.Struct):
    copyright: bool | None = None
    country_codes: list[str] | None = None
    scope: str | None = None


class _UserUrl(msgspec.Struct):
    urls: list[_Url] | None = None


class _UserEntities(msgspec.Struct):
    url: _UserUrl | None = None


class _UserMetrics(msgspec.Struct):
    followers_count: Count | None = None
    following_count: Count | None = None
    tweet_count: Count | None = None


class _User(msgspec.Struct):
    id: str | None = None
    username: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    public_metrics: _UserMetrics | None = None
    verified: bool | None = None
    location: str | None = None
    description: str | None = None
    url: str | None = None
    entities: _UserEntities | None = None
    protected: bool | None = None


class _Twarc(msgspec.Struct):
    retrieved_at: datetime | None = None


class _Tweet(msgspec.Struct):
    id: str | None = None
    text: str | None = None
    author_id: str | None = None
    created_at: datetime | None = None
    lang: str | None = None
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    referenced_tweets: list[_Tweet] | None = None
    entities: _Entities | None = None
    public_metrics: _Metrics | None = None
    attachments: _Attachments | None = None
    edit_history_tweet_ids: list[str] | None = None
    note_tweet: _NoteTweet | None = None
    withheld: _Withheld | None = None
    # A referenced tweet's type (replied_to, quoted, retweeted).
    type: str | None = None
    # twarc2 flattened lines.
    author: _User | None = None
    in_reply_to_user: _User | None = None
    twarc: _Twarc | None = msgspec.field(default=None, name="__twarc")
    # Markers of other objects that share the ``data`` array.
    username: str | None = None
    tweet_count: Count | None = None
    member_count: int | None = None


class _Error(msgspec.Struct):
    resource_type: str | None = None
    resource_id: str | None = None
    title: str | None = None
    detail: str | None = None
    value: str | None = None


class _Includes(msgspec.Struct):
    users: list[_User] | None = None
    tweets: list[_Tweet] | None = None


class _Page(msgspec.Struct):
    data: list[_Tweet] | _Tweet | None = None
    includes: _Includes | None = None
    errors: list[_Error] | None = None
    twarc: _Twarc | None = msgspec.field(default=None, name="__twarc")


_page_decoder = msgspec.json.Decoder(_Page)
_any_decoder = msgspec.json.Decoder()


def _is_tweet_object(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and "id" in obj
        and ("text" in obj or "edit_history_tweet_ids" in obj or "note_tweet" in obj)
    )


def _looks_v2(obj: Any) -> bool:
    if isinstance(obj, list):
        return bool(obj) and _looks_v2(obj[0])
    if not isinstance(obj, dict):
        return False
    if "__twarc" in obj and ("data" in obj or "id" in obj):
        return True
    data = obj.get("data")
    if isinstance(data, dict):
        data = [data]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        first = data[0]
        if _is_tweet_object(first) or ("username" in first and "id" in first):
            return "id_str" not in first
        return "includes" in obj or "meta" in obj
    if _is_tweet_object(obj):
        # A bare v2 tweet: v2 has no id_str / user object, v1.1 always has both.
        return "id_str" not in obj and "user" not in obj
    return False


class XV2Reader(Reader):
    """X API v2 / twarc2 pages, flattened lines, ``data`` arrays."""

    name = "x-v2"
    platform = PLATFORM
    description = "X/Twitter API v2 (twarc2 pages, twarc2 flattened lines, data arrays)"
    sniff_order = 80
    in_cassettes = True

    def sniff(self, head: Head) -> bool:
        if head.layout == "jsonl":
            return any(_looks_v2(sample) for sample in head.samples[:5])
        if head.layout == "json":
            return _looks_v2(head.samples[0]) if head.samples else _json_head_looks_v2(head.data)
        return False

    def parse(self, record: RawRecord, sink: Sink) -> None:
        if record.value is not None:
            value = record.value
            if isinstance(value, list):
                self._parse_generic(value, record, sink)
                return
            try:
                page = msgspec.convert(_wrap(value), _Page)
            except (msgspec.ValidationError, TypeError, OverflowError):
                self._parse_generic(value, record, sink)
                return
        else:
            try:
                page = _page_decoder.decode(record.raw)
            except (msgspec.ValidationError, TypeError, OverflowError):
                # Valid JSON, some value of the wrong type: find out item by item.
                value = _decode_any(record, sink)
                if value is not _REJECTED:
                    self._parse_generic(value, record, sink)
                return
            except msgspec.DecodeError as exc:
                sink.reject(record, "invalid_json", str(exc))
                return
            except UnicodeDecodeError as exc:
                sink.reject(record, "invalid_encoding", f"not valid UTF-8: {exc}")
                return
            if page.data is None and page.includes is None and not page.errors:
                # Not a page: a flattened tweet or user, or something else entirely.
                value = _decode_any(record, sink)
                if value is _REJECTED:
                    return
                if isinstance(value, (dict, list)):
                    self._parse_generic(value, record, sink)
                else:
                    sink.reject(record, "not_a_post", f"a JSON {type(value).__name__}, not an object")
                return
        user_items = None
        if _has_user_items(page.data):
            raw_value = record.value if record.value is not None else _decode_any(record, sink)
            if raw_value is _REJECTED:
                return
            user_items = _user_items(_wrap(raw_value) if isinstance(raw_value, dict) else raw_value)
        _PageBuilder(page, record, sink, user_items=user_items).run()

    def _parse_generic(self, value: Any, record: RawRecord, sink: Sink) -> None:
        """Slow path: validate each item separately so one bad tweet rejects only itself."""
        if isinstance(value, list):
            value = {"data": value}
        if not isinstance(value, dict):
            sink.reject(record, "not_a_post", f"a JSON {type(value).__name__}, not an object")
            return
        value = _wrap(value)
        data = value.get("data")
        items = data if isinstance(data, list) else ([data] if data is not None else [])
        good: list[Any] = []
        for index, item in enumerate(items, 1):
            try:
                good.append(msgspec.convert(item, _Tweet))
            except (msgspec.ValidationError, TypeError, OverflowError) as exc:
                if not isinstance(item, dict):
                    sink.reject(record, "not_a_post", f"data item is a JSON {type(item).__name__}", item=index)
                else:
                    sink.reject(record, "invalid_value", str(exc), item=index, excerpt=_excerpt_item(item))
                good.append(None)
        includes = convert(value.get("includes"), _Includes)
        if includes is None:
            raw_includes = value.get("includes")
            includes = _lenient_includes(raw_includes) if isinstance(raw_includes, dict) else _Includes()
        errors = convert(value.get("errors"), list[_Error]) or []
        twarc = convert(value.get("__twarc"), _Twarc)
        page = _Page(data=[g for g in good if g is not None], includes=includes, errors=errors, twarc=twarc)
        # Item numbers must follow the original positions for rejects inside the builder.
        positions = [i for i, g in enumerate(good, 1) if g is not None]
        user_items = _user_items(value) if _has_user_items(page.data) else None
        _PageBuilder(page, record, sink, positions=positions, user_items=user_items).run()


_REJECTED = object()


def _decode_any(record: RawRecord, sink: Sink) -> Any:
    """Decode a record as generic JSON, or reject it and return :data:`_REJECTED`."""
    try:
        return _any_decoder.decode(record.raw)
    except msgspec.DecodeError as exc:
        sink.reject(record, "invalid_json", str(exc))
    except UnicodeDecodeError as exc:
        sink.reject(record, "invalid_encoding", f"not valid UTF-8: {exc}")
    return _REJECTED


def _wrap(value: dict[str, Any]) -> dict[str, Any]:
    """A flattened tweet or user line is a page of one."""
    if "data" not in value and "id" in value:
        wrapped: dict[str, Any] = {"data": [value]}
        if "__twarc" in value:
            wrapped["__twarc"] = value["__twarc"]
        return wrapped
    return value


def _lenient_includes(value: dict[str, Any]) -> _Includes:
    """The includes that validate, one object at a time (bad ones are left out)."""
    users_in = value.get("users")
    tweets_in = value.get("tweets")
    users = [u for u in (convert(x, _User) for x in (users_in if isinstance(users_in, list) else [])) if u]
    tweets = [t for t in (convert(x, _Tweet) for x in (tweets_in if isinstance(tweets_in, list) else [])) if t]
    return _Includes(users=users, tweets=tweets)


def _excerpt_item(item: Any) -> str:
    return excerpt_of(msgspec.json.encode(item))


def _json_head_looks_v2(data: bytes) -> bool:
    text = data[:65536]
    return (b'"edit_history_tweet_ids"' in text or b'"__twarc"' in text) and b'"id_str"' not in text


class _PageBuilder:
    """Turns one decoded page into posts, accounts and rejects."""

    __slots__ = ("page", "record", "sink", "positions", "users", "tweets", "observed", "latest", "user_items")

    page: _Page | None

    def __init__(
        self,
        page: _Page,
        record: RawRecord,
        sink: Sink,
        positions: list[int] | None = None,
        user_items: dict[str, _User] | None = None,
    ):
        self.page = page
        self.user_items = user_items
        self.record = record
        self.sink = sink
        self.positions = positions
        self.users: dict[str, _User] = {}
        self.tweets: dict[str, _Tweet] = {}
        observed = page.twarc.retrieved_at if page.twarc else None
        self.observed = utc(observed) if observed else sink.default_observed_at
        # id of an edited post's version -> the latest version object in this page
        self.latest: dict[str, _Tweet] = {}

    def run(self) -> None:
        page, sink = self.page, self.sink
        if page is None:  # run() lets the page go at its end; a builder runs once
            raise RuntimeError("the page builder ran twice")
        data = page.data
        items = [data] if isinstance(data, _Tweet) else (data or [])
        includes = page.includes
        if includes is not None:
            for user in includes.users or ():
                if user.id:
                    self.users[user.id] = user
            for tweet in includes.tweets or ():
                if tweet.id:
                    self.tweets[tweet.id] = tweet
        for item in items:
            if item.author is not None and item.author.id:
                self.users.setdefault(item.author.id, item.author)
            if item.in_reply_to_user is not None and item.in_reply_to_user.id:
                self.users.setdefault(item.in_reply_to_user.id, item.in_reply_to_user)
            for ref in item.referenced_tweets or ():
                if ref.id and (ref.text is not None or ref.note_tweet is not None):
                    self.tweets.setdefault(ref.id, ref)
                    if ref.author is not None and ref.author.id:
                        self.users.setdefault(ref.author.id, ref.author)
        for tweet in list(self.tweets.values()) + items:
            history = tweet.edit_history_tweet_ids or []
            if len(history) > 1 and tweet.id == history[-1]:
                for version in history[:-1]:
                    self.latest[version] = tweet

        matched: set[str] = set()
        for index, item in enumerate(items, 1):
            position = self.positions[index - 1] if self.positions else index
            if item.id is None or item.id == "":
                if item.tweet_count is not None:
                    sink.reject(self.record, "not_a_post", "a tweet counts bucket", item=position)
                elif item.member_count is not None:
                    sink.reject(self.record, "not_a_post", "a list object", item=position)
                else:
                    sink.reject(self.record, "missing_field", "data item without an id", item=position)
                continue
            if item.text is None and item.note_tweet is None:
                if item.username is not None and self.user_items is not None:
                    account = self._account(self.user_items.get(item.id) or _User(id=item.id))
                    if account is not None:
                        sink.account_records.append(account)
                        continue
                if item.member_count is not None:
                    sink.reject(self.record, "not_a_post", "a list object", item=position)
                else:
                    sink.reject(self.record, "missing_field", "data item without text", item=position)
                continue
            chosen = self.latest.get(item.id, item)
            post = self._post(chosen, is_context=False)
            sink.matches.append(post)
            matched.add(chosen.id or "")
        for tweet_id, tweet in self.tweets.items():
            if tweet_id in matched or tweet_id in self.latest:
                continue
            if tweet.text is None and tweet.note_tweet is None:
                continue
            observed = _tweet_observed(tweet, self.observed)
            sink.defer("context", PLATFORM, tweet_id, observed, self.record.line, self._context_post, tweet)
        for user_id, user in self.users.items():
            if user_id:
                sink.defer("account", PLATFORM, user_id, self.observed, self.record.line, self._account_or_fail, user)
        self.page = None  # the deferred builders keep this builder; let the page's data go
        for error in page.errors or ():
            sink.api_errors.append(
                ApiError(
                    source_file=sink.source_file,
                    source_line=self.record.line,
                    resource_type=error.resource_type,
                    resource_id=error.resource_id or error.value,
                    title=error.title,
                    detail=error.detail,
                )
            )

    def _post(self, tweet: _Tweet, *, is_context: bool) -> Post:
        record = self.record
        kind = "post"
        reply_to = quoted = reposted = None
        for ref in tweet.referenced_tweets or ():
            if ref.type == "retweeted":
                reposted = ref.id
            elif ref.type == "replied_to":
                reply_to = ref.id
            elif ref.type == "quoted":
                quoted = ref.id
        if reposted is not None:
            kind = "repost"
        elif reply_to is not None:
            kind = "reply"
        elif quoted is not None:
            kind = "quote"

        content = tweet
        if reposted is not None:
            original = self.tweets.get(reposted)
            if original is not None:
                original = self.latest.get(reposted, original)
                content = original
        note = content.note_tweet
        text = note.text if note is not None and note.text else (content.text or "")
        entities = note.entities if note is not None and note.entities is not None else content.entities
        hashtags: list[str] = []
        mentions: list[str] = []
        mention_ids: list[str] = []
        urls: list[str] = []
        if entities is not None:
            hashtags = [h.tag for h in entities.hashtags or () if h.tag]
            for mention in entities.mentions or ():
                if mention.username:
                    mentions.append(mention.username)
                if mention.id:
                    mention_ids.append(mention.id)
            for url in entities.urls or ():
                if url.media_key is None:
                    expanded = url.unwound_url or url.expanded_url or url.url
                    if expanded:
                        urls.append(expanded)
        if reposted is not None and content is not tweet and tweet.entities is not None:
            # The repost names the reposted account: its own mentions come first (once each).
            extra: list[_Mention] = []
            for mention in tweet.entities.mentions or ():
                if (
                    mention.username
                    and mention.username not in mentions
                    and all(mention.username != e.username for e in extra)
                ):
                    extra.append(mention)
            mentions = [u for u in (e.username for e in extra) if u] + mentions  # each has a username (above)
            mention_ids = [i for i in (e.id for e in extra) if i] + mention_ids
        metrics = tweet.public_metrics
        attachments = content.attachments
        author = self.users.get(tweet.author_id or "")
        withheld: list[str] = []
        if tweet.withheld is not None:
            withheld = list(tweet.withheld.country_codes or ())
            if tweet.withheld.copyright:
                withheld.append("copyright")
            if tweet.withheld.scope:
                withheld.append("scope:" + tweet.withheld.scope)
        observed = _tweet_observed(tweet, self.observed)
        return Post(
            platform=PLATFORM,
            id=tweet.id or "",
            author_id=tweet.author_id,
            author_handle=author.username if author is not None else None,
            created_at=utc(tweet.created_at),
            text=text,
            lang=tweet.lang,
            kind=kind,
            in_reply_to_id=reply_to,
            in_reply_to_author_id=tweet.in_reply_to_user_id,
            conversation_id=tweet.conversation_id,
            quoted_id=quoted,
            reposted_id=reposted,
            hashtags=hashtags,
            mentions=mentions,
            urls=urls,
            media_count=len(attachments.media_keys or ()) if attachments is not None else 0,
            like_count=metrics.like_count if metrics is not None else None,
            repost_count=metrics.retweet_count if metrics is not None else None,
            reply_count=metrics.reply_count if metrics is not None else None,
            quote_count=metrics.quote_count if metrics is not None else None,
            view_count=metrics.impression_count if metrics is not None else None,
            observed_at=observed,
            is_context=is_context,
            source_file=self.sink.source_file,
            source_line=record.line,
            mention_ids=mention_ids,
            edit_ids=list(tweet.edit_history_tweet_ids or ()) if len(tweet.edit_history_tweet_ids or ()) > 1 else [],
            withheld=withheld,
            url=f"https://x.com/{author.username if author is not None and author.username else 'i/web'}/status/{tweet.id}",
        )

    def _context_post(self, tweet: _Tweet, _: Any = None) -> Post:
        return self._post(tweet, is_context=True)

    def _account_or_fail(self, user: _User, _: Any = None) -> Account:
        account = self._account(user)
        assert account is not None  # deferred only with an id
        return account

    def _account(self, user: _User) -> Account | None:
        if not user.id:
            return None
        metrics = user.public_metrics
        url = user.url or None
        if user.entities is not None and user.entities.url is not None and user.entities.url.urls:
            first = user.entities.url.urls[0]
            url = first.expanded_url or first.url or url
        return Account(
            platform=PLATFORM,
            id=user.id,
            handle=user.username,
            name=user.name,
            created_at=utc(user.created_at),
            followers_count=metrics.followers_count if metrics is not None else None,
            following_count=metrics.following_count if metrics is not None else None,
            posts_count=metrics.tweet_count if metrics is not None else None,
            verified=user.verified,
            location=user.location,
            description=user.description,
            observed_at=self.observed,
            url=url,
            protected=user.protected,
        )


def _tweet_observed(tweet: _Tweet, default: datetime | None) -> datetime | None:
    """A flattened line carries its own retrieval time; a page's tweets share the page's."""
    if tweet.twarc is not None and tweet.twarc.retrieved_at is not None:
        return utc(tweet.twarc.retrieved_at)
    return default


def _has_user_items(data: list[_Tweet] | _Tweet | None) -> bool:
    items = [data] if isinstance(data, _Tweet) else (data or [])
    return any(item.username is not None and item.text is None for item in items)


def _user_items(value: Any) -> dict[str, _User]:
    """Users pages (``twarc2 users``) put users in ``data``: decode them as users."""
    data = value.get("data") if isinstance(value, dict) else value
    if isinstance(data, dict):
        data = [data]
    users: dict[str, _User] = {}
    for item in data or []:
        user = convert(item, _User)
        if user is not None and user.id:
            users[user.id] = user
    return users
