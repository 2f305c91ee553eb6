"""Formatting shared by the report's sections: numbers, intervals and durations as text,
Markdown escaping, and the Jinja environment of the HTML (autoescaping every value)."""

from __future__ import annotations

import math
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from askscope.reports.verdicts import interval, pct

__all__ = ["ci", "corrected", "env", "interval", "md_escape", "minutes", "num", "pct"]


def num(value: Any, digits: int = 2) -> str:
    """A number with thousands separators (floats to ``digits`` places); ``n/a`` when missing."""
    if value is None:
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return str(value)


def minutes(seconds: Any) -> str:
    """A duration in minutes, or hours from one hour on."""
    if seconds is None:
        return "n/a"
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def ci(share: Any, percent: bool = True) -> str:
    """The 95% interval of a share (or, with ``percent=False``, of a number) as ``low–high``."""
    if not share or not isinstance(share, dict) or not share.get("ci") or share["ci"][0] is None:
        return ""
    low, high = share["ci"][:2]
    return f"{pct(low)}–{pct(high)}" if percent else f"{num(low)}–{num(high)}"


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
