"""The report's charts, drawn with matplotlib from the report document.

Each chart is a function of the document only (the series the lenses stored: the report computes
nothing), returns SVG (for the self-contained HTML, where it is embedded as a data-URI image,
which cannot run scripts) or PNG (for papers), and is deterministic: fixed fonts and hash salt,
no dates in the metadata.

No global side effect: figures are :class:`matplotlib.figure.Figure` objects saved through their
own canvas (never ``pyplot``, never ``matplotlib.use``), and the style is applied with
``matplotlib.rc_context`` around each chart, so importing or drawing leaves the caller's
backend and settings as they were.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.dates as mdates
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from askscope.reports.format import zone
from askscope.reports.glossary import category_label
from askscope.reports.sections import Chart
from askscope.vocabulary import CATEGORIES

if TYPE_CHECKING:  # pragma: no cover - types only (matplotlib.typing is recent)
    from matplotlib.typing import RcKeyType

STYLE: dict[RcKeyType, Any] = {
    "svg.hashsalt": "askscope",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "legend.fontsize": 8,
}

#: Resolution of PNG charts (for papers); SVG is resolution-free.
PNG_DPI = 300
#: A time bucket with fewer audience posts than this has no hostile share drawn: a share of 1-3
#: posts (0% or 100%) says nothing and would swing the line.
MIN_POSTS_FOR_SHARE = 10
_BUCKETS = {
    "10 minutes": timedelta(minutes=10),
    "1 hour": timedelta(hours=1),
    "6 hours": timedelta(hours=6),
    "1 day": timedelta(days=1),
}

COLOURS = {
    "question_genuine": "#4c78a8",
    "question_critical": "#f58518",
    "mockery": "#e45756",
    "abuse": "#9d1c1c",
    "support": "#54a24b",
    "other": "#bab0ac",
    "unlabelled": "#dddddd",
    "host": "#222222",
}
ORDER = (*CATEGORIES, "unlabelled")


#: Language codes the charts spell out ("und" is the language identifier's "undetermined").
LANGUAGE_NAMES = {"und": "undetermined"}

Draw = Callable[[dict[str, Any], str], bytes | None]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _dates(values: list[datetime]) -> Any:
    """matplotlib's date numbers (days) for ``values``: its typed API takes floats."""
    return mdates.date2num(values)  # type: ignore[no-untyped-call]


def _date_axis(fig: Figure, ax: Any, doc: dict[str, Any]) -> None:
    """Dates on the x axis in the campaign's time zone, with the year, the zone named below."""
    tz = zone(doc)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(tz=tz))  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y %H:%M", tz=tz))  # type: ignore[no-untyped-call]
    ax.set_xlabel(f"time ({tz.key})")
    fig.autofmt_xdate()


def _styled(draw: Draw) -> Draw:
    """Draw (and save) the chart under askscope's style, restoring the caller's settings after."""

    @functools.wraps(draw)
    def styled(doc: dict[str, Any], fmt: str) -> bytes | None:
        with matplotlib.rc_context(STYLE):
            return draw(doc, fmt)

    return styled


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def _save(fig: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, bbox_inches="tight", metadata=metadata, dpi=PNG_DPI if fmt == "png" else 150)
    return buffer.getvalue()


def _lens(doc: dict[str, Any], name: str) -> dict[str, Any]:
    lens: dict[str, Any] = (doc.get("lenses") or {}).get(name) or {}
    return lens


def _timeline(doc: dict[str, Any]) -> dict[str, Any]:
    """The backfire lens's timeline: ``bucket`` and ``points`` (none without the lens)."""
    timeline: dict[str, Any] = _lens(doc, "backfire").get("timeline") or {"bucket": "", "points": []}
    return timeline


