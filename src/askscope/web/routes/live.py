"""``/live``: the live console of an ``askscope live`` session (issue 14), on
:class:`askscope.live.console.LiveConsole` (``app.state.live``).

* ``/live``: the queue (ranked items, abuse behind a toggle), the pulse and the alerts, rendered on
  the server so that the page reads without script; ``static/live.js`` then keeps it current and
  adds the actions (mark answered, skip, assign, pin/unpin, reopen) under the member's name.
* ``/live/items/{item}``: one item with its thread, the host's answer highlighted (the page the
  queue links to; with script the thread opens in place).
* JSON: ``/api/live/queue``, ``/api/live/pulse``, ``/api/live/alerts``, ``/api/live/items/{item}``,
  ``POST /api/live/items/{item}/actions`` (CSRF token and origin checked as the coding POSTs).
* Item ids are ``platform:post id`` and may hold slashes (a Bluesky post's id is its ``at://``
  URI): the item routes take the rest of the path.
* ``/api/live/events``: server-sent events, ``event: changed`` with ``data: {"version": N}``
  whenever the console's version moves; every open page refetches the queue, pulse and alerts.

The event stream waits in ``console.wait`` (which takes the console's lock, held by the intake
while it writes) on a thread of its own (a capacity limiter per stream), never on the event
loop and never on the thread pool that the synchronous routes share; a wait is abandoned at once
when the page closes or the server cancels the stream.

Without a live console (``askscope serve``) every route here answers 404 with how to start one.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from askscope.vocabulary import HOSTILE
from askscope.web.security import check_csrf
from askscope.web.templating import render

if TYPE_CHECKING:
    from askscope.live.console import LiveConsole

router = APIRouter()

NOT_LIVE = (
    "not a live session: start one with askscope live CAMPAIGN.toml --db DB (askscope serve shows stored campaigns)"
)
STATUSES = ("open", "all", "answered", "skipped")
#: The longest wait for a new version in one call of ``console.wait`` (seconds): a stream sees
#: :func:`stop_streams` this soon.
WAIT_S = 1.0
#: A comment line this often on a quiet stream, so that a dead connection is noticed.
KEEPALIVE_S = 15.0
#: A stream ends after this long and the browser reconnects (EventSource does by itself): a
#: server stopping waits for open responses, so no stream outlives this by much.
STREAM_S = 30.0
#: The browser's reconnection delay after a lost stream (milliseconds, the stream's ``retry:``).
RETRY_MS = 2000
MEMBER_MAX = 80

StatusParam = Annotated[str, Query(description="open (default), all, answered or skipped")]
AbuseParam = Annotated[bool, Query(description="include the items set aside as abuse")]
AssigneeParam = Annotated[str | None, Query(description="only the items assigned to this member")]
BriefParam = Annotated[
    bool,
    Query(description="leave out each item's members, labels and answer (the list; the item's own endpoint has them)"),
]
#: What a brief item leaves out: the page's list shows them only when an item's thread is opened.
HEAVY_FIELDS = ("members", "labels", "answer")
LimitParam = Annotated[
    int | None, Query(ge=1, le=100_000, description="at most this many items, the highest ranked (all by default)")
]
#: How many items the page shows (``/live?limit=N`` for more): the page is drawn again at every
#: change, and a long session's queue holds thousands of items.
PAGE_ITEMS = 200


def console(request: Request) -> LiveConsole:
    """The app's live console, or 404 when the app serves no live session."""
    live: LiveConsole | None = getattr(request.app.state, "live", None)
    if live is None:
        raise HTTPException(status_code=404, detail=NOT_LIVE)
    return live


_STOP_LOCK = threading.Lock()


def _stop_flag(app: Any) -> threading.Event:
    with _STOP_LOCK:
        flag: threading.Event | None = getattr(app.state, "live_streams_stop", None)
        if flag is None:
            flag = app.state.live_streams_stop = threading.Event()
        return flag


