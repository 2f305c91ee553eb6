"""The parts of lens 4 against references: MinHash/LSH vs exact Jaccard, co_similar vs all pairs,
Kleinberg's Viterbi vs brute force, CooRnet's τ by hand, the hypergeometric tail vs exact
combinatorics, Benjamini–Hochberg by hand, components, exports read back by networkx."""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import rows, shared

import askscope
from askscope.authenticity import analyze_authenticity, minhash
from askscope.authenticity.bursts import burstiness, bursts, kleinberg_states
from askscope.authenticity.exports import export
from askscope.authenticity.groups import component_labels, components, leiden, number_groups
from askscope.authenticity.interval import estimate_tau
from askscope.authenticity.networks import Edges, build_actions
from askscope.authenticity.population import build_population
from askscope.authenticity.settings import AuthenticitySettings
from askscope.authenticity.significance import (
    NullFloor,
    NullRun,
    benjamini_hochberg,
    hypergeometric_sf,
    threshold_weight,
)
from askscope.authenticity.text import normalise
from askscope.synthetic.twarc2 import load_texts

T0 = datetime(2015, 3, 13, 12, 0, tzinfo=UTC)


def tokens(text: str) -> set[str]:
    return set(re.findall(r"[^\W]+", normalise(text)))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [t for t, _ in load_texts(shared(), limit=3000) if len(t.split()) >= 8][:1500]


def _sets_to_arrays(sets: list[set[str]]) -> tuple[np.ndarray, np.ndarray]:
    doc, element = [], []
    for i, s in enumerate(sets):
        for token in sorted(s):
            doc.append(i)
            element.append(
                int.from_bytes(token.encode("utf-8")[:8].ljust(8, b"\0"), "little") * 0x9E3779B97F4A7C15 % 2**64
                ^ len(token) * 0x632BE59BD9B4E019 % 2**64
            )
    return np.array(doc), np.array(element, dtype=np.uint64)


def test_minhash_estimates_jaccard(texts):
    rng = np.random.default_rng(0)
    sets = [tokens(t) for t in texts[:300]]
    # near-copies: drop or add a few tokens, so similarities spread over (0, 1]
    variants = []
    for s in sets:
        kept = [x for x in sorted(s) if rng.random() > 0.2]
        variants.append(set(kept) | {f"extra{rng.integers(5)}"})
    doc, element = _sets_to_arrays(sets + variants)
    sig = minhash.signatures(doc, element, len(sets) * 2, 128)
    left = np.arange(len(sets))
    estimates = minhash.estimate_similarity(sig, left, left + len(sets))
    exact = np.array([jaccard(a, b) for a, b in zip(sets, variants)])
    assert np.abs(estimates - exact).mean() < 0.04
    assert np.abs(estimates - exact).max() < 0.25


