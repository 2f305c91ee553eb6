"""Lens 1, backfire: what the press counted (METRICS.md).

Shares of discourse categories are taken over the audience's posts of P (P without the hosts'
own posts: they measure the response to the host) *(ours: METRICS.md leaves the host's posts in
P; counting them would dilute the audience's shares with the host's answers)*.

Every share is given as counted (a Wilson interval) and, when the discourse labels have
validation data, as estimated by the quantification estimator (``corrected``: adjusted
classify-and-count, its probabilistic form or EM, with an interval that bootstraps both the
posts and the validation data; :mod:`askscope.classify.quantify`). Without validation data
``corrected`` is None and ``correction`` says why: a counted share is never presented as corrected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from askscope.classify.quantify import Shares
from askscope.lenses import stats
from askscope.lenses.base import Lens
from askscope.lenses.common import AUDIENCE_PART, LensInput, audience_sql, bucket_for, campaign_span, quantified
from askscope.timefmt import iso
from askscope.vocabulary import CATEGORIES, HOSTILE

ROLLING = timedelta(hours=1)
BACKLASH_MIN_POSTS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)


def audience_table(inp: LensInput) -> pa.Table:
    """The audience's posts of P (:data:`~askscope.lenses.common.AUDIENCE_SQL`), ordered by
    ``(platform, post_id)``, less the excluded authors' (``inp.exclude``).

    Read once per stage run (kept in ``inp.cache``): the authenticity lens's second backfire,
    without the coordinated accounts, filters the table already read instead of joining every
    table again (the rows the SQL filter would keep, in the same order)."""
    full = inp.cache.get(AUDIENCE)
    if full is None:
        if inp.exclude is not None:
            return read_audience(inp, inp.authors_filter("p"))
        full = inp.cache[AUDIENCE] = read_audience(inp, "true")
    return full if inp.exclude is None else _without_excluded(inp, full)


#: ``LensInput.cache`` key of the unfiltered audience table.
AUDIENCE = "backfire.audience"


def read_audience(inp: LensInput, filter: str) -> pa.Table:
    """:data:`~askscope.lenses.common.AUDIENCE_SQL` with ``filter``, read in parts of about
    ``AUDIENCE_PART`` posts when there are more, each part's joins within DuckDB's memory. The
    parts are ranges of ``(platform, post_id)`` cut at every ``AUDIENCE_PART``-th post of the
    audience in that order, so that the parts read one after the other are the whole in order
    (nothing to sort here: an Arrow sort of the table took more than the joins at 2M posts)."""
    con = inp.store.con
    cuts = [
        (platform, post_id)
        for platform, post_id in con.execute(
            "SELECT platform, post_id FROM (SELECT platform, post_id, row_number() OVER (ORDER BY platform, post_id) "
            "AS i FROM relations WHERE in_campaign AND relation <> 'host') WHERE (i - 1) % ? = 0 AND i > 1 ORDER BY i",
            [AUDIENCE_PART],
        ).fetchall()
    ]
    ranges = list(zip([None, *cuts], [*cuts, None]))
    tables = []
    for low, high in ranges:
        sql, params = audience_sql(filter, low, high)
        tables.append(con.sql(sql, params=params).to_arrow_table())
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def _without_excluded(inp: LensInput, table: pa.Table) -> pa.Table:
    """``table`` less the rows whose ``(platform, author_id)`` is in ``inp.exclude``; a row
    without an author or a platform is kept, as the SQL filter's ``NOT EXISTS`` keeps it."""
    excluded = inp.store.con.execute(
        f"SELECT platform, list(DISTINCT author_id) FILTER (WHERE author_id IS NOT NULL) FROM {inp.exclude} "
        "WHERE platform IS NOT NULL GROUP BY platform ORDER BY platform"
    ).fetchall()
    dropped = None
    for platform, authors in excluded:
        if not authors:
            continue
        on_platform = pc.and_kleene(
            pc.equal(table["platform"], pa.scalar(platform, table.schema.field("platform").type)),
            pc.is_in(table["author_id"], value_set=pa.array(authors, table.schema.field("author_id").type)),
        )
        dropped = on_platform if dropped is None else pc.or_kleene(dropped, on_platform)
    if dropped is None:
        return table
    return table.filter(pc.invert(pc.fill_null(dropped, False)))


