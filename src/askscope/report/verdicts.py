"""Plain-words verdicts, one per lens, built from the numbers and their intervals.

The wording follows the interval, not the point estimate alone: "most" only when the whole
interval is above one half, "about half" when it straddles it. The same rules for every host.
"""

from __future__ import annotations

from typing import Any


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
    low, high = (share.get("ci") or [None, None])[:2]
    if low is None or high is None:
        return pct(share["value"])
    return f"{pct(share['value'])} (95% CI {pct(low)}–{pct(high)})"


def _amount(share: dict[str, Any] | None) -> str:
    if not share or share.get("value") is None:
        return "an unknown share"
    low, high = share.get("ci") or [share["value"], share["value"]]
    low = share["value"] if low is None else low
    high = share["value"] if high is None else high
    if low > 0.5:
        return "most"
    if high < 0.5 and low > 0.25:
        return "a large minority"
    if high <= 0.25:
        return "a small share"
    return "about half"


def _best(share: dict[str, Any]) -> dict[str, Any]:
    corrected = share.get("corrected")
    return corrected if corrected and corrected.get("value") is not None else share


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def backfire(doc: dict[str, Any]) -> str:
    lens = doc["lenses"]["backfire"]
    volume = lens["volume"]
    hostile = lens["hostile_share"]
    shares = lens["category_shares"]
    n = volume["audience_posts"]
    if not n:
        return "No audience posts were found for this campaign in the window."
    best = _best(hostile)
    text = (f"Of {n:,} posts by {volume['authors']:,} participants, {interval(hostile)} were hostile "
            f"(mockery, abuse or critical questions)")
    if hostile.get("corrected") and hostile["corrected"].get("value") is not None:
        text += f"; corrected for classifier error, {interval(hostile['corrected'])}"
    text += (f". Mockery: {pct(shares['mockery']['value'])}, abuse: {pct(shares['abuse']['value'])}, "
             f"critical questions: {pct(shares['question_critical']['value'])}, support: {pct(shares['support']['value'])}. "
             f"By the press's yardstick, {_amount(best)} of the response attacked the host.")
    gap = lens["virality_gap"]["ratio"]
    if gap.get("value") is not None:
        text += f" Hostile posts were reposted {gap['value']:.1f}× as often as supportive ones."
    return text


def engagement(doc: dict[str, Any]) -> str:
    lens = doc["lenses"]["engagement"]
    rate = lens["answer_rate"]
    questions = rate.get("n") or 0
    if not questions:
        return "No questions addressed to the host were found; the answer rate cannot be measured."
    hostile = lens["hostile_answer_rate"]
    latency = lens["answer_latency"]
    text = (f"The host answered {rate['k']:,} of {questions:,} questions, {interval(rate)}")
    if rate.get("corrected") and rate["corrected"].get("value") is not None:
        text += f" (corrected for question-detection error: {interval(rate['corrected'])})"
    text += "."
    if hostile.get("n"):
        text += f" Of {hostile['n']:,} critical or mocking questions it answered {interval(hostile)}."
    if latency["answered"]:
        text += (f" Median time to answer: {_minutes(latency['median_s']['value'])}; "
                 f"{pct(latency['within_60_min']['value'])} within an hour.")
    share = lens["host_reply_share"]
    if share.get("n"):
        text += f" {pct(share['value'])} of the host's {share['n']:,} posts were replies (dialogue rather than broadcast)."
    size = lens["audience_size"]
    text += f" {size['authors']:,} people took part"
    if size.get("potential_reach"):
        text += f", with up to {size['potential_reach']:,} followers between them"
    text += "."
    return text


def framing(doc: dict[str, Any]) -> str:
    frames = doc["lenses"].get("framing", {}).get("frames", {})
    if not frames:
        return "No frames were declared in the campaign file, so framing was not measured."
    parts = []
    for name, result in sorted(frames.items()):
        parts.append(f"“{name}”: host {interval(result['host'])}, participants {interval(result['participants'])}")
    return "Share of posts using each frame — " + "; ".join(parts) + "."


def authenticity(doc: dict[str, Any]) -> str:
    lens = doc["lenses"].get("authenticity")
    if not lens:
        return "Coordination was not measured (run the authenticity stage)."
    share = lens.get("coordinated_share", {}).get("any")
    if not share or share.get("n") in (None, 0):
        return "There were no campaign posts to test for coordination."
    if not lens.get("coordinated_accounts"):
        return (f"No account formed a co-action group above the shuffled-time null floor: 0 of {share['n']:,} "
                f"campaign posts (95% CI up to {pct(share['ci'][1])}).")
    text = (f"{interval(share)} of campaign posts came from {lens['coordinated_accounts']:,} accounts in significant "
            "co-action groups.")
    without = lens.get("without_coordinated")
    if without:
        text += (f" Without them the hostile share is {interval(without['backfire']['hostile_share'])} and the answer "
                 f"rate {interval(without['engagement']['answer_rate'])}.")
    return text + " Coordination is not inauthenticity: open mobilisation is coordinated too."


def verdicts(doc: dict[str, Any]) -> dict[str, str]:
    return {"backfire": backfire(doc), "engagement": engagement(doc), "framing": framing(doc),
            "authenticity": authenticity(doc)}
