"""The app's Jinja environment: autoescaped templates from ``web/templates`` with the filters of
:mod:`askscope.web.filters`, and :func:`render`, which adds what every page shows (the stores,
the busy banner, the CSRF token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from askscope.web import filters
from askscope.web.security import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.autoescape = True
TEMPLATES.env.filters.update(filters.FILTERS)
TEMPLATES.env.globals.update(filters.GLOBALS)

#: Navigation entries: (path, label). Route modules add theirs (H6: compare, coding, accounts, export).
NAV: list[tuple[str, str]] = [("/", "Overview"), ("/posts", "Posts")]
#: Added to the navigation when the app serves a live session (``askscope live``).
LIVE_NAV: list[tuple[str, str]] = [("/live", "Live")]


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """The page ``template`` with ``context`` and the common parts (stores, banner, nav, CSRF)."""
    from askscope.web.deps import handles

    stores = handles(request)
    db = context.get("db") or request.query_params.get("db") or next(iter(stores))
    handle = stores.get(db)
    state = handle.state if handle is not None else None
    common = {
        "request": request,
        # the live console's page is in the navigation only when the app serves a live session
        "nav": [*NAV, *LIVE_NAV] if getattr(request.app.state, "live", None) is not None else NAV,
        "stores": list(stores),
        "db": db,
        "busy": state is not None and state.busy,
        "taken_at": state.taken_at if state is not None else None,
        "indexing": handle.indexing if handle is not None else None,
        "csrf": csrf_token(request),
    }
    return TEMPLATES.TemplateResponse(request, template, {**common, **context}, status_code=status_code)