@_styled
def timeline(doc: dict[str, Any], fmt: str) -> bytes | None:
    series = _timeline(doc)
    points = series["points"]
    if not points:
        return None
    fig, ax = _figure(8, 3)
    times = _dates([_time(p["t"]) for p in points])
    width = float(times[1] - times[0]) * 0.9 if len(times) > 1 else 0.02
    bottom = [0] * len(points)
    for category in ORDER:
        values = [p["counts"].get(category, 0) for p in points]
        if any(values):
            ax.bar(times, values, width=width, bottom=bottom, color=COLOURS[category], label=category_label(category))
            bottom = [b + v for b, v in zip(bottom, values)]
    host = [p.get("host_posts", 0) for p in points]
    if any(host):
        # markers only: a line would cross the hours missing from the series as if counted
        ax.plot(times, host, color=COLOURS["host"], marker="o", markersize=3, linestyle="none", label="host posts")
    ax.set_ylabel("posts per " + series["bucket"])
    ax.legend(ncol=4, frameon=False, loc="upper right")
    _date_axis(fig, ax, doc)
    return _save(fig, fmt)


def hostile_series(
    doc: dict[str, Any], min_posts: int = MIN_POSTS_FOR_SHARE
) -> list[tuple[datetime, float, float, float]]:
    """(time, share, low, high) per time bucket from the first to the last bucket with posts, NaN
    where a bucket has fewer than ``min_posts`` audience posts (empty buckets included), so the
    line breaks there instead of joining distant hours or plotting 0% for one post."""
    series = _timeline(doc)
    points = {p["t"]: p for p in series["points"]}
    step = _BUCKETS.get(series["bucket"], None)
    times = sorted(_time(t) for t in points)
    if not times:
        return []
    if step is not None:
        filled, t = [], times[0]
        while t <= times[-1]:
            filled.append(t)
            t += step
        times = sorted(set(filled) | set(times))
    nan = math.nan
    out = []
    for t in times:
        p = points.get(t.isoformat().replace("+00:00", "Z")) or points.get(t.isoformat())
        if p is None or p.get("hostile_share") is None or (p.get("posts") or 0) < min_posts:
            out.append((t, nan, nan, nan))
        else:
            out.append((t, p["hostile_share"], p["hostile_ci"][0], p["hostile_ci"][1]))
    return out


def series_bucket(doc: dict[str, Any]) -> str:
    """The timeline's bucket ("1 hour", "10 minutes"), "time" when unknown."""
    return str(_timeline(doc).get("bucket") or "time")


@_styled
def hostile_over_time(doc: dict[str, Any], fmt: str) -> bytes | None:
    series = hostile_series(doc)
    if not series or all(math.isnan(v) for _, v, _, _ in series):
        return None
    fig, ax = _figure(8, 2.6)
    times = _dates([t for t, _, _, _ in series])
    ax.fill_between(
        times,
        [lo for _, _, lo, _ in series],
        [hi for _, _, _, hi in series],
        color=COLOURS["mockery"],
        alpha=0.2,
        linewidth=0,
        label="95% interval",
    )
    ax.plot(times, [v for _, v, _, _ in series], color=COLOURS["mockery"], marker=".", label="hostile share")
    ax.axhline(0.5, color="#888888", linewidth=0.8, linestyle="--", label="half of the posts")
    # the whole span, gaps included: a period without enough posts shows as a gap, not cut off
    step = float(times[1] - times[0]) if len(times) > 1 else 1 / 24
    ax.set_xlim(float(times[0]) - step / 2, float(times[-1]) + step / 2)
    ax.set_ylim(0, 1)
    ax.set_ylabel("hostile share")
    ax.set_title(
        f"periods of {series_bucket(doc)} with fewer than {MIN_POSTS_FOR_SHARE} participants' posts are gaps",
        fontsize=7,
        loc="left",
        color="#666666",
    )
    ax.legend(frameon=False, loc="upper right")
    _date_axis(fig, ax, doc)
    return _save(fig, fmt)


@_styled
def latency(doc: dict[str, Any], fmt: str) -> bytes | None:
    bins = _lens(doc, "engagement").get("latency_histogram") or []
    if not any(b["answers"] for b in bins):
        return None
    fig, ax = _figure(6, 2.6)
    labels = [f"{b['from_min']}–{b['to_min']}" if b["to_min"] else f"≥{b['from_min']}" for b in bins]
    ax.bar(range(len(bins)), [b["answers"] for b in bins], color=COLOURS["question_genuine"])
    ax.set_xticks(range(len(bins)), labels, rotation=30, fontsize=7)
    ax.set_xlabel("minutes from question to first host answer")
    ax.set_ylabel("answers")
    return _save(fig, fmt)