def stop_streams(app: Any) -> None:
    """End the app's open event streams (within :data:`WAIT_S`). Call it before stopping the
    server: uvicorn waits for open responses to end before it stops (or cancels them after its
    ``timeout_graceful_shutdown``, with an error logged for each); the pages reconnect to the
    next server by themselves."""
    _stop_flag(app).set()


def duration(seconds: Any) -> str:
    """``754.2`` -> ``12 min 34 s``; ``5400`` -> ``1 h 30 min``; an em dash for none (live.js too)."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds):
        return "—"
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def terms_text(item: dict[str, Any]) -> str:
    """The priority's terms as a tooltip: ``category 3 + reach 0.69 + ... = 4.2`` (live.js too)."""
    terms = item.get("terms") or {}
    parts = [f"{name} {_num(value)}" for name, value in terms.items()]
    return " + ".join(parts) + f" = {_num(item.get('priority'))}" if parts else f"priority {_num(item.get('priority'))}"


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.3g}"


def queue_view(
    live: LiveConsole,
    status: str = "open",
    show_abuse: bool = False,
    assignee: str | None = None,
    limit: int | None = None,
    brief: bool = False,
) -> dict[str, Any]:
    """The queue as ``/api/live/queue`` gives it: the console's version read first (the items are
    at least that new), the ``limit`` highest ranked items (without :data:`HEAVY_FIELDS` when
    ``brief``), their ``total`` and how many abuse items the toggle hides."""
    if status not in STATUSES:
        raise HTTPException(status_code=400, detail=f"status={status!r}: give one of {', '.join(STATUSES)}")
    version = live.version
    every = live.queue(show_abuse=True, status=status, assignee=assignee or None)
    shown = every if show_abuse else [item for item in every if not item.get("abuse")]
    listed = shown if limit is None else shown[:limit]
    return {
        "version": version,
        "status": status,
        "show_abuse": show_abuse,
        "assignee": assignee or None,
        "abuse_hidden": len(every) - len(shown),
        "total": len(shown),
        "limit": limit,
        "brief": brief,
        "items": [_brief(item) for item in listed] if brief else listed,
    }


def _brief(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in HEAVY_FIELDS}


def pulse_view(live: LiveConsole) -> dict[str, Any]:
    version = live.version
    return {"version": version, **live.pulse()}


def alerts_view(live: LiveConsole) -> dict[str, Any]:
    version = live.version
    return {"version": version, "alerts": live.alerts()}


