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
from typing import Any, TypeAlias, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from askscope.classify.quantify import Shares
from askscope.lenses import stats
from askscope.lenses.audience import AudienceSummary, Query, Spec, reposts_of, summarise_in_process
from askscope.lenses.base import Lens
from askscope.lenses.common import (
    AUDIENCE_PART,
    COORDINATED,
    COORDINATED_FLAG,
    LensInput,
    audience_sql,
    bucket_for,
    campaign_span,
    quantified,
)
from askscope.store.core import table_names
from askscope.timefmt import iso
from askscope.vocabulary import CATEGORIES, HOSTILE

ROLLING = timedelta(hours=1)
BACKLASH_MIN_POSTS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)


#: ``LensInput.cache`` key of the audience's summaries (with ``inp.exclude``).
AUDIENCE = "backfire.audience"


def audience_queries(inp: LensInput, filter: str, flag: str = "false") -> list[Query]:
    """:data:`~askscope.lenses.common.AUDIENCE_SQL` with ``filter`` and ``flag``, in parts of
    about ``AUDIENCE_PART`` posts when there are more, each part's joins within DuckDB's memory.
    The parts are ranges of ``(platform, post_id)`` cut at every ``AUDIENCE_PART``-th post of the
    audience in that order, so that the parts read one after the other are the whole in order."""
    cuts = [
        (platform, post_id)
        for platform, post_id in inp.store.con.execute(
            "SELECT platform, post_id FROM (SELECT platform, post_id, row_number() OVER (ORDER BY platform, post_id) "
            "AS i FROM relations WHERE in_campaign AND relation <> 'host') WHERE (i - 1) % ? = 0 AND i > 1 ORDER BY i",
            [AUDIENCE_PART],
        ).fetchall()
    ]
    return [audience_sql(filter, low, high, flag) for low, high in zip([None, *cuts], [*cuts, None])]


def read_audience(inp: LensInput, filter: str) -> pa.Table:
    """The audience's posts with ``filter``, every part read here and put together (the figures
    that resample posts one by one need them in order; see :func:`_virality`)."""
    con = inp.store.con
    tables = [con.sql(sql, params=params).to_arrow_table() for sql, params in audience_queries(inp, filter)]
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


def spec(inp: LensInput) -> Spec:
    """What a part's summary needs of the discourse labels' validation data."""
    validation = inp.validations.get("discourse")
    return Spec() if validation is None else Spec(validation.labels, validation.method)


def audience_summary(inp: LensInput) -> AudienceSummary:
    """The audience's posts of P less the excluded authors' (``inp.exclude``), summarised part by
    part (:mod:`askscope.lenses.audience`) where ``inp.summarise`` says (this process by default).

    One pass per stage run (kept in ``inp.cache``): with the coordinated accounts flagged when
    the authenticity stage found any, so that the authenticity lens's backfire without them
    (``exclude`` = :data:`~askscope.lenses.common.COORDINATED`) is already summarised."""
    found = inp.cache.get((AUDIENCE, inp.exclude))
    if found is not None:
        return cast(AudienceSummary, found)
    summarise = inp.summarise or summarise_in_process
    if inp.exclude is None:
        flag = COORDINATED_FLAG if "coordinated_accounts" in table_names(inp.store.con) else "false"
        pairs = summarise(inp.store.con, audience_queries(inp, "true", flag), spec(inp))
        whole = inp.cache[(AUDIENCE, None)] = AudienceSummary.merge([w for w, _ in pairs])
        if flag != "false":
            inp.cache[(AUDIENCE, COORDINATED)] = AudienceSummary.merge([o for _, o in pairs if o is not None])
        return whole
    pairs = summarise(inp.store.con, audience_queries(inp, inp.authors_filter("p")), spec(inp))
    found = inp.cache[(AUDIENCE, inp.exclude)] = AudienceSummary.merge([w for w, _ in pairs])
    return found


NOT_CORRECTED = "not corrected: the discourse labels have no validation data"

#: A column of categories (or other labels): the audience table's, or a list.
Labels: TypeAlias = "pa.Array | pa.ChunkedArray | Sequence[str | None]"


def _strings(values: Labels) -> pa.Array | pa.ChunkedArray:
    return values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, pa.string())


def _in(values: Labels, members: Iterable[str]) -> np.ndarray:
    """Whether each value is one of ``members`` (a missing value is not), as a numpy mask."""
    found = pc.is_in(_strings(values), value_set=pa.array(sorted(members), pa.string()))
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def _category_shares(inp: LensInput, summary: AudienceSummary, estimated: Shares | None) -> dict[str, Any]:
    """Each category's counted share (Wilson) and, when the discourse labels have validation
    data, its share estimated by the quantification estimator (``corrected``)."""
    counts = summary.category_counts()
    out: dict[str, Any] = {}
    for category in CATEGORIES:
        share = stats.wilson(counts.get(category, 0), summary.posts)
        if estimated is not None and category in estimated.labels:
            share["corrected"] = quantified(estimated, [category])
        else:
            share["corrected"] = None
            share["correction"] = NOT_CORRECTED
        out[category] = share
    return out