@_styled
def answered(doc: dict[str, Any], fmt: str) -> bytes | None:
    # the engagement lens's answer rate per category: k answered of n questions
    rows = sorted((_lens(doc, "engagement").get("by_category") or {}).items())
    if not rows:
        return None
    fig, ax = _figure(6, 2.6)
    names = [category_label(category) for category, _ in rows]
    answered_counts = [share["k"] for _, share in rows]
    unanswered = [share["n"] - share["k"] for _, share in rows]
    ax.barh(names, answered_counts, color=COLOURS["support"], label="answered")
    ax.barh(names, unanswered, left=answered_counts, color=COLOURS["other"], label="unanswered")
    ax.set_xlabel("questions")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False)
    return _save(fig, fmt)


@_styled
def languages(doc: dict[str, Any], fmt: str) -> bytes | None:
    rows = (_lens(doc, "engagement").get("participants_by_language") or [])[:12]
    if not rows:
        return None
    fig, ax = _figure(6, 2.6)
    names = [LANGUAGE_NAMES.get(r["language"], r["language"]) for r in rows]
    ax.bar(names, [r["participants"] for r in rows], color=COLOURS["question_genuine"])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("participants")
    ax.set_xlabel("main language of their posts")
    return _save(fig, fmt)


@_styled
def depth(doc: dict[str, Any], fmt: str) -> bytes | None:
    rows = (_lens(doc, "engagement").get("dialogue_depth") or {}).get("histogram") or []
    if not rows:
        return None
    fig, ax = _figure(6, 2.6)
    ax.bar([str(r["depth"]) for r in rows], [r["threads"] for r in rows], width=0.6, color=COLOURS["other"])
    ax.set_xlim(-0.75, max(len(rows), 4) - 0.25)  # one depth is one narrow bar, not the full width
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # threads are counted in whole numbers
    ax.set_xlabel("thread depth (longest reply chain)")
    ax.set_ylabel("threads")
    return _save(fig, fmt)


@_styled
def framing(doc: dict[str, Any], fmt: str) -> bytes | None:
    frames = _lens(doc, "framing").get("frames") or {}
    if not frames:
        return None
    names = sorted(frames)
    fig, ax = _figure(6, 2.6)
    positions = range(len(names))
    for offset, who, colour in ((-0.2, "host", COLOURS["host"]), (0.2, "participants", COLOURS["question_genuine"])):
        values = [frames[n][who]["value"] or 0 for n in names]
        lows = [v - (frames[n][who]["ci"][0] or 0) for v, n in zip(values, names)]
        highs = [(frames[n][who]["ci"][1] or 0) - v for v, n in zip(values, names)]
        ax.bar(
            [p + offset for p in positions],
            values,
            width=0.4,
            color=colour,
            label=who,
            yerr=[lows, highs],
            capsize=2,
            error_kw={"linewidth": 0.8},
        )
    ax.set_xticks(list(positions), [n.replace("_", " ") for n in names])
    ax.set_ylabel("share of posts using the frame")
    ax.legend(frameon=False)
    return _save(fig, fmt)


CHARTS = [
    Chart("timeline", "Posts over time, by category", 10, timeline),
    Chart("hostile_share", "Hostile share over time (95% interval)", 20, hostile_over_time),
    Chart("latency", "Time to the host's first answer", 30, latency),
    Chart("answered", "Questions answered and unanswered, by category", 40, answered),
    Chart("languages", "Participants by language", 50, languages),
    Chart("thread_depth", "Thread depth", 60, depth),
    Chart("framing", "Frames used by the host and by participants", 70, framing),
]


def render_all(doc: dict[str, Any], fmt: str = "svg") -> dict[str, bytes]:
    """Every registered chart (built-ins and plugins) that has data, by name."""
    from askscope import registry

    out: dict[str, bytes] = {}
    for chart in registry.charts():
        data = chart.draw(doc, fmt)
        if data is not None:
            out[chart.name] = data
    return out


def render_one(doc: dict[str, Any], name: str, fmt: str = "svg") -> tuple[str, bytes] | None:
    """The registered chart ``name`` as (title, image), or ``None`` when it is not registered or
    has no data."""
    from askscope import registry

    chart = next((c for c in registry.charts() if c.name == name), None)
    if chart is None:
        return None
    data = chart.draw(doc, fmt)
    return None if data is None else (chart.title, data)
