"""The web app's security: the access token, the response headers and the CSRF check.

* **Token**: when the app has one (always when it listens on a non-loopback address), a request
  must carry it: ``?token=T`` once (the app then sets an HttpOnly cookie and redirects to the same
  URL without it), the cookie, or ``Authorization: Bearer T``. Anything else is 401.
* **Headers**: every response carries :data:`HEADERS` (a Content-Security-Policy that allows no
  inline script or style and no other origin, ``nosniff``, ``Referrer-Policy: same-origin``).
* **CSRF**: state-changing requests (POST, PUT, PATCH, DELETE) go through :func:`check_csrf`: the
  ``Origin`` (or ``Referer``) must be this host, and the form field ``csrf_token`` or the header
  ``X-CSRF-Token`` must equal the ``askscope_csrf`` cookie (a double-submit cookie, set on the first
  response). Templates put :func:`csrf_token` in a hidden field.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from fastapi import HTTPException, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: under no-referrer Chromium sends "Origin: null" with a form POST,
    # which the origin check must refuse; same-origin still sends nothing to other sites
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
TOKEN_COOKIE = "askscope_token"
CSRF_COOKIE = "askscope_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def new_token() -> str:
    """A random access token (URL-safe, 128 bits)."""
    return secrets.token_urlsafe(16)


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def presented_token(request: Request) -> str | None:
    """The token a request carries: query parameter, cookie or bearer header."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (the cookie's value, or the one the response will set)."""
    return str(request.state.csrf)


async def check_csrf(request: Request) -> None:
    """FastAPI dependency for state-changing routes: same origin and a matching CSRF token, or 403."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or urlsplit(origin).netloc != host:
        raise HTTPException(status_code=403, detail="cross-origin request refused")
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not _same(sent, cookie):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token: reload the page and try again")


def security_middleware(
    token: str | None,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """The HTTP middleware: token check, CSRF cookie, security headers on every response."""

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response: Response
        cookie = request.cookies.get(CSRF_COOKIE)
        request.state.csrf = cookie or secrets.token_urlsafe(24)
        if token is not None and not _same(presented_token(request), token):
            response = PlainTextResponse(
                "401 Unauthorized: this askscope server needs its token (open the URL it printed, with ?token=...)",
                status_code=401,
            )
        elif token is not None and "token" in request.query_params and request.method == "GET":
            # trade the token in the URL for a cookie, so that it leaves the address bar and history
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            url = request.url.path + ("?" + urlencode(rest) if rest else "")
            response = RedirectResponse(url, status_code=303)
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        else:
            response = await call_next(request)
        if cookie is None:
            response.set_cookie(CSRF_COOKIE, request.state.csrf, httponly=False, samesite="strict")
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return middleware
