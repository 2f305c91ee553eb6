"""X (Twitter) API v1.1: tweet objects as the REST and streaming APIs returned them.

Shapes handled: a single tweet object, an array of tweets (timelines), a search response
``{"statuses": [...]}``, streaming lines (one tweet per line, with control messages such as
``delete`` and ``limit`` in between), and user objects (``users/lookup``), which become account
records (a user's embedded latest ``status`` is kept as a context post).

Quirks: the full text is ``extended_tweet.full_text`` (compatibility mode) or ``full_text``
(extended mode), with the entities that go with it; a retweet's text and entities are its
original's; the original inside a retweet (``retweeted_status``) or quote (``quoted_status``) is
stored too, as a context post; ``withheld_in_countries`` / ``withheld_copyright`` /
``withheld_scope`` become the ``withheld`` list.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from askscope.post import Account, Count, Post
from askscope.readers.base import Head, RawRecord, Reader, Sink

PLATFORM = "x"
_decoder = msgspec.json.Decoder()
_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
CONTROL_KEYS = frozenset(
    (
        "delete",
        "limit",
        "scrub_geo",
        "status_withheld",
        "user_withheld",
        "disconnect",
        "warning",
        "friends",
        "friends_str",
        "event",
        "for_user",
        "control",
        "direct_message",
    )
)


class InvalidValue(ValueError):
    """A field of a v1.1 object has a value of the wrong form."""


def parse_v1_date(value: Any) -> datetime | None:
    """``Wed Oct 10 20:19:24 +0000 2018`` -> aware UTC datetime."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"created_at is not a string: {value!r}")
    parts = value.split()
    try:
        _, month, day, clock, offset, year = parts
        hour, minute, second = clock.split(":")
        dt = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        if offset not in ("+0000", "-0000"):
            sign = 1 if offset[0] == "+" else -1
            dt -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    except (ValueError, KeyError, IndexError) as exc:
        raise InvalidValue(f"created_at is not a v1.1 date: {value!r}") from exc
    return dt


def is_tweet(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and ("id_str" in obj or "id" in obj)
        and ("text" in obj or "full_text" in obj)
        and isinstance(obj.get("user"), dict)
    )


def is_user(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and "screen_name" in obj
        and ("id_str" in obj or "id" in obj)
        and ("followers_count" in obj or "friends_count" in obj)
    )


def _looks_v1(obj: Any) -> bool:
    if isinstance(obj, list):
        return bool(obj) and _looks_v1(obj[0])
    if not isinstance(obj, dict):
        return False
    if is_tweet(obj) or is_user(obj):
        return True
    statuses = obj.get("statuses")
    if isinstance(statuses, list):
        return not statuses or is_tweet(statuses[0])
    return False


# --- msgspec shapes: validate the fields askscope uses (unknown fields are ignored) -----------


class _Hashtag(msgspec.Struct):
    text: str = ""


class _Mention(msgspec.Struct):
    screen_name: str | None = None
    id_str: str | None = None
    id: int | None = None


class _Url(msgspec.Struct):
    url: str | None = None
    expanded_url: str | None = None


class _Entities(msgspec.Struct):
    hashtags: list[_Hashtag] = []
    user_mentions: list[_Mention] = []
    urls: list[_Url] = []
    media: list[dict[str, Any]] = []


class _ExtendedEntities(msgspec.Struct):
    media: list[dict[str, Any]] = []


class _UserUrlEntities(msgspec.Struct):
    urls: list[_Url] = []


class _UserEntities(msgspec.Struct):
    url: _UserUrlEntities | None = None


class _User(msgspec.Struct):
    id_str: str | None = None
    id: int | None = None
    screen_name: str | None = None
    name: str | None = None
    created_at: str | None = None
    followers_count: Count | None = None
    friends_count: Count | None = None
    statuses_count: Count | None = None
    verified: bool | None = None
    location: str | None = None
    description: str | None = None
    url: str | None = None
    entities: _UserEntities | None = None
    protected: bool | None = None


class _Extended(msgspec.Struct):
    full_text: str | None = None
    entities: _Entities | None = None
    extended_entities: _ExtendedEntities | None = None


