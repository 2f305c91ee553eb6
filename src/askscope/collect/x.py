"""X: API v2 recent or full-archive search, and whole conversations.

Pages through ``/2/tweets/search/recent`` (or ``/search/all`` with ``--archive``) with every
expansion askscope reads, following ``meta.next_token``; a rerun after it finished fetches only
newer posts (``since_id``). ``--conversation ID`` fetches the conversation's first post and then
searches ``conversation_id:ID``. Each page is stored as twarc2 stores it (the response with a
``__twarc`` object saying where and when it was fetched), so the X v2 reader reads it. The bearer
token comes from ``ASKSCOPE_X_BEARER_TOKEN``.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from askscope._version import __version__
from askscope.collect.http import Request, Response
from askscope.collect.plan import Plan, State
from askscope.errors import UsageError
from askscope.timefmt import iso

API_URL = "https://api.x.com"
EXPANSIONS = (
    "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id,"
    "entities.mentions.username,attachments.media_keys"
)
TWEET_FIELDS = (
    "attachments,author_id,conversation_id,created_at,edit_history_tweet_ids,entities,id,"
    "in_reply_to_user_id,lang,note_tweet,public_metrics,referenced_tweets,text,withheld"
)
USER_FIELDS = "created_at,description,entities,id,location,name,protected,public_metrics,url,username,verified"


class XSearch(Plan):
    platform = "x"
    reader = "x-v2"

    def __init__(
        self,
        query: str | None,
        *,
        conversation: str | None = None,
        archive: bool = False,
        api_url: str | None = None,
        start_time: str | None = None,
        end_time: str | None = None,
    ) -> None:
        if conversation:
            if not conversation.strip().isdigit():
                raise UsageError(
                    f"not a post id: {conversation!r}", "give the numeric id of the conversation's first post"
                )
            query = f"conversation_id:{conversation.strip()}"
        if not query or not query.strip():
            raise UsageError("no search query", "give a query (e.g. '#AskHamas -is:retweet') or --conversation ID")
        self.q = query
        self.conversation = conversation.strip() if conversation else None
        self.archive = archive
        self.api_url = (api_url or API_URL).rstrip("/")
        self.window = {k: v for k, v in (("start_time", start_time), ("end_time", end_time)) if v}
        endpoint = "all" if archive else "recent"
        super().__init__(f"x:{endpoint}:{query}", {"query": query, "endpoint": endpoint, **self.window})

    def start(self) -> State:
        return {
            "lookup": bool(self.conversation),
            "next_token": None,
            "since_id": None,
            "newest_id": None,
            "done": False,
        }

    def restart(self, state: State) -> State:
        return {
            "lookup": False,
            "next_token": None,
            "since_id": state.get("newest_id"),
            "newest_id": state.get("newest_id"),
            "done": False,
        }

    def _fields(self) -> dict[str, str]:
        return {"expansions": EXPANSIONS, "tweet.fields": TWEET_FIELDS, "user.fields": USER_FIELDS}

    def next_request(self, state: State) -> Request | None:
        if state.get("lookup"):
            return Request("GET", f"{self.api_url}/2/tweets", params={"ids": self.conversation or "", **self._fields()})
        if state.get("done"):
            return None
        params = {"query": self.q, "max_results": "500" if self.archive else "100", **self._fields(), **self.window}
        if state.get("next_token"):
            params["next_token"] = state["next_token"]
        if state.get("since_id") and "start_time" not in params:
            params["since_id"] = state["since_id"]
        endpoint = "all" if self.archive else "recent"
        return Request("GET", f"{self.api_url}/2/tweets/search/{endpoint}", params=params)

    def advance(self, state: State, request: Request, response: Response) -> State:
        value = response.value if isinstance(response.value, dict) else {}
        if state.get("lookup"):
            return {**state, "lookup": False}
        found = value.get("meta")
        meta = found if isinstance(found, dict) else {}
        token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
        newest = meta.get("newest_id") if isinstance(meta.get("newest_id"), str) else None
        known = state.get("newest_id")
        if newest and (not known or (len(newest), newest) > (len(known), known)):
            known = newest
        return {**state, "next_token": token, "newest_id": known, "done": token is None}

    def record(self, request: Request, response: Response, retrieved_at: datetime) -> bytes:
        body = response.body.strip()
        meta = msgspec.json.encode(
            {
                "url": response.url,
                "version": f"askscope-{__version__}",
                "retrieved_at": iso(retrieved_at),
            }
        )
        if body.startswith(b"{") and body[1:].strip() != b"}":
            return b'{"__twarc":' + meta + b"," + body[1:]
        return b'{"__twarc":' + meta + b"}" if body.startswith(b"{") else body
