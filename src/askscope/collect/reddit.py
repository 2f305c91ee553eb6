"""Reddit: a whole thread (submission and every comment) from the public JSON API.

``/comments/<id>.json`` returns the submission and the first comments; the rest hides behind
``more`` stubs. The plan expands every stub: stubs listing children through ``/api/morechildren``
(at most 100 ids a request), "continue this thread" stubs through ``/comments/<id>/_/<parent>``,
and keeps going through the stubs those responses hold, until none is left. Without credentials
it uses ``www.reddit.com``; with ``ASKSCOPE_REDDIT_CLIENT_ID`` and ``ASKSCOPE_REDDIT_CLIENT_SECRET``
(an app's client credentials) it gets a token and uses ``oauth.reddit.com`` (higher limits).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from askscope.collect.http import CredentialsError, HttpClient, Request, Response
from askscope.collect.plan import Plan, State, queue_advance, queue_next, queue_state
from askscope.errors import UsageError

PUBLIC_URL = "https://www.reddit.com"
OAUTH_URL = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
CHUNK = 100
_ID = re.compile(r"^(?:t3_)?([a-z0-9]{4,12})$")
_URL_ID = re.compile(r"/comments/([a-z0-9]{4,12})(?:/|$)")


def thread_id(value: str) -> str:
    """The base-36 id of a submission given as an id, a ``t3_`` fullname or a thread URL."""
    value = value.strip()
    match = _ID.match(value) or _URL_ID.search(value)
    if not match:
        raise UsageError(
            f"not a Reddit thread: {value!r}",
            "give the thread's URL (https://www.reddit.com/r/.../comments/ID/...) or its id",
        )
    return match.group(1)


class RedditThread(Plan):
    platform = "reddit"
    reader = "reddit"

    def __init__(
        self,
        thread: str,
        *,
        api_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str = TOKEN_URL,
        limit: int = 500,
    ) -> None:
        self.id = thread_id(thread)
        self.credentials = (client_id, client_secret) if client_id and client_secret else None
        default = OAUTH_URL if self.credentials else PUBLIC_URL
        self.api_url = (api_url or default).rstrip("/")
        self.token_url = token_url
        self.limit = limit
        super().__init__(f"reddit:thread:{self.id}", {"thread": self.id, "api": self.api_url})

    def authenticate(self, client: HttpClient) -> None:
        if self.credentials is None:
            return
        basic = base64.b64encode(f"{self.credentials[0]}:{self.credentials[1]}".encode()).decode()
        client.set_header("Authorization", f"Basic {basic}")
        response = client.fetch(Request("POST", self.token_url, data={"grant_type": "client_credentials"}))
        token = response.value.get("access_token") if isinstance(response.value, dict) else None
        if not token:
            raise CredentialsError(
                "reddit: no access token for these client credentials",
                "check ASKSCOPE_REDDIT_CLIENT_ID and ASKSCOPE_REDDIT_CLIENT_SECRET",
            )
        client.set_header("Authorization", f"bearer {token}")

    def start(self) -> State:
        return queue_state([self._thread_request(None)])

    def next_request(self, state: State) -> Request | None:
        return queue_next(state, self.api_url)

    def advance(self, state: State, request: Request, response: Response) -> State:
        found: list[Request] = []
        for stub in _stubs(response.value):
            children = [c for c in stub.get("children") or [] if isinstance(c, str)]
            if children:
                for i in range(0, len(children), CHUNK):
                    found.append(
                        Request(
                            "GET",
                            "/api/morechildren.json",
                            params={
                                "api_type": "json",
                                "link_id": f"t3_{self.id}",
                                "children": ",".join(children[i : i + CHUNK]),
                                "sort": "confidence",
                                "raw_json": "1",
                            },
                        )
                    )
            elif isinstance(stub.get("parent_id"), str) and stub["parent_id"].startswith("t1_"):
                found.append(self._thread_request(stub["parent_id"][3:]))
        return queue_advance(state, found)

    def _thread_request(self, comment: str | None) -> Request:
        path = f"/comments/{self.id}/.json" if comment is None else f"/comments/{self.id}/_/{comment}/.json"
        return Request("GET", path, params={"limit": str(self.limit), "sort": "confidence", "raw_json": "1"})


def _stubs(value: Any) -> list[dict[str, Any]]:
    """The data of every ``more`` stub in a response, in document order."""
    out: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if node.get("kind") == "more" and isinstance(node.get("data"), dict):
                out.append(node["data"])
                continue
            stack.extend(reversed(list(node.values())))
    return out
