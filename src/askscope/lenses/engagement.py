"""Lens 2, engagement: the digital-diplomacy yardstick (METRICS.md).

Did the host open the channel, stay in it under attack, answer (hostile questions included),
and reach people beyond its usual followers?
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import numpy as np

from askscope.classify.quantify import METHOD_NAMES, RESAMPLES, quantify_counts
from askscope.communities import leiden_membership
from askscope.lenses import stats
from askscope.lenses.base import Lens
from askscope.lenses.common import LensInput

HOSTILE_QUESTIONS = ("question_critical", "mockery")
# Calls to joint action (collaboration layer): imperative invitations to act together. (ours)
COLLABORATION = re.compile(
    r"\b(join us|join the|sign (the|our)|share (this|our|your)|retweet|spread the word|let'?s|together we|"
    r"support us|donate|take action|call on|stand with|help us|volunteer|get involved|attend|register now)\b",
    re.IGNORECASE,
)


def _answer_rates(inp: LensInput) -> dict[str, Any]:
    con = inp.store.con
    # the questions counted by (category, answered, reposts) in DuckDB, not one row per question
    groups = con.execute(
        "SELECT category, answer_id IS NOT NULL AS answered, coalesce(question_reposts, 0)::BIGINT AS reposts, "
        f"count(*) AS n FROM answers a WHERE {inp.authors_filter('a', 'asker_id')} GROUP BY ALL"
    ).fetchall()
    n = sum(int(g[3]) for g in groups)
    k = sum(int(g[3]) for g in groups if g[1])
    hostile_n = sum(int(g[3]) for g in groups if g[0] in HOSTILE_QUESTIONS)
    hostile_k = sum(int(g[3]) for g in groups if g[0] in HOSTILE_QUESTIONS and g[1])
    rate = stats.wilson(k, n)
    rate["corrected"] = _corrected_answer_rate(inp)
    hostile_rate = stats.wilson(hostile_k, hostile_n)
    ratio = None
    if rate["value"] and hostile_rate["value"] is not None:
        ratio = _ratio_interval(hostile_k, hostile_n, k, n, inp.seed)
    by_category: dict[str, Any] = {}
    for category in sorted({g[0] for g in groups if g[0]}):
        subset = [g for g in groups if g[0] == category]
        by_category[category] = stats.wilson(sum(int(g[3]) for g in subset if g[1]), sum(int(g[3]) for g in subset))
    return {
        "answer_rate": rate,
        "answer_rate_weighted": _weighted_answer_rate(inp, groups),
        "hostile_answer_rate": hostile_rate,
        "hostile_to_overall_ratio": ratio,
        "by_category": by_category,
    }


def _weighted_answer_rate(inp: LensInput, groups: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The answer rate with each question weighted by 1 + its reposts: from the groups' counts of
    (weight if answered, weight) when its bootstrap resamples those counts (many questions), else
    from the questions' weights in order (the bootstrap then picks questions one by one)."""
    answered = np.asarray([bool(g[1]) for g in groups], dtype=bool)
    weights = 1.0 + np.asarray([int(g[2]) for g in groups], dtype=np.float64)
    counts = np.asarray([int(g[3]) for g in groups], dtype=np.int64)
    pairs, inverse = np.unique(np.where(answered, weights, 0) + 1j * weights, return_inverse=True)
    pair_counts = np.bincount(inverse.reshape(-1), weights=counts, minlength=len(pairs)).astype(np.int64)
    counted = stats.Counted(pairs, pair_counts)
    if len(counted) == 0 or counted.by_counts:
        return stats.weighted_share_counted(counted, seed=inp.seed, name="answer_rate_w")
    columns = inp.store.con.execute(
        "SELECT answer_id IS NOT NULL AS answered, coalesce(question_reposts, 0) AS reposts FROM answers a "
        f"WHERE {inp.authors_filter('a', 'asker_id')} ORDER BY platform, question_id"
    ).fetchnumpy()
    weights_all = 1 + np.asarray(columns["reposts"], dtype=np.int64)
    weights_in = np.where(np.asarray(columns["answered"], dtype=bool), weights_all, 0)
    return stats.weighted_share(weights_in, weights_all, seed=inp.seed, name="answer_rate_w")


