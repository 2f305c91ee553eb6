"""The co-action networks' band joins and their null model on Dask: the ``authenticity`` stage of
``askscope analyze ARCHIVE_DIR --dask``, with the embedded stage's tables and summary.

**Observed edges, shuffled by object** (:meth:`DaskNetworks.edges`). The network's actions,
joined to their times by the embedded ``networks.TIMED_SQL`` (``uid, pid, k, t, b``: ``b`` the
τ-bucket ``t // τ``), go to the workers as a dask dataframe and are shuffled on
``(k, chunk)``; each shuffled partition runs, on an in-memory DuckDB, the embedded
``CROWD_SQL`` (the crowd rule) and ``TRIPLES_SQL`` over ``NEAR_SQL`` (the band self-join)
unchanged, and emits its distinct ``(u1, p1, u2)``. Those are shuffled on ``(u1, u2)``, so that
the distinct across objects and the count per pair (``WEIGHTS_SQL``) are exact per partition;
only the edges ``(u1, u2, w)`` come back to this process.

**Skew.** An object with more than ``heavy_actions`` actions (the campaign's most-replied post,
a viral link) is cut in time: chunks of ``C`` consecutive τ-buckets (``C`` chosen per object so a
chunk holds about ``heavy_actions`` actions if they were spread evenly over its span), each
chunk its own shuffle key. Each chunk also gets copies of the actions within two buckets of it
(the *halo*: role 1 and 2 by distance). The results are exactly the embedded ones:

* an action at bucket ``b`` counts its crowd (``|t' − t| ≤ τ``) in buckets ``b − 1 .. b + 1``
  and meets its partners there; so every action of the chunk and of the first halo bucket has its
  whole neighbourhood in the partition: its crowd count and its crowded status are exact;
* the second halo bucket is there only to be counted, and is dropped before the join;
* every pair of the embedded join is made in the chunk of its first action (the partner lies
  within one bucket of it); a pair made again in a neighbouring chunk (both in its first halo
  bucket) is the same ``(u1, p1, u2)`` and the distinct across partitions removes it.

Lighter objects are one chunk with no halo. What cannot be cut is one τ-bucket of one object:
its actions meet pairwise (that is the definition); the crowd rule (``max_crowd``) caps the edges
such a bucket makes, not the rows its partition holds.

**Null runs as tasks** (:meth:`DaskNetworks.null_runs`). Run ``r`` permutes the times with its
own generator ``default_rng([seed, stream, r])`` (``significance.null_times``), so each run is
one Dask task: the network's action table and its ``(pid, t)`` arrays are scattered to every
worker once, and each task runs the embedded ``compute_edges`` on its own in-memory DuckDB. The
floor is combined by ``significance.null_floor`` in run order, so it is the embedded floor bit
for bit. A network of more than ``task_actions`` actions (too large to hold whole in one
worker) runs each null run as an object shuffle instead, one after the other.

**What stays in one process** (the analysis's DuckDB store, as embedded): the population, each
network's actions (``build_actions``: the text normalisation, co_similar's MinHash-LSH and exact
Jaccard check), τ's estimate, joining the actions to their times, finding the heavy objects (one
aggregate over the joined actions, already there), and everything after the edges: thresholds,
the hypergeometric test, groups, writing the tables, the near-duplicate clusters, bursts and
account signals.
"""

from __future__ import annotations

import importlib
import operator
import time
from typing import Any

import duckdb
import numpy as np

from askscope.archive.cluster import task_connection
from askscope.archive.dask_stages import DASK_CONFIG
from askscope.authenticity.coordination import Runners
from askscope.authenticity.networks import (
    CROWD_SQL,
    NEAR_SQL,
    TIMED_SQL,
    TRIPLES_SQL,
    WEIGHTS_SQL,
    Edges,
    actions_table,
    bucket_width,
    compute_edges,
    edges_of,
    tau_ms,
)
from askscope.authenticity.settings import AuthenticitySettings
from askscope.authenticity.significance import NullRun, null_edges
from askscope.authenticity.stage import Authenticity
from askscope.stages.base import Context

