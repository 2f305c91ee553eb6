"""Recorded HTTP exchanges (cassettes) from ../shared/data/fixtures: VCR YAML (Mastodon.py,
bskyr) and Betamax JSON (PRAW). Used to extract response bodies for reader fixtures and by the
loopback server that replays them to the collectors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Exchange:
    method: str
    url: str
    status: int
    body: bytes
    request_body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query))

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.request_body or ""))


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("string", "")
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return value or ""


def _headers(value: Any) -> dict[str, str]:
    out = {}
    for name, v in (value or {}).items():
        out[name.lower()] = v[0] if isinstance(v, list) and v else str(v)
    return out


def exchanges(path: str | Path) -> list[Exchange]:
    """The exchanges of one cassette, in recorded order."""
    path = Path(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
    else:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("interactions") or data.get("http_interactions") or []
    out = []
    for item in items:
        request, response = item["request"], item["response"]
        status = response.get("status")
        code = status.get("code") if isinstance(status, dict) else int(status)
        out.append(
            Exchange(
                method=request["method"].upper(),
                url=request["uri"],
                status=int(code),
                body=_text(response.get("body")).encode("utf-8"),
                request_body=_text(request.get("body")),
                headers=_headers(response.get("headers")),
            )
        )
    return out