def _ratio_interval(k1: int, n1: int, k2: int, n2: int, seed: int) -> dict[str, Any]:
    """(k1/n1) / (k2/n2) with a parametric bootstrap (binomial draws)."""
    rng = stats.rng_for(seed, "hostile_answer_ratio")
    a = rng.binomial(n1, k1 / n1, size=stats.BOOTSTRAP) / n1
    b = rng.binomial(n2, k2 / n2, size=stats.BOOTSTRAP) / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = a / b
    value = (k1 / n1) / (k2 / n2) if k2 else None
    return {
        "value": stats._round(value),
        "ci": stats._interval(draws),
        "n": [n1, n2],
        "method": "ratio of shares, parametric bootstrap",
    }


def _corrected_answer_rate(inp: LensInput) -> dict[str, Any] | None:
    """The answer rate among true questions, correcting the question labels' errors *(ours)*.

    The eligible posts E (the addressed audience posts questions are counted from) split into
    those the host answered, A, and the rest, U. The question task's share estimator
    (:func:`askscope.classify.quantify.quantify`, with the validation data the labels were
    classified with; adjusted classify-and-count from the labels) estimates the share of true
    questions in A and in U, ``pi_A`` and ``pi_U``; answered true questions ``A_T = pi_A |A|``,
    true questions ``T = A_T + pi_U |U|``, and the rate is ``A_T / T``. Its interval bootstraps
    both sources of error: the posts of each group are resampled, and both groups' estimates use
    the same resamples of the validation set (one confusion matrix per draw, as in the hostile
    share's union). ``None`` without the question task's validation data or eligible posts.
    """
    validation = inp.validations.get("question")
    if validation is None or validation.k != 2 or "question" not in validation.labels:
        return None
    positive = validation.labels.index("question")
    # the eligible posts counted by (labelled a question, answered), not one row per post
    counted = {
        (bool(question), bool(answered)): int(count)
        for question, answered, count in inp.store.con.execute(
            "SELECT coalesce(ap.is_question, false), ap.answered, count(*) FROM answered_posts ap "
            "JOIN posts p ON p.platform = ap.platform AND p.id = ap.post_id "
            f"WHERE ap.addressed AND ap.answered IS NOT NULL AND {inp.authors_filter('p')} GROUP BY ALL"
        ).fetchall()
    }
    n = sum(counted.values())
    if n == 0:
        return None
    # the labels alone are stored with the answers: the label-count form of the estimator
    method = validation.method if validation.method in ("cc", "acc") else "acc"
    base = inp.seed * 1_000_003 + sum((i + 1) * b for i, b in enumerate(b"answer_rate:corrected"))
    true_questions = []
    for offset, answered in enumerate((True, False)):
        labels = np.zeros(validation.k, dtype=np.int64)
        labels[positive] = counted.get((True, answered), 0)
        labels[1 - positive] = counted.get((False, answered), 0)
        size = int(labels.sum())
        if not size:
            true_questions.append((0.0, np.zeros(RESAMPLES)))
            continue
        shares = quantify_counts(validation, counts=labels, method=method, seed=base + offset, validation_seed=base)
        true_questions.append((float(shares.estimate[positive]) * size, shares.draws[:, positive] * size))
    (a_t, a_t_draws), (u_t, u_t_draws) = true_questions
    total = a_t + u_t
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = a_t_draws / (a_t_draws + u_t_draws)
    return {
        "value": stats._round(a_t / total) if total > 0 else None,
        "ci": stats._interval(draws),
        "n": n,
        "method": f"answered true questions / true questions, each estimated by {method}: {METHOD_NAMES[method]}, "
        "bootstrap of posts and validation data (ours)",
        "validation": validation.describe(),
    }


#: Edges (minutes) of the time-to-answer histogram the report draws; the last bin is open.
LATENCY_EDGES_MIN = (1, 5, 15, 30, 60, 120, 240, 480, 1440)


def _latencies(inp: LensInput) -> list[float]:
    """Seconds from each answered question to the host's first answer, ascending."""
    return [
        r[0]
        for r in inp.store.con.execute(
            f"SELECT latency_s FROM answers a WHERE latency_s IS NOT NULL AND {inp.authors_filter('a', 'asker_id')} "
            "ORDER BY latency_s"
        ).fetchall()
    ]


