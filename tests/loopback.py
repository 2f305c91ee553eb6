"""A loopback HTTP server that replays recorded API responses and injects faults.

Runs in a thread of the test process on 127.0.0.1 (nothing else is ever contacted). A
``routes`` function maps each request to a recorded response; a fault schedule says which
request numbers (1-based, counting every request received) fail and how:

* ``429``: Too Many Requests with ``Retry-After: 0``;
* ``ratelimit``: a normal response saying no requests remain until a reset one second ahead;
* ``500``/``502``/``503``: server errors;
* ``slow``: the response comes after ``slow_seconds`` (longer than the client's timeout);
* ``truncated``: the headers promise the whole body, half is sent, the connection closes;
* ``cut``: half the body is sent as if it were all of it (not JSON);
* ``drop``: the connection closes before any response.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FAULTS = ("429", "ratelimit", "500", "502", "503", "slow", "truncated", "cut", "drop")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


Routes = Callable[[Seen], Reply | None]


class ReplayServer:
    def __init__(
        self,
        routes: Routes,
        faults: dict[int, str] | None = None,
        *,
        slow_seconds: float = 1.0,
        delay: float = 0.0,
        port: int = 0,
    ) -> None:
        self.routes = routes
        self.faults = dict(faults or {})
        self.slow_seconds = slow_seconds
        self.delay = delay
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        try:
            self._respond(handler)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout it was made to hit)

    def _respond(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form = dict(parse_qsl(raw.decode("utf-8", "replace"))) if raw and not raw.startswith(b"{") else {}
        if raw.startswith(b"{"):
            form = {k: str(v) for k, v in json.loads(raw).items()}
        seen = Seen(
            handler.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            form,
            {k.lower(): v for k, v in handler.headers.items()},
        )
        with self.lock:
            self.seen.append(seen)
            number = len(self.seen)
        fault = self.faults.get(number)
        if self.delay:
            time.sleep(self.delay)
        if fault == "drop":
            handler.close_connection = True
            return
        if fault == "slow":
            time.sleep(self.slow_seconds)
        if fault == "429":
            return self._send(handler, Reply(429, b'{"error":"Too Many Requests"}', {"Retry-After": "0"}))
        if fault in ("500", "502", "503"):
            return self._send(handler, Reply(int(fault), b"<html>upstream error</html>", {"Content-Type": "text/html"}))
        reply = self.routes(seen)
        if reply is None:
            reply = Reply(404, b'{"error":"Not Found"}')
        if fault == "ratelimit":
            reply = Reply(
                reply.status,
                reply.body,
                {**reply.headers, "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(time.time()) + 1)},
            )
        if fault == "truncated":
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body[: len(reply.body) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            return
        if fault == "cut":
            reply = Reply(reply.status, reply.body[: len(reply.body) // 2], reply.headers)
        self._send(handler, reply)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)
