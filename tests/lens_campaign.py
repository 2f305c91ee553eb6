"""A tiny hand-made campaign (X API v2 page, twarc2 shape) whose every lens metric can be worked
out by hand: the posts, their categories and their counts are listed in one table below, and
:class:`MarkerLabeler` reads each post's category and language from a marker in its text, so the
test controls the labels.

Host ``Host`` (id 900) answers questions in ``#AskT`` between 10:00 and 12:00 UTC on
2021-05-18 (the campaign window, two hours).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DAY = "2021-05-18"
HOST = {
    "id": "900",
    "username": "Host",
    "name": "The Host",
    "created_at": "2015-01-01T00:00:00.000Z",
    "public_metrics": {"followers_count": 5000, "following_count": 1, "tweet_count": 10, "listed_count": 0},
}
#: audience accounts: id -> (followers or None when the API gave no count, declared location)
USERS = {
    "101": (10, "Paris"),
    "102": (20, " paris "),
    "103": (30, "London"),
    "104": (40, None),
    "105": (50, None),
    "106": (0, None),
    "107": (None, None),
    "108": (5, None),
}
CAMPAIGN = {
    "name": "AskT",
    "hosts": ["Host"],
    "hashtags": ["AskT"],
    "start": f"{DAY}T10:00:00Z",
    "end": f"{DAY}T12:00:00Z",
    "frames": {"freedom": {"keywords": ["freedom"]}},
}

# id, author, time (HH:MM on DAY, or a full date-time), replies to, text, (RT, replies, likes, quotes), kind
#
# The markers in the text set the labels: [crit] question_critical, [genq] question_genuine,
# [mock] mockery, [abuse] abuse, [sup] support, [oth] other; '?' makes a question; [fr], [de]
# set the language (English otherwise).
POSTS: list[tuple[str, str, str, str | None, str, tuple[int, int, int, int], str]] = [
    # the host opens the session: broadcast, tagged; Rep/(L+RT) = 9/6 = 1.5 (ratioed)
    ("1000", "900", "10:00", None, "Ask me anything #AskT", (5, 9, 1, 0), "post"),
    # four direct replies to the host's post
    ("2001", "101", "10:05", "1000", "@Host why did you do it? [crit]", (4, 0, 0, 0), "post"),
    ("2002", "102", "10:10", "1000", "@Host how does it work? [genq]", (0, 0, 0, 0), "post"),
    ("2003", "103", "10:15", "1000", "@Host do you even sneeze? [mock]", (2, 0, 0, 0), "post"),
    ("2004", "104", "10:20", "1000", "@Host thanks, freedom matters [sup]", (1, 0, 0, 0), "post"),
    # a repost of the host's post: amplification, never in P
    ("2100", "108", "10:12", None, "RT @Host: Ask me anything #AskT", (0, 0, 0, 0), "retweet:1000"),
    # the hashtag used without addressing the host (hashtag_only)
    ("2005", "105", "10:25", None, "lol #AskT [mock] [fr]", (6, 0, 0, 0), "post"),
    ("2006", "101", "10:30", None, "#AskT you are all liars [abuse]", (0, 0, 0, 0), "post"),
    ("2007", "106", "10:35", None, "#AskT great initiative [sup] [de]", (3, 0, 0, 0), "post"),
    # a mention with a question (addressed to the host)
    ("2008", "107", "10:40", None, "@Host where is the office? [genq]", (0, 0, 0, 0), "mention"),
    # a reply to a participant deeper in the host's thread (thread_reply, names nobody)
    ("2009", "102", "10:45", "2001", "@u101 I agree [oth]", (0, 0, 0, 0), "post"),
    # the host's answers: latencies 45 min (2001), 60 min (2002), 70 min (2008)
    ("3001", "900", "10:50", "2001", "@u101 because we had to", (3, 1, 2, 0), "post"),
    ("3002", "900", "11:10", "2002", "@u102 like this", (0, 1, 0, 0), "post"),
    ("3003", "900", "11:50", "2008", "@u107 in town", (0, 0, 0, 0), "post"),
    # follow-ups: u101 replies to the answer and the host replies again; u102 too, unanswered
    ("2010", "101", "11:00", "3001", "@Host ok then [oth]", (0, 0, 0, 0), "post"),
    ("3004", "900", "11:20", "2010", "@u101 you are welcome", (0, 0, 4, 0), "post"),
    ("2011", "102", "11:15", "3002", "@Host hmm [oth]", (0, 0, 0, 0), "post"),
    # a call to joint action, tagged, using the frame's keyword
    ("3005", "900", "11:30", None, "Join us tomorrow for freedom #AskT", (1, 2, 1, 0), "post"),
    # after the window: not in P (but scored for the framing lens's 'after' period)
    ("2012", "103", "12:30", None, "#AskT freedom for all [mock]", (9, 0, 0, 0), "post"),
]

#: posts from before the campaign, for newcomer_share: u101 mentioned the host 23 days before the
#: start (inside the 30-day horizon); u102 replied to the host 47 days before (outside it); u103
#: posted something unrelated 10 days before.
HISTORY = [
    ("0001", "101", "2021-04-25T09:00", None, "@Host hello there", (0, 0, 0, 0), "mention"),
    ("0002", "102", "2021-04-01T09:00", "0003", "@Host old reply", (0, 0, 0, 0), "post"),
    ("0003", "900", "2021-04-01T08:00", None, "An old announcement", (0, 0, 0, 0), "post"),
    ("0004", "103", "2021-05-08T09:00", None, "Nice weather today", (0, 0, 0, 0), "post"),
]


def _when(value: str) -> str:
    return f"{DAY}T{value}:00.000Z" if len(value) == 5 else f"{value}:00.000Z"


def _tweet(row: tuple[Any, ...], by_id: dict[str, tuple[Any, ...]]) -> dict[str, Any]:
    post_id, author, when, parent, text, (rt, rep, lk, qt), kind = row
    tweet: dict[str, Any] = {
        "id": post_id,
        "text": text,
        "author_id": author,
        "created_at": _when(when),
        "lang": "en",
        "public_metrics": {"retweet_count": rt, "reply_count": rep, "like_count": lk, "quote_count": qt},
        "conversation_id": post_id,
    }
    entities: dict[str, Any] = {}
    tags = [w[1:] for w in text.split() if w.startswith("#")]
    if tags:
        entities["hashtags"] = [{"tag": t} for t in tags]
    mentions = [w[1:].rstrip(":") for w in text.split() if w.startswith("@")]
    if mentions:
        entities["mentions"] = [{"username": m, "id": "900" if m == "Host" else m[1:]} for m in mentions]
    if entities:
        tweet["entities"] = entities
    if parent is not None:
        root = parent
        while by_id[root][3] is not None:
            root = by_id[root][3]
        tweet["conversation_id"] = root
        tweet["in_reply_to_user_id"] = by_id[parent][1]
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
    if kind.startswith("retweet:"):
        tweet["referenced_tweets"] = [{"type": "retweeted", "id": kind.split(":")[1]}]
    return tweet


def _user(uid: str) -> dict[str, Any]:
    if uid == "900":
        return HOST
    followers, location = USERS[uid]
    user: dict[str, Any] = {
        "id": uid,
        "username": f"u{uid}",
        "name": f"User {uid}",
        "created_at": "2015-01-01T00:00:00.000Z",
    }
    if followers is not None:
        user["public_metrics"] = {
            "followers_count": followers,
            "following_count": 1,
            "tweet_count": 1,
            "listed_count": 0,
        }
    if location is not None:
        user["location"] = location
    return user


def write_page(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    """One twarc2 response page holding ``rows`` and their authors."""
    by_id = {r[0]: r for r in POSTS + HISTORY}
    tweets = [_tweet(r, by_id) for r in rows]
    users = [_user(u) for u in sorted({r[1] for r in rows} | {"900"})]
    page = {
        "data": tweets,
        "includes": {"users": users},
        "meta": {"result_count": len(tweets)},
        "__twarc": {
            "url": "https://api.twitter.com/2/tweets/search/recent",
            "version": "2.14.0",
            "retrieved_at": "2021-05-19T00:00:00+00:00",
        },
    }
    path.write_text(json.dumps(page) + "\n")
    return path


TASKS = ("sentiment", "irony", "offensive", "hate", "emotion", "question", "language", "discourse")
MARKERS = {
    "[crit]": "question_critical",
    "[genq]": "question_genuine",
    "[mock]": "mockery",
    "[abuse]": "abuse",
    "[sup]": "support",
    "[oth]": "other",
}


class MarkerLabeler:
    """Labels read off markers in the text (see POSTS): the test decides every category."""

    name = "markers"

    def versions(self) -> dict[str, str]:
        return {t: f"markers-{t}@1" for t in TASKS}

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[list[str], np.ndarray]]:
        ones = np.ones(len(texts))
        categories = [next((c for m, c in MARKERS.items() if m in t), "other") for t in texts]
        languages = ["fr" if "[fr]" in t else "de" if "[de]" in t else "en" for t in texts]
        out = {task: (["neutral"] * len(texts), ones) for task in TASKS}
        out["discourse"] = (categories, ones)
        out["question"] = (["question" if "?" in t else "not-question" for t in texts], ones)
        out["language"] = (languages, ones)
        return out

    def error_rates(self) -> dict[str, Any]:
        return {}


class QuestionRatedLabeler(MarkerLabeler):
    """The same labels, with the question label's validation error rates known (tpr 0.9, fpr 0.1)."""

    name = "markers-rated"

    def error_rates(self) -> dict[str, Any]:
        return {"question": {"classes": {"question": {"tpr": 0.9, "fpr": 0.1}}}}

    def validation(self) -> dict[str, Any]:
        """The validation rows behind those rates: 10 non-questions (1 labelled a question: fpr
        0.1) and 10 questions (9 labelled questions: tpr 0.9)."""
        from askscope.classify.quantify import Validation

        gold = np.array([0] * 10 + [1] * 10)
        predicted = np.array([0] * 9 + [1] + [0] + [1] * 9)
        return {"question": Validation("question", ("not-question", "question"), gold, predicted, data="test rows")}


