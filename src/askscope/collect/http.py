"""HTTP for the collectors: retries with backoff and jitter, rate-limit headers, typed errors.

One :class:`HttpClient` per collection. Every request is retried on what a long collection meets
(429, 5xx, timeouts, dropped connections, bodies cut short or not JSON) with exponential backoff
and full jitter; a ``Retry-After`` header or a rate-limit reset time is honoured instead when the
server gives one, and a response that says no requests remain waits for the reset before the
next request. Bad credentials (401, and 403 where the platform means it) raise
:class:`CredentialsError` at once: retrying cannot fix them.

Credentials travel only in request headers; error messages and logs name the URL (which never
holds them) and the status, never the headers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec

from askscope._version import __version__
from askscope.errors import AskscopeError

USER_AGENT = f"askscope/{__version__} (research collector; +https://pypi.org/project/askscope/)"
_decoder = msgspec.json.Decoder()


class CollectError(AskscopeError):
    """A collection cannot go on (the API keeps failing, a resource does not exist)."""

    code = "E010"


class CredentialsError(CollectError):
    """The platform refused the credentials (missing, wrong, expired or not allowed)."""

    code = "E011"


@dataclass
class Request:
    """One API request. ``url`` never holds credentials (they go in headers)."""

    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None
    #: A JSON body (sessions); never stored in a checkpoint.
    json: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "params": self.params, "data": self.data}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Request:
        return cls(
            method=value["method"],
            url=value["url"],
            params=dict(value.get("params") or {}),
            data=dict(value["data"]) if value.get("data") is not None else None,
        )

    def full_url(self) -> str:
        return str(httpx.URL(self.url, params=self.params)) if self.params else self.url


@dataclass
class Response:
    """A response that arrived whole and parsed as JSON."""

    status: int
    body: bytes
    value: Any
    url: str
    headers: Mapping[str, str]


@dataclass
class Limits:
    """Retry settings. ``backoff`` is the first wait in seconds (doubling each try, with full
    jitter); no single wait exceeds ``max_wait``; ``tries`` bounds the attempts per request."""

    tries: int = 8
    backoff: float = 1.0
    max_wait: float = 900.0
    timeout: float = 30.0


#: Called for every wait: (seconds, why). The command prints these on stderr.
WaitCallback = Callable[[float, str], None]


class HttpClient:
    """A small retrying JSON client. ``sleep``, ``clock`` and ``rng`` are injectable for tests."""

    def __init__(
        self,
        *,
        platform: str,
        headers: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        auth_hint: str = "",
        on_wait: WaitCallback | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.platform = platform
        self.limits = limits or Limits()
        self.auth_hint = auth_hint
        self.on_wait = on_wait
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random(0)
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        self._client = httpx.Client(timeout=self.limits.timeout, follow_redirects=True, transport=transport)
        self._not_before = 0.0
        #: Retries made, by cause (for the summary and the tests).
        self.retries: dict[str, int] = {}

    def close(self) -> None:
        self._client.close()

    def set_header(self, name: str, value: str) -> None:
        self._headers[name] = value

    def fetch(self, request: Request) -> Response:
        """The JSON response to ``request``, after as many retries as the limits allow."""
        last = ""
        for attempt in range(self.limits.tries):
            self._wait_until(self._not_before, "rate limit: no requests left until the reset")
            try:
                raw = self._client.request(
                    request.method,
                    request.url,
                    params=request.params or None,
                    data=request.data,
                    json=request.json,
                    headers=self._headers,
                )
                body = raw.read()
            except httpx.TimeoutException:
                last = "timed out"
                self._retry("timeout", attempt, None, last)
                continue
            except (httpx.TransportError, httpx.DecodingError) as exc:
                last = f"connection failed ({type(exc).__name__})"
                self._retry("connection", attempt, None, last)
                continue
            status = raw.status_code
            self._note_limits(raw.headers, status)
            if status in (401, 403) and self._is_auth_failure(status, body):
                raise CredentialsError(
                    f"{self.platform}: the API refused the credentials (HTTP {status} for {_path(request)})",
                    self.auth_hint or "check the credentials",
                )
            if status == 429 or status >= 500 or status == 408:
                last = f"HTTP {status}"
                self._retry(f"http_{status}", attempt, self._retry_after(raw.headers), last)
                continue
            if status >= 400:
                raise CollectError(
                    f"{self.platform}: HTTP {status} for {_path(request)}: {_error_text(body)}", _hint_for(status)
                )
            try:
                value = _decoder.decode(body)
            except (msgspec.DecodeError, UnicodeDecodeError):
                last = "the response body was cut short or is not JSON"
                self._retry("truncated", attempt, None, last)
                continue
            return Response(status=status, body=body, value=value, url=request.full_url(), headers=raw.headers)
        raise CollectError(
            f"{self.platform}: {_path(request)} failed {self.limits.tries} times (last: {last})",
            "the API or the network is failing; run the same command again later: it resumes from the checkpoint",
        )

    # --- waiting ----------------------------------------------------------------------------

    def _retry(self, cause: str, attempt: int, server_wait: float | None, why: str) -> None:
        self.retries[cause] = self.retries.get(cause, 0) + 1
        if attempt + 1 >= self.limits.tries:
            return
        if server_wait is not None:
            wait = server_wait
        else:
            wait = self.rng.uniform(0, self.limits.backoff * (2**attempt))  # full jitter
        wait = min(max(wait, 0.0), self.limits.max_wait)
        if self._not_before > self.clock():
            return  # the rate-limit reset decides the wait (see fetch)
        self._wait(wait, f"{why}; retry {attempt + 1} of {self.limits.tries - 1}")

    def _wait(self, seconds: float, why: str) -> None:
        if seconds <= 0:
            return
        if self.on_wait is not None:
            self.on_wait(seconds, why)
        self.sleep(seconds)

    def _wait_until(self, moment: float, why: str) -> None:
        now = self.clock()
        if moment > now:
            self._wait(min(moment - now, self.limits.max_wait), why)

    def _retry_after(self, headers: Mapping[str, str]) -> float | None:
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            try:
                return max(parsedate_to_datetime(value).timestamp() - self.clock(), 0.0)
            except (TypeError, ValueError):
                return None

    def _note_limits(self, headers: Mapping[str, str], status: int) -> None:
        """Remember when the window resets if the server says no requests remain (X:
        ``x-rate-limit-*``, epoch; Bluesky: ``ratelimit-*``, epoch; Mastodon:
        ``x-ratelimit-*``, ISO time; Reddit: ``x-ratelimit-*``, seconds from now)."""
        remaining = _number(
            headers.get("x-rate-limit-remaining")
            or headers.get("ratelimit-remaining")
            or headers.get("x-ratelimit-remaining")
        )
        if remaining is None or (remaining >= 1 and status != 429):
            return
        reset = _reset_time(
            headers.get("x-rate-limit-reset") or headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset"),
            self.clock(),
        )
        if reset is not None:
            self._not_before = max(self._not_before, reset + self.rng.uniform(0, 1))

    def _is_auth_failure(self, status: int, body: bytes) -> bool:
        if status == 401:
            return True
        text = body[:2000].lower()
        # 403 also means "this resource is not for you" (a private subreddit): only a message
        # about tokens or authentication makes it a credentials failure (X's access levels do).
        return any(word in text for word in (b"token", b"credential", b"unauthorized", b"authenticat"))


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _reset_time(value: str | None, now: float) -> float | None:
    """A reset header as an absolute time: epoch seconds, seconds from now, or an ISO time."""
    if value is None:
        return None
    number = _number(value)
    if number is not None:
        return number if number > 1e9 else now + number
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _path(request: Request) -> str:
    return httpx.URL(request.url).path


def _error_text(body: bytes) -> str:
    try:
        value = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace").strip() or "(no message)"
    if isinstance(value, dict):
        for key in ("detail", "message", "error_description", "error", "title"):
            text = value.get(key)
            if isinstance(text, str):
                return text[:300]
    return str(value)[:200]


def _hint_for(status: int) -> str:
    if status == 404:
        return "check the id, hashtag or URL given; the post may have been deleted"
    if status == 403:
        return "the account these credentials belong to may not have access to this endpoint"
    return "check the command's arguments (askscope collect PLATFORM --help)"