@pytest.mark.parametrize("threshold,num_perm", [(0.8, 128), (0.7, 128), (0.5, 64)])
def test_band_params_keep_recall_at_the_threshold(threshold, num_perm):
    bands, rows_ = minhash.band_params(threshold, num_perm)
    assert bands * rows_ <= num_perm
    assert minhash.candidate_probability(threshold, bands, rows_) >= 0.995
    # and no larger row count would: the choice is the most selective one
    if rows_ < num_perm:
        assert minhash.candidate_probability(threshold, num_perm // (rows_ + 1), rows_ + 1) < 0.995


def test_lsh_candidates_cover_the_similar_pairs(texts):
    """Against all pairs (exact Jaccard ≥ 0.8): LSH band collisions find at least 98%."""
    rng = np.random.default_rng(1)
    sets = [tokens(t) for t in texts[:400]]
    sets += [set(list(sorted(s))[1:]) | {"x"} if rng.random() < 0.5 else s for s in sets[:200]]
    sets = [s for s in sets if len(s) >= 5]
    doc, element = _sets_to_arrays(sets)
    sig = minhash.signatures(doc, element, len(sets), 128)
    bands, rows_ = minhash.band_params(0.8, 128)
    keys = minhash.band_keys(sig, bands, rows_)
    similar = {(i, j) for i, j in itertools.combinations(range(len(sets)), 2) if jaccard(sets[i], sets[j]) >= 0.8}
    assert len(similar) > 50
    found = {(i, j) for i, j in similar if (keys[i] == keys[j]).any()}
    assert len(found) >= 0.98 * len(similar)


def _store_with_posts(path: Path, posts: list[tuple[str, str, datetime, str]]) -> askscope.Store:
    """A store holding constructed posts (id, author, time, text); SYNTHETIC."""
    store = askscope.open_store(path)
    store.con.executemany(
        "INSERT INTO posts (platform, id, author_id, author_handle, created_at, text, kind, urls, is_context) "
        "VALUES ('x', ?, ?, ?, ?, ?, 'post', [], false)",
        [(i, a, "h_" + a, t, text) for i, a, t, text in posts],
    )
    return store


def test_co_similar_equals_exact_pairs_within_tau(tmp_path, texts):
    """co_similar edges equal the exact all-pairs computation (Jaccard of token sets ≥ 0.8, ≥ 5
    tokens, within τ) on real texts with SYNTHETIC near-copies posted by other accounts."""
    rng = np.random.default_rng(2)
    posts = []
    for i, text in enumerate(texts[:300]):
        at = T0 + timedelta(seconds=int(rng.integers(0, 6 * 3600)))
        posts.append((f"p{i}", f"u{rng.integers(0, 120)}", at, text))
        if rng.random() < 0.4:  # a near-copy, sometimes inside τ, sometimes not
            words = text.split()
            words.pop(int(rng.integers(len(words))))
            posts.append(
                (
                    f"c{i}",
                    f"u{rng.integers(0, 120)}",
                    at + timedelta(seconds=int(rng.integers(0, 120))),
                    " ".join(words),
                )
            )
    store = _store_with_posts(tmp_path / "s.duckdb", posts)
    with store.transaction():
        analyze_authenticity(store, None, {"networks": ["co_similar"], "null_runs": 1})
    ours = {(a, b): w for a, b, w in rows(store, "SELECT source_id, target_id, weight FROM coaction_edges")}
    token_sets = {pid: tokens(text) for pid, _, _, text in posts}
    matched: dict[tuple[str, str], set[str]] = {}
    for (p1, a1, t1, _), (p2, a2, t2, _) in itertools.permutations(posts, 2):
        s1, s2 = token_sets[p1], token_sets[p2]
        if (
            a1 != a2
            and len(s1) >= 5
            and len(s2) >= 5
            and abs((t1 - t2).total_seconds()) <= 60
            and jaccard(s1, s2) >= 0.8
        ):
            matched.setdefault((a1, a2), set()).add(p1)
    exact = {pair: len(ps) for pair, ps in matched.items()}
    assert len(exact) >= 20
    assert set(ours.items()) <= set(exact.items())
    assert len(ours) >= 0.95 * len(exact)
    store.close()


def _brute_force_states(gaps: np.ndarray, s: float, gamma: float, k: int) -> tuple[float, list[int]]:
    n = len(gaps)
    alpha = (n / gaps.sum()) * s ** np.arange(k)
    best = (math.inf, [])
    for seq in itertools.product(range(k), repeat=n):
        cost, prev = 0.0, 0
        for state, gap in zip(seq, gaps):
            if state > prev:
                cost += (state - prev) * gamma * math.log(n)
            cost += alpha[state] * gap - math.log(alpha[state])
            prev = state
        if cost < best[0] - 1e-12:
            best = (cost, list(seq))
    return best


@pytest.mark.parametrize(
    "gaps",
    [
        [10.0, 9.0, 0.5, 0.4, 0.6, 11.0],  # a short burst in the middle
        [5.0, 5.0, 5.0, 5.0, 5.0],  # regular: no burst
        [1.0, 0.2, 0.2, 8.0, 0.1, 0.1, 9.0],  # two bursts
    ],
)
def test_kleinberg_viterbi_is_exact(gaps):
    gaps_arr = np.array(gaps)
    times = np.r_[0.0, np.cumsum(gaps_arr)]
    states = kleinberg_states(times, 2.0, 1.0)
    n = len(gaps_arr)
    smallest = max(float(gaps_arr[gaps_arr > 0].min()), 1e-3)
    k = max(2, min(int(math.ceil(1 + math.log(gaps_arr.sum(), 2) + math.log(1 / smallest, 2))), 64))
    cost, expected = _brute_force_states(gaps_arr, 2.0, 1.0, min(k, 5))
    alpha = (n / gaps_arr.sum()) * 2.0 ** np.arange(k)
    ours = 0.0
    prev = 0
    for state, gap in zip(states, gaps_arr):
        ours += max(int(state) - prev, 0) * math.log(n) + alpha[state] * gap - math.log(alpha[state])
        prev = int(state)
    assert ours <= cost + 1e-9  # at least as good as the best sequence over the first 5 states
    if max(expected) < 4:
        assert list(states) == expected


def test_kleinberg_finds_a_planted_burst_and_burstiness_bounds():
    rng = np.random.default_rng(0)
    background = np.cumsum(rng.exponential(60, 600))
    burst = 3 * 3600 + np.cumsum(rng.exponential(2, 400))
    times = np.sort(np.r_[background, burst])
    found = [b for b in bursts(kleinberg_states(times)) if b.level == 1]
    longest = max(found, key=lambda b: b.end - b.start)
    assert times[longest.start] == pytest.approx(3 * 3600, abs=120)
    assert times[longest.end] == pytest.approx(burst[-1], abs=120)
    assert burstiness(np.arange(100.0))[2] == pytest.approx(-1.0)
    assert abs(burstiness(np.cumsum(rng.exponential(1.0, 20000)))[2]) < 0.03
    assert burstiness(times)[2] > 0.1
    assert burstiness(np.array([1.0, 2.0]))[2] is None


def test_coornet_tau_by_hand(tmp_path):
    """Objects shared more than once: u1 (4 shares at +0, +10, +20, +300 s), u2 (2 shares, +100 s),
    u3 (3 shares at +0, +50, +60 s), u4 once. Second-share delays 10, 100, 50; their 0.5 quantile
    is 50, so u1 and u3 are the quickest. Time to more than half of the shares: u1 → rank 3 (20 s),
    u3 → rank 2 (50 s). τ = median(20, 50) = 35 s."""
    shares = [
        ("u1", 0),
        ("u1", 10),
        ("u1", 20),
        ("u1", 300),
        ("u2", 0),
        ("u2", 100),
        ("u3", 0),
        ("u3", 50),
        ("u3", 60),
        ("u4", 0),
    ]
    store = askscope.open_store(tmp_path / "s.duckdb")
    store.con.executemany(
        "INSERT INTO posts (platform, id, author_id, created_at, text, kind, urls, is_context) "
        "VALUES ('x', ?, ?, ?, 'x', 'post', [?], false)",
        [(f"p{i}", f"a{i}", T0 + timedelta(seconds=s), f"https://e.org/{u}") for i, (u, s) in enumerate(shares)],
    )
    build_population(store.con, None)
    build_actions(store.con, "co_link", AuthenticitySettings())
    assert estimate_tau(store.con, "co_link", q=0.5, p=0.5) == pytest.approx(35.0)
    store.close()


def test_hypergeometric_tail_and_bh():
    for total, n_a, n_b in [(30, 7, 9), (12, 5, 5), (100, 3, 40)]:
        for k in range(0, min(n_a, n_b) + 2):
            exact = sum(
                math.comb(n_a, x) * math.comb(total - n_a, n_b - x) for x in range(k, min(n_a, n_b) + 1)
            ) / math.comb(total, n_b)
            assert hypergeometric_sf(k, total, n_a, n_b) == pytest.approx(exact, rel=1e-9, abs=1e-15)
    adjusted = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2]), 4)
    assert adjusted == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])
    # untested pairs count as p = 1: more tests, larger adjusted values
    assert (benjamini_hochberg(np.array([0.01, 0.04]), 100) >= benjamini_hochberg(np.array([0.01, 0.04]), 2)).all()


