"""What every collector is: a plan of requests driven by a JSON state.

A :class:`Plan` is a pure description: ``next_request(state)`` says what to fetch next (None when
done), ``advance(state, request, response)`` returns the state after a response. The runner
(:mod:`askscope.collect.runner`) fetches, stores each response with its new state in one
transaction, and so can stop anywhere and resume from the stored state. States are plain JSON
(lists and dicts) and never hold credentials.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from askscope.collect.http import HttpClient, Request, Response
from askscope.readers.collected import wrap

State = dict[str, Any]


class Plan(ABC):
    """One collection task. Subclasses set ``platform`` and ``reader`` and build ``task`` (a stable
    key: the same command gives the same task, so a rerun resumes it) and ``query`` (what was
    asked, for the checkpoint table)."""

    platform: ClassVar[str]
    reader: ClassVar[str]

    def __init__(self, task: str, query: dict[str, Any]) -> None:
        self.task = task
        self.query = query

    def authenticate(self, client: HttpClient) -> None:
        """Exchange credentials for a session before the first request (default: nothing)."""
        return None

    @abstractmethod
    def start(self) -> State:
        """The state of a new collection."""

    def restart(self, state: State) -> State:
        """The state of a rerun after a finished collection (default: from the start again;
        searches instead fetch only what is newer than the last pass)."""
        return self.start()

    @abstractmethod
    def next_request(self, state: State) -> Request | None:
        """The next request, or None when the collection is complete."""

    @abstractmethod
    def advance(self, state: State, request: Request, response: Response) -> State:
        """The state after ``response`` (a new object; ``state`` is left as it was)."""

    def record(self, request: Request, response: Response, retrieved_at: datetime) -> bytes:
        """The raw record stored for a response: the body in the collector's envelope."""
        return wrap(self.platform, response.url, retrieved_at, response.body)


def queue_state(requests: list[Request]) -> State:
    """The state of a plan that works through a queue of requests (threads). Their URLs are
    paths, resolved against the API base URL when fetched (:func:`queue_next`), so a resume may
    use another base (a new loopback port, OAuth instead of the public host)."""
    return {"queue": [r.as_dict() for r in requests], "seen": sorted(_key(r) for r in requests), "fetched": 0}


def queue_next(state: State, base: str) -> Request | None:
    queue = state.get("queue") or []
    if not queue:
        return None
    request = Request.from_dict(queue[0])
    request.url = base + request.url
    return request


def queue_advance(state: State, found: list[Request]) -> State:
    """Drop the request just fetched; add the ``found`` ones not asked before (in order)."""
    seen = set(state.get("seen") or [])
    queue = list(state.get("queue") or [])[1:]
    for request in found:
        key = _key(request)
        if key not in seen:
            seen.add(key)
            queue.append(request.as_dict())
    return {**state, "queue": queue, "seen": sorted(seen), "fetched": int(state.get("fetched", 0)) + 1}


def _key(request: Request) -> str:
    params = "&".join(f"{k}={v}" for k, v in sorted(request.params.items()))
    return f"{request.method} {request.url}?{params}"
