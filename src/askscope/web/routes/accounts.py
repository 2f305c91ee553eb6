"""Accounts and coordination networks.

* ``/accounts/{platform}/{id}``: one account: its profile as collected, its campaign posts with
  their labels, its category counts, its account signals (``account_signals``), the coordinated
  groups it is in (``coordinated_accounts``) and its strongest co-action partners
  (``coaction_edges``). ``id`` is the account id or its handle.
* ``/networks``: the coordinated groups as an interactive network (cytoscape.js, shipped in
  ``static/vendor``; drawn by ``static/network.js`` from ``/api/networks``), with the same groups
  as a table (every account a link) for readers without script.
* ``/api/networks``: nodes (accounts in a coordinated group of the network) and edges (their
  co-action edges, weight = times acted together within τ, ``significant`` against the
  shuffled-time null) of one network type or all.
"""

from __future__ import annotations

from typing import Annotated, Any

import duckdb
from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from askscope.timefmt import iso
from askscope.web import postquery
from askscope.web.deps import Reading, handle, reading
from askscope.web.templating import NAV, render

router = APIRouter()
if ("/networks", "Networks") not in NAV:
    NAV.append(("/networks", "Networks"))

DbParam = Annotated[str | None, Query(description="store name (the first store when omitted)")]
NetworkParam = Annotated[
    str | None, Query(description="co_repost, co_post, co_similar, co_link or co_reply (all when omitted)")
]
#: Posts and partners an account page lists (the posts explorer has the rest).
POSTS_SHOWN = 50
PARTNERS_SHOWN = 30
#: Most nodes /api/networks returns (the largest groups first).
MAX_NODES = 2000


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return iso(value)
    return value


def account(
    r: Reading,
    platform: str,
    account_id: str,
    explore: duckdb.DuckDBPyConnection | None = None,
    partners_of: dict[tuple[str, str], list[tuple[str, str, int]]] | None = None,
) -> dict[str, Any]:
    """Everything the account page shows; 404 when the store has no such account. ``explore``: a
    cursor on the snapshot's explorer table (``StoreHandle.explore``), which answers the posts
    and their categories without joining the labels again; ``partners_of``: the significant
    co-action partners of every account (:func:`partners_index`, kept for the snapshot)."""
    con, tables = r.con, r.tables
    columns = (
        "SELECT id, handle, name, created_at, followers_count, following_count, posts_count, verified, location, "
        "description, url, observed_at FROM accounts WHERE platform = ? "
    )
    # by id first (the primary key: a lookup), then by handle (a scan)
    profile = _rows(con, columns + "AND id = ?", [platform, account_id])
    if not profile:
        profile = _rows(
            con, columns + "AND lower(handle) = lower(?) ORDER BY id LIMIT 1", [platform, account_id.lstrip("@")]
        )
    author_id = profile[0]["id"] if profile else account_id
    # the account's posts by discourse category (their sum: its posts)
    if explore is not None:
        found = explore.execute(
            "SELECT coalesce(category, 'unlabelled'), count(*), any_value(author_handle) FROM explore "
            "WHERE platform = ? AND author_id = ? AND NOT is_context GROUP BY 1 ORDER BY 2 DESC, 1",
            [platform, author_id],
        ).fetchall()
    elif "labels" in tables:
        found = con.execute(
            "SELECT coalesce(l.label, 'unlabelled'), count(*), any_value(p.author_handle) FROM posts p "
            "LEFT JOIN labels l ON l.platform = p.platform AND l.post_id = p.id AND l.task = 'discourse' "
            "WHERE p.platform = ? AND p.author_id = ? AND NOT p.is_context GROUP BY 1 ORDER BY 2 DESC, 1",
            [platform, author_id],
        ).fetchall()
    else:
        found = con.execute(
            "SELECT 'unlabelled', count(*), any_value(author_handle) FROM posts "
            "WHERE platform = ? AND author_id = ? AND NOT is_context HAVING count(*) > 0",
            [platform, author_id],
        ).fetchall()
    categories = [(str(c), int(n)) for c, n, _ in found]
    seen = (sum(n for _, n in categories), next((h for _, _, h in found if h), None))
    if not profile and not seen[0]:
        raise HTTPException(status_code=404, detail=f"no account {platform}/{account_id} in this store")
    f = postquery.PostFilter(set="all", account=author_id)
    posts, more = postquery.page(con, f, tables, sort="time", limit=POSTS_SHOWN, explore=explore)
    if "labels" not in tables:
        categories = []
    signals = None
    if "account_signals" in tables:
        rows = _rows(con, "SELECT * FROM account_signals WHERE platform = ? AND author_id = ?", [platform, author_id])
        signals = rows[0] if rows else None
    groups: list[dict[str, Any]] = []
    if "coordinated_accounts" in tables:
        groups = _rows(
            con,
            "SELECT c.network, c.group_id, (SELECT count(*) FROM coordinated_accounts g WHERE g.network = c.network "
            "AND g.group_id = c.group_id) AS members FROM coordinated_accounts c "
            "WHERE c.platform = ? AND c.author_id = ? ORDER BY 1, 2",
            [platform, author_id],
        )
    partners: list[dict[str, Any]] = []
    if partners_of is None and "coaction_edges" in tables:
        partners_of = partners_index(con)
    strongest = sorted((partners_of or {}).get((platform, author_id), []), key=lambda p: (-p[2], p[0], p[1]))
    strongest = strongest[:PARTNERS_SHOWN]
    if strongest:
        handles = dict(
            con.execute(
                "SELECT id, handle FROM accounts WHERE platform = ? AND id IN (SELECT unnest(?::VARCHAR[]))",
                [platform, [p[1] for p in strongest]],
            ).fetchall()
        )
        partners = [
            {"network": n, "partner": p, "handle": handles.get(p), "weight": w, "significant": True}
            for n, p, w in strongest
        ]
    return {
        "platform": platform,
        "id": author_id,
        "handle": (profile[0]["handle"] if profile else None) or seen[1],
        "profile": profile[0] if profile else None,
        "posts_total": int(seen[0]),
        "posts": posts,
        "more_posts": more is not None,
        "posts_filter": f.params(),
        "categories": categories,
        "signals": signals,
        "groups": groups,
        "partners": partners,
    }