def test_threshold_weight():
    weights = np.array([1] * 500 + [2] * 40 + [3] * 10 + [6] * 5)
    floor = NullFloor(runs=10, seed=0, pairs_mean=480, max_weight=2, at_least={1: 480.0, 2: 30.0})
    # w=2: null 30 > 5% of 55; w=3: null 0 ≤ 5% of 15
    assert threshold_weight(weights, floor, min_weight=1, fdr=0.05) == 3
    assert threshold_weight(weights, floor, min_weight=4, fdr=0.05) == 4  # the weight-6 pairs
    assert threshold_weight(np.array([1, 1, 2]), floor, min_weight=3, fdr=0.05) is None
    assert threshold_weight(np.zeros(0, dtype=int), floor, 3, 0.05) is None


def _pairs_by_hand(source, target, weight):
    """Undirected pairs with min(w(a→b), w(b→a)), by a dict: the definition, not the sort."""
    best: dict[tuple[int, int], int] = {}
    for s, t, w in zip(source.tolist(), target.tolist(), weight.tolist()):
        key = (min(s, t), max(s, t))
        best[key] = min(best.get(key, w), w)
    return sorted(best.items())


@pytest.mark.parametrize("largest_account", [40, 2**31 - 1])  # packed into one int64; too wide: lexsort
def test_pair_weights_by_hand(largest_account):
    rng = np.random.default_rng(3)
    ids = rng.choice(np.r_[np.arange(30), largest_account - np.arange(10)], size=(2, 4000))
    keep = ids[0] != ids[1]
    source, target = ids[0][keep].astype(np.int32), ids[1][keep].astype(np.int32)
    weight = rng.integers(1, 300, len(source)).astype(np.int32)
    a, b, w = Edges(source, target, weight).pair_weights()
    assert a.dtype == b.dtype == w.dtype == np.int32
    assert list(zip(zip(a.tolist(), b.tolist()), w.tolist())) == _pairs_by_hand(source, target, weight)
    # a hand-made case: (1,2) both ways with 5 and 3, (2,7) one way with 4, (0,1) twice one way
    edges = Edges(*(np.array(x, np.int32) for x in ([1, 2, 7, 0, 0], [2, 1, 2, 1, 1], [5, 3, 4, 9, 2])))
    a, b, w = edges.pair_weights()
    assert (a.tolist(), b.tolist(), w.tolist()) == ([0, 1, 2], [1, 2, 7], [2, 3, 4])


