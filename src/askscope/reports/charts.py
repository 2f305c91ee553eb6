"""The report's charts, drawn with matplotlib from the report document.

Each chart is a function of the document only, returns SVG (for the self-contained HTML, where
it is embedded as a data-URI image, which cannot run scripts) or PNG (for papers), and is
deterministic: fixed fonts and hash salt, no dates in the metadata.
"""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from askscope.reports.sections import Chart
from askscope.vocabulary import CATEGORIES

matplotlib.rcParams.update(
    {
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
)

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


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _save(fig: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, bbox_inches="tight", metadata=metadata, dpi=PNG_DPI if fmt == "png" else 150)
    plt.close(fig)
    return buffer.getvalue()


def timeline(doc: dict[str, Any], fmt: str) -> bytes | None:
    points = doc["series"]["timeline"]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(8, 3))
    # matplotlib's date numbers (days): its typed API takes floats
    times = mdates.date2num([_time(p["t"]) for p in points])
    width = float(times[1] - times[0]) * 0.9 if len(times) > 1 else 0.02
    bottom = [0] * len(points)
    for category in ORDER:
        values = [p["counts"].get(category, 0) for p in points]
        if any(values):
            ax.bar(times, values, width=width, bottom=bottom, color=COLOURS[category], label=category.replace("_", " "))
            bottom = [b + v for b, v in zip(bottom, values)]
    host = [p.get("host_posts", 0) for p in points]
    if any(host):
        ax.plot(times, host, color=COLOURS["host"], marker=".", linewidth=1, label="host posts")
    ax.set_ylabel("posts per " + doc["series"]["bucket"])
    ax.legend(ncol=4, frameon=False, loc="upper right")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y %H:%M"))
    fig.autofmt_xdate()
    return _save(fig, fmt)


def hostile_series(
    doc: dict[str, Any], min_posts: int = MIN_POSTS_FOR_SHARE
) -> list[tuple[datetime, float, float, float]]:
    """(time, share, low, high) per time bucket from the first to the last bucket with posts, NaN
    where a bucket has fewer than ``min_posts`` audience posts (empty buckets included), so the
    line breaks there instead of joining distant hours or plotting 0% for one post."""
    points = {p["t"]: p for p in doc["series"]["timeline"]}
    step = _BUCKETS.get(doc["series"].get("bucket", ""), None)
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


def hostile_over_time(doc: dict[str, Any], fmt: str) -> bytes | None:
    series = hostile_series(doc)
    if not series or all(math.isnan(v) for _, v, _, _ in series):
        return None
    fig, ax = plt.subplots(figsize=(8, 2.6))
    times = mdates.date2num([t for t, _, _, _ in series])
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
    ax.axhline(0.5, color="#888888", linewidth=0.8, linestyle="--")
    ax.text(float(times[0]), 0.52, "half of the posts", fontsize=7, color="#666666")
    ax.set_ylim(0, 1)
    ax.set_ylabel("hostile share")
    ax.set_title(
        f"buckets with fewer than {MIN_POSTS_FOR_SHARE} posts are left blank", fontsize=7, loc="left", color="#666666"
    )
    ax.legend(frameon=False)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y %H:%M"))
    fig.autofmt_xdate()
    return _save(fig, fmt)


def latency(doc: dict[str, Any], fmt: str) -> bytes | None:
    bins = doc["series"]["latency_histogram"]
    if not any(b["answers"] for b in bins):
        return None
    fig, ax = plt.subplots(figsize=(6, 2.6))
    labels = [f"{b['from_min']}–{b['to_min']}" if b["to_min"] else f"≥{b['from_min']}" for b in bins]
    ax.bar(range(len(bins)), [b["answers"] for b in bins], color=COLOURS["question_genuine"])
    ax.set_xticks(range(len(bins)), labels, rotation=30, fontsize=7)
    ax.set_xlabel("minutes from question to first host answer")
    ax.set_ylabel("answers")
    return _save(fig, fmt)


def answered(doc: dict[str, Any], fmt: str) -> bytes | None:
    rows = doc["series"]["answers_by_category"]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 2.6))
    names = [r["category"].replace("_", " ") for r in rows]
    answered_counts = [r["answered"] for r in rows]
    unanswered = [r["questions"] - r["answered"] for r in rows]
    ax.barh(names, answered_counts, color=COLOURS["support"], label="answered")
    ax.barh(names, unanswered, left=answered_counts, color=COLOURS["other"], label="unanswered")
    ax.set_xlabel("questions")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False)
    return _save(fig, fmt)


def languages(doc: dict[str, Any], fmt: str) -> bytes | None:
    rows = doc["series"]["languages"][:12]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.bar([r["language"] for r in rows], [r["participants"] for r in rows], color=COLOURS["question_genuine"])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("participants")
    ax.set_xlabel("main language of their posts")
    return _save(fig, fmt)


def depth(doc: dict[str, Any], fmt: str) -> bytes | None:
    rows = doc["series"]["thread_depth"]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.bar([str(r["depth"]) for r in rows], [r["threads"] for r in rows], width=0.6, color=COLOURS["other"])
    ax.set_xlim(-0.75, max(len(rows), 4) - 0.25)  # one depth is one narrow bar, not the full width
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # threads are counted in whole numbers
    ax.set_xlabel("thread depth (longest reply chain)")
    ax.set_ylabel("threads")
    return _save(fig, fmt)


def framing(doc: dict[str, Any], fmt: str) -> bytes | None:
    frames = doc["lenses"].get("framing", {}).get("frames", {})
    if not frames:
        return None
    names = sorted(frames)
    fig, ax = plt.subplots(figsize=(6, 2.6))
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
    ax.set_xticks(list(positions), names)
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

    out = {}
    for chart in registry.charts():
        data = chart.draw(doc, fmt)
        if data is not None:
            out[chart.name] = data
    return out