@router.get("/accounts/{platform}/{account_id}", include_in_schema=False)
def account_page(request: Request, platform: str, account_id: str, db: DbParam = None) -> Response:
    with reading(request, db) as r:
        data = _account(request, r, platform, account_id)
        name = r.name
    return render(request, "account.html", {"db": name, "a": data})


@router.get("/api/accounts/{platform}/{account_id}", summary="One account: profile, posts, signals, groups, partners")
def api_account(request: Request, platform: str, account_id: str, db: DbParam = None) -> dict[str, Any]:
    with reading(request, db) as r:
        data: dict[str, Any] = _json(_account(request, r, platform, account_id))
        return data


def partners_index(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str, int]]]:
    """Every account's significant co-action partners: ``(platform, account) -> [(network,
    partner, weight)]``, from the significant edges of ``coaction_edges`` (a scan of the table,
    millions of rows on a large campaign: built once per snapshot)."""
    out: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for network, platform, source, target, weight in con.execute(
        "SELECT network, platform, source_id, target_id, weight FROM coaction_edges WHERE significant"
    ).fetchall():
        out.setdefault((platform, source), []).append((network, target, int(weight)))
        out.setdefault((platform, target), []).append((network, source, int(weight)))
    for found in out.values():  # an edge stored both ways counts once
        found[:] = sorted(set(found))
    return out


def _account(request: Request, r: Reading, platform: str, account_id: str) -> dict[str, Any]:
    target = handle(request, r.name)
    partners_of = None
    if "coaction_edges" in r.tables:
        key = ("accounts.partners", r.version)
        if key not in target.cache:
            target.cache[key] = partners_index(r.con)
        partners_of = target.cache[key]
    explore = target.explore(r, wait=False)
    try:
        return account(r, platform, account_id, explore, partners_of)
    finally:
        if explore is not None:
            explore.close()


