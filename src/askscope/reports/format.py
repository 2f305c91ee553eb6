"""Formatting shared by the report's sections: numbers, intervals, durations and times as text,
Markdown escaping, and the Jinja environment of the HTML (autoescaping every value).

A missing number is "not measurable" (never ``None`` or ``n/a–n/a``); an interval whose bounds
print the same is left out (the value alone says it); times are shown in the campaign's time
zone with the year and the zone's name ("15 Dec 2014 14:20 AEDT")."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, select_autoescape

from askscope.reports.verdicts import interval, pct

__all__ = [
    "NOT_MEASURABLE",
    "ci",
    "ci_minutes",
    "corrected",
    "env",
    "interval",
    "md_escape",
    "minutes",
    "num",
    "pct",
    "plural",
    "share",
    "when",
    "zone",
]

#: What a missing number is shown as.
NOT_MEASURABLE = "not measurable"


def num(value: Any, digits: int = 2) -> str:
    """A number with thousands separators (floats to ``digits`` places); "not measurable" when
    missing."""
    if value is None:
        return NOT_MEASURABLE
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return str(value)


def minutes(seconds: Any) -> str:
    """A duration in minutes, or hours from one hour on; "not measurable" when missing."""
    if seconds is None:
        return NOT_MEASURABLE
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _span(low: str, high: str) -> str:
    """``low–high``, or "" when both bounds print the same (a degenerate interval)."""
    return "" if low == high else f"{low}–{high}"


def ci(share: Any, percent: bool = True) -> str:
    """The 95% interval of a share (or, with ``percent=False``, of a number) as ``low–high``;
    "" without one or when its bounds print the same."""
    if not share or not isinstance(share, dict) or not share.get("ci"):
        return ""
    low, high = (list(share["ci"]) + [None, None])[:2]
    if low is None or high is None:
        return ""
    return _span(pct(low), pct(high)) if percent else _span(num(low), num(high))


def ci_minutes(share: Any) -> str:
    """The 95% interval of a duration in seconds, as durations; "" as :func:`ci`."""
    if not share or not isinstance(share, dict) or not share.get("ci"):
        return ""
    low, high = (list(share["ci"]) + [None, None])[:2]
    if low is None or high is None:
        return ""
    return _span(minutes(low), minutes(high))


def share(value: Any) -> str:
    """A share as a percentage, "not measurable" when missing."""
    return NOT_MEASURABLE if value is None else pct(value)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the word, singular for one: "1 repost", "2 reposts"."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def zone(doc: dict[str, Any]) -> ZoneInfo:
    """The campaign's time zone (``timezone`` in the campaign file; UTC by default and for a
    store analysed before the key existed)."""
    name = (doc.get("campaign") or {}).get("timezone") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def when(value: Any, tz: ZoneInfo) -> str:
    """An ISO time (or datetime) in zone ``tz`` with the year and the zone's abbreviation:
    "15 Dec 2014 14:20 AEDT"; "" when missing."""
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %Y %H:%M} {local.tzname()}"


def corrected(share: Any) -> str:
    """The share corrected for classifier error with its interval, ``—`` without one."""
    value = share.get("corrected") if isinstance(share, dict) else None
    if not value or value.get("value") is None:
        return "—"
    return interval(value)


def md_escape(text: Any) -> str:
    """Text for a Markdown line or table cell: one line, no markup (post texts are untrusted)."""
    if text is None:
        return ""
    out = str(text).replace("\n", " ")
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out


#: Autoescaping on: every value a template prints is escaped.
env = Environment(
    loader=PackageLoader("askscope.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals.update(pct=pct, ci=ci, corrected=corrected, fmt_num=num, minutes=minutes, interval=interval)