class _Tweet(msgspec.Struct):
    id_str: str | None = None
    id: int | None = None
    created_at: str | None = None
    text: str | None = None
    full_text: str | None = None
    extended_tweet: _Extended | None = None
    entities: _Entities | None = None
    extended_entities: _ExtendedEntities | None = None
    user: _User | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_status_id: int | None = None
    in_reply_to_user_id_str: str | None = None
    in_reply_to_user_id: int | None = None
    quoted_status_id_str: str | None = None
    quoted_status_id: int | None = None
    quoted_status: _Tweet | None = None
    retweeted_status: _Tweet | None = None
    retweet_count: Count | None = None
    favorite_count: Count | None = None
    reply_count: Count | None = None
    quote_count: Count | None = None
    lang: str | None = None
    withheld_in_countries: list[str] = []
    withheld_copyright: bool | None = None
    withheld_scope: str | None = None


def _sid(text: str | None, number: int | None) -> str | None:
    """``<key>_str`` if present, else ``<key>`` as a string (v1.1 gives both for 64-bit ids)."""
    if text:
        return text
    return str(number) if number is not None else None


class XV1Reader(Reader):
    """X API v1.1 tweets: objects, arrays, search responses, streaming lines, users."""

    name = "x-v1"
    platform = PLATFORM
    description = "X/Twitter API v1.1 (tweet objects, arrays, search responses, streaming lines)"
    sniff_order = 80
    in_cassettes = True

    def sniff(self, head: Head) -> bool:
        if head.layout == "jsonl":
            content = [s for s in head.samples if not _is_control(s)]
            return bool(content) and all(_looks_v1(s) for s in content[:3])
        if head.layout == "json":
            if head.samples:
                return _looks_v1(head.samples[0])
            text = head.data[:65536]
            return b'"id_str"' in text and (b'"screen_name"' in text) and b'"__twarc"' not in text
        return False

    def parse(self, record: RawRecord, sink: Sink) -> None:
        value = record.value
        if value is None:
            try:
                value = _decoder.decode(record.raw)
            except msgspec.DecodeError as exc:
                sink.reject(record, "invalid_json", str(exc))
                return
            except UnicodeDecodeError as exc:
                sink.reject(record, "invalid_encoding", f"not valid UTF-8: {exc}")
                return
        if isinstance(value, dict) and isinstance(value.get("statuses"), list):
            items: list[Any] = value["statuses"]
        elif isinstance(value, list):
            items = value
        else:
            items = [value]
        start = 1 if item_is_list(value) else 0
        for index, item in enumerate(items, start):
            self._parse_item(item, record, sink, index)

    def _parse_item(self, item: Any, record: RawRecord, sink: Sink, index: int) -> None:
        if not isinstance(item, dict):
            sink.reject(record, "not_a_post", f"a JSON {type(item).__name__}, not an object", item=index)
            return
        if _is_control(item):
            kind = next(iter(item))
            sink.reject(record, "control_message", f"streaming control message: {kind}", item=index)
            return
        # Stage what the item brings along, so a rejected item leaves nothing behind.
        staged = Sink(source_file=sink.source_file, default_observed_at=sink.default_observed_at)
        try:
            if is_tweet(item):
                tweet = msgspec.convert(item, _Tweet)
                staged.matches.append(self._post(tweet, staged, record, is_context=False))
            elif is_user(item):
                user = msgspec.convert(item, _User)
                staged.account_records.append(_account(user, sink.default_observed_at))
                status = item.get("status")
                if isinstance(status, dict):
                    embedded = msgspec.convert(status, _Tweet)
                    if embedded.user is None:
                        embedded.user = user
                    staged.context.append(self._post(embedded, staged, record, is_context=True))
            elif "id_str" in item or "id" in item:
                has_text = "text" in item or "full_text" in item
                sink.reject(
                    record,
                    "not_a_post" if has_text else "missing_field",
                    f"object with an id but no {'user' if has_text else 'text'}",
                    item=index,
                )
                return
            else:
                sink.reject(record, "not_a_post", "object without an id", item=index)
                return
        except (msgspec.ValidationError, TypeError, OverflowError) as exc:
            sink.reject(record, "invalid_value", str(exc), item=index)
            return
        except InvalidValue as exc:
            sink.reject(record, "invalid_value", str(exc), item=index)
            return
        sink.extend(staged)

    def _post(self, tweet: _Tweet, sink: Sink, record: RawRecord, *, is_context: bool) -> Post:
        tweet_id = _sid(tweet.id_str, tweet.id)
        if not tweet_id:
            raise InvalidValue("tweet without an id")
        user = tweet.user
        if user is None:
            raise InvalidValue("tweet without a user")
        observed = sink.default_observed_at
        sink.accounts.append(_account(user, observed))

        original = tweet.retweeted_status
        quoted = tweet.quoted_status
        for embedded in (original, quoted):
            if embedded is not None and embedded.user is not None:
                sink.context.append(self._post(embedded, sink, record, is_context=True))

        content = original if original is not None and original.user is not None else tweet
        text, entities, media = _full_text(content)
        hashtags = [h.text for h in entities.hashtags if h.text]
        mentions: list[str] = []
        mention_ids: list[str] = []
        mention_source = list(entities.user_mentions)
        if content is not tweet and tweet.entities is not None:
            # The retweet itself mentions the retweeted account ("RT @name: ...").
            mention_source = tweet.entities.user_mentions[:1] + mention_source
        for mention in mention_source:
            if mention.screen_name and mention.screen_name not in mentions:
                mentions.append(mention.screen_name)
                mention_id = _sid(mention.id_str, mention.id)
                if mention_id:
                    mention_ids.append(mention_id)
        urls = [url for url in (u.expanded_url or u.url for u in entities.urls) if url]

        reply_to = _sid(tweet.in_reply_to_status_id_str, tweet.in_reply_to_status_id)
        quoted_id = _sid(tweet.quoted_status_id_str, tweet.quoted_status_id)
        if quoted_id is None and quoted is not None:
            quoted_id = _sid(quoted.id_str, quoted.id)
        reposted_id = _sid(original.id_str, original.id) if original is not None else None
        if reposted_id is not None:
            kind = "repost"
        elif reply_to is not None:
            kind = "reply"
        elif quoted_id is not None:
            kind = "quote"
        else:
            kind = "post"
        withheld = list(tweet.withheld_in_countries)
        if tweet.withheld_copyright:
            withheld.append("copyright")
        if tweet.withheld_scope:
            withheld.append("scope:" + tweet.withheld_scope)
        handle = user.screen_name
        return Post(
            platform=PLATFORM,
            id=tweet_id,
            author_id=_sid(user.id_str, user.id),
            author_handle=handle,
            created_at=parse_v1_date(tweet.created_at),
            text=text,
            lang=tweet.lang,
            kind=kind,
            in_reply_to_id=reply_to,
            in_reply_to_author_id=_sid(tweet.in_reply_to_user_id_str, tweet.in_reply_to_user_id),
            conversation_id=None,
            quoted_id=quoted_id,
            reposted_id=reposted_id,
            hashtags=hashtags,
            mentions=mentions,
            urls=urls,
            media_count=len(media),
            like_count=tweet.favorite_count,
            repost_count=tweet.retweet_count,
            reply_count=tweet.reply_count,
            quote_count=tweet.quote_count,
            view_count=None,
            observed_at=observed,
            is_context=is_context,
            source_file=sink.source_file,
            source_line=record.line,
            mention_ids=mention_ids,
            withheld=withheld,
            url=f"https://x.com/{handle or 'i/web'}/status/{tweet_id}",
        )


