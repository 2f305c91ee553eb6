"""Mastodon: a hashtag timeline, or one status with its whole context, from any instance.

The hashtag plan pages back through ``/api/v1/timelines/tag/<tag>`` (40 statuses a page, the
``Link`` header's ``max_id``) until the first post; a rerun after it finished fetches only
what is newer (``since_id``). The context plan fetches ``/api/v1/statuses/<id>`` and
``/api/v1/statuses/<id>/context`` (ancestors and every descendant). A token
(``ASKSCOPE_MASTODON_TOKEN``) is optional: public timelines need none unless the instance
requires it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from askscope.collect.http import Request, Response
from askscope.collect.plan import Plan, State, queue_advance, queue_next, queue_state
from askscope.errors import UsageError

PAGE = 40
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def instance_url(value: str) -> str:
    """``mastodon.social`` or ``https://mastodon.social/`` -> ``https://mastodon.social``."""
    value = value.strip().rstrip("/")
    if not value:
        raise UsageError("no Mastodon instance given", "give the instance, e.g. mastodon.social")
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if not parts.netloc:
        raise UsageError(f"not an instance: {value!r}", "give the instance, e.g. mastodon.social")
    return f"{parts.scheme}://{parts.netloc}"


def _newest(value: Any, current: str | None) -> str | None:
    ids = (
        [s["id"] for s in value if isinstance(s, dict) and isinstance(s.get("id"), str)]
        if isinstance(value, list)
        else []
    )
    candidates = [i for i in ids + ([current] if current else []) if i.isdigit()]
    return max(candidates, key=lambda i: (len(i), i)) if candidates else current


def _oldest(value: Any) -> str | None:
    ids = (
        [s["id"] for s in value if isinstance(s, dict) and isinstance(s.get("id"), str)]
        if isinstance(value, list)
        else []
    )
    ids = [i for i in ids if i.isdigit()]
    return min(ids, key=lambda i: (len(i), i)) if ids else None


class MastodonHashtag(Plan):
    platform = "mastodon"
    reader = "mastodon"

    def __init__(self, instance: str, tag: str) -> None:
        self.base = instance_url(instance)
        self.tag = tag.lstrip("#").strip()
        if not self.tag:
            raise UsageError("no hashtag given", "give the hashtag without #, e.g. askscope")
        super().__init__(
            f"mastodon:{urlsplit(self.base).netloc}:tag:{self.tag.lower()}", {"instance": self.base, "tag": self.tag}
        )

    def start(self) -> State:
        return {"max_id": None, "since_id": None, "newest_id": None, "done": False}

    def restart(self, state: State) -> State:
        return {"max_id": None, "since_id": state.get("newest_id"), "newest_id": state.get("newest_id"), "done": False}

    def next_request(self, state: State) -> Request | None:
        if state.get("done"):
            return None
        params = {"limit": str(PAGE)}
        if state.get("max_id"):
            params["max_id"] = state["max_id"]
        if state.get("since_id"):
            params["since_id"] = state["since_id"]
        return Request("GET", f"{self.base}/api/v1/timelines/tag/{quote(self.tag, safe='')}", params=params)

    def advance(self, state: State, request: Request, response: Response) -> State:
        value = response.value
        newest = _newest(value, state.get("newest_id"))
        next_max: str | None = None
        link = response.headers.get("link") or ""
        match = _NEXT.search(link)
        if match:
            max_ids = parse_qs(urlsplit(match.group(1)).query).get("max_id")
            next_max = max_ids[0] if max_ids else None
        if next_max is None and link == "":
            next_max = _oldest(value)  # servers without Link headers: page by the oldest id
        done = not isinstance(value, list) or not value or next_max is None or next_max == state.get("max_id")
        return {**state, "max_id": next_max, "newest_id": newest, "done": done}


class MastodonContext(Plan):
    platform = "mastodon"
    reader = "mastodon"

    def __init__(self, instance: str, status: str) -> None:
        self.base = instance_url(instance)
        match = re.search(r"(\d+)\s*$", status.strip().rstrip("/"))
        if not match:
            raise UsageError(f"not a status id: {status!r}", "give the status id or its URL on this instance")
        self.status = match.group(1)
        super().__init__(
            f"mastodon:{urlsplit(self.base).netloc}:context:{self.status}",
            {"instance": self.base, "status": self.status},
        )

    def start(self) -> State:
        path = f"/api/v1/statuses/{self.status}"
        return queue_state([Request("GET", path), Request("GET", f"{path}/context")])

    def next_request(self, state: State) -> Request | None:
        return queue_next(state, self.base)

    def advance(self, state: State, request: Request, response: Response) -> State:
        return queue_advance(state, [])