NOT_CORRECTED = "not corrected: the discourse labels have no validation data"

#: A column of categories (or other labels): the audience table's, or a list.
Labels: TypeAlias = "pa.Array | pa.ChunkedArray | Sequence[str | None]"


def _strings(values: Labels) -> pa.Array | pa.ChunkedArray:
    return values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, pa.string())


def _in(values: Labels, members: Iterable[str]) -> np.ndarray:
    """Whether each value is one of ``members`` (a missing value is not), as a numpy mask."""
    found = pc.is_in(_strings(values), value_set=pa.array(sorted(members), pa.string()))
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def _category_shares(inp: LensInput, categories: Labels, estimated: Shares | None) -> dict[str, Any]:
    """Each category's counted share (Wilson) and, when the discourse labels have validation
    data, its share estimated by the quantification estimator (``corrected``)."""
    column = _strings(categories)
    n = len(column)
    counted = pc.value_counts(column)
    counts = {
        value: int(count)
        for value, count in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist())
        if value is not None
    }
    out: dict[str, Any] = {}
    for category in CATEGORIES:
        share = stats.wilson(counts.get(category, 0), n)
        if estimated is not None and category in estimated.labels:
            share["corrected"] = quantified(estimated, [category])
        else:
            share["corrected"] = None
            share["correction"] = NOT_CORRECTED
        out[category] = share
    return out


def _hostile(inp: LensInput, categories: Labels, estimated: Shares | None) -> dict[str, Any]:
    """The hostile share: counted, and estimated as the union of the hostile categories (the sum
    of their shares in every bootstrap draw, so the interval is that of the sum)."""
    hostile = _in(categories, HOSTILE)
    share = stats.wilson(int(hostile.sum()), len(hostile))
    if estimated is not None and all(c in estimated.labels for c in HOSTILE):
        share["corrected"] = quantified(estimated, list(HOSTILE))
    else:
        share["corrected"] = None
        share["correction"] = NOT_CORRECTED
    return share


def _volume(inp: LensInput, table: pa.Table) -> dict[str, Any]:
    con = inp.store.con
    p_all, hosts_in_p = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE relation = 'host') FROM relations WHERE in_campaign"
    ).fetchall()[0]
    reposts = con.execute(
        "SELECT count(*) FROM relations WHERE relation = 'repost' AND in_window AND amplifies IS NOT NULL"
    ).fetchall()[0][0]
    # distinct authors, a post without one counted as one more (as a set of the ids would)
    authors = pc.count_distinct(table.column("author_id"), mode="all").as_py()
    hours = None
    if inp.window_start and inp.window_end:
        hours = max((inp.window_end - inp.window_start).total_seconds() / 3600.0, 1 / 60)
    peak = con.execute(
        "SELECT time_bucket(INTERVAL 1 HOUR, created_at) AS hour, count(*) AS n FROM relations "
        "WHERE in_campaign GROUP BY 1 ORDER BY n DESC, hour LIMIT 1"
    ).fetchall()
    return {
        "posts": int(p_all),
        "audience_posts": table.num_rows,
        "host_posts": int(hosts_in_p),
        "authors": authors,
        "reposts": int(reposts),
        "hours": stats._round(hours) if hours else None,
        "posts_per_hour": stats._round(p_all / hours) if hours else None,
        "peak_hour": {"start": iso(peak[0][0]), "posts": int(peak[0][1])} if peak else None,
    }


def _virality(inp: LensInput, categories: Labels, reposts: np.ndarray) -> dict[str, Any]:
    hostile = _in(categories, HOSTILE)
    support = _in(categories, ["support"])
    reposts = np.asarray(reposts, dtype=np.int64)
    return {
        "mean_reposts_hostile": stats.mean(reposts[hostile], seed=inp.seed, name="reposts:hostile"),
        "mean_reposts_supportive": stats.mean(reposts[support], seed=inp.seed, name="reposts:support"),
        "ratio": stats.ratio_of_means(reposts[hostile], reposts[support], seed=inp.seed, name="virality_gap"),
        "repost_weighted_hostile_share": stats.weighted_share(
            np.where(hostile, 1 + reposts, 0), 1 + reposts, seed=inp.seed, name="repost_weighted_hostile"
        ),
    }


