"""The four platform APIs as the loopback server replays them, from real recorded responses.

* Reddit: the whole recorded thread of PRAW's ``TestCommentForest.test_replace__all`` cassette
  (the first page, 12 ``morechildren`` responses, 6 "continue this thread" pages), keyed the way
  the collector asks (morechildren by its set of children).
* Mastodon: the 20 statuses of a recorded public timeline served as a hashtag timeline, 7 a page,
  with ``Link`` headers as Mastodon sends them; a status and its context built from the recorded
  reply exchange (``test_status_reply``).
* Bluesky: the 25 posts of a recorded ``searchPosts`` response served 10 a page with cursors.
* X: two recorded twarc2 search pages (``brexit``, ``kpop``) served as one search: the first
  page's ``next_token`` leads to the second, which has none.
"""

from __future__ import annotations

import json
from typing import Any

from cassettes import exchanges
from conftest import shared
from loopback import Reply, Seen

REDDIT_THREAD = "3hahrw"


def reddit_thread() -> Any:
    recorded = [
        e
        for e in exchanges(shared("fixtures", "reddit", "TestCommentForest.test_replace__all.json"))
        if "access_token" not in e.url
    ]
    pages: dict[str, bytes] = {}
    more: dict[frozenset[str], bytes] = {}
    for e in recorded:
        if e.path.startswith("/api/morechildren"):
            more[frozenset(e.form["children"].split(","))] = e.body
        else:
            pages[e.path.rstrip("/")] = e.body

    def routes(seen: Seen) -> Reply | None:
        path = seen.path.removesuffix(".json").rstrip("/")
        if path == "/api/morechildren":
            key = frozenset((seen.query.get("children") or seen.form.get("children", "")).split(","))
            body = more.get(key)
        else:
            body = pages.get(path)
        return Reply(body=body, headers={"x-ratelimit-remaining": "590", "x-ratelimit-reset": "300"}) if body else None

    return routes


def reddit_edges() -> set[tuple[str, str]]:
    """Every (parent, child) edge in the recorded thread, read straight from the responses."""
    edges: set[tuple[str, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("kind") == "t1":
                data = value["data"]
                edges.add((data["parent_id"], data["name"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for e in exchanges(shared("fixtures", "reddit", "TestCommentForest.test_replace__all.json")):
        if "access_token" not in e.url:
            walk(json.loads(e.body))
    return edges


MASTODON_TAG = "hoot"
MASTODON_PAGE = 7
MASTODON_ROOT = "117020583245459824"


def mastodon(base: str) -> Any:
    timeline = json.loads(exchanges(shared("fixtures", "mastodon", "test_timeline_disabled.yaml"))[2].body)
    reply_exchanges = exchanges(shared("fixtures", "mastodon", "test_status_reply.yaml"))
    root, reply = reply_exchanges[0].body, reply_exchanges[2].body
    context = b'{"ancestors":[],"descendants":[' + reply + b"]}"

    def routes(seen: Seen) -> Reply | None:
        if seen.path == f"/api/v1/timelines/tag/{MASTODON_TAG}":
            statuses = timeline
            if "max_id" in seen.query:
                limit = int(seen.query["max_id"])
                statuses = [s for s in statuses if int(s["id"]) < limit]
            page = statuses[:MASTODON_PAGE]
            headers = {"X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "2026-08-01T14:00:00.000Z"}
            if page:
                headers["Link"] = (
                    f'<{base}/api/v1/timelines/tag/{MASTODON_TAG}?max_id={page[-1]["id"]}>; rel="next", '
                    f'<{base}/api/v1/timelines/tag/{MASTODON_TAG}?min_id={page[0]["id"]}>; rel="prev"'
                )
            return Reply(body=json.dumps(page).encode(), headers=headers)
        if seen.path == f"/api/v1/statuses/{MASTODON_ROOT}":
            return Reply(body=root)
        if seen.path == f"/api/v1/statuses/{MASTODON_ROOT}/context":
            return Reply(body=context)
        return None

    return routes


BLUESKY_QUERY = "redistricting"
BLUESKY_PAGE = 10


def bluesky() -> Any:
    posts = json.loads(exchanges(shared("fixtures", "bluesky", "f_search.yml"))[0].body)["posts"]

    def routes(seen: Seen) -> Reply | None:
        if seen.path != "/xrpc/app.bsky.feed.searchPosts" or seen.query.get("q") != BLUESKY_QUERY:
            return None
        start = int(seen.query.get("cursor") or 0)
        page: dict[str, Any] = {"posts": posts[start : start + BLUESKY_PAGE]}
        if start + BLUESKY_PAGE < len(posts):
            page["cursor"] = str(start + BLUESKY_PAGE)
        return Reply(
            body=json.dumps(page).encode(), headers={"RateLimit-Remaining": "2900", "RateLimit-Reset": "1747676784"}
        )

    return routes


X_QUERY = "brexit OR kpop"
X_TOKEN = "recorded-bearer-token"


def x_search() -> Any:
    pages = []
    for name in ("brexit", "kpop"):
        with open(shared("fixtures", "x-v2", f"{name}.jsonl"), "rb") as handle:
            page = json.loads(handle.readline())
        page.pop("__twarc", None)
        pages.append(page)
    first_token = pages[0]["meta"]["next_token"]
    pages[1]["meta"].pop("next_token", None)

    def routes(seen: Seen) -> Reply | None:
        if seen.headers.get("authorization") != f"Bearer {X_TOKEN}":
            return Reply(401, b'{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}')
        if seen.path != "/2/tweets/search/recent":
            return None
        if "since_id" in seen.query:  # nothing newer than the recorded pages
            return Reply(body=b'{"meta":{"result_count":0}}')
        page = pages[1] if seen.query.get("next_token") == first_token else pages[0]
        return Reply(
            body=json.dumps(page).encode(),
            headers={"x-rate-limit-remaining": "440", "x-rate-limit-reset": "1632300000"},
        )

    return routes