def _hostile(inp: LensInput, summary: AudienceSummary, estimated: Shares | None) -> dict[str, Any]:
    """The hostile share: counted, and estimated as the union of the hostile categories (the sum
    of their shares in every bootstrap draw, so the interval is that of the sum)."""
    counts = summary.category_counts()
    share = stats.wilson(sum(counts.get(c, 0) for c in HOSTILE), summary.posts)
    if estimated is not None and all(c in estimated.labels for c in HOSTILE):
        share["corrected"] = quantified(estimated, list(HOSTILE))
    else:
        share["corrected"] = None
        share["correction"] = NOT_CORRECTED
    return share


def _volume(inp: LensInput, summary: AudienceSummary) -> dict[str, Any]:
    con = inp.store.con
    p_all, hosts_in_p = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE relation = 'host') FROM relations WHERE in_campaign"
    ).fetchall()[0]
    reposts = con.execute(
        "SELECT count(*) FROM relations WHERE relation = 'repost' AND in_window AND amplifies IS NOT NULL"
    ).fetchall()[0][0]
    # distinct authors, a post without one counted as one more (as a set of the ids would)
    authors = summary.author_count()
    hours = None
    if inp.window_start and inp.window_end:
        hours = max((inp.window_end - inp.window_start).total_seconds() / 3600.0, 1 / 60)
    peak = con.execute(
        "SELECT time_bucket(INTERVAL 1 HOUR, created_at) AS hour, count(*) AS n FROM relations "
        "WHERE in_campaign GROUP BY 1 ORDER BY n DESC, hour LIMIT 1"
    ).fetchall()
    return {
        "posts": int(p_all),
        "audience_posts": summary.posts,
        "host_posts": int(hosts_in_p),
        "authors": authors,
        "reposts": int(reposts),
        "hours": stats._round(hours) if hours else None,
        "posts_per_hour": stats._round(p_all / hours) if hours else None,
        "peak_hour": {"start": iso(peak[0][0]), "posts": int(peak[0][1])} if peak else None,
    }


def _virality(inp: LensInput, summary: AudienceSummary) -> dict[str, Any]:
    """The reposts of hostile and supportive posts. From the summary's counts of (hostile,
    supportive, reposts) when every bootstrap here resamples through value counts (a large
    audience: :attr:`stats.Counted.by_counts`); otherwise from the posts' values in order, read
    again (the bootstrap then picks posts one by one)."""
    tally = summary.reposts
    samples = [
        stats.Counted(levels.astype(np.float64), n)
        for levels, n in (reposts_of(tally, hostile=True), reposts_of(tally, support=True))
    ]
    hostile = ((tally.keys >> 1) & 1).astype(bool)
    reposts = tally.keys >> 2
    pairs, inverse = np.unique(np.where(hostile, 1 + reposts, 0) + 1j * (1 + reposts), return_inverse=True)
    pair_counts = np.bincount(inverse.reshape(-1), weights=tally.counts, minlength=len(pairs)).astype(np.int64)
    weighted = stats.Counted(pairs, pair_counts)
    if all(len(s) == 0 or s.by_counts for s in (*samples, weighted)):
        return _virality_figures(inp, samples[0], samples[1], weighted)
    rows = read_audience(inp, inp.authors_filter("p"))
    categories = rows.column("category")
    values = np.asarray(rows.column("reposts").to_numpy(zero_copy_only=False), dtype=np.int64)
    is_hostile, is_support = _in(categories, HOSTILE), _in(categories, ["support"])
    return _virality_figures(
        inp,
        values[is_hostile],
        values[is_support],
        (np.where(is_hostile, 1 + values, 0), 1 + values),
    )