class NoVectors:
    """An embedder for keyword-only frames: the frames here have no examples, so no vector is ever
    compared; this spares loading the bundled encoder to embed the background posts."""

    name = "none (keyword-only frames)"

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 1), dtype=np.float32)


SEED = 7
#: the stores the tests read: (posts, labeler)
VARIANTS = {"campaign": (POSTS, MarkerLabeler), "history": (POSTS + HISTORY, QuestionRatedLabeler)}


def _source_digest() -> str:
    """A digest of askscope's code and of this file: a cached store is rebuilt when either changes."""
    import askscope

    digest = hashlib.sha256(Path(__file__).read_bytes())
    root = Path(askscope.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def analysed_store(variant: str) -> Path:
    """The variant's store, ingested and analysed by every stage, built once per version of the
    code and kept in the temporary folder (the lens tests copy it; mutation testing runs the
    tests thousands of times and would otherwise rebuild it each time)."""
    import askscope
    from askscope.analysis import analyze
    from askscope.campaign import parse_campaign

    folder = Path(tempfile.gettempdir()) / "askscope-test-lens-campaign" / _source_digest()
    path = folder / f"{variant}.duckdb"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder))
    rows, labeler = VARIANTS[variant]
    db = work / f"{variant}.duckdb"
    result = askscope.ingest(str(db), [str(write_page(work / "page.jsonl", rows))])
    assert result.files[0].counts.new == len(rows), result.files[0].counts
    analyze(str(db), parse_campaign(CAMPAIGN), settings={"labeler": labeler(), "seed": SEED, "embedder": NoVectors()})
    os.replace(db, path)  # atomic: a parallel run never sees half a store
    shutil.rmtree(work, ignore_errors=True)
    return path


def audience_rows(categories: list[str | None], **columns: Any) -> Any:
    """An audience part as the backfire lens reads it (the columns of ``AUDIENCE_SQL``), with
    ``categories`` and any column given; the others at neutral values (a direct reply by its own
    author, no time, no reposts, no probabilities, not coordinated)."""
    import pyarrow as pa

    n = len(categories)
    table = {
        "platform": pa.array(["x"] * n),
        "post_id": pa.array([f"{i:06d}" for i in range(n)]),
        "relation": pa.array(["direct_reply"] * n),
        "author_id": pa.array([str(i) for i in range(n)]),
        "created_at": pa.array([None] * n, pa.timestamp("us", tz="UTC")),
        "reposts": pa.array([0] * n, pa.int64()),
        "category": pa.array(categories, pa.string()),
        "category_probabilities": pa.array([None] * n, pa.list_(pa.float32())),
        "coordinated": pa.array([False] * n),
    }
    for name, values in columns.items():
        table[name] = values if isinstance(values, pa.Array) else pa.array(values, type=table[name].type)
    return pa.table(table)