def latency_histogram(latencies: list[float]) -> list[dict[str, Any]]:
    """Answers per latency bin [from_min, to_min) (minutes; ``to_min`` None for the open last
    bin), from the same latencies as ``answer_latency``."""
    bins = []
    lower = 0
    for upper in (*LATENCY_EDGES_MIN, None):
        count = sum(1 for x in latencies if x / 60 >= lower and (upper is None or x / 60 < upper))
        bins.append({"from_min": lower, "to_min": upper, "answers": count})
        lower = upper if upper is not None else lower
    return bins


def _latency(inp: LensInput, latencies: list[float] | None = None) -> dict[str, Any]:
    if latencies is None:
        latencies = _latencies(inp)
    within = sum(1 for x in latencies if x <= 3600)
    return {
        "answered": len(latencies),
        "median_s": stats.quantile(latencies, 0.5),
        "p90_s": stats.quantile(latencies, 0.9),
        "within_60_min": stats.wilson(within, len(latencies)),
    }


def _host_posts(inp: LensInput) -> list[tuple[Any, ...]]:
    return inp.store.con.execute(
        "SELECT p.id, p.kind, p.text, len(p.mentions), coalesce(p.repost_count, 0), coalesce(p.like_count, 0), "
        "coalesce(p.reply_count, 0), coalesce(p.quote_count, 0), p.quoted_id "
        "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "WHERE r.relation = 'host' AND r.in_window ORDER BY p.id"
    ).fetchall()


def _host_output(inp: LensInput, host_posts: list[tuple[Any, ...]]) -> dict[str, Any]:
    n = len(host_posts)
    replies = sum(1 for p in host_posts if p[1] == "reply")
    layers: Counter[str] = Counter()
    for _, kind, text, _mentions, *_rest, quoted in host_posts:
        if kind in ("reply",) or (kind == "quote" and quoted):
            layers["dialogue"] += 1
        elif COLLABORATION.search(text or ""):
            layers["collaboration"] += 1
        elif kind == "repost":
            layers["amplification"] += 1
        else:
            layers["broadcast"] += 1
    interactions = [rt + lk + rp + qt for _, _, _, _, rt, lk, rp, qt, _ in host_posts]
    return {
        "host_posts": n,
        "host_reply_share": stats.wilson(replies, n),
        "host_interactions": stats.mean(interactions, seed=inp.seed, name="host_interactions"),
        "host_output_layers": {
            layer: stats.wilson(layers[layer], n)
            for layer in ("broadcast", "dialogue", "collaboration", "amplification")
        },
    }


REPLY_EDGES = (
    "SELECT p.platform, p.author_id AS source, q.author_id AS target, count(*) AS replies FROM relations r "
    "JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
    "JOIN threads t ON t.platform = p.platform AND t.post_id = p.id "
    "JOIN posts q ON q.platform = t.platform AND q.id = t.parent_id "
    "WHERE r.in_campaign AND p.author_id IS NOT NULL AND q.author_id IS NOT NULL AND p.author_id <> q.author_id "
    "GROUP BY ALL ORDER BY ALL"
)


#: The temporary table of :data:`REPLY_EDGES` that reciprocity and the communities read (in
#: DuckDB: at 2M posts the edges as Python tuples took 1.8 s to fetch and 2.5 s to count).
REPLY_EDGES_TABLE = "_lens_reply_edges"


@contextmanager
def _reply_edges(inp: LensInput) -> Iterator[str]:
    """The campaign's directed reply graph (platform, source = replier, target = replied-to
    author, replies) as a temporary table for the block, its name given."""
    con = inp.store.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE {REPLY_EDGES_TABLE} AS {REPLY_EDGES}")
    try:
        yield REPLY_EDGES_TABLE
    finally:
        con.execute(f"DROP TABLE IF EXISTS {REPLY_EDGES_TABLE}")


