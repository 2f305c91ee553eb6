"""The report's charts, drawn with matplotlib from the report document.

Each chart is a function of the document only, returns SVG (for the self-contained HTML, where
it is embedded as a data-URI image, which cannot run scripts) or PNG (for papers), and is
deterministic: fixed fonts and hash salt, no dates in the metadata.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

matplotlib.rcParams.update({
    "svg.hashsalt": "askscope",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

COLOURS = {
    "question_genuine": "#4c78a8", "question_critical": "#f58518", "mockery": "#e45756", "abuse": "#9d1c1c",
    "support": "#54a24b", "other": "#bab0ac", "unlabelled": "#dddddd", "host": "#222222",
}
ORDER = ("question_genuine", "question_critical", "mockery", "abuse", "support", "other", "unlabelled")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _save(fig: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, bbox_inches="tight", metadata=metadata, dpi=150)
    plt.close(fig)
    return buffer.getvalue()


def timeline(doc: dict[str, Any], fmt: str) -> bytes | None:
    points = doc["series"]["timeline"]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(8, 3))
    times = [_time(p["t"]) for p in points]
    width = (times[1] - times[0]) * 0.9 if len(times) > 1 else 0.02
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
    ax.legend(fontsize=7, ncol=4, frameon=False, loc="upper right")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M"))
    fig.autofmt_xdate()
    return _save(fig, fmt)


def hostile_over_time(doc: dict[str, Any], fmt: str) -> bytes | None:
    points = [p for p in doc["series"]["timeline"] if p.get("hostile_share") is not None]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(8, 2.6))
    times = [_time(p["t"]) for p in points]
    ax.fill_between(times, [p["hostile_ci"][0] for p in points], [p["hostile_ci"][1] for p in points],
                    color=COLOURS["mockery"], alpha=0.2, linewidth=0, label="95% interval")
    ax.plot(times, [p["hostile_share"] for p in points], color=COLOURS["mockery"], marker=".", label="hostile share")
    ax.axhline(0.5, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, 1)
    ax.set_ylabel("hostile share")
    ax.legend(fontsize=7, frameon=False)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %H:%M"))
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
    ax.legend(fontsize=7, frameon=False)
    return _save(fig, fmt)


def languages(doc: dict[str, Any], fmt: str) -> bytes | None:
    rows = doc["series"]["languages"][:12]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.bar([r["language"] for r in rows], [r["participants"] for r in rows], color=COLOURS["question_genuine"])
    ax.set_ylabel("participants")
    ax.set_xlabel("language of their posts")
    return _save(fig, fmt)


def depth(doc: dict[str, Any], fmt: str) -> bytes | None:
    rows = doc["series"]["thread_depth"]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.bar([str(r["depth"]) for r in rows], [r["threads"] for r in rows], color=COLOURS["other"])
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
        ax.bar([p + offset for p in positions], values, width=0.4, color=colour, label=who,
               yerr=[lows, highs], capsize=2, error_kw={"linewidth": 0.8})
    ax.set_xticks(list(positions), names)
    ax.set_ylabel("share of posts using the frame")
    ax.legend(fontsize=7, frameon=False)
    return _save(fig, fmt)


CHARTS: dict[str, tuple[str, Callable[[dict[str, Any], str], bytes | None]]] = {
    "timeline": ("Posts over time, by category", timeline),
    "hostile_share": ("Hostile share over time (95% interval)", hostile_over_time),
    "latency": ("Time to the host's first answer", latency),
    "answered": ("Questions answered and unanswered, by category", answered),
    "languages": ("Participants by language", languages),
    "thread_depth": ("Thread depth", depth),
    "framing": ("Frames used by the host and by participants", framing),
}


def render_all(doc: dict[str, Any], fmt: str = "svg") -> dict[str, bytes]:
    out = {}
    for name, (_, draw) in CHARTS.items():
        data = draw(doc, fmt)
        if data is not None:
            out[name] = data
    return out
