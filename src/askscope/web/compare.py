"""Campaigns side by side: each lens's headline numbers from the stored lens results, with their
intervals, and the difference of every campaign from a reference with the difference's interval.

The numbers are read from ``lens_results`` (what the report shows), never recomputed. The
difference of two campaigns on a metric gets the interval its kind allows:

* **shares counted from posts** (``k`` of ``n``, Wilson intervals): Newcombe's hybrid score
  interval of the difference of two independent proportions (Newcombe 1998, method 10), from the
  two Wilson intervals: ``d = p1 − p2``, ``L = d − √((p1 − l1)² + (u2 − p2)²)``,
  ``U = d + √((u1 − p1)² + (p2 − l2)²)``; the same as statsmodels'
  ``confint_proportions_2indep(method="newcomb")``.
* **estimates with an interval but no count** (corrected shares, bootstrap shares): the same
  recovery of the variance from the two intervals (MOVER, Zou & Donner 2008), which Newcombe's
  interval is a case of; it assumes the two campaigns' estimates are independent.
* **medians** whose values the store keeps (answer latencies in ``answers``): a percentile
  bootstrap of the difference of medians, each campaign resampled on its own (seeded).
* anything else (counts, ratios, medians without stored values): the difference, "no interval".

The reference is the first campaign, or the store marked as baseline. A baseline supplied by
the user for one metric (a value, optionally with its interval) adds a row: each campaign minus
it, by MOVER when it has an interval, else against a fixed value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import numpy as np

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054
#: Bootstrap draws for a difference of medians, and their seed.
BOOTSTRAP = 2000
SEED = 0

Kind = Literal["share", "estimate", "median", "count", "ratio"]


@dataclass(frozen=True)
class Headline:
    """A number every campaign has: where it is in the lens results and how to compare it."""

    key: str  #: ``lens.path`` (``backfire.hostile_share.corrected``): the URL and JSON name
    title: str
    kind: Kind
    #: SQL giving the per-item values of a median (one column), when the store keeps them.
    values_sql: str | None = None

    @property
    def lens(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split(".")[1:])


#: The headline numbers of the four lenses, in the order the page shows them.
HEADLINES: tuple[Headline, ...] = (
    Headline("backfire.volume.posts", "Campaign posts", "count"),
    Headline("backfire.volume.authors", "Audience accounts", "count"),
    Headline("backfire.hostile_share", "Hostile share (labels counted)", "share"),
    Headline("backfire.hostile_share.corrected", "Hostile share (corrected for classifier error)", "estimate"),
    Headline("backfire.mockery_share", "Mockery share (labels counted)", "share"),
    Headline("backfire.mockery_share.corrected", "Mockery share (corrected)", "estimate"),
    Headline("backfire.virality_gap.ratio", "Virality gap (reposts hostile / supportive)", "ratio"),
    Headline("engagement.answer_rate", "Answer rate", "share"),
    Headline("engagement.answer_rate.corrected", "Answer rate (question labels corrected)", "estimate"),
    Headline("engagement.hostile_answer_rate", "Hostile questions answered", "share"),
    Headline(
        "engagement.answer_latency.median_s",
        "Median answer latency (s)",
        "median",
        "SELECT latency_s FROM answers WHERE latency_s IS NOT NULL ORDER BY latency_s",
    ),
    Headline("engagement.host_reply_share", "Host posts that are replies", "share"),
    Headline("engagement.reciprocity.all", "Reciprocity of the reply network", "share"),
    Headline("authenticity.coordinated_share.any", "Posts by coordinated accounts", "share"),
)


@dataclass(frozen=True)
class Stat:
    """One campaign's value of a headline number."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    k: int | None = None
    method: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "ci": [self.low, self.high],
            "n": self.n,
            "k": self.k,
            "method": self.method,
        }


@dataclass(frozen=True)
class Difference:
    """``campaign − reference`` with its 95% interval (``low``/``high`` None: no interval)."""

    value: float | None
    low: float | None
    high: float | None
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "ci": [self.low, self.high], "method": self.method}


@dataclass(frozen=True)
class Baseline:
    """A value the user supplies for one metric (e.g. a published figure), optionally with its
    95% interval."""

    key: str
    value: float
    low: float | None = None
    high: float | None = None
    label: str = "baseline"

    def stat(self) -> Stat:
        return Stat(self.value, self.low, self.high, method="supplied")


