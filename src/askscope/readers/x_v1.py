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

from datetime import datetime, timedelta, timezone
from typing import Any

import msgspec

from askscope.post import Account, Post
from askscope.readers.base import Head, RawRecord, Reader, Sink

PLATFORM = "x"
_decoder = msgspec.json.Decoder()
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
CONTROL_KEYS = frozenset(
    ("delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning",
     "friends", "friends_str", "event", "for_user", "control", "direct_message")
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
        dt = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second),
                      tzinfo=timezone.utc)
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


class XV1Reader(Reader):
    """X API v1.1 tweets: objects, arrays, search responses, streaming lines, users."""

    name = "x-v1"
    platform = PLATFORM
    description = "X/Twitter API v1.1 (tweet objects, arrays, search responses, streaming lines)"

    def sniff(self, head: Head) -> bool:
        if head.framing == "jsonl":
            content = [s for s in head.samples if not _is_control(s)]
            return bool(content) and all(_looks_v1(s) for s in content[:3])
        if head.framing == "json":
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
                staged.matches.append(self._post(item, staged, record, is_context=False))
            elif is_user(item):
                staged.account_records.append(_account(item, sink.default_observed_at))
                status = item.get("status")
                if isinstance(status, dict) and "user" not in status:
                    status = dict(status, user=item)
                    staged.context.append(self._post(status, staged, record, is_context=True))
            elif "id_str" in item or "id" in item:
                missing = "user" if "text" in item or "full_text" in item else "text"
                sink.reject(record, "missing_field" if missing == "text" else "not_a_post",
                            f"object with an id but no {missing}", item=index)
            else:
                sink.reject(record, "not_a_post", "object without an id", item=index)
        except InvalidValue as exc:
            sink.reject(record, "invalid_value", str(exc), item=index)
            return
        sink.extend(staged)

    def _post(self, tweet: dict[str, Any], sink: Sink, record: RawRecord, *, is_context: bool) -> Post:
        tweet_id = _id(tweet, "id")
        if not tweet_id:
            raise InvalidValue("tweet without an id")
        user = tweet.get("user") or {}
        if not isinstance(user, dict):
            raise InvalidValue("user is not an object")
        observed = sink.default_observed_at
        sink.accounts.append(_account(user, observed))

        original = tweet.get("retweeted_status")
        quoted = tweet.get("quoted_status")
        for embedded in (original, quoted):
            if isinstance(embedded, dict) and is_tweet(embedded):
                sink.context.append(self._post(embedded, sink, record, is_context=True))

        content = original if isinstance(original, dict) and is_tweet(original) else tweet
        text, entities, extended_entities = _full_text(content)
        hashtags = [h.get("text", "") for h in _list(entities.get("hashtags")) if isinstance(h, dict)]
        mentions: list[str] = []
        mention_ids: list[str] = []
        mention_source = _list(entities.get("user_mentions"))
        if content is not tweet:
            # The retweet itself mentions the retweeted account ("RT @name: ...").
            mention_source = _list((tweet.get("entities") or {}).get("user_mentions"))[:1] + mention_source
        for mention in mention_source:
            if isinstance(mention, dict):
                name = mention.get("screen_name")
                if name and name not in mentions:
                    mentions.append(name)
                    mention_id = _id(mention, "id")
                    if mention_id:
                        mention_ids.append(mention_id)
        urls = [
            u.get("expanded_url") or u.get("url")
            for u in _list(entities.get("urls"))
            if isinstance(u, dict) and (u.get("expanded_url") or u.get("url"))
        ]
        media = _list(extended_entities.get("media")) or _list(entities.get("media"))

        reply_to = _id(tweet, "in_reply_to_status_id")
        quoted_id = _id(tweet, "quoted_status_id")
        if quoted_id is None and isinstance(quoted, dict):
            quoted_id = _id(quoted, "id")
        reposted_id = _id(original, "id") if isinstance(original, dict) else None
        if reposted_id is not None:
            kind = "repost"
        elif reply_to is not None:
            kind = "reply"
        elif quoted_id is not None:
            kind = "quote"
        else:
            kind = "post"
        withheld = [str(c) for c in _list(tweet.get("withheld_in_countries"))]
        if tweet.get("withheld_copyright"):
            withheld.append("copyright")
        if tweet.get("withheld_scope"):
            withheld.append("scope:" + str(tweet["withheld_scope"]))
        handle = user.get("screen_name")
        return Post(
            platform=PLATFORM,
            id=tweet_id,
            author_id=_id(user, "id"),
            author_handle=handle,
            created_at=parse_v1_date(tweet.get("created_at")),
            text=text,
            lang=tweet.get("lang"),
            kind=kind,
            in_reply_to_id=reply_to,
            in_reply_to_author_id=_id(tweet, "in_reply_to_user_id"),
            conversation_id=None,
            quoted_id=quoted_id,
            reposted_id=reposted_id,
            hashtags=[h for h in hashtags if h],
            mentions=mentions,
            urls=urls,
            media_count=len(media),
            like_count=_count(tweet, "favorite_count"),
            repost_count=_count(tweet, "retweet_count"),
            reply_count=_count(tweet, "reply_count"),
            quote_count=_count(tweet, "quote_count"),
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


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _id(obj: Any, key: str) -> str | None:
    """``<key>_str`` if present, else ``<key>`` as a string (v1.1 gives both for 64-bit ids)."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(key + "_str")
    if value is None:
        value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidValue(f"{key} is not an id: {value!r}")
    return str(value)


def _count(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(f"{key} is not an integer: {value!r}")
    return value


def _full_text(tweet: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The full text of a v1.1 tweet and the entities that index into it."""
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        return (
            extended["full_text"],
            extended.get("entities") or tweet.get("entities") or {},
            extended.get("extended_entities") or tweet.get("extended_entities") or {},
        )
    text = tweet.get("full_text")
    if not isinstance(text, str):
        text = tweet.get("text")
    if not isinstance(text, str):
        raise InvalidValue("text is not a string")
    entities = tweet.get("entities") if isinstance(tweet.get("entities"), dict) else {}
    extended_entities = tweet.get("extended_entities") if isinstance(tweet.get("extended_entities"), dict) else {}
    return text, entities, extended_entities


def _account(user: dict[str, Any], observed: datetime | None) -> Account:
    user_id = _id(user, "id")
    if not user_id:
        raise InvalidValue("user without an id")
    url = user.get("url") or None
    url_entities = ((user.get("entities") or {}).get("url") or {}).get("urls")
    if isinstance(url_entities, list) and url_entities and isinstance(url_entities[0], dict):
        url = url_entities[0].get("expanded_url") or url
    return Account(
        platform=PLATFORM,
        id=user_id,
        handle=user.get("screen_name"),
        name=user.get("name"),
        created_at=parse_v1_date(user.get("created_at")),
        followers_count=_count(user, "followers_count"),
        following_count=_count(user, "friends_count"),
        posts_count=_count(user, "statuses_count"),
        verified=bool(user.get("verified")) if user.get("verified") is not None else None,
        location=user.get("location") or None,
        description=user.get("description") or None,
        observed_at=observed,
        url=url,
        protected=user.get("protected"),
    )