def item_is_list(value: Any) -> bool:
    return isinstance(value, list) or (isinstance(value, dict) and isinstance(value.get("statuses"), list))


def _is_control(obj: Any) -> bool:
    return isinstance(obj, dict) and len(obj) <= 2 and bool(CONTROL_KEYS.intersection(obj))


def _full_text(tweet: _Tweet) -> tuple[str, _Entities, list[dict[str, Any]]]:
    """The full text of a v1.1 tweet, the entities that index into it and its media."""
    extended = tweet.extended_tweet
    if extended is not None and extended.full_text is not None:
        entities = extended.entities or tweet.entities or _Entities()
        media_holder = extended.extended_entities or tweet.extended_entities
        return extended.full_text, entities, media_holder.media if media_holder else entities.media
    text = tweet.full_text if tweet.full_text is not None else tweet.text
    if text is None:
        raise InvalidValue("tweet without text")
    entities = tweet.entities or _Entities()
    media = tweet.extended_entities.media if tweet.extended_entities else entities.media
    return text, entities, media


def _account(user: _User, observed: datetime | None) -> Account:
    user_id = _sid(user.id_str, user.id)
    if not user_id:
        raise InvalidValue("user without an id")
    url = user.url or None
    if user.entities is not None and user.entities.url is not None and user.entities.url.urls:
        url = user.entities.url.urls[0].expanded_url or url
    return Account(
        platform=PLATFORM,
        id=user_id,
        handle=user.screen_name,
        name=user.name,
        created_at=parse_v1_date(user.created_at),
        followers_count=user.followers_count,
        following_count=user.friends_count,
        posts_count=user.statuses_count,
        verified=user.verified,
        location=user.location or None,
        description=user.description or None,
        observed_at=observed,
        url=url,
        protected=user.protected,
    )