@dataclass
class Campaign:
    """One store's side of the comparison: its name, campaign title and headline numbers."""

    name: str
    title: str
    stats: dict[str, Stat]
    #: Per-item values of the medians that have them (``Headline.values_sql``).
    values: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Row:
    """One headline across the campaigns."""

    headline: Headline
    stats: dict[str, Stat]  #: by campaign name
    differences: dict[str, Difference]  #: by campaign name (not the reference)
    baseline: Baseline | None = None
    baseline_differences: dict[str, Difference] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.headline.key,
            "title": self.headline.title,
            "kind": self.headline.kind,
            "campaigns": {name: s.as_dict() for name, s in self.stats.items()},
            "differences": {name: d.as_dict() for name, d in self.differences.items()},
        }
        if self.baseline is not None:
            out["baseline"] = {
                "label": self.baseline.label,
                **self.baseline.stat().as_dict(),
                "differences": {name: d.as_dict() for name, d in self.baseline_differences.items()},
            }
        return out


@dataclass
class Comparison:
    """The comparison table: the campaigns, the reference and one row per headline."""

    campaigns: list[Campaign]
    reference: str
    rows: list[Row]

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaigns": [{"name": c.name, "title": c.title} for c in self.campaigns],
            "reference": self.reference,
            "rows": [r.as_dict() for r in self.rows],
        }


# -- intervals ---------------------------------------------------------------------------------


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson's score interval (95%, no continuity correction) of ``k`` successes in ``n``."""
    if n <= 0:
        raise ValueError("a Wilson interval needs n > 0")
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mover(
    first: tuple[float, float, float], second: tuple[float, float, float], method: str = "MOVER (Zou & Donner 2008)"
) -> Difference:
    """``first − second`` from two independent estimates ``(value, low, high)`` and their 95%
    intervals: the method of variance estimates recovery."""
    p1, l1, u1 = first
    p2, l2, u2 = second
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, low, high, method)


def newcombe(k1: int, n1: int, k2: int, n2: int) -> Difference:
    """Newcombe's hybrid score interval (95%) of ``k1/n1 − k2/n2`` (independent samples)."""
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    return mover((k1 / n1, l1, u1), (k2 / n2, l2, u2), "Newcombe (Wilson score)")


def bootstrap_median_difference(
    first: Sequence[float], second: Sequence[float], draws: int = BOOTSTRAP, seed: int = SEED
) -> Difference:
    """``median(first) − median(second)`` with a 95% percentile bootstrap interval, each sample
    resampled with replacement on its own (seeded: the same values give the same interval)."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    d = float(np.median(a) - np.median(b))
    if len(a) < 2 or len(b) < 2:
        return Difference(d, None, None, "no interval (fewer than 2 values)")
    rng = np.random.default_rng(seed)
    ma = np.median(a[rng.integers(0, len(a), size=(draws, len(a)))], axis=1)
    mb = np.median(b[rng.integers(0, len(b), size=(draws, len(b)))], axis=1)
    low, high = np.percentile(ma - mb, [2.5, 97.5])
    return Difference(d, float(low), float(high), f"bootstrap of the stored values ({draws} draws, percentile)")


# -- reading a campaign ------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _count(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def stat_at(results: dict[str, Any], headline: Headline) -> Stat | None:
    """The headline's value in a lens-results document, or None when it has none."""
    node: Any = results.get(headline.lens)
    for part in headline.path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    if isinstance(node, dict):
        bounds = node.get("ci")
        low = high = None
        if isinstance(bounds, list) and len(bounds) == 2:
            low, high = _number(bounds[0]), _number(bounds[1])
        method = node.get("method")
        return Stat(
            _number(node.get("value")),
            low,
            high,
            _count(node.get("n")),
            _count(node.get("k")),
            method if isinstance(method, str) else None,
        )
    number = _number(node)
    return None if number is None else Stat(number)