def _host_ratio(inp: LensInput) -> dict[str, Any]:
    rows = inp.store.con.execute(
        "SELECT coalesce(p.reply_count, 0), coalesce(p.like_count, 0) + coalesce(p.repost_count, 0) "
        "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "WHERE r.in_campaign AND r.relation = 'host' AND p.reply_count IS NOT NULL ORDER BY p.id"
    ).fetchall()
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


def _capture(inp: LensInput, table: pa.Table, categories: Labels) -> dict[str, Any]:
    column = _strings(categories)
    hashtag_only = _in(table.column("relation"), ["hashtag_only"])
    k = int((hashtag_only & ~_in(column, ["support"])).sum())
    tag_posts, host_tag_posts = inp.store.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE relation = 'host') FROM relations WHERE in_window AND has_tag "
        "AND relation <> 'repost'"
    ).fetchall()[0]
    share = stats.wilson(k, len(column))
    share["corrected"] = None
    # corrected: (hashtag_only posts / all) x (1 - estimated supportive share among them); the
    # relation is not a classifier's, so only the category part is estimated
    tagged = int(hashtag_only.sum())
    mask = pa.array(hashtag_only)
    estimated = (
        inp.shares(
            "discourse", column.filter(mask), table.column("category_probabilities").filter(mask), name="capture"
        )
        if tagged
        else None
    )
    if not tagged and len(column):
        # no post used the hashtag alone: the share is 0 whatever the classifier's errors
        share["corrected"] = {
            "value": 0.0,
            "ci": [0.0, 0.0],
            "n": len(column),
            "method": "no hashtag_only posts: nothing to estimate",
        }
    elif estimated is not None and "support" in estimated.labels:
        fraction = tagged / len(column)
        support = estimated.labels.index("support")
        value = fraction * (1 - float(estimated.estimate[support]))
        low, high = stats._interval(fraction * (1 - estimated.draws[:, support]))
        share["corrected"] = {
            "value": stats._round(value),
            "ci": [low, high],
            "n": len(column),
            "method": f"hashtag_only share x (1 - estimated supportive share among them; {estimated.method})",
            "validation": estimated.validation,
        }
    else:
        share["correction"] = NOT_CORRECTED
    return {
        "hashtag_only_not_supportive": share,
        "host_share_of_hashtag": stats.wilson(int(host_tag_posts), int(tag_posts)),
    }


def _time_to_backlash(inp: LensInput, table: pa.Table, categories: Labels) -> dict[str, Any]:
    """The first post, from the window's start on, at which the posts of the hour ending there
    (both ends in) number at least ``BACKLASH_MIN_POSTS`` and are more than half hostile. Posts
    in time order (at equal times the non-hostile first); vectorised: each post's hour starts at
    the first post at most an hour older (a binary search), its hostile posts are a difference of
    cumulative counts."""
    result: dict[str, Any] = {
        "rolling_window_minutes": 60,
        "min_posts": BACKLASH_MIN_POSTS,
        "at": None,
        "minutes_after_start": None,
    }
    column = table.column("created_at")
    micros = column.cast(pa.timestamp("us", tz=getattr(column.type, "tz", None))).cast(pa.int64())
    valid = pc.is_valid(micros).to_numpy(zero_copy_only=False)
    if not valid.any():
        return result
    rows = np.flatnonzero(valid)
    t = pc.fill_null(micros, 0).to_numpy(zero_copy_only=False)[rows]
    h = _in(categories, HOSTILE)[rows]
    order = np.lexsort((h, t))
    t, h = t[order], h[order].astype(np.int64)
    first = column[int(rows[order[0]])].as_py()
    start = inp.window_start or first
    window = ROLLING // timedelta(microseconds=1)
    since = (
        (start - _EPOCH) // timedelta(microseconds=1)
        if start.tzinfo
        else (start - _NAIVE_EPOCH) // timedelta(microseconds=1)
    )
    opened = np.searchsorted(t, t - window, side="left")
    cumulative = np.concatenate([[0], np.cumsum(h)])
    count = np.arange(1, len(t) + 1) - opened
    hostile_count = cumulative[1:] - cumulative[opened]
    found = np.flatnonzero((t >= since) & (count >= BACKLASH_MIN_POSTS) & (2 * hostile_count > count))
    if len(found):
        at = column[int(rows[order[found[0]]])].as_py()
        result["at"] = iso(at)
        result["minutes_after_start"] = stats._round((at - start).total_seconds() / 60, 2)
    return result