def _reciprocity(inp: LensInput, reply_edges: str | None = None) -> dict[str, Any]:
    if reply_edges is None:
        with _reply_edges(inp) as table:
            return _reciprocity(inp, table)
    # the edges are grouped by (platform, source, target): each row is one directed pair
    pairs, mutual, touching, mutual_touching = inp.store.con.execute(f"""
        WITH hosts AS (SELECT DISTINCT platform, author_id FROM hosts WHERE author_id IS NOT NULL),
        flagged AS (
            SELECT EXISTS (SELECT 1 FROM {reply_edges} r WHERE r.platform = e.platform AND r.source = e.target
                           AND r.target = e.source) AS mutual,
                   EXISTS (SELECT 1 FROM hosts h WHERE h.platform = e.platform
                           AND (h.author_id = e.source OR h.author_id = e.target)) AS touching
            FROM {reply_edges} e)
        SELECT count(*), count(*) FILTER (WHERE mutual), count(*) FILTER (WHERE touching),
               count(*) FILTER (WHERE touching AND mutual)
        FROM flagged
    """).fetchall()[0]
    return {
        "all": stats.wilson(int(mutual), int(pairs)),
        "touching_host": stats.wilson(int(mutual_touching), int(touching)),
        "note": "share of directed reply edges (author -> replied author) that are reciprocated",
    }


def _depth(inp: LensInput) -> dict[str, Any]:
    depths = [
        r[0]
        for r in inp.store.con.execute(
            "SELECT tr.max_depth FROM thread_roots tr WHERE tr.root_id IN (SELECT DISTINCT t.root_id FROM threads t "
            "JOIN relations r ON r.platform = t.platform AND r.post_id = t.post_id WHERE r.in_campaign) "
            "ORDER BY tr.platform, tr.root_id"
        ).fetchall()
    ]
    follow = inp.store.con.execute(
        "SELECT count(follow_up_id), count(follow_up_answer_id) FROM answers WHERE answer_id IS NOT NULL"
    ).fetchall()[0]
    per_depth = Counter(depths)
    return {
        "threads": len(depths),
        "mean_depth": stats.mean(depths, seed=inp.seed, name="depth"),
        "max_depth": int(max(depths)) if depths else None,
        "follow_up_rate": stats.wilson(int(follow[1]), int(follow[0])),
        # threads per depth, from the same depths (the report's thread-depth chart)
        "histogram": [{"depth": int(d), "threads": per_depth[d]} for d in sorted(per_depth)],
    }


#: The audience's participants (one row per author of P, hosts left out), aggregated in DuckDB:
#: each grouping set one figure's counts, so that no row per participant reaches Python. The
#: participants are numbered (``rn``) in ``(platform, author_id)`` order, the order the counts
#: of languages and locations follow (first occurrence, as a ``Counter`` over the rows would).
PARTICIPANTS_SQL = """
WITH per_post AS (
    SELECT p.platform, p.author_id, coalesce(l.label, p.lang) AS language
    FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id
    LEFT JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'language'
    WHERE r.in_campaign AND r.relation <> 'host' AND p.author_id IS NOT NULL),
langs AS (
    SELECT platform, author_id, language, count(*) AS n FROM per_post WHERE language IS NOT NULL
    GROUP BY platform, author_id, language
    QUALIFY row_number() OVER (PARTITION BY platform, author_id ORDER BY n DESC, language) = 1),
posts_per AS (SELECT platform, author_id, count(*) AS posts FROM per_post GROUP BY ALL),
participants AS (
    SELECT pp.posts, lg.language, a.followers_count, nullif(lower(trim(a.location)), '') AS location,
           row_number() OVER (ORDER BY pp.platform, pp.author_id) AS rn
    FROM posts_per pp LEFT JOIN langs lg ON lg.platform = pp.platform AND lg.author_id = pp.author_id
    LEFT JOIN accounts a ON a.platform = pp.platform AND a.id = pp.author_id),
kept AS (
    SELECT posts, followers_count, location, rn,
           CASE WHEN language NOT IN ('', 'und', 'zxx') THEN language END AS diverse,
           CASE WHEN language <> '' THEN language ELSE 'und' END AS main
    FROM participants)
SELECT grouping(diverse, location, posts, main) AS set_id, diverse, location, posts, main,
       count(*) AS n, sum(posts)::BIGINT AS post_sum, min(rn) AS first,
       sum(followers_count)::HUGEINT AS followers, count(followers_count) AS with_followers
FROM kept GROUP BY GROUPING SETS ((diverse), (location), (posts), (main), ())
"""