def _virality_figures(
    inp: LensInput,
    hostile: stats.Sample,
    support: stats.Sample,
    weighted: stats.Counted | tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    return {
        "mean_reposts_hostile": stats.mean(hostile, seed=inp.seed, name="reposts:hostile"),
        "mean_reposts_supportive": stats.mean(support, seed=inp.seed, name="reposts:support"),
        "ratio": stats.ratio_of_means(hostile, support, seed=inp.seed, name="virality_gap"),
        "repost_weighted_hostile_share": (
            stats.weighted_share_counted(weighted, seed=inp.seed, name="repost_weighted_hostile")
            if isinstance(weighted, stats.Counted)
            else stats.weighted_share(*weighted, seed=inp.seed, name="repost_weighted_hostile")
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


def _capture(inp: LensInput, summary: AudienceSummary) -> dict[str, Any]:
    tagged, k = summary.hashtag_only()
    tag_posts, host_tag_posts = inp.store.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE relation = 'host') FROM relations WHERE in_window AND has_tag "
        "AND relation <> 'repost'"
    ).fetchall()[0]
    posts = summary.posts
    share = stats.wilson(k, posts)
    share["corrected"] = None
    # corrected: (hashtag_only posts / all) x (1 - estimated supportive share among them); the
    # relation is not a classifier's, so only the category part is estimated
    estimated = inp.shares_of("discourse", summary.capture, name="capture") if tagged else None
    if not tagged and posts:
        # no post used the hashtag alone: the share is 0 whatever the classifier's errors
        share["corrected"] = {
            "value": 0.0,
            "ci": [0.0, 0.0],
            "n": posts,
            "method": "no hashtag_only posts: nothing to estimate",
        }
    elif estimated is not None and "support" in estimated.labels:
        fraction = tagged / posts
        support = estimated.labels.index("support")
        value = fraction * (1 - float(estimated.estimate[support]))
        low, high = stats._interval(fraction * (1 - estimated.draws[:, support]))
        share["corrected"] = {
            "value": stats._round(value),
            "ci": [low, high],
            "n": posts,
            "method": f"hashtag_only share x (1 - estimated supportive share among them; {estimated.method})",
            "validation": estimated.validation,
        }
    else:
        share["correction"] = NOT_CORRECTED
    return {
        "hashtag_only_not_supportive": share,
        "host_share_of_hashtag": stats.wilson(int(host_tag_posts), int(tag_posts)),
    }


def _time_to_backlash(inp: LensInput, summary: AudienceSummary) -> dict[str, Any]:
    """The first post, from the window's start on, at which the posts of the hour ending there
    (both ends in) number at least ``BACKLASH_MIN_POSTS`` and are more than half hostile. Posts
    in time order (at equal times the non-hostile first), given as the summary's groups of equal
    (time, hostile): each group's hour starts at the first post at most an hour older (a binary
    search), its hostile posts are a difference of cumulative counts, and within a group only one
    post can be the first to qualify (see below), so the groups are checked, not their posts."""
    result: dict[str, Any] = {
        "rolling_window_minutes": 60,
        "min_posts": BACKLASH_MIN_POSTS,
        "at": None,
        "minutes_after_start": None,
    }
    times = summary.times
    if not len(times.keys):
        return result
    # the keys (t · 2 + hostile) ascend in (time, hostile) order, each (time, hostile) once
    t, h, c = times.keys >> 1, times.keys & 1, times.counts
    ends = np.cumsum(c)  # the posts before each group's end
    starts = ends - c
    first = _moment(int(t[0]), summary.tz)
    start = inp.window_start or first
    window = ROLLING // timedelta(microseconds=1)
    since = (
        (start - _EPOCH) // timedelta(microseconds=1)
        if start.tzinfo
        else (start - _NAIVE_EPOCH) // timedelta(microseconds=1)
    )
    opening = np.searchsorted(t, t - window, side="left")  # the group the hour opens with
    opened = starts[opening]
    before = np.concatenate([[0], np.cumsum(h * c)])  # hostile posts before each group
    # a hostile group's posts add one post and one hostile post each: whether the hour qualifies
    # can only turn true along it, so its last post is the one to check; a non-hostile group's
    # posts add one post each: more than half hostile can only turn false, and at least
    # BACKLASH_MIN_POSTS only true, so the one to check is its first with enough posts
    post = np.where(h == 1, ends - 1, np.maximum(starts, opened + BACKLASH_MIN_POSTS - 1))
    count = post + 1 - opened
    hostile_count = before[:-1] + (post - starts + 1) * h - before[opening]
    found = np.flatnonzero((post < ends) & (t >= since) & (count >= BACKLASH_MIN_POSTS) & (2 * hostile_count > count))
    if len(found):
        at = _moment(int(t[found[0]]), summary.tz)
        result["at"] = iso(at)
        result["minutes_after_start"] = stats._round((at - start).total_seconds() / 60, 2)
    return result


def _moment(micros: int, tz: str | None) -> datetime:
    """The time of ``micros`` as the store's column gives it (aware in its zone, or naive)."""
    return cast(datetime, pa.scalar(micros, pa.timestamp("us", tz=tz)).as_py())


def backfire(inp: LensInput) -> dict[str, Any]:
    """The lens (see the module docstring). Every figure is computed from the audience's
    summary (:func:`audience_summary`: counts and sums over its parts, no Python object per
    post), or, for the bootstraps of a small audience, from its posts read again."""
    summary = audience_summary(inp)
    estimated = inp.shares_of("discourse", summary.discourse, name="category_shares")
    shares = _category_shares(inp, summary, estimated)
    return {
        "volume": _volume(inp, summary),
        "hostile_share": _hostile(inp, summary, estimated),
        "category_shares": shares,
        "mockery_share": shares["mockery"],
        "virality_gap": _virality(inp, summary),
        "host_ratio": _host_ratio(inp),
        "capture": _capture(inp, summary),
        "time_to_backlash": _time_to_backlash(inp, summary),
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
