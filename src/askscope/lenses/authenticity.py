"""Lens 4 in the report: coordinated shares, and lenses 1 and 2 again without the coordinated
accounts (METRICS.md: ``coordinated_share`` *(ours)*). The detection itself is in
:mod:`askscope.authenticity`."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from askscope.lenses import stats
from askscope.lenses.backfire import backfire
from askscope.lenses.base import Lens
from askscope.lenses.common import COORDINATED, LensInput
from askscope.lenses.engagement import engagement_core
from askscope.store.core import table_names

EXCLUDED = COORDINATED


def _tables(inp: LensInput) -> set[str]:
    return table_names(inp.store.con)


def authenticity(inp: LensInput, full: dict[str, Any]) -> dict[str, Any] | None:
    """None when the authenticity stage has not run."""
    if "coordination_networks" not in _tables(inp):
        return None
    con = inp.store.con
    networks = {}
    rows = con.sql("SELECT * FROM coordination_networks ORDER BY network")
    names = rows.columns
    for values in rows.fetchall():
        row = dict(zip(names, values))
        networks[row["network"]] = {
            k: (v if not hasattr(v, "isoformat") else v.isoformat()) for k, v in row.items() if k != "network"
        }
    campaign_posts = con.execute("SELECT count(*) FROM relations WHERE in_campaign AND relation <> 'host'").fetchall()[
        0
    ][0]
    shares: dict[str, Any] = {}
    for network in [None, *sorted(networks)]:
        params = [] if network is None else [network]
        k = con.execute(
            "SELECT count(*) FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
            "WHERE r.in_campaign AND r.relation <> 'host' AND EXISTS (SELECT 1 FROM coordinated_accounts c "
            f"WHERE c.platform = p.platform AND c.author_id = p.author_id {('AND c.network = ?' if network else '')})",
            params,
        ).fetchall()[0][0]
        shares[network or "any"] = stats.wilson(int(k), int(campaign_posts))
    accounts = con.execute("SELECT count(DISTINCT (platform, author_id)) FROM coordinated_accounts").fetchall()[0][0]
    out: dict[str, Any] = {"coordinated_share": shares, "coordinated_accounts": int(accounts), "networks": networks}
    extra = _extra(inp)
    out.update(extra)
    if accounts:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {EXCLUDED} AS SELECT DISTINCT platform, author_id FROM coordinated_accounts"
        )
        try:
            without = replace(inp, exclude=EXCLUDED)
            b = backfire(without)
            e = engagement_core(without)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {EXCLUDED}")
        out["without_coordinated"] = {
            "backfire": {
                "audience_posts": b["volume"]["audience_posts"],
                "authors": b["volume"]["authors"],
                "hostile_share": b["hostile_share"],
                "mockery_share": b["mockery_share"],
                "category_shares": b["category_shares"],
            },
            "engagement": {k: e[k] for k in ("answer_rate", "hostile_answer_rate", "answer_latency")},
        }
        out["with_all"] = {
            "backfire": {
                "audience_posts": full["backfire"]["volume"]["audience_posts"],
                "hostile_share": full["backfire"]["hostile_share"],
                "mockery_share": full["backfire"]["mockery_share"],
            },
            "engagement": {k: full["engagement"][k] for k in ("answer_rate", "hostile_answer_rate", "answer_latency")},
        }
    return out


def _extra(inp: LensInput) -> dict[str, Any]:
    """Near-duplicate clusters, bursts and account signals, as the authenticity stage left them."""
    con = inp.store.con
    tables = _tables(inp)
    out: dict[str, Any] = {}
    if "duplicate_clusters" in tables:
        rel = con.sql("SELECT * FROM duplicate_clusters ORDER BY size DESC, cluster_id LIMIT 10")
        out["largest_duplicate_clusters"] = [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in zip(rel.columns, row)}
            for row in rel.fetchall()
        ]
    if "burstiness" in tables:
        out["burstiness"] = {
            r[0]: {"posts": r[1], "burstiness": stats._round(r[2])}
            for r in con.execute("SELECT series, posts, burstiness FROM burstiness ORDER BY series").fetchall()
        }
    if "bursts" in tables:
        out["bursts"] = [
            {
                "series": r[0],
                "level": r[1],
                "start": r[2].isoformat() if r[2] else None,
                "end": r[3].isoformat() if r[3] else None,
                "posts": r[4],
            }
            for r in con.execute(
                "SELECT series, level, start_at, end_at, posts FROM bursts ORDER BY series, start_at, level LIMIT 20"
            ).fetchall()
        ]
    runs = (
        con.execute(
            "SELECT summary FROM stage_runs WHERE stage = 'authenticity' AND status = 'done' "
            "ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()
        if "stage_runs" in tables
        else []
    )
    if runs:
        summary = json.loads(runs[0][0])
        out["account_signals"] = summary.get("accounts")
        out["population"] = summary.get("population")
        out["max_crowd"] = (summary.get("settings") or {}).get("max_crowd")
    return out


AUTHENTICITY = Lens(
    name="authenticity",
    title="Authenticity",
    order=40,
    compute=lambda inp, results: authenticity(inp, results),
    description="coordinated or automated participation and how it changes the other lenses",
)
