"""The authenticity analysis end to end: :func:`analyze_authenticity` writes every table and
returns a JSON-able summary (deterministic: the same store and settings give the same summary)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from askscope.authenticity.accounts import account_signals
from askscope.authenticity.bursts import burstiness, bursts, kleinberg_states
from askscope.authenticity.coordination import Runners, any_network_share, run_coordination
from askscope.authenticity.duplicates import near_duplicate_clusters
from askscope.authenticity.population import POPULATION, build_population
from askscope.authenticity.settings import AuthenticityError, AuthenticitySettings
from askscope.campaign import Campaign
from askscope.store.core import Store, column_names
from askscope.timefmt import iso, iso_ms
from askscope.vocabulary import HOSTILE

#: Public tables this analysis writes (each documented in docs/schema.md).
TABLES = (
    "coaction_edges",
    "coordinated_accounts",
    "coordination_networks",
    "duplicate_clusters",
    "duplicate_members",
    "bursts",
    "burstiness",
    "account_signals",
)
#: Discourse categories counted as hostile (METRICS.md, lens 1).
HOSTILE_CATEGORIES = HOSTILE


def analyze_authenticity(
    store: Store,
    campaign: Campaign | None = None,
    settings: AuthenticitySettings | dict[str, Any] | None = None,
    *,
    hostile_ids: Iterable[tuple[str, str]] | None = None,
    progress: Callable[[str], None] | None = None,
    runners: Runners | None = None,
) -> dict[str, Any]:
    """Run lens 4 on ``store`` and (re)write its tables; the caller owns the transaction.

    ``runners``: where the co-action networks' band joins and null runs run (default embedded;
    ``askscope.archive.dask_networks`` runs them on a Dask cluster, with the same results).

    ``hostile_ids``: ``(platform, post_id)`` pairs of hostile posts for the hostile bursts; when
    absent, ``settings.hostile_sql`` or the classify stage's table is used, else that part is skipped.
    """
    if not isinstance(settings, AuthenticitySettings):
        settings = AuthenticitySettings.from_mapping(settings)
    say = progress or (lambda _: None)
    try:
        result = _analyze(store, campaign, settings, hostile_ids, say, runners)
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction takes them with it
            drop_work_tables(store.con)
        raise
    drop_work_tables(store.con)
    return result


def _analyze(
    store: Store,
    campaign: Campaign | None,
    settings: AuthenticitySettings,
    hostile_ids: Iterable[tuple[str, str]] | None,
    say: Callable[[str], None],
    runners: Runners | None,
) -> dict[str, Any]:
    con = store.con
    hostile = _hostile_table(con, settings, hostile_ids)  # first: a bad query fails before the work
    population = build_population(con, campaign)
    say(f"authenticity: {population.posts:,} posts, {population.reposts:,} reposts, {population.authors:,} accounts")
    results = run_coordination(con, population, settings, say, runners)
    accounts, posts, share = any_network_share(con, population)
    say("authenticity: near-duplicate clusters")
    clusters = near_duplicate_clusters(con, settings)
    say("authenticity: bursts")
    burst_summary = _bursts(con, settings, hostile)
    say("authenticity: account signals")
    signals = account_signals(con, population.start)
    return {
        "population": {
            "source": population.source,
            "start": iso(population.start),
            "end": iso(population.end),
            "posts": population.posts,
            "reposts": population.reposts,
            "accounts": population.authors,
        },
        "networks": {name: result.as_dict() for name, result in results.items()},
        "coordinated": {
            "accounts": accounts,
            "posts": posts,
            "share": round(share, 6),
            "share_of_accounts": round(accounts / population.authors, 6) if population.authors else 0.0,
        },
        "near_duplicates": clusters,
        "bursts": burst_summary,
        "accounts": signals,
        "settings": settings.as_dict(),
    }


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the stage's temporary tables (``auth_*``, ``_auth_*``: the population, each network's
    actions and posts, the normalised texts, the duplicates' documents ...). DuckDB keeps temporary
    tables in memory until the connection closes and cannot spill them: at 10M posts they held
    more than the analysis's whole memory limit, and the next stage ran out of memory."""
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND "
        "(starts_with(table_name, 'auth_') OR starts_with(table_name, '_auth_')) ORDER BY 1"
    ).fetchall()
    for (name,) in names:
        quoted = '"' + name.replace('"', '""') + '"'
        con.execute(f"DROP TABLE IF EXISTS {quoted}")


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    return column_names(con)


