"""Is a co-action edge more than chance? A timestamp-shuffling null model (Schoch et al. 2022).

Each null run gives every post of a network the time of another of its posts (a seeded
permutation, so all times stay inside the window and each account keeps its number of actions
and each object its number of uses) and recomputes the network. The runs' output is the
detector's **false-positive floor**: how many account pairs reach each weight by chance.

An undirected pair's weight is ``min(w(A→B), w(B→A))``. The significance threshold ``w*`` is the
smallest weight ``≥ min_weight`` at which the floor's mean count of pairs with weight ``≥ w`` is
at most ``fdr`` times the observed count (an estimated false-discovery share); pairs at or above
``w*`` are significant. Optionally each such pair must also pass a hypergeometric test
(Tumminello et al. 2011) on the (object, τ-slot) cells the two accounts used, with
Benjamini–Hochberg correction over all observed pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from askscope.authenticity.networks import Edges, actions_table


@dataclass(frozen=True)
class NullRun:
    """What the floor keeps of one null run: counts by weight, not the run's pairs (at 100M posts a
    run of co_similar has tens of millions), so a cluster's task returns a few numbers."""

    #: the run's undirected pairs
    pairs: int
    #: ``pairs_at_least[w]``: pairs of weight ≥ w, for w = 0 .. the run's largest weight
    pairs_at_least: np.ndarray
    #: ``accounts_at_least[w]``: accounts in at least one pair of weight ≥ w (same indices)
    accounts_at_least: np.ndarray

    @classmethod
    def of(cls, edges: Edges) -> NullRun:
        """The counts of ``edges``' undirected pairs (:meth:`Edges.pair_weights`, ordered by ``(a, b)``)."""
        a, b, w = edges.pair_weights()
        if len(w) == 0:
            return cls(0, np.zeros(1, np.int64), np.zeros(1, np.int64))
        pairs_at_least = np.cumsum(np.bincount(w)[::-1])[::-1]
        # each account's largest pair weight; an account is flagged at w when that is ≥ w
        largest = np.full(int(max(a.max(), b.max())) + 1, -1, dtype=np.int64)
        # the pairs are ordered by (a, b): each a's largest weight is a reduction over its run
        starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        largest[a[starts]] = np.maximum.reduceat(w, starts)
        np.maximum.at(largest, b, w)
        by_largest = np.bincount(largest[largest >= 0], minlength=len(pairs_at_least))
        return cls(len(w), pairs_at_least, np.cumsum(by_largest[::-1])[::-1])

    @property
    def max_weight(self) -> int:
        return len(self.pairs_at_least) - 1 if self.pairs else 0

    def accounts(self, weight: int) -> int:
        """Accounts in this run's pairs of weight ≥ ``weight``."""
        at = max(weight, 0)
        return int(self.accounts_at_least[at]) if self.pairs and at < len(self.accounts_at_least) else 0


@dataclass
class NullFloor:
    """The detector's output on shuffled data."""

    runs: int
    seed: int
    pairs_mean: float = 0.0
    max_weight: int = 0
    #: mean number of pairs with weight ≥ w, for w = 1 .. max_weight
    at_least: dict[int, float] = field(default_factory=dict)
    #: what each run gave (:class:`NullRun`), to count the accounts a threshold would flag by chance
    runs_seen: list[NullRun] = field(default_factory=list, repr=False)

    def accounts_flagged(self, weight: int | None) -> float:
        """Mean number of accounts in null pairs of weight ≥ ``weight``: the accounts the detector
        flags on shuffled data (0 when there is no threshold)."""
        if weight is None or not self.runs_seen:
            return 0.0
        return float(np.mean([run.accounts(weight) for run in self.runs_seen]))

    def expected(self, weight: int) -> float:
        return self.at_least.get(weight, 0.0) if weight >= 1 else self.pairs_mean

    def as_dict(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "seed": self.seed,
            "pairs_mean": round(self.pairs_mean, 4),
            "max_weight": self.max_weight,
            "at_least": {str(w): round(v, 4) for w, v in sorted(self.at_least.items())},
        }


#: Runs the null model's runs on other workers: given the number of runs, each run's
#: :class:`NullRun` in run order (run r permutes the times with :func:`null_times` ``(..., r)``, as
#: the embedded loop does).
MapRuns = Callable[[int], Iterable[NullRun]]
#: The name under which a run's permuted times are registered for ``compute``.
NULL_TIMES = "_auth_null_times"


def null_times(times: np.ndarray, seed: int, stream: int, run: int) -> np.ndarray:
    """Run ``run``'s permutation of ``times``: a generator of its own (``[seed, stream, run]``), so
    the runs can go in any order, in any process, and give the same floor."""
    return np.random.default_rng([seed, stream, run]).permutation(times)


def null_edges(
    con: duckdb.DuckDBPyConnection,
    pids: np.ndarray,
    times: np.ndarray,
    compute: Callable[[str], Edges],
    seed: int,
    stream: int,
    run: int,
) -> Edges:
    """One null run: the times of ``pids`` permuted (:func:`null_times`), registered on ``con`` as
    :data:`NULL_TIMES` for ``compute``."""
    table = pa.table({"pid": pa.array(pids), "t": pa.array(null_times(times, seed, stream, run))})
    con.register(NULL_TIMES, table)
    try:
        return compute(NULL_TIMES)
    finally:
        con.unregister(NULL_TIMES)