#: Actions per shuffled partition (at least two partitions per worker).
PARTITION_ROWS = 500_000
#: An object with more actions than this is cut into time chunks (see the module docstring).
HEAVY_ACTIONS = 200_000
#: Null runs are whole-network tasks up to this many actions; above, each run is an object shuffle.
#: (Measured: 1.54M co_similar actions, 2.9M edges per run, in a 2 GiB worker: docs/benchmarks.md.)
TASK_ACTIONS = 2_000_000
#: The columns of the timed actions, and of the shuffled partitions (``chunk`` and ``role`` added).
TIMED = ("uid", "pid", "k", "t", "b")


def _pd() -> Any:
    return importlib.import_module("pandas")  # no stubs in the environment: Any


def _dd() -> Any:
    return importlib.import_module("dask.dataframe")  # partly untyped: Any


def chunk_widths(
    con: duckdb.DuckDBPyConnection, heavy_actions: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The heavy objects of ``_auth_timed`` (sorted ``k``), each one's chunk width in buckets
    (``ceil(span / ceil(n / heavy_actions))``, at least 1) and its first and last bucket."""
    rows = con.execute(
        "SELECT k, count(*) AS n, min(b) AS lo, max(b) AS hi FROM _auth_timed GROUP BY k HAVING count(*) > ? "
        "ORDER BY k",
        [int(heavy_actions)],
    ).fetchnumpy()
    keys = np.asarray(rows["k"], dtype=np.uint64)
    n = np.asarray(rows["n"], dtype=np.int64)
    lo, hi = np.asarray(rows["lo"], dtype=np.int64), np.asarray(rows["hi"], dtype=np.int64)
    chunks = -(-n // max(int(heavy_actions), 1))
    return keys, np.maximum(1, -(-(hi - lo + 1) // chunks)).astype(np.int64), lo, hi


def expand(frame: Any, keys: np.ndarray, widths: np.ndarray, depth: int) -> Any:
    """The partition's actions with their shuffle key ``chunk`` and ``role`` (0 in the chunk),
    plus, for heavy objects, a copy of each action for every neighbouring chunk within ``depth``
    buckets of it (``role`` = that distance): see the module docstring."""
    pd = _pd()
    k = frame["k"].to_numpy(dtype=np.uint64)
    b = frame["b"].to_numpy(dtype=np.int64)
    width = np.zeros(len(k), dtype=np.int64)
    if len(keys) and len(k):
        at = np.minimum(np.searchsorted(keys, k), len(keys) - 1)
        found = keys[at] == k
        width[found] = widths[at[found]]
    heavy = width > 0
    chunk = np.zeros(len(k), dtype=np.int64)
    chunk[heavy] = b[heavy] // width[heavy]
    pieces = [frame.assign(chunk=chunk, role=np.zeros(len(k), dtype=np.int8))]
    if heavy.any():
        hb, hw, hc = b[heavy], width[heavy], chunk[heavy]
        rows = frame[heavy]
        for delta in (-2, -1, 1, 2):
            other = hc + delta
            distance = hb - (other * hw + hw - 1) if delta < 0 else other * hw - hb
            near = (distance >= 1) & (distance <= depth)
            if near.any():
                pieces.append(rows[near].assign(chunk=other[near], role=distance[near].astype(np.int8)))
    return pd.concat(pieces, ignore_index=True)


def near_part(frame: Any, window: int, max_crowd: int | None) -> tuple[Any, int, int]:
    """One shuffled partition: the embedded crowd rule and band join on its chunks (each
    ``(k, chunk)`` its own object); its distinct ``(u1, p1, u2)``, its crowded actions (of
    role 0: each action is counted in its own chunk only) and its rows (halo copies included)."""
    con = task_connection()
    try:
        con.register("_part", frame)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _auth_timed AS SELECT uid, pid, "
            "dense_rank() OVER (ORDER BY k, chunk) AS k, t, b, role FROM _part"
        )
        con.unregister("_part")
        crowded = 0
        if max_crowd is not None:
            home = "SELECT count(*) FROM _auth_timed WHERE role = 0"
            before = con.execute(home).fetchall()[0][0]
            con.execute(CROWD_SQL.format(tau_ms=window, max_crowd=int(max_crowd)))
            crowded = int(before - con.execute(home).fetchall()[0][0])
            con.execute("DELETE FROM _auth_timed WHERE role = 2")
        triples = con.execute(TRIPLES_SQL.format(near=NEAR_SQL.format(tau_ms=window))).df()
    finally:
        con.close()
    return triples, crowded, len(frame)


def weights_part(frame: Any) -> Any:
    """One partition of triples shuffled by ``(u1, u2)``: the embedded distinct and count."""
    con = task_connection()
    try:
        con.register("_triples", frame)
        near = TRIPLES_SQL.format(near="SELECT u1, p1, u2 FROM _triples")
        return con.execute(WEIGHTS_SQL.format(triples=f"({near})")).df()
    finally:
        con.close()


def null_run(
    actions: Any,
    pids: np.ndarray,
    times: np.ndarray,
    network: str,
    tau_seconds: float,
    settings: AuthenticitySettings,
    stream: int,
    run: int,
) -> NullRun:
    """The Dask task of one null run: the embedded ``compute_edges`` on an in-memory DuckDB
    holding the network's actions, with run ``run``'s permuted times; what the floor keeps of it
    (its pairs counted by weight) is computed here, so the edges stay on the worker."""
    con = task_connection()
    try:
        con.register(actions_table(network), actions)

        def compute(times_table: str) -> Edges:
            return compute_edges(con, network, times_table, tau_seconds, settings)

        return NullRun.of(null_edges(con, pids, times, compute, settings.seed, stream, run))
    finally:
        con.close()


class DaskNetworks:
    """The co-action networks' :class:`~askscope.authenticity.coordination.Runners` on a cluster
    (module docstring). ``report`` holds, per network, what its observed run did."""

    def __init__(
        self,
        client: Any,
        workers: int,
        *,
        heavy_actions: int = HEAVY_ACTIONS,
        task_actions: int = TASK_ACTIONS,
        partition_rows: int = PARTITION_ROWS,
    ) -> None:
        self.client, self.workers = client, max(1, workers)
        self.heavy_actions, self.task_actions, self.partition_rows = heavy_actions, task_actions, partition_rows
        self.report: dict[str, dict[str, Any]] = {}

    def runners(self) -> Runners:
        return Runners(edges=self.edges, null_runs=self.null_runs)

    def edges(
        self,
        con: duckdb.DuckDBPyConnection,
        network: str,
        times: str,
        tau_seconds: float,
        settings: AuthenticitySettings,
        stats: dict[str, int] | None = None,
    ) -> Edges:
        """``compute_edges``, its band join shuffled by object on the cluster (a drop-in:
        the same edges and the same ``stats``)."""
        clock = time.perf_counter()
        con.execute(TIMED_SQL.format(width=bucket_width(tau_seconds), actions=actions_table(network), times=times))
        try:
            keys, widths, lo, hi = chunk_widths(con, self.heavy_actions)
            timed = con.execute(f"SELECT {', '.join(TIMED)} FROM _auth_timed").df()
        finally:
            con.execute("DROP TABLE IF EXISTS _auth_timed")
        if not len(timed):
            if settings.max_crowd is not None and stats is not None:
                stats["crowded_actions"] = 0
            return Edges.empty()
        import dask

        with dask.config.set(DASK_CONFIG):
            edges, crowded, info = self._edges(timed, keys, widths, tau_ms(tau_seconds), settings.max_crowd)
        if stats is not None:
            if settings.max_crowd is not None:
                stats["crowded_actions"] = crowded
            chunks = int((hi // np.maximum(widths, 1) - lo // np.maximum(widths, 1) + 1).sum())
            info.update(heavy_objects=len(keys), heavy_chunks=chunks, seconds=round(time.perf_counter() - clock, 2))
            self.report[network] = info
        return edges

    def _edges(
        self, timed: Any, keys: np.ndarray, widths: np.ndarray, window: int, max_crowd: int | None
    ) -> tuple[Edges, int, dict[str, Any]]:
        pd, dd, client = _pd(), _dd(), self.client
        rows = len(timed)
        inputs = max(1, min(self.workers * 2, -(-rows // self.partition_rows)))
        slices = [timed.iloc[i * rows // inputs : (i + 1) * rows // inputs] for i in range(inputs)]
        frame = dd.from_delayed(client.scatter(slices), meta=timed.iloc[:0], verify_meta=False)
        depth = 2 if max_crowd is not None else 1
        meta = expand(timed.iloc[:0], keys, widths, depth)
        expanded = frame.map_partitions(expand, keys, widths, depth, meta=meta)
        parts = max(2 * self.workers, -(-rows // self.partition_rows))
        shuffled = client.compute(expanded.shuffle(on=["k", "chunk"], npartitions=parts).to_delayed(), retries=1)
        done = [client.submit(near_part, p, window, max_crowd, pure=False, retries=1) for p in shuffled]
        del shuffled  # each partition is released once its task has run
        triples_meta = pd.DataFrame(
            {"u1": np.zeros(0, np.int32), "p1": np.zeros(0, np.int64), "u2": np.zeros(0, np.int32)}
        )
        first = [client.submit(operator.itemgetter(0), d, pure=False) for d in done]
        triples = dd.from_delayed(first, meta=triples_meta, verify_meta=False)
        weights_meta = pd.DataFrame(
            {"u1": np.zeros(0, np.int32), "u2": np.zeros(0, np.int32), "w": np.zeros(0, np.int32)}
        )
        weights = triples.shuffle(on=["u1", "u2"], npartitions=parts).map_partitions(weights_part, meta=weights_meta)
        result = client.compute(weights, retries=1).result()
        counts = client.gather([client.submit(operator.itemgetter(slice(1, 3)), d, pure=False) for d in done])
        crowded, shuffled_rows = sum(c for c, _ in counts), sum(n for _, n in counts)
        # (u1, u2) is unique after the weights' GROUP BY: one packed int64 key sorts as the pair does
        u1, u2 = result["u1"].to_numpy().astype(np.int64), result["u2"].to_numpy().astype(np.int64)
        order = np.argsort(u1 << 32 | u2)
        edges = edges_of({c: result[c].to_numpy()[order] for c in ("u1", "u2", "w")})
        return edges, int(crowded), {"actions": rows, "rows_shuffled": shuffled_rows, "partitions": parts}

    def null_runs(
        self,
        con: duckdb.DuckDBPyConnection,
        network: str,
        tau_seconds: float,
        settings: AuthenticitySettings,
        pids: np.ndarray,
        times: np.ndarray,
        stream: int,
        runs: int,
    ) -> list[NullRun]:
        """Each null run's :class:`NullRun`, in run order: one task per run (module docstring), or,
        for a network above ``task_actions`` actions, one object shuffle per run."""
        count = con.execute(f"SELECT count(*) FROM {actions_table(network)}").fetchall()[0][0]
        info = self.report.setdefault(network, {})
        if count > self.task_actions:
            info["null_runs"] = f"{runs} object shuffle(s), one after the other"

            def compute(times_table: str) -> Edges:
                return self.edges(con, network, times_table, tau_seconds, settings)

            return [NullRun.of(null_edges(con, pids, times, compute, settings.seed, stream, r)) for r in range(runs)]
        info["null_runs"] = f"{runs} task(s)"
        actions = con.execute(f"SELECT * FROM {actions_table(network)}").df()
        shared = self.client.scatter([actions, pids, times], broadcast=True)
        futures = [
            self.client.submit(null_run, *shared, network, tau_seconds, settings, stream, run, pure=False, retries=1)
            for run in range(runs)
        ]
        return [f.result() for f in futures]


class DaskAuthenticity(Authenticity):
    """``authenticity`` with its co-action networks on the cluster (module docstring); the
    tables and the summary are the embedded stage's."""

    def __init__(self, networks: DaskNetworks) -> None:
        self.networks = networks

    def run(self, ctx: Context) -> dict[str, Any]:
        from askscope.authenticity.analysis import analyze_authenticity

        summary = analyze_authenticity(
            ctx.store,
            ctx.campaign,
            ctx.settings.get("authenticity"),
            progress=ctx.progress,
            runners=self.networks.runners(),
        )
        for network, info in self.networks.report.items():
            if "actions" in info:
                ctx.say(
                    f"authenticity on Dask: {network}: {info['actions']:,} timed actions, "
                    f"{info['heavy_objects']} heavy object(s) cut into {info['heavy_chunks']} time chunk(s), {info['rows_shuffled']:,} rows "
                    f"in {info['partitions']} object partition(s), null model as {info.get('null_runs', 'no runs')} "
                    f"({info['seconds']:.1f} s for the observed edges)"
                )
        return summary