def test_null_run_counts_pairs_and_accounts_by_weight():
    # pairs (0,1) w 3, (1,2) w 1, (3,4) w 2, (5,6) w 3: by hand
    source, target, weight = ([0, 1, 1, 2, 3, 4, 5], [1, 0, 2, 1, 4, 3, 6], [3, 4, 1, 1, 2, 2, 3])
    run = NullRun.of(Edges(*(np.array(x, np.int32) for x in (source, target, weight))))
    assert run.pairs == 4 and run.max_weight == 3
    assert run.pairs_at_least.tolist() == [4, 4, 3, 2]
    # accounts by their largest pair weight: 0,1,5,6 → 3; 3,4 → 2; 2 → 1
    assert run.accounts_at_least.tolist() == [7, 7, 6, 4]
    assert [run.accounts(w) for w in (0, 1, 2, 3, 4, 9)] == [7, 7, 6, 4, 0, 0]
    empty = NullRun.of(Edges.empty())
    assert empty.pairs == 0 and empty.max_weight == 0 and empty.accounts(1) == 0
    # random runs against np.unique over the pairs themselves (the floor's former computation)
    rng = np.random.default_rng(5)
    runs = []
    for _ in range(3):
        s, t = rng.integers(0, 60, (2, 500))
        keep = s != t
        edges = Edges(
            s[keep].astype(np.int32), t[keep].astype(np.int32), rng.geometric(0.4, keep.sum()).astype(np.int32)
        )
        runs.append((NullRun.of(edges), edges.pair_weights()))
    for threshold in range(0, 12):
        by_hand = [len(np.unique(np.r_[a[w >= threshold], b[w >= threshold]])) for _, (a, b, w) in runs]
        assert [run.accounts(threshold) for run, _ in runs] == by_hand
        floor = NullFloor(3, 0, runs_seen=[run for run, _ in runs])
        assert floor.accounts_flagged(threshold) == pytest.approx(np.mean(by_hand))
    assert NullFloor(3, 0, runs_seen=[run for run, _ in runs]).accounts_flagged(None) == 0.0


def test_components_and_groups():
    a, b = np.array([5, 6, 9, 1]), np.array([6, 7, 10, 2])
    membership = components(a, b)
    assert membership == {1: 1, 2: 1, 5: 5, 6: 5, 7: 5, 9: 9, 10: 9}
    labels = component_labels(6, np.array([4, 3, 2, 1]), np.array([5, 4, 3, 2]))
    assert list(labels) == [0, 1, 1, 1, 1, 1]
    keys = [f"acc{i:02d}" for i in range(11)]
    numbered = number_groups(membership, keys)
    assert numbered[5] == numbered[6] == numbered[7] == 1  # largest first
    assert numbered[1] == 2 and numbered[9] == 3  # ties by smallest member
    two_cliques = (
        [(i, j) for i, j in itertools.combinations(range(5), 2)]
        + [(i, j) for i, j in itertools.combinations(range(5, 10), 2)]
        + [(4, 5)]
    )
    la, lb = np.array([x for x, _ in two_cliques]), np.array([y for _, y in two_cliques])
    communities = leiden(la, lb, np.ones(len(la)), 1.0, seed=0)
    assert len({communities[i] for i in range(5)}) == 1 and communities[0] != communities[9]
    assert leiden(la, lb, np.ones(len(la)), 1.0, seed=0) == communities  # the same for a seed
    # the resolution reaches the objective: far below 1 the bridge is worth keeping, one community
    merged = leiden(la, lb, np.ones(len(la)), 0.01, seed=0)
    assert len(set(merged.values())) == 1


