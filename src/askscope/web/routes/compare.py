"""``/compare`` and ``/api/compare``: the served campaigns side by side (:mod:`askscope.web.compare`).

Query parameters: ``db`` (repeatable: the stores to compare, every served store by default),
``baseline_store`` (a store to compare the others with, shown as the baseline; else the first)
and ``baseline`` (repeatable, ``METRIC:VALUE`` or ``METRIC:VALUE:LOW:HIGH``: a value the user
supplies, such as a published figure, with its interval).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from askscope.web.compare import HEADLINES, Baseline, Campaign, Comparison, Difference, Stat, compare, parse_baseline
from askscope.web.deps import handle, handles, reading
from askscope.web.templating import NAV, render

router = APIRouter()
if ("/compare", "Compare") not in NAV:
    NAV.append(("/compare", "Compare"))

_CACHE_KEY = "compare.campaign"

DbParam = Annotated[list[str] | None, Query(description="stores to compare (repeatable); all by default")]
BaselineStoreParam = Annotated[
    str | None, Query(description="the store the others are compared with (the first by default)")
]
BaselineParam = Annotated[
    list[str] | None,
    Query(description="a supplied baseline, METRIC:VALUE or METRIC:VALUE:LOW:HIGH (repeatable; shares as fractions)"),
]


def _campaign(request: Request, name: str) -> Campaign:
    """One store's headline numbers, cached until its snapshot changes."""
    from askscope.web.compare import read_campaign

    with reading(request, name) as r:
        target = handle(request, name)
        cached = target.cache.get(_CACHE_KEY)
        if isinstance(cached, Campaign):
            return cached
        campaign = read_campaign(r.con, name, r.tables)
        target.cache[_CACHE_KEY] = campaign
        return campaign


def build(
    request: Request, db: list[str] | None, baseline_store: str | None, baseline: list[str] | None
) -> tuple[Comparison, list[Baseline]]:
    baseline_store = baseline_store or None  # the form's "(the first)" sends an empty value
    baseline = [text for text in baseline or [] if text.strip()]
    names = list(db or handles(request))
    if baseline_store is not None and baseline_store not in names:
        names.append(baseline_store)
    for name in names:
        handle(request, name)  # 404 for an unknown store
    try:
        supplied = [parse_baseline(text) for text in baseline or []]
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    campaigns = [_campaign(request, name) for name in dict.fromkeys(names)]
    return compare(campaigns, baseline_store, supplied), supplied


@router.get("/api/compare", summary="The campaigns side by side: headline numbers, differences and intervals")
def api_compare(
    request: Request, db: DbParam = None, baseline_store: BaselineStoreParam = None, baseline: BaselineParam = None
) -> dict[str, Any]:
    comparison, _ = build(request, db, baseline_store, baseline)
    return comparison.as_dict()


def _is_share(kind: str) -> bool:
    return kind in ("share", "estimate")


def show_stat(stat: Stat | None, kind: str) -> tuple[str, str]:
    """The value and its interval as the page shows them (shares in %, others as numbers)."""
    if stat is None or stat.value is None:
        return "—", ""

    def one(x: float | None) -> str:
        if x is None:
            return "?"
        return f"{x * 100:.1f}%" if _is_share(kind) else f"{x:,.4g}"

    interval = f"[{one(stat.low)}, {one(stat.high)}]" if stat.low is not None or stat.high is not None else ""
    return one(stat.value), interval


def show_difference(diff: Difference | None, kind: str) -> tuple[str, str, str]:
    """A difference (shares in percentage points), its interval, and how it was computed."""
    if diff is None or diff.value is None:
        return "—", "", ""

    def one(x: float) -> str:
        return f"{x * 100:+.1f} pts" if _is_share(kind) else f"{x:+,.4g}"

    interval = f"[{one(diff.low)}, {one(diff.high)}]" if diff.low is not None and diff.high is not None else ""
    return one(diff.value), interval, diff.method


@router.get("/compare", include_in_schema=False)
def compare_page(
    request: Request, db: DbParam = None, baseline_store: BaselineStoreParam = None, baseline: BaselineParam = None
) -> Response:
    comparison, supplied = build(request, db, baseline_store, baseline)
    others = [c for c in comparison.campaigns if c.name != comparison.reference]
    rows = []
    for row in comparison.rows:
        kind = row.headline.kind
        rows.append(
            {
                "title": row.headline.title,
                "key": row.headline.key,
                "cells": [show_stat(row.stats.get(c.name), kind) for c in comparison.campaigns],
                "diffs": [show_difference(row.differences.get(c.name), kind) for c in others],
                "baseline": None
                if row.baseline is None
                else {
                    "value": show_stat(row.baseline.stat(), kind),
                    "diffs": [
                        show_difference(row.baseline_differences.get(c.name), kind) for c in comparison.campaigns
                    ],
                },
            }
        )
    context = {
        "comparison": comparison,
        "reference": next(c for c in comparison.campaigns if c.name == comparison.reference),
        "others": others,
        "rows": rows,
        "supplied": supplied,
        "marked_baseline": request.query_params.get("baseline_store") or None,
        "headlines": HEADLINES,
        "all_stores": list(handles(request)),
        "chosen": [c.name for c in comparison.campaigns],
    }
    return render(request, "compare.html", context)
