"""Co-action networks, their null floor, significant edges and groups, written to the store.

Tables written (public, see docs/schema.md): ``coaction_edges``, ``coordinated_accounts``,
``coordination_networks``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import numpy as np
import pyarrow as pa

from askscope.authenticity import groups as grouping
from askscope.authenticity.interval import estimate_tau
from askscope.authenticity.networks import Edges, build_actions, compute_edges, posts_and_times
from askscope.authenticity.population import POPULATION, Population
from askscope.authenticity.settings import NETWORKS, AuthenticitySettings
from askscope.authenticity.significance import (
    MapRuns,
    NullFloor,
    NullRun,
    hypergeometric_pass,
    null_floor,
    threshold_weight,
)

AUTHORS = "auth_authors"
#: When CooRnet's estimate finds nothing to estimate from.
FALLBACK_TAU = 60.0


class EdgesRunner(Protocol):
    """Computes a network's edges as :func:`~askscope.authenticity.networks.compute_edges` does."""

    def __call__(
        self,
        con: duckdb.DuckDBPyConnection,
        network: str,
        times: str,
        tau_seconds: float,
        settings: AuthenticitySettings,
        stats: dict[str, int] | None = None,
    ) -> Edges: ...


class NullRunner(Protocol):
    """Runs a network's ``runs`` null runs elsewhere (the network's actions are in ``con``) and
    yields each run's :class:`~askscope.authenticity.significance.NullRun` in run order (see
    :func:`~askscope.authenticity.significance.null_floor`)."""

    def __call__(
        self,
        con: duckdb.DuckDBPyConnection,
        network: str,
        tau_seconds: float,
        settings: AuthenticitySettings,
        pids: np.ndarray,
        times: np.ndarray,
        stream: int,
        runs: int,
    ) -> Iterable[NullRun]: ...


@dataclass(frozen=True)
class Runners:
    """Where the co-action networks' band joins run: embedded by default; a cluster's runners
    (``askscope.archive.dask_networks``) give the same edges and the same null floor."""

    edges: EdgesRunner = compute_edges
    #: None: the null runs loop here, on ``edges``.
    null_runs: NullRunner | None = None


@dataclass
class NetworkResult:
    """One network's figures (a row of ``coordination_networks``)."""

    network: str
    tau_seconds: float
    tau_source: str  # "fixed", "estimated" or "fallback"
    actions: int = 0
    edges: int = 0
    pairs: int = 0
    floor: NullFloor | None = None
    threshold_weight: int | None = None
    significant_pairs: int = 0
    coordinated_accounts: int = 0
    groups: int = 0
    coordinated_posts: int = 0
    posts: int = 0
    coordinated_share: float = 0.0
    null_accounts_flagged: float = 0.0
    crowded_actions: int = 0
    membership: dict[int, int] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tau_seconds": self.tau_seconds,
            "tau_source": self.tau_source,
            "actions": self.actions,
            "edges": self.edges,
            "pairs": self.pairs,
            "threshold_weight": self.threshold_weight,
            "significant_pairs": self.significant_pairs,
            "coordinated_accounts": self.coordinated_accounts,
            "groups": self.groups,
            "coordinated_posts": self.coordinated_posts,
            "posts": self.posts,
            "coordinated_share": round(self.coordinated_share, 6),
            "null_accounts_flagged": round(self.null_accounts_flagged, 4),
            "crowded_actions": self.crowded_actions,
            "null_floor": self.floor.as_dict() if self.floor else None,
        }


def run_coordination(
    con: duckdb.DuckDBPyConnection,
    population: Population,
    settings: AuthenticitySettings,
    say: Callable[[str], None] = lambda _: None,
    runners: Runners | None = None,
) -> dict[str, NetworkResult]:
    """Compute every chosen network and write the three tables (the band joins with ``runners``)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {AUTHORS} AS
                    SELECT uid, platform, author_id, max(author_handle) AS handle FROM {POPULATION}
                    GROUP BY ALL ORDER BY uid""")
    authors = con.execute(f"SELECT platform, author_id FROM {AUTHORS} ORDER BY uid").fetchall()
    order_key = [f"{p}\x00{a}" for p, a in authors]
    _create_tables(con)
    results: dict[str, NetworkResult] = {}
    for stream, network in enumerate(NETWORKS):
        if network not in settings.networks:
            continue
        say(f"authenticity: {network}")
        result = _one_network(con, network, stream, settings, order_key, population, runners or Runners())
        results[network] = result
    _write_accounts_share(con, results, population)
    return results


