"""Jinja filters and globals of the app's templates: shares, intervals, times and safe links.

Templates are autoescaped; nothing here marks data as safe. :func:`safe_url` keeps only http(s)
URLs, so that a ``javascript:`` or ``data:`` URL planted in a post never becomes a link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from askscope.timefmt import iso


def pct(value: Any, digits: int = 1) -> str:
    """``0.3636`` -> ``36.4%``; an em dash for a missing value."""
    if value is None or not isinstance(value, (int, float)):
        return "—"
    return f"{value * 100:.{digits}f}%"


def ci(share: Any, percent: bool = True) -> str:
    """A share's 95% interval in brackets: ``[15.2%, 64.6%]`` (empty without one)."""
    if not isinstance(share, dict):
        return ""
    bounds = share.get("ci")
    if not isinstance(bounds, list) or len(bounds) != 2 or bounds[0] is None and bounds[1] is None:
        return ""

    def one(x: Any) -> str:
        if x is None:
            return "?"
        return pct(x) if percent else number(x)

    return f"[{one(bounds[0])}, {one(bounds[1])}]"


def number(value: Any) -> str:
    """A count with thousands separators, a float to 3 significant figures."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def when(value: Any) -> str:
    """A time as ``2021-05-18 10:05 UTC``."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "—" if value is None else str(value)


def iso_time(value: Any) -> str:
    return iso(value) or "" if isinstance(value, datetime) else str(value or "")


def safe_url(value: Any) -> str | None:
    """``value`` when it is an absolute http(s) URL with a host, else None (never a link)."""
    if not isinstance(value, str) or any(c in value for c in "\x00\r\n\t "):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def query(params: dict[str, Any] | list[tuple[str, Any]], **changes: Any) -> str:
    """A query string from ``params`` with ``changes`` applied (None removes a key)."""
    items = list(params.items()) if isinstance(params, dict) else list(params)
    pairs = [(k, v) for k, v in items if k not in changes and v not in (None, "")]
    pairs += [(k, v) for k, v in changes.items() if v not in (None, "")]
    return urlencode(pairs, doseq=True)


FILTERS = {"pct": pct, "ci": ci, "number": number, "when": when, "iso": iso_time, "safe_url": safe_url}
GLOBALS = {"query": query}
