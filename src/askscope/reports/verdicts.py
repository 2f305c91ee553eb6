"""Plain-words verdicts, one per lens, whose words follow the 95% intervals, not the points.

A share is "clearly more than half" only when its whole interval is above one half, "clearly
less than half" only when it is wholly below, and "not distinguishable from half" when the
interval holds one half; below (and, mirrored, above) half the words narrow to the band the
interval sits in ("about a quarter", "about a third", "a small minority (under 10%)", ...). A
ratio is "clearly above 1", "clearly below 1" or "not distinguishable from 1". A number that is
missing is "not measurable": no words are made up for it. Every sentence cites, in brackets, the
path in report.json of the number it rests on; a share corrected for classifier error is used
(and cited) when the report has one, the raw share otherwise. The same rules for every host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NOT_MEASURABLE = "not measurable"
# the named fractions a share's interval is described by, below one half (their mirror images
# above it are "nine tenths", "three quarters", "two thirds")
_BELOW = ((0.1, "a tenth"), (0.25, "a quarter"), (1 / 3, "a third"), (0.5, "half"))
_ABOVE = {"a tenth": "nine tenths", "a quarter": "three quarters", "a third": "two thirds", "half": "half"}


def pct(value: float | None) -> str:
    """A share as a percentage: whole percent, one decimal below 1% and above 99% so that a small
    but non-zero share (or interval bound) does not print as 0% (or 100%)."""
    if value is None:
        return "n/a"
    if 0 < value < 0.01 or 0.99 < value < 1:
        return f"{100 * value:.1f}%"
    return f"{100 * value:.0f}%"


def interval(share: dict[str, Any] | None) -> str:
    if not share or share.get("value") is None:
        return "n/a"
    low, high = (list(share.get("ci") or []) + [None, None])[:2]
    if low is None or high is None or pct(low) == pct(high):
        return pct(share["value"])  # no interval, or one that prints as a single value
    return f"{pct(share['value'])} (95% CI {pct(low)}–{pct(high)})"


def _bounds(share: dict[str, Any], floor: float, ceiling: float) -> tuple[float, float]:
    """The interval of a number; a missing bound is as wide as it can be (an unknown interval
    supports no "clearly")."""
    low, high = (list(share.get("ci") or []) + [None, None])[:2]
    return (floor if low is None else float(low)), (ceiling if high is None else float(high))


def _band(low: float, high: float) -> tuple[str, ...]:
    """Where an interval wholly below one half (``high < 0.5``) lies among the named fractions:
    ``("minority",)`` under 10%, ``("about", name)`` around a quarter or a third, ``("less", name)``
    below a fraction, ``("between", lower, upper)`` between two."""
    if high < 0.1:
        return ("minority",)
    if 0.1 <= low <= 0.25 <= high < 1 / 3:
        return ("about", "a quarter")
    if 0.2 <= low <= 1 / 3 <= high:
        return ("about", "a third")
    upper = next(name for bound, name in _BELOW if high < bound)
    lower = [name for bound, name in _BELOW if bound <= low]
    return ("between", lower[-1], upper) if lower else ("less", upper)


def share_words(low: float, high: float) -> str:
    """Words for a share whose 95% interval is [low, high] (see the module's docstring); above one
    half the interval's mirror image below it is described with the mirrored fractions."""
    if high < 0.5:
        band = _band(low, high)
        below: dict[str, Callable[[], str]] = {
            "minority": lambda: "a small minority (under 10%)",
            "about": lambda: f"about {band[1]}",
            "less": lambda: f"clearly less than {band[1]}",
            "between": lambda: f"between {band[1]} and {band[2]}",
        }
        return below[band[0]]()
    if low > 0.5:
        band = _band(round(1 - high, 12), round(1 - low, 12))  # no float noise at the fractions
        above: dict[str, Callable[[], str]] = {
            "minority": lambda: "nearly all (over 90%)",
            "about": lambda: f"about {_ABOVE[band[1]]}",
            "less": lambda: f"clearly more than {_ABOVE[band[1]]}",
            "between": lambda: f"between {_ABOVE[band[2]]} and {_ABOVE[band[1]]}",
        }
        return above[band[0]]()
    return "not distinguishable from half"


def share_phrase(share: dict[str, Any] | None) -> str:
    """The words for a share result (``value``, ``ci``), or "not measurable"."""
    if not share or share.get("value") is None:
        return NOT_MEASURABLE
    return share_words(*_bounds(share, 0.0, 1.0))


def ratio_phrase(ratio: dict[str, Any] | None) -> str:
    """A ratio's interval against 1: "clearly above 1", "clearly below 1", "not distinguishable
    from 1", or "not measurable"."""
    if not ratio or ratio.get("value") is None:
        return NOT_MEASURABLE
    low, high = _bounds(ratio, 0.0, float("inf"))
    if low > 1:
        return "clearly above 1"
    if high < 1:
        return "clearly below 1"
    return "not distinguishable from 1"


def best(share: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The share a verdict rests on, with its path: the validated (prediction-powered, from a
    hand-coded sample) share when there is one, else the corrected share, else the share itself."""
    for key in ("validated", "corrected"):
        better = share.get(key)
        if better and better.get("value") is not None:
            return better, f"{path}.{key}"
    return share, path


def _basis(path: str, share: dict[str, Any]) -> str:
    """The words saying what a share was adjusted with (its ``best`` path tells which)."""
    if path.endswith(".validated"):
        return f" ({share.get('basis') or 'validated against hand-coded posts'})"
    if path.endswith(".corrected"):
        return " (corrected for classifier error)"
    return ""


def _cite(path: str) -> str:
    return f" [{path}]"


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _times(ratio: dict[str, Any]) -> str:
    """``3.21× (95% CI 0.48–7.14)``; a one-sided interval (a bound the bootstrap cannot give: the
    denominator resampled to 0 often enough) says so instead of dropping the interval."""
    low, high = (ratio.get("ci") or [None, None])[:2]
    if low is not None and high is not None:
        bounds = f" (95% CI {low:.2f}–{high:.2f})" if f"{low:.2f}" != f"{high:.2f}" else ""
    elif low is not None:
        bounds = f" (95% CI from {low:.2f}, no upper bound)"
    elif high is not None:
        bounds = f" (95% CI up to {high:.2f})"
    else:
        bounds = ""
    return f"{ratio['value']:.2f}×{bounds}"


def backfire(doc: dict[str, Any]) -> str:
    lens = doc["lenses"]["backfire"]
    volume = lens["volume"]
    n = volume["audience_posts"]
    if not n:
        return "No audience posts were found for this campaign in the window."
    path = "lenses.backfire"
    hostile, hostile_path = best(lens["hostile_share"], f"{path}.hostile_share")
    corrected = _basis(hostile_path, hostile)
    text = (
        f"Of {n:,} posts by {volume['authors']:,} participants{_cite(f'{path}.volume')}, the share that was hostile "
        f"(mockery, abuse or critical questions){corrected} is {share_phrase(hostile)}: "
        f"{interval(hostile)}{_cite(hostile_path)}."
    )
    mockery, mockery_path = best(lens["mockery_share"], f"{path}.mockery_share")
    text += f" Mockery alone: {share_phrase(mockery)}, {interval(mockery)}{_cite(mockery_path)}."
    gap = lens["virality_gap"]["ratio"]
    if gap.get("value") is not None:
        text += (
            f" Hostile posts were reposted {_times(gap)} as often as supportive ones: "
            f"{ratio_phrase(gap)}{_cite(f'{path}.virality_gap.ratio')}."
        )
    else:
        text += f" The virality gap is {NOT_MEASURABLE}{_cite(f'{path}.virality_gap.ratio')}."
    return text


def engagement(doc: dict[str, Any]) -> str:
    lens = doc["lenses"]["engagement"]
    path = "lenses.engagement"
    rate = lens["answer_rate"]
    questions = rate.get("n") or 0
    if not questions:
        return (
            f"No questions addressed to the host were found; the answer rate is {NOT_MEASURABLE}"
            f"{_cite(f'{path}.answer_rate')}."
        )
    shown, rate_path = best(rate, f"{path}.answer_rate")
    corrected = " (corrected for question-detection error)" if rate_path.endswith(".corrected") else ""
    text = (
        f"The host answered {rate['k']:,} of {questions:,} {'question' if questions == 1 else 'questions'}; the share answered{corrected} is "
        f"{share_phrase(shown)}: {interval(shown)}{_cite(rate_path)}."
    )
    hostile = lens["hostile_answer_rate"]
    if hostile.get("n"):
        text += (
            f" Of {hostile['n']:,} critical or mocking {'question' if hostile['n'] == 1 else 'questions'} it "
            f"answered {share_phrase(hostile)}: "
            f"{interval(hostile)}{_cite(f'{path}.hostile_answer_rate')}."
        )
        ratio = lens.get("hostile_to_overall_ratio")
        if ratio and ratio.get("value") is not None:
            text += (
                f" Hostile questions were answered {_times(ratio)} as often as questions overall: "
                f"{ratio_phrase(ratio)}{_cite(f'{path}.hostile_to_overall_ratio')}."
            )
    latency = lens["answer_latency"]
    if latency["answered"]:
        within = latency["within_60_min"]
        text += (
            f" Median time to answer: {_minutes(latency['median_s']['value'])}"
            f"{_cite(f'{path}.answer_latency.median_s')}; answered within an hour: {share_phrase(within)}, "
            f"{interval(within)}{_cite(f'{path}.answer_latency.within_60_min')}."
        )
    share = lens["host_reply_share"]
    if share.get("n"):
        text += (
            f" Of the host's {share['n']:,} {'post' if share['n'] == 1 else 'posts'}, the share that were replies (dialogue rather than broadcast) "
            f"is {share_phrase(share)}: {interval(share)}{_cite(f'{path}.host_reply_share')}."
        )
    size = lens["audience_size"]
    text += f" {size['authors']:,} people took part"
    if size.get("potential_reach"):
        text += f", with up to {size['potential_reach']:,} followers between them"
    return text + f"{_cite(f'{path}.audience_size')}."


def framing(doc: dict[str, Any]) -> str:
    frames = doc["lenses"].get("framing", {}).get("frames", {})
    if not frames:
        return "No frames were declared in the campaign file, so framing was not measured."
    parts = []
    for name, result in sorted(frames.items()):
        path = f"lenses.framing.frames.{name}"
        parts.append(
            f"“{name.replace('_', ' ')}”: host {interval(result['host'])}{_cite(f'{path}.host')}, participants "
            f"{interval(result['participants'])}{_cite(f'{path}.participants')}"
        )
    return "Share of posts using each frame — " + "; ".join(parts) + "."


def authenticity(doc: dict[str, Any]) -> str:
    lens = doc["lenses"].get("authenticity")
    if not lens:
        return "Coordination was not measured (run the authenticity stage)."
    path = "lenses.authenticity.coordinated_share.any"
    share = lens.get("coordinated_share", {}).get("any")
    if not share or share.get("n") in (None, 0):
        return f"There were no campaign posts to test for coordination{_cite(path)}."
    if not lens.get("coordinated_accounts"):
        return (
            "No group of accounts acted together (the same reposts, texts, links or reply targets within seconds) "
            f"more often than chance: 0 of {share['n']:,} campaign posts (95% CI up to {pct(share['ci'][1])})"
            f"{_cite(path)}."
        )
    text = (
        f"{interval(share)} of campaign posts came from {lens['coordinated_accounts']:,} accounts in groups that "
        f"acted together (the same reposts, texts, links or reply targets within seconds) more often than chance: "
        f"{share_phrase(share)}{_cite(path)}."
    )
    without = lens.get("without_coordinated")
    if without:
        w = "lenses.authenticity.without_coordinated"
        text += (
            f" Without them the hostile share is {interval(without['backfire']['hostile_share'])}"
            f"{_cite(f'{w}.backfire.hostile_share')} and the answer rate "
            f"{interval(without['engagement']['answer_rate'])}{_cite(f'{w}.engagement.answer_rate')}."
        )
    return text + " Coordination is not inauthenticity: open mobilisation is coordinated too."


def verdicts(doc: dict[str, Any]) -> dict[str, str]:
    return {
        "backfire": backfire(doc),
        "engagement": engagement(doc),
        "framing": framing(doc),
        "authenticity": authenticity(doc),
    }
