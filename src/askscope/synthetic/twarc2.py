"""SYNTHETIC data: realistic twarc2 JSONL files for benchmarks and scale tests.

Nothing written here is evidence about any real campaign. The pages have the shape of real
twarc2 search pages (the fields, nesting and proportions of ``fixtures/x-v2/brexit.jsonl``: 100
tweets per page with ``includes.users``/``tweets``/``media``, ``meta`` and ``__twarc``), real tweet
texts (from TweetEval and UMSAB in ``../shared/data``), and a campaign-like mix: posts carrying
the hashtag, replies to earlier posts (their parents in ``includes.tweets``), quotes and
retweets. Ids are snowflakes derived from the creation time. The same seed gives the same file.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

TWITTER_EPOCH_MS = 1288834974657
LANG_FOLDERS = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
LOCATIONS = [
    "London",
    "Gaza",
    "New York, NY",
    "Paris, France",
    "Berlin",
    "",
    "Earth",
    "Istanbul",
    "Cairo, Egypt",
    "Tel Aviv",
    "Toronto",
    "Lagos, Nigeria",
    "Mumbai",
    "São Paulo",
    "Madrid",
]
SOURCES = ["Twitter for iPhone", "Twitter for Android", "Twitter Web App", "TweetDeck", "Twitter for iPad"]
DOMAINS = [
    ("10", "Person", "Named people in the world like Nelson Mandela"),
    ("35", "Politician", "Politicians in the world, like Joe Biden"),
    ("65", "Interests and Hobbies Vertical", "Top level interests and hobbies groupings, like Food or Travel"),
    ("123", "Ongoing News Story", "Ongoing News Stories like 'Brexit'"),
    ("29", "Events [Entity Service]", "Real world events."),
]
ENTITIES = [
    ("1001503516555337728", "Middle East"),
    ("847090575954272256", "Politics"),
    ("1220701888179359745", "COVID-19"),
    ("857212166100754432", "News"),
    ("10038764303", "Diplomacy"),
    ("834828264786898945", "Public relations"),
]


def load_texts(data_dir: str | Path, limit: int | None = None) -> list[tuple[str, str]]:
    """(text, lang) pairs from TweetEval and UMSAB train files under ``data_dir``."""
    data = Path(data_dir)
    texts: list[tuple[str, str]] = []
    for task in ("emotion", "hate", "irony", "offensive"):
        path = data / "tweeteval" / task / "train_text.txt"
        if path.exists():
            texts += [(t.strip(), "en") for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
    for folder, lang in LANG_FOLDERS.items():
        path = data / "umsab" / folder / "train_text.txt"
        if path.exists():
            texts += [(t.strip(), lang) for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]
    if not texts:
        raise FileNotFoundError(f"no TweetEval or UMSAB texts under {data}")
    return texts[:limit] if limit else texts


@dataclass
class GenStats:
    posts: int = 0
    pages: int = 0
    replies: int = 0
    quotes: int = 0
    retweets: int = 0
    originals: int = 0
    bytes: int = 0


_COUNTERS = {"original": "originals", "reply": "replies", "quote": "quotes", "retweet": "retweets"}


def _snowflake(when: datetime, seq: int) -> str:
    ms = int(when.timestamp() * 1000)
    return str(((ms - TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF))


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _Generator:
    def __init__(self, texts: list[tuple[str, str]], seed: int, hashtag: str, start: datetime, n_posts: int) -> None:
        self.rng = random.Random(seed)
        self.texts = texts
        self.hashtag = hashtag
        self.start = start
        self.seq = 0
        n_accounts = max(50, n_posts // 4)
        self.accounts = [self._account(i) for i in range(n_accounts)]
        # Zipf-like activity: a few accounts post a lot.
        self.cum_weights = list(accumulate(1.0 / (i + 1) ** 0.8 for i in range(n_accounts)))
        self.recent: list[dict[str, Any]] = []
        self.now = start

    def _account(self, index: int) -> dict[str, Any]:
        rng = self.rng
        created = datetime(2008, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 2600))
        handle = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
        handle += str(index) if rng.random() < 0.6 else "_" + str(index)
        text, _ = self.texts[rng.randrange(len(self.texts))]
        user: dict[str, Any] = {
            "name": handle.replace("_", " ").title()[:30],
            "verified": rng.random() < 0.02,
            "description": text[:160],
            "protected": False,
            "id": str(rng.randrange(10**8, 10**18)),
            "username": handle,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{rng.randrange(10**17, 10**18)}/img_normal.jpg",
            "url": "",
            "created_at": _iso(created),
            "public_metrics": {
                "followers_count": int(rng.paretovariate(1.2) * 50),
                "following_count": rng.randrange(0, 5000),
                "tweet_count": rng.randrange(1, 200000),
                "listed_count": rng.randrange(0, 300),
            },
        }
        if rng.random() < 0.7:
            user["location"] = rng.choice(LOCATIONS)
        if rng.random() < 0.3:
            user["pinned_tweet_id"] = str(rng.randrange(10**17, 10**19))
        return user

    def _author(self) -> dict[str, Any]:
        return self.rng.choices(self.accounts, cum_weights=self.cum_weights, k=1)[0]

    def _text(self, mentions: list[dict[str, Any]]) -> tuple[str, str, list[dict[str, Any]]]:
        rng = self.rng
        raw, lang = self.texts[rng.randrange(len(self.texts))]
        words = raw.split()
        named: list[dict[str, Any]] = list(mentions)
        out = []
        for word in words:
            if word.startswith("@"):
                user = self._author()
                named.append(user)
                out.append("@" + user["username"])
            else:
                out.append(word)
        text = " ".join(out)
        prefix = " ".join("@" + u["username"] for u in mentions)
        if prefix:
            text = prefix + " " + text
        if rng.random() < 0.6 and ("#" + self.hashtag) not in text:
            text = text + " #" + self.hashtag
        return text, lang, named

    def _entities(self, text: str, named: list[dict[str, Any]], with_url: bool) -> dict[str, Any]:
        rng = self.rng
        entities: dict[str, Any] = {}
        tags = []
        pos = 0
        for word in text.split(" "):
            if word.startswith("#") and len(word) > 1:
                tag = word[1:].rstrip(".,!?:;")
                if tag:
                    tags.append({"start": pos, "end": pos + 1 + len(tag), "tag": tag})
            pos += len(word) + 1
        if tags:
            entities["hashtags"] = tags
        if named:
            mentions = []
            for user in named:
                start = text.find("@" + user["username"])
                mentions.append(
                    {
                        "start": max(start, 0),
                        "end": max(start, 0) + 1 + len(user["username"]),
                        "username": user["username"],
                        "id": user["id"],
                    }
                )
            entities["mentions"] = mentions
        if with_url:
            short = "https://t.co/" + "".join(rng.choice("abcdefghijkLMNOPQ0123456789") for _ in range(10))
            entities["urls"] = [
                {
                    "start": len(text) + 1,
                    "end": len(text) + 24,
                    "url": short,
                    "expanded_url": f"https://news.example.org/{rng.randrange(10**6)}/story",
                    "display_url": "news.example.org/…",
                    "status": 200,
                    "title": "A story",
                    "unwound_url": f"https://news.example.org/{rng.randrange(10**6)}/story",
                }
            ]
        if rng.random() < 0.4:
            entities["annotations"] = [
                {
                    "start": 0,
                    "end": 5,
                    "probability": round(rng.random(), 4),
                    "type": rng.choice(["Person", "Place", "Organization"]),
                    "normalized_text": text[:5],
                }
            ]
        return entities

    def _tweet(
        self, author: dict[str, Any], when: datetime, kind: str, parent: dict[str, Any] | None
    ) -> dict[str, Any]:
        rng = self.rng
        self.seq += 1
        tweet_id = _snowflake(when, self.seq)
        mentions: list[dict[str, Any]] = []
        if kind == "reply" and parent is not None:
            mentions = [self._by_id(parent["author_id"])]
        if kind == "retweet" and parent is not None:
            original_author = self._by_id(parent["author_id"])
            text = f"RT @{original_author['username']}: {parent['text']}"[:140]
            lang = parent["lang"]
            named = [original_author]
        else:
            text, lang, named = self._text(mentions)
        with_url = rng.random() < 0.12
        tweet: dict[str, Any] = {
            "author_id": author["id"],
            "text": text,
            "entities": self._entities(text, named, with_url),
            "reply_settings": "everyone",
            "conversation_id": tweet_id,
            "possibly_sensitive": rng.random() < 0.03,
            "source": rng.choice(SOURCES),
            "public_metrics": {
                "retweet_count": int(rng.paretovariate(1.5)) - 1,
                "reply_count": int(rng.paretovariate(2.0)) - 1,
                "like_count": int(rng.paretovariate(1.3)) - 1,
                "quote_count": int(rng.paretovariate(3.0)) - 1,
            },
            "lang": lang,
            "id": tweet_id,
            "created_at": _iso(when),
            "edit_history_tweet_ids": [tweet_id],
            "edit_controls": {
                "edits_remaining": 5,
                "is_edit_eligible": kind == "original",
                "editable_until": _iso(when + timedelta(minutes=30)),
            },
        }
        if rng.random() < 0.55:
            picks = rng.sample(ENTITIES, k=rng.randint(1, 3))
            tweet["context_annotations"] = [
                {
                    "domain": dict(zip(("id", "name", "description"), rng.choice(DOMAINS))),
                    "entity": {"id": eid, "name": name, "description": name},
                }
                for eid, name in picks
            ]
        if parent is not None:
            ref_type = {"reply": "replied_to", "quote": "quoted", "retweet": "retweeted"}[kind]
            tweet["referenced_tweets"] = [{"type": ref_type, "id": parent["id"]}]
            if kind == "reply":
                tweet["in_reply_to_user_id"] = parent["author_id"]
                tweet["conversation_id"] = parent["conversation_id"]
        if rng.random() < 0.08 and kind != "retweet":
            tweet["attachments"] = {"media_keys": [f"3_{rng.randrange(10**18)}"]}
        return tweet

    def _by_id(self, user_id: str) -> dict[str, Any]:
        return self._user_index[user_id]

    def pages(self, n_posts: int, page_size: int) -> Iterator[tuple[dict[str, Any], GenStats]]:
        rng = self.rng
        self._user_index = {u["id"]: u for u in self.accounts}
        stats = GenStats()
        # Originals from before the window that replies, quotes and retweets can point at.
        for _ in range(20):
            when = self.start - timedelta(hours=rng.uniform(1, 48))
            self.recent.append(self._tweet(self._author(), when, "original", None))
        produced = 0
        while produced < n_posts:
            size = min(page_size, n_posts - produced)
            data = []
            for _ in range(size):
                self.now += timedelta(seconds=rng.expovariate(1 / 0.8))
                roll = rng.random()
                kind = "original" if roll < 0.22 else "reply" if roll < 0.6 else "quote" if roll < 0.7 else "retweet"
                parent = None
                if kind != "original":
                    pool = self.recent[-5000:]
                    parent = (
                        pool[min(int(rng.paretovariate(1.1)) - 1, len(pool) - 1) * -1 - 1]
                        if rng.random() < 0.5
                        else rng.choice(pool)
                    )
                    if kind == "retweet" and "retweeted" in [r["type"] for r in parent.get("referenced_tweets", [])]:
                        kind = "reply"
                tweet = self._tweet(self._author(), self.now, kind, parent)
                data.append((tweet, parent, kind))
                self.recent.append(tweet)
                if len(self.recent) > 20000:
                    del self.recent[:10000]
                stats.posts += 1
                counter = _COUNTERS[kind]
                setattr(stats, counter, getattr(stats, counter) + 1)
            produced += size
            data.reverse()  # search pages come newest first
            users: dict[str, dict[str, Any]] = {}
            tweets: dict[str, dict[str, Any]] = {}
            media = []
            for tweet, parent, _ in data:
                users.setdefault(tweet["author_id"], self._by_id(tweet["author_id"]))
                for mention in tweet["entities"].get("mentions", []):
                    users.setdefault(mention["id"], self._by_id(mention["id"]))
                if parent is not None:
                    tweets.setdefault(parent["id"], parent)
                    users.setdefault(parent["author_id"], self._by_id(parent["author_id"]))
                for key in tweet.get("attachments", {}).get("media_keys", []):
                    media.append(
                        {
                            "media_key": key,
                            "type": "photo",
                            "width": 1200,
                            "height": 675,
                            "url": f"https://pbs.twimg.com/media/{key}.jpg",
                        }
                    )
            page: dict[str, Any] = {
                "data": [t for t, _, _ in data],
                "includes": {"users": list(users.values()), "tweets": list(tweets.values())},
                "meta": {
                    "newest_id": data[0][0]["id"],
                    "oldest_id": data[-1][0]["id"],
                    "result_count": len(data),
                    "next_token": f"{rng.getrandbits(128):032x}",
                },
                "__twarc": {
                    "url": "https://api.twitter.com/2/tweets/search/all?query=%23"
                    + self.hashtag
                    + "&max_results=100&expansions=author_id%2Creferenced_tweets.id",
                    "version": "2.14.0",
                    "retrieved_at": (self.now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                },
            }
            if media:
                page["includes"]["media"] = media
            stats.pages += 1
            yield page, stats


def write_twarc2(
    out: str | Path | BinaryIO,
    n_posts: int,
    texts: list[tuple[str, str]],
    *,
    seed: int = 0,
    hashtag: str = "AskCampaign",
    start: datetime = datetime(2015, 3, 13, 12, 0, tzinfo=UTC),
    page_size: int = 100,
    gzip_output: bool = False,
) -> GenStats:
    """Write ``n_posts`` SYNTHETIC posts as twarc2 JSONL pages to ``out``; returns counts."""
    generator = _Generator(texts, seed, hashtag, start, n_posts)
    stats = GenStats()
    own = not hasattr(out, "write")
    handle: Any
    if own:
        # `out` is a path here (it has no write()), which hasattr() does not tell mypy
        handle = gzip.open(out, "wb") if gzip_output else open(out, "wb")  # type: ignore[arg-type]  # noqa: SIM115
    else:
        handle = out
    try:
        for page, stats in generator.pages(n_posts, page_size):
            line = msgspec.json.encode(page) + b"\n"
            stats.bytes += len(line)
            handle.write(line)
    finally:
        if own:
            handle.close()
    return stats