def backfire(inp: LensInput) -> dict[str, Any]:
    """The lens (see the module docstring). Every figure is computed on the audience table's
    columns (numpy and Arrow, no Python object per post)."""
    table = audience_table(inp)
    categories = table.column("category")
    reposts = np.asarray(table.column("reposts").to_numpy(zero_copy_only=False), dtype=np.int64)
    estimated = inp.shares("discourse", categories, table.column("category_probabilities"), name="category_shares")
    shares = _category_shares(inp, categories, estimated)
    return {
        "volume": _volume(inp, table),
        "hostile_share": _hostile(inp, categories, estimated),
        "category_shares": shares,
        "mockery_share": shares["mockery"],
        "virality_gap": _virality(inp, categories, reposts),
        "host_ratio": _host_ratio(inp),
        "capture": _capture(inp, table, categories),
        "time_to_backlash": _time_to_backlash(inp, table, categories),
        "labeled": inp.labeled,
    }


def timeline(inp: LensInput) -> dict[str, Any]:
    """The audience's posts per time bucket by discourse category (``unlabelled`` without a
    label), the hostile share of each bucket with its Wilson interval, and the host's posts per
    bucket: the series the report's timeline and hostile-share charts draw. The bucket follows
    the campaign's span (:func:`~askscope.lenses.common.bucket_for`)."""
    bucket = bucket_for(*campaign_span(inp.store))
    con = inp.store.con
    by_category = con.execute(
        "SELECT time_bucket(CAST(? AS INTERVAL), p.created_at) AS t, coalesce(l.label, 'unlabelled') AS category, "
        "count(*) AS n FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "LEFT JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'discourse' "
        f"WHERE r.in_campaign AND r.relation <> 'host' AND {inp.authors_filter('p')} GROUP BY ALL ORDER BY 1, 2",
        [bucket],
    ).fetchall()
    counts_at: dict[str, dict[str, int]] = {}
    for t, category, n in by_category:
        counts_at.setdefault(iso(t) or "", {})[category] = int(n)
    host = con.execute(
        "SELECT time_bucket(CAST(? AS INTERVAL), p.created_at), count(*) FROM relations r JOIN posts p "
        "ON p.platform = r.platform AND p.id = r.post_id WHERE r.in_campaign AND r.relation = 'host' GROUP BY 1",
        [bucket],
    ).fetchall()
    points: dict[str, dict[str, Any]] = {}
    for t, counts in counts_at.items():
        n = sum(counts.values())
        share = stats.wilson(sum(v for c, v in counts.items() if c in HOSTILE), n)
        points[t] = {
            "t": t,
            "counts": {c: counts[c] for c in (*CATEGORIES, "unlabelled") if counts.get(c)},
            "posts": n,
            "hostile_share": share["value"],
            "hostile_ci": share["ci"],
        }
    for t, n in host:
        key = iso(t) or ""
        point = points.setdefault(
            key, {"t": key, "counts": {}, "posts": 0, "hostile_share": None, "hostile_ci": [None, None]}
        )
        point["host_posts"] = int(n)
    return {"bucket": bucket, "points": [points[t] for t in sorted(points)]}


BACKFIRE = Lens(
    name="backfire",
    title="Backfire",
    order=10,
    # the timeline is computed here, not in backfire(): the authenticity lens recomputes
    # backfire() without the coordinated accounts and has no use for it
    compute=lambda inp, results: {**backfire(inp), "timeline": timeline(inp)},
    description="what the press counted: volume, hostile and mockery shares, virality, capture",
)
