"""Bluesky: ``searchPosts`` and whole threads (``getPostThread``) from the AppView.

Search pages through ``app.bsky.feed.searchPosts`` with its cursor (``sort=latest``); a rerun
after it finished fetches only posts newer than the newest one stored (``since``). The thread
plan fetches ``getPostThread`` with the largest depth and parent height, then fetches again every
branch the response cut at the depth limit (a reply with ``replyCount`` > 0 and no ``replies``),
until none is left. The public AppView needs no account; with ``--handle`` and
``ASKSCOPE_BLUESKY_APP_PASSWORD`` (an app password) the plan opens a session on the PDS and calls
through it.
"""

from __future__ import annotations

import re
from typing import Any

from askscope.collect.http import CredentialsError, HttpClient, Request, Response
from askscope.collect.plan import Plan, State, queue_advance, queue_next, queue_state
from askscope.errors import UsageError

PUBLIC_URL = "https://public.api.bsky.app"
PDS_URL = "https://bsky.social"
PAGE = 100
DEPTH = 1000
_WEB = re.compile(r"bsky\.app/profile/([^/]+)/post/([A-Za-z0-9]+)")


class _Session:
    """An app-password session (``com.atproto.server.createSession``); the password is only sent
    there, never stored."""

    def __init__(self, handle: str | None, password: str | None, pds_url: str) -> None:
        self.handle = handle
        self.password = password
        self.pds_url = pds_url.rstrip("/")

    def open(self, client: HttpClient) -> bool:
        if not self.handle or not self.password:
            return False
        response = client.fetch(
            Request(
                "POST",
                f"{self.pds_url}/xrpc/com.atproto.server.createSession",
                json={"identifier": self.handle, "password": self.password},
            )
        )
        token = response.value.get("accessJwt") if isinstance(response.value, dict) else None
        if not token:
            raise CredentialsError(
                "bluesky: no session for this handle and app password",
                "check --handle and ASKSCOPE_BLUESKY_APP_PASSWORD (an app password)",
            )
        client.set_header("Authorization", f"Bearer {token}")
        return True


class BlueskySearch(Plan):
    platform = "bluesky"
    reader = "bluesky"

    def __init__(
        self,
        query: str,
        *,
        api_url: str | None = None,
        handle: str | None = None,
        password: str | None = None,
        pds_url: str = PDS_URL,
    ) -> None:
        if not query.strip():
            raise UsageError("empty search query", "give the words or #hashtag to search for")
        self.q = query
        self.session = _Session(handle, password, pds_url)
        self.api_url = (api_url or (pds_url if handle and password else PUBLIC_URL)).rstrip("/")
        super().__init__(f"bluesky:search:{query}", {"q": query, "api": self.api_url})

    def authenticate(self, client: HttpClient) -> None:
        self.session.open(client)

    def start(self) -> State:
        return {"cursor": None, "since": None, "newest": None, "done": False}

    def restart(self, state: State) -> State:
        return {"cursor": None, "since": state.get("newest"), "newest": state.get("newest"), "done": False}

    def next_request(self, state: State) -> Request | None:
        if state.get("done"):
            return None
        params = {"q": self.q, "limit": str(PAGE), "sort": "latest"}
        if state.get("cursor"):
            params["cursor"] = state["cursor"]
        if state.get("since"):
            params["since"] = state["since"]
        return Request("GET", f"{self.api_url}/xrpc/app.bsky.feed.searchPosts", params=params)

    def advance(self, state: State, request: Request, response: Response) -> State:
        value = response.value if isinstance(response.value, dict) else {}
        found = value.get("posts")
        posts = found if isinstance(found, list) else []
        times = [p.get("indexedAt") for p in posts if isinstance(p, dict) and isinstance(p.get("indexedAt"), str)]
        newest = max([t for t in times + [state.get("newest")] if t], default=None)
        cursor = value.get("cursor") if isinstance(value.get("cursor"), str) else None
        done = not posts or not cursor or cursor == state.get("cursor")
        return {**state, "cursor": cursor, "newest": newest, "done": done}


class BlueskyThread(Plan):
    platform = "bluesky"
    reader = "bluesky"

    def __init__(
        self,
        post: str,
        *,
        api_url: str | None = None,
        handle: str | None = None,
        password: str | None = None,
        pds_url: str = PDS_URL,
    ) -> None:
        self.post = post.strip()
        self.session = _Session(handle, password, pds_url)
        self.api_url = (api_url or (pds_url if handle and password else PUBLIC_URL)).rstrip("/")
        if not self.post.startswith("at://") and not _WEB.search(self.post):
            raise UsageError(
                f"not a Bluesky post: {post!r}", "give its at:// URI or its https://bsky.app/profile/.../post/... URL"
            )
        super().__init__(f"bluesky:thread:{self.post}", {"post": self.post, "api": self.api_url})

    def authenticate(self, client: HttpClient) -> None:
        self.session.open(client)

    def start(self) -> State:
        match = _WEB.search(self.post)
        if match and not match.group(1).startswith("did:"):
            resolve = Request("GET", "/xrpc/com.atproto.identity.resolveHandle", params={"handle": match.group(1)})
            return {**queue_state([resolve]), "rkey": match.group(2)}
        return queue_state([self._thread(self._uri(match))])

    def _uri(self, match: re.Match[str] | None, did: str | None = None) -> str:
        if match is None:
            return self.post
        return f"at://{did or match.group(1)}/app.bsky.feed.post/{match.group(2)}"

    def _thread(self, uri: str) -> Request:
        return Request(
            "GET",
            "/xrpc/app.bsky.feed.getPostThread",
            params={"uri": uri, "depth": str(DEPTH), "parentHeight": str(DEPTH)},
        )

    def next_request(self, state: State) -> Request | None:
        return queue_next(state, self.api_url)

    def advance(self, state: State, request: Request, response: Response) -> State:
        value = response.value if isinstance(response.value, dict) else {}
        if request.url.endswith("resolveHandle"):
            did = value.get("did")
            if not isinstance(did, str):
                raise UsageError(f"bluesky: cannot resolve the handle in {self.post}", "give the at:// URI instead")
            return queue_advance(state, [self._thread(f"at://{did}/app.bsky.feed.post/{state.get('rkey')}")])
        return queue_advance(state, [self._thread(uri) for uri in _cut_branches(value.get("thread"))])

    def record(self, request: Request, response: Response, retrieved_at: Any) -> bytes:
        if request.url.endswith("resolveHandle"):
            return super().record(request, _Empty(response), retrieved_at)
        return super().record(request, response, retrieved_at)


class _Empty(Response):
    """A handle resolution is stored as an empty page (it holds no post)."""

    def __init__(self, response: Response) -> None:
        super().__init__(
            status=response.status,
            body=b'{"posts":[]}',
            value={"posts": []},
            url=response.url,
            headers=response.headers,
        )


def _cut_branches(thread: Any) -> list[str]:
    """URIs of the posts whose replies the depth limit cut (document order)."""
    out: list[str] = []
    stack = [thread]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        post = node.get("post")
        replies = node.get("replies")
        if isinstance(post, dict) and replies is None and (post.get("replyCount") or 0) > 0 and node is not thread:
            uri = post.get("uri")
            if isinstance(uri, str):
                out.append(uri)
        if isinstance(replies, list):
            stack.extend(reversed(replies))
    return out