def item_view(live: LiveConsole, item_id: str) -> dict[str, Any]:
    found = live.item(item_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no item {item_id!r} in this live session")
    return found


# -- pages -------------------------------------------------------------------------------------


def _common() -> dict[str, Any]:
    return {"duration": duration, "terms_text": terms_text, "hostile": HOSTILE, "statuses": STATUSES}


@router.get("/live", include_in_schema=False)
def live_page(
    request: Request,
    status: StatusParam = "open",
    abuse: AbuseParam = False,
    assignee: AssigneeParam = None,
    limit: LimitParam = PAGE_ITEMS,
) -> Response:
    live = console(request)
    context = {
        **_common(),
        "queue": queue_view(live, status, abuse, assignee, limit),
        "pulse": pulse_view(live),
        "alerts": alerts_view(live)["alerts"],
        "events_retry_ms": RETRY_MS,
    }
    return render(request, "live.html", context)


@router.get("/live/items/{item_id:path}", include_in_schema=False)
def live_item_page(request: Request, item_id: str) -> Response:
    live = console(request)
    return render(request, "live_item.html", {**_common(), "item": item_view(live, item_id)})


# -- JSON --------------------------------------------------------------------------------------


@router.get("/api/live/queue", summary="The live queue: items ranked by priority (pinned first)")
def api_queue(
    request: Request,
    status: StatusParam = "open",
    abuse: AbuseParam = False,
    assignee: AssigneeParam = None,
    limit: LimitParam = None,
    brief: BriefParam = False,
) -> dict[str, Any]:
    return queue_view(console(request), status, abuse, assignee, limit, brief)


@router.get("/api/live/pulse", summary="The live pulse: answer rate, hostile share, median time to answer, waiting")
def api_pulse(request: Request) -> dict[str, Any]:
    return pulse_view(console(request))


@router.get("/api/live/alerts", summary="The live alerts (bursts, coordinated groups, hostility), newest first")
def api_alerts(request: Request) -> dict[str, Any]:
    return alerts_view(console(request))


@router.get("/api/live/items/{item_id:path}", summary="One queue item with its thread and labels")
def api_item(request: Request, item_id: str) -> dict[str, Any]:
    return item_view(console(request), item_id)


class LiveAction(BaseModel):
    """An action on a queue item, taken by a member of the host's team."""

    action: str = Field("", description="answered, skip, reopen, assign, pin or unpin")
    member: str = Field("", description="the name of the member acting (kept by the page in localStorage)")
    assignee: str | None = Field(None, description="with assign: the member to assign (the acting member when empty)")
    note: str | None = Field(None, description="an optional note, kept in the live_actions log")


@router.post(
    "/api/live/items/{item_id:path}/actions",
    summary="Act on a queue item (send the askscope_csrf cookie's value as X-CSRF-Token and an Origin of the app)",
    dependencies=[Depends(check_csrf)],
)
def api_act(request: Request, item_id: str, body: LiveAction) -> dict[str, Any]:
    live = console(request)
    member = " ".join(body.member.split())
    if not member:
        raise HTTPException(
            status_code=400, detail="enter your name (Your name, at the top of the page) before acting on an item"
        )
    if len(member) > MEMBER_MAX:
        raise HTTPException(status_code=400, detail=f"a member's name has at most {MEMBER_MAX} characters")
    assignee = " ".join((body.assignee or "").split()) or None
    if body.action == "assign" and assignee is None:
        assignee = member
    if assignee is not None and len(assignee) > MEMBER_MAX:
        raise HTTPException(status_code=400, detail=f"a member's name has at most {MEMBER_MAX} characters")
    note = (body.note or "").strip() or None
    try:
        result = live.act(item_id, body.action, member, assignee=assignee, note=note)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return {"version": live.version, "item": result}


async def _events(live: LiveConsole, since: int | None, limit: int | None, stop: threading.Event) -> AsyncIterator[str]:
    """The event stream: ``changed`` at once when the version differs from ``since`` (always
    without it), then at every new version; a comment on a quiet stream; the end after ``limit``
    events, :data:`STREAM_S` seconds or :func:`stop_streams`. The data carries the console's ``instance`` beside its
    version, so that a page reconnecting to a restarted server knows its data is not current."""
    limiter = anyio.CapacityLimiter(1)  # this stream's own thread: not one of the routes' pool

    async def wait(after: int, timeout: float) -> int:
        found: int = await anyio.to_thread.run_sync(live.wait, after, timeout, limiter=limiter, abandon_on_cancel=True)
        return found

    instance = f"{os.getpid()}-{id(live):x}"
    yield f"retry: {RETRY_MS}\n\n"
    start = last = time.monotonic()
    version = await wait(-1, 0.0)
    sent, count = since, 0
    while True:
        now = time.monotonic()
        if version != sent:
            data = json.dumps({"version": version, "instance": instance})
            yield f"id: {version}\nevent: changed\ndata: {data}\n\n"
            sent, last, count = version, now, count + 1
            if limit is not None and count >= limit:
                return
        elif now - last >= KEEPALIVE_S:
            yield ": keep-alive\n\n"
            last = now
        left = STREAM_S - (now - start)
        if left <= 0 or stop.is_set():
            return
        version = await wait(version, min(WAIT_S, left))


@router.get(
    "/api/live/events",
    summary="Server-sent events: 'changed' with the console's version whenever the queue, pulse or alerts change",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": 'event: changed / data: {"version": N}'}},
)
def api_events(
    request: Request,
    since: Annotated[
        int | None, Query(description="the version the client has: no event until the version differs from it")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, description="end the stream after this many events")] = None,
) -> StreamingResponse:
    live = console(request)
    return StreamingResponse(
        _events(live, since, limit, _stop_flag(request.app)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