def test_exports_escape_untrusted_handles(tmp_path):
    """Handles with XML metacharacters and control characters make valid GEXF/GraphML."""
    nasty = 'evil"<script>&\x01\x1f'
    posts = []
    for event in range(4):
        for member in range(3):
            at = T0 + timedelta(minutes=10 * event, seconds=member)
            posts.append((f"e{event}m{member}", f"acct{member}", at, f"the same words posted again {event}"))
    store = _store_with_posts(tmp_path / "s.duckdb", posts)
    store.con.execute("UPDATE posts SET author_handle = ? WHERE author_id = 'acct0'", [nasty])
    with store.transaction():
        analyze_authenticity(store, None, {"networks": ["co_post"], "null_runs": 2})
    store.close()
    with askscope.open_store(tmp_path / "s.duckdb", read_only=True) as reopened:  # from the tables alone
        written = export(reopened.con, tmp_path / "out", ("co_post",))
    assert sorted(Path(p).name for p in written) == [
        "co_post.gexf",
        "co_post.graphml",
        "coaction_edges.parquet",
        "coordinated_accounts.parquet",
    ]
    gexf = nx.read_gexf(tmp_path / "out" / "co_post.gexf")
    graphml = nx.read_graphml(tmp_path / "out" / "co_post.graphml")
    for graph in (gexf, graphml):
        assert graph.number_of_nodes() == 3 and graph.number_of_edges() == 6
    assert graphml.nodes["x:acct0"]["handle"] == 'evil"<script>&'
    assert {d["weight"] for _, _, d in graphml.edges(data=True)} == {4}
    assert all(d["significant"] for _, _, d in graphml.edges(data=True))
    assert {d["group"] for _, d in graphml.nodes(data=True)} == {1}
    table = pq.read_table(tmp_path / "out" / "coaction_edges.parquet")
    assert table.num_rows == 6 and set(table.column_names) == {
        "network",
        "platform",
        "source_id",
        "target_id",
        "weight",
        "significant",
    }


@pytest.mark.parametrize("batch", [1, 3, 7, 1000])
def test_signatures_read_in_batches_are_the_signatures_of_the_whole(batch):
    # the co_similar sets' tokens and the near-duplicates' shingles are read from DuckDB in batches
    # (a document's rows may span batches): each document's signature and band keys are the ones
    # of all the rows at once, and a document without rows keeps the all-ones signature's keys
    import duckdb

    rng = np.random.default_rng(5)
    rows = [(doc, int(h)) for doc in (0, 1, 2, 4, 5, 8) for h in rng.integers(0, 2**63, size=int(rng.integers(1, 6)))]
    doc = np.array([d for d, _ in rows], dtype=np.int64)
    element = np.array([h for _, h in rows], dtype=np.uint64)
    whole = minhash.signatures(doc, element, 10, 64)  # documents 3, 6, 7 and 9 have no rows
    con = duckdb.connect()
    con.execute("CREATE TABLE e (doc BIGINT, h UBIGINT)")
    con.executemany("INSERT INTO e VALUES (?, ?)", rows)
    reader = con.sql("SELECT doc, h FROM e ORDER BY doc").to_arrow_reader(batch)
    seen = []
    for docs, sig in minhash.streamed_signatures(reader, 64):
        assert np.array_equal(sig, whole[docs])
        seen += docs.tolist()
    assert seen == [0, 1, 2, 4, 5, 8]  # each document once, in order
    bands, rows_ = minhash.band_params(0.8, 64)
    keys = minhash.streamed_band_keys(
        con.sql("SELECT doc, h FROM e ORDER BY doc").to_arrow_reader(batch), 10, 64, bands, rows_
    )
    assert np.array_equal(keys, minhash.band_keys(whole, bands, rows_))