def networks(r: Reading, network: str | None = None) -> dict[str, Any]:
    """The coordinated groups of ``network`` (all networks when None) as nodes and edges."""
    con, tables = r.con, r.tables
    if "coordinated_accounts" not in tables:
        return {"networks": [], "nodes": [], "edges": [], "groups": [], "analysed": False}
    names = [n for (n,) in con.execute("SELECT DISTINCT network FROM coordinated_accounts ORDER BY 1").fetchall()]
    # the network types the stage ran (one row each; coaction_edges can hold millions of rows)
    listed = "coordination_networks" if "coordination_networks" in tables else "coaction_edges"
    if listed in tables:
        ran = {n for (n,) in con.execute(f"SELECT DISTINCT network FROM {listed}").fetchall()}
        names = sorted(set(names) | ran)
    if network is not None and network not in names and names:
        raise HTTPException(status_code=400, detail=f"network={network!r} is not one of: {', '.join(names)}")
    where, params = ("WHERE c.network = ?", [network]) if network else ("", [])
    # handles and campaign posts from account_signals (one row per campaign account): joining
    # accounts or counting posts per node scans far more rows (576 ms -> 69 ms on 1M posts)
    signals = (
        "LEFT JOIN account_signals s ON s.platform = m.platform AND s.author_id = m.author_id"
        if "account_signals" in tables
        else "LEFT JOIN (SELECT NULL::VARCHAR AS platform, NULL::VARCHAR AS author_id, NULL::VARCHAR AS handle, "
        "NULL::BIGINT AS posts) s ON false"
    )
    nodes = _rows(
        con,
        f"""
        WITH m AS (
            SELECT c.platform, c.author_id,
                   list(DISTINCT c.network || ':' || c.group_id ORDER BY c.network || ':' || c.group_id) AS groups
            FROM coordinated_accounts c {where} GROUP BY 1, 2
        )
        SELECT m.platform, m.author_id AS id, s.handle, m.groups, coalesce(s.posts, 0) AS posts
        FROM m {signals}
        ORDER BY len(m.groups) DESC, m.platform, m.author_id LIMIT {MAX_NODES}
        """,
        params,
    )
    edges: list[dict[str, Any]] = []
    if "coaction_edges" in tables and nodes:
        edges = _rows(
            con,
            f"""
            SELECT e.network, e.platform, e.source_id AS source, e.target_id AS target, e.weight, e.significant
            FROM coaction_edges e
            SEMI JOIN coordinated_accounts c1
                 ON c1.platform = e.platform AND c1.author_id = e.source_id AND c1.network = e.network
            SEMI JOIN coordinated_accounts c2
                 ON c2.platform = e.platform AND c2.author_id = e.target_id AND c2.network = e.network
            WHERE e.significant {"AND e.network = ?" if network else ""}
            ORDER BY e.network, e.source_id, e.target_id
            """,
            params,
        )
        shown = {(n["platform"], n["id"]) for n in nodes}
        edges = [e for e in edges if (e["platform"], e["source"]) in shown and (e["platform"], e["target"]) in shown]
    groups = _rows(
        con,
        f"SELECT c.network, c.group_id, count(*) AS members, list([c.platform, c.author_id] ORDER BY c.author_id) AS accounts "
        f"FROM coordinated_accounts c {where} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
        params,
    )
    return {"networks": names, "nodes": nodes, "edges": edges, "groups": groups, "analysed": True}


@router.get("/api/networks", summary="Coordinated groups as a network: accounts (nodes) and co-action edges")
def api_networks(request: Request, db: DbParam = None, network: NetworkParam = None) -> dict[str, Any]:
    with reading(request, db) as r:
        return networks(r, network)


@router.get("/networks", include_in_schema=False)
def networks_page(request: Request, db: DbParam = None, network: NetworkParam = None) -> Response:
    with reading(request, db) as r:
        data = networks(r, network)
        name = r.name
    handles = {(n["platform"], n["id"]): n["handle"] for n in data["nodes"]}
    return render(request, "network.html", {"db": name, "n": data, "network": network, "handles": handles})