def campaign_title(con: duckdb.DuckDBPyConnection) -> str | None:
    """The campaign's name from the last successful ``lenses`` run (None if there is none)."""
    try:
        rows = con.execute(
            "SELECT campaign FROM stage_runs WHERE status = 'done' AND stage = 'lenses' ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()
    except duckdb.CatalogException:
        return None
    if not rows or not rows[0][0]:
        return None
    name = json.loads(rows[0][0]).get("name")
    return name if isinstance(name, str) and name else None


def read_campaign(con: duckdb.DuckDBPyConnection, name: str, tables: frozenset[str] | set[str]) -> Campaign:
    """The headline numbers of the store on ``con`` (a read-only cursor). A store that has not
    been analysed gives a campaign without numbers (every cell "—")."""
    results: dict[str, Any] = {}
    if "lens_results" in tables:
        found = con.execute("SELECT results FROM lens_results").fetchall()
        results = json.loads(found[0][0]) if found else {}
    stats: dict[str, Stat] = {}
    values: dict[str, list[float]] = {}
    for headline in HEADLINES:
        stat = stat_at(results, headline)
        if stat is not None:
            stats[headline.key] = stat
        if headline.values_sql is not None and results and "answers" in tables:
            values[headline.key] = [float(v) for (v,) in con.execute(headline.values_sql).fetchall()]
    return Campaign(name, campaign_title(con) or name, stats, values)


# -- comparing ---------------------------------------------------------------------------------


def difference(headline: Headline, campaign: Campaign, reference: Campaign) -> Difference | None:
    """``campaign − reference`` on one headline (None when either lacks the number)."""
    a, b = campaign.stats.get(headline.key), reference.stats.get(headline.key)
    if a is None or b is None or a.value is None or b.value is None:
        return None
    if headline.kind == "share" and a.k is not None and a.n and b.k is not None and b.n:
        return newcombe(a.k, a.n, b.k, b.n)
    if headline.kind in ("share", "estimate") and None not in (a.low, a.high, b.low, b.high):
        return mover((a.value, a.low or 0.0, a.high or 0.0), (b.value, b.low or 0.0, b.high or 0.0))
    if headline.kind == "median" and headline.key in campaign.values and headline.key in reference.values:
        return bootstrap_median_difference(campaign.values[headline.key], reference.values[headline.key])
    return Difference(a.value - b.value, None, None, "no interval")


def against_baseline(headline: Headline, campaign: Campaign, baseline: Baseline) -> Difference | None:
    """``campaign − baseline``: by MOVER when both have intervals, else against a fixed value."""
    a = campaign.stats.get(headline.key)
    if a is None or a.value is None:
        return None
    if baseline.low is not None and baseline.high is not None and a.low is not None and a.high is not None:
        return mover((a.value, a.low, a.high), (baseline.value, baseline.low, baseline.high))
    if a.low is not None and a.high is not None:
        return Difference(
            a.value - baseline.value, a.low - baseline.value, a.high - baseline.value, "against a fixed value"
        )
    return Difference(a.value - baseline.value, None, None, "no interval")


def compare(
    campaigns: Sequence[Campaign], reference: str | None = None, baselines: Sequence[Baseline] = ()
) -> Comparison:
    """Compare ``campaigns`` on every headline: differences from ``reference`` (a campaign's name;
    the first campaign by default) and from the supplied ``baselines``."""
    if not campaigns:
        raise ValueError("nothing to compare")
    by_name = {c.name: c for c in campaigns}
    ref = by_name[reference] if reference is not None else campaigns[0]
    supplied = {b.key: b for b in baselines}
    rows = []
    for headline in HEADLINES:
        stats = {c.name: c.stats[headline.key] for c in campaigns if headline.key in c.stats}
        diffs = {}
        for c in campaigns:
            if c.name == ref.name:
                continue
            found = difference(headline, c, ref)
            if found is not None:
                diffs[c.name] = found
        row = Row(headline, stats, diffs)
        base = supplied.get(headline.key)
        if base is not None:
            row.baseline = base
            row.baseline_differences = {
                c.name: d for c in campaigns if (d := against_baseline(headline, c, base)) is not None
            }
        rows.append(row)
    return Comparison(list(campaigns), ref.name, rows)


def parse_baseline(text: str) -> Baseline:
    """A baseline from a query parameter: ``KEY:VALUE`` or ``KEY:VALUE:LOW:HIGH`` (shares as
    fractions, e.g. ``backfire.hostile_share:0.67:0.6:0.74``). Raises ValueError with the reason."""
    parts = text.strip().split(":")
    keys = {h.key for h in HEADLINES}
    if len(parts) not in (2, 4):
        raise ValueError(f"baseline {text!r}: write METRIC:VALUE or METRIC:VALUE:LOW:HIGH")
    if parts[0] not in keys:
        raise ValueError(f"baseline {text!r}: unknown metric {parts[0]!r}; metrics: " + ", ".join(sorted(keys)))
    try:
        numbers = [float(p) for p in parts[1:]]
    except ValueError:
        raise ValueError(f"baseline {text!r}: the value and bounds must be numbers") from None
    if not all(math.isfinite(x) for x in numbers):
        raise ValueError(f"baseline {text!r}: the value and bounds must be finite numbers")
    if len(numbers) == 3 and not numbers[1] <= numbers[0] <= numbers[2]:
        raise ValueError(f"baseline {text!r}: the interval must hold the value (LOW <= VALUE <= HIGH)")
    return Baseline(parts[0], numbers[0], *(numbers[1:] if len(numbers) == 3 else (None, None)))