def _one_network(
    con: duckdb.DuckDBPyConnection,
    network: str,
    stream: int,
    settings: AuthenticitySettings,
    order_key: list[str],
    population: Population,
    runners: Runners,
) -> NetworkResult:
    actions = build_actions(con, network, settings)
    if settings.tau is not None:
        tau, source = float(settings.tau), "fixed"
    else:
        estimate = estimate_tau(con, network, settings.tau_q, settings.tau_p)
        tau, source = (estimate, "estimated") if estimate is not None else (FALLBACK_TAU, "fallback")
    result = NetworkResult(network, tau, source, actions=actions, posts=population.posts)

    def compute(times: str) -> Edges:
        return runners.edges(con, network, times, tau, settings)

    stats: dict[str, int] = {}
    edges = runners.edges(con, network, POPULATION, tau, settings, stats) if actions else Edges.empty()
    result.crowded_actions = stats.get("crowded_actions", 0)
    a, b, w = edges.pair_weights()
    result.edges, result.pairs = len(edges), len(w)
    pids, times = posts_and_times(con, network) if actions else (np.zeros(0, np.int64), np.zeros(0, np.int64))
    map_runs: MapRuns | None = None
    if runners.null_runs is not None:
        null_runs = runners.null_runs

        def elsewhere(runs: int) -> Iterable[NullRun]:
            return null_runs(con, network, tau, settings, pids, times, stream, runs)

        map_runs = elsewhere
    result.floor = (
        null_floor(con, network, times, pids, compute, settings.null_runs, settings.seed, stream, map_runs)
        if len(edges)
        else NullFloor(settings.null_runs, settings.seed)
    )
    result.threshold_weight = threshold_weight(w, result.floor, settings.min_weight, settings.fdr)
    result.null_accounts_flagged = result.floor.accounts_flagged(result.threshold_weight)
    significant = np.zeros(len(w), dtype=bool) if result.threshold_weight is None else w >= result.threshold_weight
    if settings.hypergeometric and significant.any():
        idx = np.flatnonzero(significant)
        passed = hypergeometric_pass(con, network, tau, a[idx], b[idx], w[idx], len(w), settings.alpha)
        significant[idx[~passed]] = False
    sa, sb, sw = a[significant], b[significant], w[significant]
    result.significant_pairs = int(significant.sum())
    if settings.groups == "leiden" and len(sa):
        membership = grouping.leiden(sa, sb, sw, settings.leiden_resolution, settings.seed)
    else:
        membership = grouping.components(sa, sb)
    result.membership = grouping.number_groups(membership, order_key)
    result.groups = len(set(result.membership.values()))
    result.coordinated_accounts = len(result.membership)
    _write_edges(con, network, edges, sa, sb)
    _write_members(con, network, result.membership)
    return result


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TABLE coaction_edges (network VARCHAR, platform VARCHAR, source_id VARCHAR,
                   target_id VARCHAR, weight INTEGER, significant BOOLEAN)""")
    con.execute("""CREATE OR REPLACE TABLE coordinated_accounts (platform VARCHAR, author_id VARCHAR,
                   network VARCHAR, group_id INTEGER)""")
    con.execute("""CREATE OR REPLACE TABLE coordination_networks (network VARCHAR, tau_seconds DOUBLE,
                   tau_source VARCHAR, actions BIGINT, edges BIGINT, pairs BIGINT, null_runs INTEGER,
                   null_pairs_mean DOUBLE, null_max_weight INTEGER, threshold_weight INTEGER,
                   significant_pairs BIGINT, coordinated_accounts BIGINT, groups BIGINT, coordinated_posts BIGINT,
                   posts BIGINT, coordinated_share DOUBLE, null_accounts_flagged DOUBLE, crowded_actions BIGINT)""")


def _write_edges(con: duckdb.DuckDBPyConnection, network: str, edges: Edges, sa: np.ndarray, sb: np.ndarray) -> None:
    if not len(edges):
        return
    lo = np.minimum(edges.source, edges.target).astype(np.int64)
    hi = np.maximum(edges.source, edges.target).astype(np.int64)
    significant = np.isin(lo << 32 | hi, sa.astype(np.int64) << 32 | sb.astype(np.int64))
    table = pa.table(
        {
            "s": pa.array(edges.source),
            "t": pa.array(edges.target),
            "w": pa.array(edges.weight),
            "sig": pa.array(significant),
        }
    )
    con.register("_auth_edges", table)
    try:
        con.execute(
            f"""
            INSERT INTO coaction_edges
            SELECT ?, a.platform, a.author_id, b.author_id, e.w, e.sig
            FROM _auth_edges e JOIN {AUTHORS} a ON a.uid = e.s JOIN {AUTHORS} b ON b.uid = e.t
            ORDER BY a.platform, a.author_id, b.author_id
        """,
            [network],
        )
    finally:
        con.unregister("_auth_edges")


def _write_members(con: duckdb.DuckDBPyConnection, network: str, membership: dict[int, int]) -> None:
    if not membership:
        return
    uids = np.fromiter(membership.keys(), dtype=np.int32, count=len(membership))
    gids = np.fromiter(membership.values(), dtype=np.int32, count=len(membership))
    con.register("_auth_members", pa.table({"uid": pa.array(uids), "g": pa.array(gids)}))
    try:
        con.execute(
            f"""
            INSERT INTO coordinated_accounts
            SELECT a.platform, a.author_id, ?, m.g FROM _auth_members m JOIN {AUTHORS} a USING (uid)
            ORDER BY m.g, a.platform, a.author_id
        """,
            [network],
        )
    finally:
        con.unregister("_auth_members")


def _write_accounts_share(
    con: duckdb.DuckDBPyConnection, results: dict[str, NetworkResult], population: Population
) -> None:
    for network, result in results.items():
        row = con.execute(
            f"""
            SELECT count(*) FROM {POPULATION} p SEMI JOIN coordinated_accounts c
                ON c.platform = p.platform AND c.author_id = p.author_id AND c.network = ?
            WHERE p.kind <> 'repost'
        """,
            [network],
        ).fetchall()[0]
        result.coordinated_posts = int(row[0]) if row else 0
        result.coordinated_share = result.coordinated_posts / population.posts if population.posts else 0.0
        floor = result.floor or NullFloor(0, 0)
        con.execute(
            "INSERT INTO coordination_networks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                network,
                result.tau_seconds,
                result.tau_source,
                result.actions,
                result.edges,
                result.pairs,
                floor.runs,
                floor.pairs_mean,
                floor.max_weight,
                result.threshold_weight,
                result.significant_pairs,
                result.coordinated_accounts,
                result.groups,
                result.coordinated_posts,
                result.posts,
                result.coordinated_share,
                result.null_accounts_flagged,
                result.crowded_actions,
            ],
        )


def any_network_share(con: duckdb.DuckDBPyConnection, population: Population) -> tuple[int, int, float]:
    """Accounts coordinated in any network, their non-repost posts, and that share of ``|P|``."""
    row = con.execute(f"""
        SELECT (SELECT count(*) FROM (SELECT DISTINCT platform, author_id FROM coordinated_accounts)),
               count(*) FROM {POPULATION} p SEMI JOIN coordinated_accounts c
               ON c.platform = p.platform AND c.author_id = p.author_id
        WHERE p.kind <> 'repost'
    """).fetchall()[0]
    accounts, posts = (int(row[0]), int(row[1])) if row else (0, 0)
    return accounts, posts, posts / population.posts if population.posts else 0.0
