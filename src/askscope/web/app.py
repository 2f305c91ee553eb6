"""The ASGI app of ``askscope serve``: :func:`create_app` over one or more stores.

Pages are rendered on the server (Jinja, autoescaped) with a little progressive JavaScript from
``web/static`` (no CDN, no inline script or style: the Content-Security-Policy forbids both).
Every page has a JSON twin under ``/api/`` (OpenAPI at ``/api/openapi.json``, a CSP-safe list of
the endpoints at ``/api/docs``). Routers live in ``web/routes/<name>.py``, each exposing
``router``; :data:`ROUTERS` lists them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from askscope._version import __version__
from askscope.web.deps import StoreHandle, store_names
from askscope.web.security import security_middleware

if TYPE_CHECKING:
    from askscope.live.console import LiveConsole

#: The route modules (``askscope.web.routes.<name>``), each with a ``router``; one line per module.
ROUTERS = [
    "askscope.web.routes.overview",
    "askscope.web.routes.posts",
    "askscope.web.routes.api_docs",
    "askscope.web.routes.compare",
    "askscope.web.routes.coding",
    "askscope.web.routes.accounts",
    "askscope.web.routes.export",
    "askscope.web.routes.live",
]


def create_app(
    stores: list[str],
    *,
    token: str | None = None,
    snapshot_dir: str | os.PathLike[str] | None = None,
    live: LiveConsole | None = None,
    index_on_start: bool = True,
) -> FastAPI:
    """The app serving ``stores`` (paths of askscope stores). ``token``: required on every request
    when given. ``snapshot_dir``: where the stores' snapshots are kept (a temporary folder each by
    default). ``live``: the console of an ``askscope live`` session (its ``/live`` page).
    ``index_on_start``: build each store's explorer table in the background as the app starts
    (pages answer through the direct queries meanwhile)."""
    if not stores:
        raise ValueError("create_app needs at least one store")
    names = store_names(stores)
    handles: dict[str, StoreHandle] = {}
    for i, (name, path) in enumerate(zip(names, stores)):
        folder = Path(snapshot_dir) / f"{i}-{name}" if snapshot_dir is not None else None
        handles[name] = StoreHandle(name, path, folder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if index_on_start:
            for h in handles.values():
                h.start_indexing()  # the explorer tables, built while the first pages are served
        yield
        for h in handles.values():
            h.close()

    app = FastAPI(
        title="askscope",
        version=__version__,
        description="Evidence for public Q&A and hashtag campaigns: the lenses, the posts behind every number.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI needs inline script and a CDN: /api/docs is served by routes/api_docs.py
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.stores = handles
    app.state.token = token
    app.state.live = live
    app.middleware("http")(security_middleware(token))
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    for module in ROUTERS:
        app.include_router(import_module(module).router)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        from askscope.web.templating import render

        return render(request, "error.html", {"status": exc.status_code, "detail": exc.detail}, exc.status_code)

    return app