def _audience(inp: LensInput, reply_edges: str | None = None) -> dict[str, Any]:
    con = inp.store.con
    # one language per participant: the most frequent of their posts' labels, ties to the first
    # code in alphabetical order (deterministic, unlike SQL mode())
    rows = con.execute(PARTICIPANTS_SQL).fetchall()
    # grouping() sets a bit per column left out, in the order diverse, location, posts, main
    sets: dict[int, list[tuple[Any, ...]]] = {}
    for set_id, diverse, location, posts_value, main, n, post_sum, first, followers, with_followers in rows:
        sets.setdefault(int(set_id), []).append(
            (diverse, location, posts_value, main, int(n), post_sum, first, followers, int(with_followers))
        )
    total = sets.get(0b1111, [(None, None, None, None, 0, 0, None, None, 0)])[0]
    participants, followers_sum, with_followers = total[4], total[7], total[8]

    def in_order(rows: list[tuple[Any, ...]], column: int) -> dict[str, int]:
        # the values in order of their first participant, missing ones left out
        kept = sorted((r for r in rows if r[column]), key=lambda r: r[6])
        return {r[column]: r[4] for r in kept}

    languages = in_order(sets.get(0b0111, []), 0)
    locations = in_order(sets.get(0b1011, []), 1)
    # posts per participant, ascending (what sorting the participants' counts gives)
    per_author = sorted((r[2], r[4]) for r in sets.get(0b1101, []))
    posts = np.repeat(
        np.asarray([v for v, _ in per_author], dtype=np.float64), np.asarray([n for _, n in per_author], dtype=np.int64)
    )
    top = max(1, int(np.ceil(len(posts) * 0.01))) if len(posts) else 0
    top_share = float(posts[::-1][:top].sum() / posts.sum()) if len(posts) else None
    communities = _communities(inp, reply_edges)
    # each participant once, under the main language of their posts ('und' when none has one),
    # so that the participants add up to the audience
    by_language = {r[3]: (r[4], int(r[5])) for r in sets.get(0b1110, [])}
    return {
        "participants_by_language": [
            {"language": language, "participants": n, "posts": total_posts}
            for language, (n, total_posts) in sorted(by_language.items(), key=lambda kv: (-kv[1][0], kv[0]))
        ],
        "audience_size": {
            "authors": participants,
            "potential_reach": int(followers_sum) if with_followers else None,
            "authors_with_follower_counts": with_followers,
            "note": "reach is an upper bound: audiences overlap",
        },
        "diversity": {
            "language": {**stats.entropy(list(languages.values())), "top": dict(Counter(languages).most_common(8))},
            "location": {**stats.entropy(list(locations.values())), "authors_with_location": sum(locations.values())},
            "reply_community": communities,
            "gini_posts_per_author": stats._round(stats.gini(posts)),
            "top_1pct_share_of_posts": stats._round(top_share),
        },
        "newcomer_share": _newcomers(inp),
    }


