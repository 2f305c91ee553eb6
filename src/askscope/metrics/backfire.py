"""Lens 1, backfire: what the press counted (METRICS.md).

Shares of discourse categories are taken over the audience's posts of P (P without the hosts'
own posts: they measure the response to the host) *(ours: METRICS.md leaves the host's posts in
P; counting them would dilute the audience's shares with the host's answers)*.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from askscope.metrics import stats
from askscope.metrics.common import AUDIENCE_SQL, CATEGORIES, HOSTILE, LensInput

ROLLING = timedelta(hours=1)
BACKLASH_MIN_POSTS = 10


def audience_table(inp: LensInput) -> pa.Table:
    con = inp.store.con
    relation = con.sql(AUDIENCE_SQL.format(filter=inp.authors_filter("p")))
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def _category_shares(inp: LensInput, categories: list[str | None]) -> dict[str, Any]:
    n = len(categories)
    counts = {c: sum(1 for x in categories if x == c) for c in CATEGORIES}
    out: dict[str, Any] = {}
    confusion = inp.confusion("discourse")
    matrix_corrected = {}
    if confusion and n:
        matrix_corrected = stats.corrected_shares_matrix(counts, list(confusion["labels"]), confusion["matrix"],
                                                         seed=inp.seed, name="category_shares")
    for category in CATEGORIES:
        share = stats.wilson(counts[category], n)
        corrected = matrix_corrected.get(category)
        if corrected is None:
            # Only the discourse labels' own error rates can correct their shares: the rule's
            # decisions are not any single task's, so another task's rates would mislead.
            rate = inp.rate("discourse", category)
            corrected = stats.corrected_share(counts[category], n, rate, seed=inp.seed, name=f"share:{category}")
        share["corrected"] = corrected
        out[category] = share
    return out


def _hostile(inp: LensInput, categories: list[str | None], shares: dict[str, Any]) -> dict[str, Any]:
    n = len(categories)
    k = sum(1 for c in categories if c in HOSTILE)
    share = stats.wilson(k, n)
    confusion = inp.confusion("discourse")
    if confusion and n:
        # the union of hostile categories, corrected by inverting the full confusion matrix
        labels = list(confusion["labels"])
        counts = {c: sum(1 for x in categories if x == c) for c in labels}
        matrix = np.asarray(confusion["matrix"], dtype=float)
        matrix = matrix / matrix.sum(axis=1, keepdims=True)
        observed = np.asarray([counts[c] / n for c in labels])
        hostile_idx = [labels.index(c) for c in HOSTILE if c in labels]

        def solve(p: np.ndarray) -> float:
            pi, *_ = np.linalg.lstsq(matrix.T, p, rcond=None)
            pi = np.clip(pi, 0, None)
            return float(pi[hostile_idx].sum() / pi.sum()) if pi.sum() > 0 else float("nan")

        rng = stats.rng_for(inp.seed, "hostile:matrix")
        draws = np.array([solve(d / n) for d in rng.multinomial(n, observed, size=stats.BOOTSTRAP)])
        share["corrected"] = {"value": stats._round(solve(observed)), "ci": stats._interval(draws), "n": n,
                              "method": "adjusted classify-and-count, confusion-matrix inversion, bootstrap"}
    else:
        parts = [shares[c]["corrected"] for c in HOSTILE]
        if all(p is not None and p["value"] is not None for p in parts):
            # sum of per-category corrected shares; interval by adding the half-widths (conservative)
            value = min(1.0, sum(p["value"] for p in parts))
            low = max(0.0, value - sum(p["value"] - p["ci"][0] for p in parts))
            high = min(1.0, value + sum(p["ci"][1] - p["value"] for p in parts))
            share["corrected"] = {"value": stats._round(value), "ci": [stats._round(low), stats._round(high)],
                                  "n": n, "method": "sum of per-category adjusted shares (conservative interval)"}
        else:
            share["corrected"] = None
    return share


def _volume(inp: LensInput, table: pa.Table) -> dict[str, Any]:
    con = inp.store.con
    p_all, hosts_in_p = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE relation = 'host') FROM relations WHERE in_campaign").fetchall()[0]
    reposts = con.execute("SELECT count(*) FROM relations WHERE relation = 'repost' AND in_window "
                          "AND amplifies IS NOT NULL").fetchall()[0][0]
    authors = len(set(table.column("author_id").to_pylist()))
    hours = None
    if inp.window_start and inp.window_end:
        hours = max((inp.window_end - inp.window_start).total_seconds() / 3600.0, 1 / 60)
    peak = con.execute(
        "SELECT time_bucket(INTERVAL 1 HOUR, created_at) AS hour, count(*) AS n FROM relations "
        "WHERE in_campaign GROUP BY 1 ORDER BY n DESC, hour LIMIT 1").fetchall()
    return {
        "posts": int(p_all),
        "audience_posts": table.num_rows,
        "host_posts": int(hosts_in_p),
        "authors": authors,
        "reposts": int(reposts),
        "hours": stats._round(hours) if hours else None,
        "posts_per_hour": stats._round(p_all / hours) if hours else None,
        "peak_hour": {"start": _iso(peak[0][0]), "posts": int(peak[0][1])} if peak else None,
    }


def _virality(inp: LensInput, categories: list[str | None], reposts: list[int]) -> dict[str, Any]:
    hostile = [r for c, r in zip(categories, reposts) if c in HOSTILE]
    support = [r for c, r in zip(categories, reposts) if c == "support"]
    weighted_in = [(1 + r) if c in HOSTILE else 0 for c, r in zip(categories, reposts)]
    weights = [1 + r for r in reposts]
    return {
        "mean_reposts_hostile": stats.mean(hostile, seed=inp.seed, name="reposts:hostile"),
        "mean_reposts_supportive": stats.mean(support, seed=inp.seed, name="reposts:support"),
        "ratio": stats.ratio_of_means(hostile, support, seed=inp.seed, name="virality_gap"),
        "repost_weighted_hostile_share": stats.weighted_share(weighted_in, weights, seed=inp.seed,
                                                              name="repost_weighted_hostile"),
    }


def _host_ratio(inp: LensInput) -> dict[str, Any]:
    rows = inp.store.con.execute(
        "SELECT coalesce(p.reply_count, 0), coalesce(p.like_count, 0) + coalesce(p.repost_count, 0) "
        "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "WHERE r.in_campaign AND r.relation = 'host' AND p.reply_count IS NOT NULL ORDER BY p.id").fetchall()
    ratios = []
    for replies, endorsements in rows:
        if endorsements > 0:
            ratios.append(replies / endorsements)
        elif replies > 0:
            ratios.append(float("inf"))
    above = sum(1 for r in ratios if r > 1)
    return {
        "host_posts": len(rows),
        "with_engagement": len(ratios),
        "median": stats.quantile(ratios, 0.5),
        "share_above_1": stats.wilson(above, len(ratios)),
    }


def _capture(inp: LensInput, table: pa.Table, categories: list[str | None]) -> dict[str, Any]:
    relations = table.column("relation").to_pylist()
    k = sum(1 for r, c in zip(relations, categories) if r == "hashtag_only" and c != "support")
    tag_posts, host_tag_posts = inp.store.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE relation = 'host') FROM relations WHERE in_window AND has_tag "
        "AND relation <> 'repost'").fetchall()[0]
    return {
        "hashtag_only_not_supportive": stats.wilson(k, len(categories)),
        "host_share_of_hashtag": stats.wilson(int(host_tag_posts), int(tag_posts)),
    }


def _time_to_backlash(inp: LensInput, table: pa.Table, categories: list[str | None]) -> dict[str, Any]:
    times = table.column("created_at").to_pylist()
    events = sorted((t, c in HOSTILE) for t, c in zip(times, categories) if t is not None)
    start = inp.window_start or (events[0][0] if events else None)
    result: dict[str, Any] = {"rolling_window_minutes": 60, "min_posts": BACKLASH_MIN_POSTS, "at": None,
                              "minutes_after_start": None}
    if not events or start is None:
        return result
    # slide a one-hour window over the posts: the first time hostile posts exceed half of it
    j = 0
    hostile = 0
    for i, (t, is_hostile) in enumerate(events):
        hostile += is_hostile
        while events[j][0] < t - ROLLING:
            hostile -= events[j][1]
            j += 1
        count = i - j + 1
        if t >= start and count >= BACKLASH_MIN_POSTS and hostile / count > 0.5:
            result["at"] = _iso(t)
            result["minutes_after_start"] = stats._round((t - start).total_seconds() / 60, 2)
            break
    return result


def backfire(inp: LensInput) -> dict[str, Any]:
    table = audience_table(inp)
    categories = table.column("category").to_pylist()
    reposts = table.column("reposts").to_pylist()
    shares = _category_shares(inp, categories)
    return {
        "volume": _volume(inp, table),
        "hostile_share": _hostile(inp, categories, shares),
        "category_shares": shares,
        "mockery_share": shares["mockery"],
        "virality_gap": _virality(inp, categories, reposts),
        "host_ratio": _host_ratio(inp),
        "capture": _capture(inp, table, categories),
        "time_to_backlash": _time_to_backlash(inp, table, categories),
        "labeled": inp.labeled,
    }


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