def _hostile_table(
    con: duckdb.DuckDBPyConnection, settings: AuthenticitySettings, hostile_ids: Iterable[tuple[str, str]] | None
) -> str | None:
    """Write ``_auth_hostile(platform, post_id)`` and return its source, or None when unknown."""
    if hostile_ids is not None:
        pairs = list(hostile_ids)
        con.register(
            "_auth_hostile_in",
            pa.table(
                {
                    "platform": pa.array([p for p, _ in pairs], pa.string()),
                    "post_id": pa.array([i for _, i in pairs], pa.string()),
                }
            ),
        )
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _auth_hostile AS SELECT DISTINCT * FROM _auth_hostile_in")
        finally:
            con.unregister("_auth_hostile_in")
        return "given ids"
    if settings.hostile_sql:
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _auth_hostile AS SELECT DISTINCT "
                f"CAST(h.platform AS VARCHAR) AS platform, CAST(h.post_id AS VARCHAR) AS post_id "
                f"FROM ({settings.hostile_sql}) h"
            )
        except duckdb.Error as exc:
            raise AuthenticityError(
                f"the hostile-posts query failed: {str(exc).splitlines()[0]}",
                "it must return the columns platform and post_id, e.g. "
                "SELECT platform, post_id FROM labels WHERE task = 'discourse' AND label = 'abuse'",
            ) from exc
        return "hostile_sql"
    tables = _tables(con)
    quoted = ", ".join(f"'{c}'" for c in HOSTILE_CATEGORIES)
    if {"platform", "post_id", "task", "label"} <= tables.get("labels", set()):
        # the classify stage: one row per post and task; the discourse task carries the category
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _auth_hostile AS SELECT DISTINCT platform, post_id "
            f"FROM labels WHERE task = 'discourse' AND label IN ({quoted})"
        )
        return "labels"
    for name in ("categories", "labels"):
        if {"platform", "post_id", "category"} <= tables.get(name, set()):
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _auth_hostile AS SELECT DISTINCT platform, post_id "
                f"FROM {name} WHERE category IN ({quoted})"
            )
            return name
    return None


def _bursts(con: duckdb.DuckDBPyConnection, settings: AuthenticitySettings, hostile: str | None) -> dict[str, Any]:
    con.execute("""CREATE OR REPLACE TABLE bursts (series VARCHAR, level INTEGER, start_at TIMESTAMPTZ,
                   end_at TIMESTAMPTZ, posts BIGINT, posts_per_hour DOUBLE)""")
    con.execute("""CREATE OR REPLACE TABLE burstiness (series VARCHAR, posts BIGINT, mean_gap_seconds DOUBLE,
                   sd_gap_seconds DOUBLE, burstiness DOUBLE)""")
    series = {"all": f"SELECT t FROM {POPULATION} WHERE kind <> 'repost' ORDER BY t"}
    if hostile is not None:
        series["hostile"] = (
            f"SELECT p.t FROM {POPULATION} p SEMI JOIN _auth_hostile h "
            f"ON h.platform = p.platform AND h.post_id = p.id WHERE p.kind <> 'repost' ORDER BY p.t"
        )
    summary: dict[str, Any] = {"hostile_source": hostile, "s": settings.burst_s, "gamma": settings.burst_gamma}
    for name, query in series.items():
        ms = np.asarray(con.execute(query).fetchnumpy()["t"], dtype=np.int64)
        seconds = (ms - ms[0]) / 1000.0 if len(ms) else ms.astype(np.float64)
        mu, sigma, b = burstiness(seconds)
        con.execute("INSERT INTO burstiness VALUES (?, ?, ?, ?, ?)", [name, len(ms), mu, sigma, b])
        found = bursts(kleinberg_states(seconds, settings.burst_s, settings.burst_gamma))
        for burst in found:
            start, end = int(ms[burst.start]), int(ms[burst.end])
            count = burst.end - burst.start + 1
            hours = (end - start) / 3_600_000
            con.execute(
                "INSERT INTO bursts VALUES (?, ?, make_timestamptz(?::BIGINT * 1000), "
                "make_timestamptz(?::BIGINT * 1000), ?, ?)",
                [name, burst.level, start, end, count, count / hours if hours > 0 else None],
            )
        first = min((b for b in found if b.level == 1), key=lambda b: b.start, default=None)
        summary[name] = {
            "posts": len(ms),
            "burstiness": None if b is None else round(b, 6),
            "bursts": len(found),
            "top_level": max((x.level for x in found), default=0),
            "first_burst_start": iso_ms(int(ms[first.start])) if first else None,
        }
    return summary


def coordinated_account_set(store: Store, network: str | None = None) -> set[tuple[str, str]]:
    """``(platform, author_id)`` of the accounts in significant co-action groups of ``network``
    (any network when None), as the last authenticity run wrote them."""
    if "coordinated_accounts" not in _tables(store.con):
        raise AuthenticityError(
            "the store has no coordinated_accounts table",
            "run: askscope authenticity DB (or the authenticity stage) first",
        )
    where, params = ("WHERE network = ?", [network]) if network else ("", [])
    rows = store.con.execute(
        f"SELECT DISTINCT platform, author_id FROM coordinated_accounts {where}", params
    ).fetchall()
    return {(str(p), str(a)) for p, a in rows}