def reply_graph(con: Any, reply_edges: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The reply network of table ``reply_edges`` as numbers: each edge's two accounts (numbered
    in the order of ``platform:author_id``, as Python sorts those strings: DuckDB compares
    VARCHARs by their UTF-8 bytes, i.e. by code point), its replies, in the table's order
    ``(platform, source, target)``; and the number of accounts."""
    edges = con.execute(f"""
        WITH names AS (
            SELECT name, (row_number() OVER (ORDER BY name) - 1)::BIGINT AS i FROM (
                SELECT platform || ':' || source AS name FROM {reply_edges}
                UNION SELECT platform || ':' || target FROM {reply_edges}))
        SELECT s.i AS a, t.i AS b, e.replies AS w, (SELECT count(*) FROM names) AS n
        FROM {reply_edges} e
        JOIN names s ON s.name = e.platform || ':' || e.source
        JOIN names t ON t.name = e.platform || ':' || e.target
        ORDER BY e.platform, e.source, e.target, e.replies
    """).fetchnumpy()
    accounts = int(edges["n"][0]) if len(edges["n"]) else 0
    return (
        np.asarray(edges["a"], np.int64),
        np.asarray(edges["b"], np.int64),
        np.asarray(edges["w"], np.int64),
        accounts,
    )


def _communities(inp: LensInput, reply_edges: str | None = None) -> dict[str, Any]:
    """Entropy of participants over the communities of the campaign's reply network: Leiden,
    optimising modularity on the weighted, undirected network, seeded
    (:func:`askscope.communities.leiden_membership`). The accounts are numbered in the order of
    ``platform:author_id`` and the edges taken in :data:`REPLY_EDGES`' order, in DuckDB."""
    if reply_edges is None:
        with _reply_edges(inp) as table:
            return _communities(inp, table)
    a, b, w, accounts = reply_graph(inp.store.con, reply_edges)
    if not len(a):
        return {"value": None, "categories": 0, "n": 0, "method": "no reply edges"}
    try:
        import igraph
    except ImportError:
        return {"value": None, "categories": 0, "n": 0, "method": "igraph not installed"}
    graph = igraph.Graph(n=accounts, edges=np.column_stack([a, b]), directed=False)  # an array: no Python pairs
    graph.es["weight"] = w.tolist()
    membership = leiden_membership(graph, inp.seed)
    sizes = [int(n) for n in np.bincount(membership)]  # communities 0..k-1, none empty
    return {
        **stats.entropy(sizes),
        "method": "Leiden communities of the reply network (modularity)",
        "largest_community_share": stats._round(max(sizes) / accounts),
    }


def _newcomers(inp: LensInput) -> dict[str, Any]:
    con = inp.store.con
    if inp.window_start is None:
        return {"value": None, "note": "not measurable: no campaign start"}
    earliest = con.execute("SELECT min(created_at) FROM posts WHERE NOT is_context").fetchall()[0][0]
    horizon = inp.window_start - timedelta(days=30)
    if earliest is None or earliest > horizon:
        return {"value": None, "note": "not measurable: the store holds no posts from the 30 days before the start"}
    rows = con.execute(
        "WITH u AS (SELECT DISTINCT p.platform, p.author_id FROM relations r JOIN posts p ON p.platform = r.platform "
        "AND p.id = r.post_id WHERE r.in_campaign AND r.relation <> 'host'), "
        "before AS (SELECT DISTINCT p.platform, p.author_id FROM posts p WHERE p.created_at >= ? AND p.created_at < ? "
        "AND (p.in_reply_to_author_id IN (SELECT author_id FROM hosts) OR "
        "list_has_any(p.mention_ids, (SELECT list(author_id) FROM hosts WHERE author_id IS NOT NULL)) OR "
        "list_has_any(list_transform(p.mentions, lambda _m: lower(_m)), (SELECT list(lower(handle)) FROM hosts)))) "
        "SELECT count(*), count(*) FILTER (WHERE b.author_id IS NULL) FROM u LEFT JOIN before b "
        "ON b.platform = u.platform AND b.author_id = u.author_id",
        [horizon, inp.window_start],
    ).fetchall()[0]
    share = stats.wilson(int(rows[1]), int(rows[0]))
    share["note"] = "participants with no reply to or mention of a host in the 30 days before the start"
    return share


def engagement_core(inp: LensInput) -> dict[str, Any]:
    """The answer rates and latency alone (what the lenses report again without coordinated
    accounts)."""
    out = _answer_rates(inp)
    out["answer_latency"] = _latency(inp)
    return out


def engagement(inp: LensInput) -> dict[str, Any]:
    host_posts = _host_posts(inp)
    out: dict[str, Any] = {}
    out.update(_answer_rates(inp))
    latencies = _latencies(inp)
    out["answer_latency"] = _latency(inp, latencies)
    out["latency_histogram"] = latency_histogram(latencies)
    out.update(_host_output(inp, host_posts))
    with _reply_edges(inp) as reply_edges:  # one query for reciprocity and the communities
        out["reciprocity"] = _reciprocity(inp, reply_edges)
        out["dialogue_depth"] = _depth(inp)
        out.update(_audience(inp, reply_edges))
    return out


ENGAGEMENT = Lens(
    name="engagement",
    title="Engagement",
    order=20,
    compute=lambda inp, results: engagement(inp),
    description="the dialogic yardstick: questions answered, latency, reciprocity, depth, audience",
)
