"""The report's lists and tables, and interactive charts, for the overview: every count a link to
the posts it counts, every post a link to its page, every account a link to its account page.

Everything here is read from the stored lens results (the report document, as
:mod:`askscope.reports` renders it) except where the report has no list at all (the most active
accounts, the audience's posts by language and by relation): those are counted on the explorer
table (:mod:`askscope.web.postquery`), with the conditions of the filter their links carry, so
a count always equals the posts behind it.
The charts are data for an SVG drawn by the template (``overview.html``, macro ``hbars``): one
``<a>`` per bar with a ``<title>`` tooltip; no script, so they work under the
Content-Security-Policy and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from askscope.reports.format import minutes
from askscope.reports.glossary import category_label, network_label
from askscope.vocabulary import CATEGORIES, HOSTILE
from askscope.web.filters import query

#: The report's post lists (``posts`` lens), in report order: (key, title, lens, count filter).
#: The count filter is the population the list is drawn from (None: it has no filter of its own).
POST_LISTS: tuple[tuple[str, str, str, dict[str, str] | None], ...] = (
    ("mocking_posts", "Most reposted mocking posts", "backfire", {"category": "mockery", "sort": "reposts"}),
    ("host_answers", "Host's most reposted answers", "backfire", None),
    (
        "unanswered_questions",
        "Unanswered questions (critical first)",
        "engagement",
        {"set": "questions", "answered": "no"},
    ),
    ("answered_questions", "Answered questions", "engagement", {"set": "questions", "answered": "yes"}),
)
#: How many posts of a list the overview shows (the report lists up to 25 questions).
SHOWN = 10
#: The most active accounts listed.
TOP_ACCOUNTS = 10


def posts_link(db: str, **params: str) -> str:
    """``/posts`` with the filter ``params`` of store ``db``."""
    return "/posts?" + query({"db": db, **params})


def _post_link(db: str, platform: str, post_id: str) -> str:
    from urllib.parse import quote

    return f"/posts/{quote(platform, safe='')}/{quote(post_id, safe='')}?" + query({"db": db})


def _account_link(db: str, platform: str, account: str) -> str:
    from urllib.parse import quote

    return f"/accounts/{quote(platform, safe='')}/{quote(account, safe='')}?" + query({"db": db})


def post_refs(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, tuple[str, str]]:
    """``id -> (platform, author_id)`` of the listed posts (the stored lists keep the id and the
    handle only). An id found on two platforms keeps the first platform in alphabetical order."""
    if not ids:
        return {}
    wanted = sorted(set(ids))
    rows = con.execute(
        "SELECT id, platform, author_id FROM posts WHERE id IN (SELECT unnest(?::VARCHAR[])) ORDER BY platform DESC",
        [wanted],
    ).fetchall()
    return {str(i): (str(p), str(a)) for i, p, a in rows}


def listed_ids(results: dict[str, Any]) -> list[str]:
    posts = results.get("posts") or {}
    return [str(p["id"]) for key, *_ in POST_LISTS for p in (posts.get(key) or [])[:SHOWN] if p.get("id")]


def post_lists(db: str, results: dict[str, Any], refs: dict[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """The report's post lists: title, how many posts the list is drawn from (with their link),
    and the first :data:`SHOWN` posts, each with a link to its page and to its author's page."""
    posts = results.get("posts") or {}
    backfire, engagement = results.get("backfire") or {}, results.get("engagement") or {}
    rate = engagement.get("answer_rate") or {}
    counts: dict[str, Any] = {
        "mocking_posts": ((backfire.get("category_shares") or {}).get("mockery") or {}).get("k"),
        "unanswered_questions": rate["n"] - rate["k"]
        if rate.get("n") is not None and rate.get("k") is not None
        else None,
        "answered_questions": rate.get("k"),
    }
    out = []
    for key, title, lens, population in POST_LISTS:
        if key not in posts:
            continue
        rows = []
        for p in (posts.get(key) or [])[:SHOWN]:
            ref = refs.get(str(p.get("id")))
            answer = None
            if key.endswith("questions"):
                answer = f"answered after {minutes(p.get('latency_s'))}" if p.get("answer_id") else "unanswered"
            rows.append(
                {
                    "id": p.get("id"),
                    "author": p.get("author"),
                    "text": p.get("text"),
                    "reposts": p.get("reposts"),
                    "category": p.get("category"),
                    "category_label": category_label(p["category"]) if p.get("category") else None,
                    "hostile": p.get("category") in HOSTILE,
                    "answer": answer,
                    "href": _post_link(db, ref[0], str(p["id"])) if ref else None,
                    "author_href": _account_link(db, ref[0], ref[1]) if ref else None,
                }
            )
        count = counts.get(key)
        out.append(
            {
                "key": key,
                "lens": lens,
                "title": title,
                "count": count,
                "count_href": posts_link(db, **population) if population is not None and count is not None else None,
                "posts": rows,
            }
        )
    return out