def null_floor(
    con: duckdb.DuckDBPyConnection,
    network: str,
    times: np.ndarray,
    pids: np.ndarray,
    compute: Callable[[str], Edges],
    runs: int,
    seed: int,
    stream: int,
    map_runs: MapRuns | None = None,
) -> NullFloor:
    """Run the detector ``runs`` times with the times of ``pids`` permuted; ``compute(table)``
    computes the network with the times in ``table(pid, t)``. With ``map_runs`` the runs' edges
    come from there (a cluster's tasks) instead of this loop; the floor is combined here, in run
    order, either way."""
    floor = NullFloor(runs, seed)
    if len(pids) == 0:
        return floor
    totals: dict[int, float] = {}
    pairs_total = 0
    if map_runs is None:
        results: Iterable[NullRun] = (
            NullRun.of(null_edges(con, pids, times, compute, seed, stream, r)) for r in range(runs)
        )
    else:
        results = map_runs(runs)
    for run in results:
        floor.runs_seen.append(run)
        pairs_total += run.pairs
        if run.pairs:
            for w in range(1, len(run.pairs_at_least)):
                totals[w] = totals.get(w, 0.0) + float(run.pairs_at_least[w])
            floor.max_weight = max(floor.max_weight, run.max_weight)
    if len(floor.runs_seen) != runs:
        raise RuntimeError(f"the null model ran {len(floor.runs_seen)} of {runs} runs")
    floor.pairs_mean = pairs_total / runs
    floor.at_least = {w: v / runs for w, v in totals.items()}
    return floor


def threshold_weight(pair_weights: np.ndarray, floor: NullFloor, min_weight: int, fdr: float) -> int | None:
    """The smallest weight ``w ≥ min_weight`` with ``floor(≥ w) ≤ fdr · observed(≥ w)``, or None."""
    if len(pair_weights) == 0:
        return None
    counts = np.bincount(pair_weights)
    observed_at_least = np.cumsum(counts[::-1])[::-1]
    for w in range(max(min_weight, 1), len(counts)):
        observed = float(observed_at_least[w])
        if observed > 0 and floor.expected(w) <= fdr * observed:
            return w
    return None


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def hypergeometric_sf(k: int, total: int, n_a: int, n_b: int) -> float:
    """P(X ≥ k) for X ~ Hypergeometric(total cells, n_a marked, n_b drawn)."""
    top = min(n_a, n_b)
    low = max(0, n_a + n_b - total)
    if k <= low:
        return 1.0
    if k > top:
        return 0.0
    log_den = _log_comb(total, n_b)
    acc = 0.0
    for x in range(k, top + 1):
        term = math.exp(_log_comb(n_a, x) + _log_comb(total - n_a, n_b - x) - log_den)
        acc += term
        if term < 1e-17 * acc:
            break
    return min(acc, 1.0)


def benjamini_hochberg(p_values: np.ndarray, total_tests: int) -> np.ndarray:
    """BH-adjusted p-values of ``p_values`` among ``total_tests`` tests (the others count as p = 1)."""
    m = max(total_tests, len(p_values))
    if len(p_values) == 0:
        return p_values
    order = np.argsort(p_values, kind="stable")
    ranked = p_values[order] * m / np.arange(1, len(p_values) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(adjusted)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def hypergeometric_pass(
    con: duckdb.DuckDBPyConnection,
    network: str,
    tau_seconds: float,
    a: np.ndarray,
    b: np.ndarray,
    weight: np.ndarray,
    total_pairs: int,
    alpha: float,
) -> np.ndarray:
    """Which candidate pairs ``(a, b, weight)`` pass the BH-corrected hypergeometric test.

    Cells are the distinct (object, τ-slot) combinations of the network's actions (for co_similar
    the τ-slots alone); an account's count is the cells it used; the pair's co-occurrences are its
    weight."""
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    width = max(int(round(tau_seconds * 1000)), 1)
    # co_similar's objects are LSH band buckets (many per post): its cells are the τ-slots alone.
    obj = "0" if network == "co_similar" else "x.k"
    cells = con.execute(f"""
        WITH c AS (SELECT DISTINCT x.uid, {obj} AS k, p.t // {width} AS slot
                   FROM {actions_table(network)} x JOIN auth_population p USING (pid))
        SELECT uid, count(*) AS n, (SELECT count(*) FROM (SELECT DISTINCT k, slot FROM c)) AS total
        FROM c GROUP BY uid
    """).fetchall()
    per_account = {int(uid): int(n) for uid, n, _ in cells}
    total = int(cells[0][2]) if cells else 0
    p = np.array(
        [
            hypergeometric_sf(int(w), total, per_account.get(int(x), 0), per_account.get(int(y), 0))
            for x, y, w in zip(a, b, weight)
        ]
    )
    return benjamini_hochberg(p, total_pairs) <= alpha
