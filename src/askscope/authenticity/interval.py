"""CooRnet's data-driven coordination interval (Giglietto et al. 2020).

Over a network's objects shared more than once: rank each object's shares by time; keep the
objects whose second share came quickest (at or below the ``q`` quantile of the time from first
to second share); for each of those, the time from its first share until more than a share ``p``
of its shares had happened; τ is the ``p`` quantile of those times. R's default quantile (type 7)
is DuckDB's ``quantile_cont``.
"""

from __future__ import annotations

import duckdb

from askscope.authenticity.networks import actions_table
from askscope.authenticity.population import POPULATION


def estimate_tau(con: duckdb.DuckDBPyConnection, network: str, q: float, p: float) -> float | None:
    """τ in seconds estimated from ``network``'s actions, or None when no object was shared twice."""
    row = con.execute(
        f"""
        WITH s AS (SELECT DISTINCT x.k, x.pid, p.t FROM {actions_table(network)} x JOIN {POPULATION} p USING (pid)),
        r AS (SELECT k, t,
                     row_number() OVER (PARTITION BY k ORDER BY t, pid) AS rk,
                     count(*) OVER (PARTITION BY k) AS n,
                     t - min(t) OVER (PARTITION BY k) AS d
              FROM s),
        second AS (SELECT k, d FROM r WHERE n > 1 AND rk = 2),
        fast AS (SELECT k FROM second WHERE d <= (SELECT quantile_cont(d, ?) FROM second)),
        half AS (SELECT k, min(d) AS d FROM r SEMI JOIN fast USING (k) WHERE rk / n > ? GROUP BY k)
        SELECT quantile_cont(d, ?) FROM half
    """,
        [q, p, p],
    ).fetchall()[0]
    if row is None or row[0] is None:
        return None
    return float(row[0]) / 1000.0