def coordinated_groups(db: str, results: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's table "Accounts acting together more often than chance": per network its
    coordinated accounts (a link to the network view), groups and the posts of those accounts
    (``k`` of ``n``: links to the posts)."""
    a = results.get("authenticity") or {}
    networks, shares = a.get("networks") or {}, a.get("coordinated_share") or {}
    rows = []
    for name, n in sorted(networks.items(), key=lambda kv: network_label(kv[0])):
        share = shares.get(name) or {}
        rows.append(
            {
                "label": network_label(name),
                "accounts": n.get("coordinated_accounts"),
                "accounts_href": "/networks?" + query({"db": db, "network": name}),
                "groups": n.get("groups"),
                "share": share,
                "k": share.get("k"),
                "n": share.get("n"),
                "k_href": posts_link(db, coordinated="yes", network=name) if share.get("k") is not None else None,
                "n_href": posts_link(db) if share.get("n") is not None else None,
            }
        )
    if "any" in shares:
        share = shares["any"]
        rows.append(
            {
                "label": "any of these",
                "accounts": a.get("coordinated_accounts"),
                "accounts_href": "/networks?" + query({"db": db}),
                "groups": None,
                "share": share,
                "k": share.get("k"),
                "n": share.get("n"),
                "k_href": posts_link(db, coordinated="yes") if share.get("k") is not None else None,
                "n_href": posts_link(db) if share.get("n") is not None else None,
            }
        )
    return rows


def top_accounts(explore: duckdb.DuckDBPyConnection, db: str, limit: int = TOP_ACCOUNTS) -> list[dict[str, Any]]:
    """The audience's most active accounts (posts of the campaign, the host's left out: the
    explorer's default ``set``), counted on the explorer table, each with its account page and its
    posts (``account=ID``). An account whose id is another account's handle would be counted with
    it by that filter: such accounts are left out rather than shown with a count their link
    would not give."""
    rows = explore.execute(
        "SELECT platform, author_id, max(author_handle) AS handle, count(*) AS posts FROM explore "
        "WHERE in_campaign AND relation <> 'host' GROUP BY platform, author_id "
        "ORDER BY posts DESC, platform, author_id LIMIT ?",
        [limit],
    ).fetchall()
    ids = [str(r[1]) for r in rows]
    clashing = {
        str(r[0])
        for r in explore.execute(
            "SELECT DISTINCT i.id FROM (SELECT unnest(?::VARCHAR[]) AS id) i JOIN explore p "
            "ON lower(p.author_handle) = lower(i.id) AND p.author_id <> i.id",
            [ids],
        ).fetchall()
    }
    out = []
    for platform, author, handle, posts in rows:
        if str(author) in clashing:
            continue
        out.append(
            {
                "handle": handle or author,
                "href": _account_link(db, str(platform), str(author)),
                "posts": int(posts),
                "posts_href": posts_link(db, account=str(author)),
            }
        )
    return out


def _bars(title: str, unit: str, items: Sequence[tuple[str, int, str, bool]], chart_id: str) -> dict[str, Any] | None:
    """A horizontal bar chart: (label, count, link, highlighted) per bar."""
    shown = [i for i in items if i[1]]
    if not shown:
        return None
    tallest = max(count for _, count, _, _ in shown)
    row, width, label_w = 22, 600, 190
    bars = []
    for i, (label, count, href, hot) in enumerate(shown):
        bars.append(
            {
                "label": label,
                "count": count,
                "href": href,
                "hot": hot,
                "y": i * row,
                "w": round(max((width - label_w - 70) * count / tallest, 2.0), 2),
            }
        )
    return {
        "id": chart_id,
        "title": title,
        "unit": unit,
        "bars": bars,
        "label_w": label_w,
        "width": width,
        "height": len(bars) * row,
        "row": row,
    }


def category_chart(db: str, results: dict[str, Any]) -> dict[str, Any] | None:
    """The audience's posts per discourse category (the backfire lens's ``k`` of each category
    share), each bar a link to those posts."""
    shares = (results.get("backfire") or {}).get("category_shares") or {}
    items = []
    for category in CATEGORIES:
        k = (shares.get(category) or {}).get("k")
        if k is not None:
            items.append((category_label(category), int(k), posts_link(db, category=category), category in HOSTILE))
    return _bars("Discourse categories of the audience's posts", "posts", items, "chart-categories")


def latency_chart(db: str, results: dict[str, Any]) -> dict[str, Any] | None:
    """The host's answers per time to answer (the engagement lens's ``latency_histogram``), each
    bin a link to its answered questions (``latency_from``/``latency_to`` in seconds)."""
    bins = (results.get("engagement") or {}).get("latency_histogram") or []
    items = []
    for b in bins:
        low, high = b.get("from_min"), b.get("to_min")
        label = f"{minutes(low * 60)} to {minutes(high * 60)}" if high is not None else f"{minutes(low * 60)} or more"
        params = {"set": "questions", "answered": "yes", "latency_from": f"{low * 60:g}"}
        if high is not None:
            params["latency_to"] = f"{high * 60:g}"
        items.append((label, int(b.get("answers") or 0), posts_link(db, **params), False))
    return _bars("Time the host took to answer", "answered questions", items, "chart-latency")


def language_chart(explore: duckdb.DuckDBPyConnection, db: str) -> dict[str, Any] | None:
    """The audience's posts per language label (the 12 largest), counted on the explorer table,
    each bar a link to those posts (``language=CODE``)."""
    rows = explore.execute(
        "SELECT language, count(*) AS n FROM explore WHERE in_campaign AND relation <> 'host' "
        "AND language IS NOT NULL GROUP BY 1 ORDER BY n DESC, 1 LIMIT 12"
    ).fetchall()
    items = [(str(label), int(n), posts_link(db, language=str(label)), False) for label, n in rows]
    return _bars("The audience's posts by language", "posts", items, "chart-languages")


def relation_chart(explore: duckdb.DuckDBPyConnection, db: str) -> dict[str, Any] | None:
    """The audience's posts per relation to the host, counted on the explorer table, each bar a
    link to those posts."""
    rows = explore.execute(
        "SELECT relation, count(*) AS n FROM explore WHERE in_campaign AND relation <> 'host' "
        "GROUP BY 1 ORDER BY n DESC, 1"
    ).fetchall()
    items = [(str(rel).replace("_", " "), int(n), posts_link(db, relation=str(rel)), False) for rel, n in rows]
    return _bars("The audience's posts by relation to the host", "posts", items, "chart-relations")


def depth_chart(db: str, results: dict[str, Any]) -> dict[str, Any] | None:
    """The campaign's reply threads per depth of their longest reply chain (the engagement lens's
    ``dialogue_depth.histogram``), each bar a link to the threads' first posts."""
    bins = ((results.get("engagement") or {}).get("dialogue_depth") or {}).get("histogram") or []
    items = [
        (
            f"{b['depth']} repl{'y' if b['depth'] == 1 else 'ies'} deep",
            int(b.get("threads") or 0),
            posts_link(db, set="threads", thread_depth=str(b["depth"])),
            False,
        )
        for b in bins
        if b.get("depth") is not None
    ]
    return _bars("Reply threads by depth (dialogue depth)", "threads", items, "chart-depth")
