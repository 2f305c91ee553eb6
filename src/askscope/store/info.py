"""A summary of what a store holds: ``askscope info DB``."""

from __future__ import annotations

import os
from typing import Any

from askscope.store.core import Store
from askscope.timefmt import iso

TOP = 10


def store_info(store: Store, top: int = TOP) -> dict[str, Any]:
    """Counts by platform and kind, time range, top hashtags and accounts, rejects by reason,
    ingest runs. Deterministic: ties are broken by name."""
    q = store.con.execute

    def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return q(sql, params or []).fetchall()

    total, matches, context = rows(
        "SELECT count(*), count(*) FILTER (WHERE NOT is_context), count(*) FILTER (WHERE is_context) FROM posts"
    )[0]
    by_kind = [
        {"platform": p, "kind": k, "posts": n}
        for p, k, n in rows(
            "SELECT platform, kind, count(*) FROM posts WHERE NOT is_context GROUP BY ALL ORDER BY 1, 2"
        )
    ]
    first, last = rows("SELECT min(created_at), max(created_at) FROM posts WHERE NOT is_context")[0]
    hashtags = [
        {"hashtag": h, "posts": n}
        for h, n in rows(
            "SELECT lower(h) AS tag, count(*) AS n FROM (SELECT unnest(hashtags) AS h FROM posts "
            "WHERE NOT is_context) GROUP BY tag ORDER BY n DESC, tag LIMIT ?",
            [top],
        )
    ]
    authors = [
        {"platform": p, "author_id": a, "handle": h, "posts": n}
        for p, a, h, n in rows(
            "SELECT platform, author_id, arg_max(author_handle, observed_at), count(*) AS n "
            "FROM posts WHERE NOT is_context AND author_id IS NOT NULL GROUP BY platform, author_id "
            "ORDER BY n DESC, author_id LIMIT ?",
            [top],
        )
    ]
    rejects = [
        {"reason": r, "records": n}
        for r, n in rows("SELECT reason, count(*) AS n FROM rejects GROUP BY reason ORDER BY n DESC, reason")
    ]
    api_errors = [
        {"title": t, "errors": n}
        for t, n in rows(
            "SELECT coalesce(title, '(untitled)') AS t, count(*) AS n FROM api_errors GROUP BY t ORDER BY n DESC, t"
        )
    ]
    ingest_rows = rows(
        "SELECT status, count(*), coalesce(sum(read), 0), coalesce(sum(new), 0), coalesce(sum(updated), 0), "
        "coalesce(sum(unchanged), 0), coalesce(sum(rejected), 0), max(finished_at) FROM ingests "
        "WHERE superseded_by IS NULL GROUP BY status ORDER BY status"
    )
    # every run, superseded ones included: their sums reconcile with the tables (runs of schema 1
    # have no unchanged count: their updated includes it)
    every = rows(
        "SELECT count(*), count(*) FILTER (WHERE superseded_by IS NOT NULL), coalesce(sum(read), 0), "
        "coalesce(sum(new), 0), coalesce(sum(updated), 0), coalesce(sum(unchanged), 0), coalesce(sum(rejected), 0), "
        "count(*) FILTER (WHERE unchanged IS NULL AND status <> 'running') FROM ingests"
    )[0]
    accounts = rows("SELECT count(*) FROM accounts")[0][0]
    return {
        "store": store.path,
        "schema_version": store.schema_version,
        "size_bytes": os.path.getsize(store.path) if os.path.exists(store.path) else None,
        "posts": {"total": total, "matches": matches, "context": context},
        "by_platform_kind": by_kind,
        "time_range": {"first": iso(first), "last": iso(last)},
        "accounts": accounts,
        "top_hashtags": hashtags,
        "top_accounts": authors,
        "rejects": {"total": sum(r["records"] for r in rejects), "by_reason": rejects},
        "api_errors": {"total": sum(e["errors"] for e in api_errors), "by_title": api_errors},
        "ingests": [
            {
                "status": s,
                "runs": n,
                "read": r,
                "new": nw,
                "updated": u,
                "unchanged": un,
                "rejected": rj,
                "last_finished": iso(f),
            }
            for s, n, r, nw, u, un, rj, f in ingest_rows
        ],
        "ingest_runs": {
            "all": dict(
                zip(("runs", "read", "new", "updated", "unchanged", "rejected"), (every[0], *every[2:7]), strict=True)
            ),
            "superseded": every[1],
            "without_unchanged_count": every[7],
            # what the runs' sums are checked against: every match was new once (as a match) and
            # every account record new once; rejects are kept per run
            "matched_posts_in_store": matches,
            "rejects_in_store": sum(r["records"] for r in rejects),
        },
    }


def format_info(info: dict[str, Any]) -> str:
    """The human-readable form of :func:`store_info`."""
    lines = [f"Store: {info['store']} (schema {info['schema_version']})"]
    posts = info["posts"]
    lines.append(f"Posts: {posts['total']:,} ({posts['matches']:,} matched, {posts['context']:,} context)")
    for row in info["by_platform_kind"]:
        lines.append(f"  {row['platform']:<10} {row['kind']:<8} {row['posts']:>10,}")
    tr = info["time_range"]
    if tr["first"]:
        lines.append(f"Time range: {tr['first']} .. {tr['last']}")
    lines.append(f"Accounts: {info['accounts']:,}")
    if info["top_hashtags"]:
        lines.append("Top hashtags:")
        lines += [f"  #{h['hashtag']:<30} {h['posts']:>8,}" for h in info["top_hashtags"]]
    if info["top_accounts"]:
        lines.append("Top accounts:")
        lines += [
            f"  {('@' + a['handle']) if a['handle'] else a['author_id']:<31} {a['posts']:>8,}"
            for a in info["top_accounts"]
        ]
    rejects = info["rejects"]
    lines.append(f"Rejects: {rejects['total']:,}")
    lines += [f"  {r['reason']:<30} {r['records']:>8,}" for r in rejects["by_reason"]]
    if info["api_errors"]["total"]:
        lines.append(f"API errors kept: {info['api_errors']['total']:,}")
        lines += [f"  {e['title']:<30} {e['errors']:>8,}" for e in info["api_errors"]["by_title"]]
    runs = info["ingest_runs"]
    every = runs["all"]
    if every["runs"]:
        superseded = (
            f" ({runs['superseded']:,} superseded by a later ingest of the same content)" if runs["superseded"] else ""
        )
        lines.append(f"Ingest runs: {every['runs']:,}{superseded}")
        lines.append(
            f"  all runs: read {every['read']:,} = new {every['new']:,} + updated {every['updated']:,} "
            f"+ unchanged {every['unchanged']:,} + rejected {every['rejected']:,}"
        )
        if runs["without_unchanged_count"]:
            lines.append(
                f"  ({runs['without_unchanged_count']:,} runs of an older askscope counted unchanged records as updated)"
            )
    for run in info["ingests"]:
        lines.append(
            f"  current runs {run['status']}: {run['runs']:,} (read {run['read']:,}, new {run['new']:,}, "
            f"updated {run['updated']:,}, unchanged {run['unchanged']:,}, rejected {run['rejected']:,})"
        )
    return "\n".join(lines)
