"""Account signals: descriptive, never a single "bot" verdict from a fixed cut-off.

Per participating account (table ``account_signals``): its posts and reposts in the campaign
(campaign intensity), the account's age at its first campaign post and on average over its
posts, lifetime posts per day (the account's post count over its age when last observed), the
followers/following ratio, and whether it was created in the 30 days before the window or inside
it. The summary gives medians and shares, for all accounts and for the coordinated ones apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from askscope.authenticity.population import POPULATION

RECENT_DAYS = 30


def account_signals(con: duckdb.DuckDBPyConnection, window_start: datetime | None) -> dict[str, Any]:
    """Write ``account_signals`` and return its summary."""
    t0 = window_start
    recent = t0 - timedelta(days=RECENT_DAYS) if t0 else None
    con.execute(
        f"""
        CREATE OR REPLACE TABLE account_signals AS
        WITH acts AS (
            SELECT platform, author_id, max(author_handle) AS handle,
                   count(*) FILTER (WHERE kind <> 'repost') AS posts,
                   count(*) FILTER (WHERE kind = 'repost') AS reposts,
                   min(created_at) AS first_post_at, max(created_at) AS last_post_at,
                   avg(epoch(created_at)) AS mean_post_epoch
            FROM {POPULATION} GROUP BY platform, author_id)
        SELECT x.platform, x.author_id, x.handle, x.posts, x.reposts, x.first_post_at, x.last_post_at,
               a.created_at AS account_created_at,
               (epoch(x.first_post_at) - epoch(a.created_at)) / 86400.0 AS age_days_at_first_post,
               (x.mean_post_epoch - epoch(a.created_at)) / 86400.0 AS mean_age_days_at_posting,
               a.posts_count AS lifetime_posts,
               a.posts_count / greatest((epoch(coalesce(a.observed_at, x.last_post_at)) - epoch(a.created_at)) / 86400.0,
                                        1.0) AS lifetime_posts_per_day,
               a.followers_count, a.following_count,
               a.followers_count / greatest(a.following_count, 1)::DOUBLE AS follower_ratio,
               CASE WHEN a.created_at IS NULL OR $t0 IS NULL THEN NULL
                    ELSE a.created_at >= $recent AND a.created_at < $t0 END AS created_in_30_days_before,
               CASE WHEN a.created_at IS NULL OR $t0 IS NULL THEN NULL ELSE a.created_at >= $t0 END AS created_in_window,
               EXISTS (SELECT 1 FROM coordinated_accounts c
                       WHERE c.platform = x.platform AND c.author_id = x.author_id) AS coordinated
        FROM acts x LEFT JOIN accounts a ON a.platform = x.platform AND a.id = x.author_id
        ORDER BY x.platform, x.author_id
    """,
        {"t0": t0, "recent": recent},
    )
    return {
        "all": _summary(con, "TRUE"),
        "coordinated": _summary(con, "coordinated"),
        "not_coordinated": _summary(con, "NOT coordinated"),
        "recent_days": RECENT_DAYS,
    }


def _summary(con: duckdb.DuckDBPyConnection, where: str) -> dict[str, Any]:
    row = con.execute(f"""
        SELECT count(*), sum(posts), median(posts), max(posts),
               count(account_created_at),
               avg(created_in_30_days_before::INTEGER), avg(created_in_window::INTEGER),
               median(age_days_at_first_post), median(lifetime_posts_per_day), median(follower_ratio)
        FROM account_signals WHERE {where}
    """).fetchall()[0]
    assert row is not None
    top = con.execute(f"""
        WITH r AS (SELECT posts, row_number() OVER (ORDER BY posts DESC, platform, author_id) AS rk,
                          count(*) OVER () AS n FROM account_signals WHERE {where})
        SELECT sum(posts) FILTER (WHERE rk <= greatest(ceil(n / 100.0), 1)) / nullif(sum(posts), 0) FROM r
    """).fetchall()[0]

    def num(value: Any, digits: int = 4) -> float | None:
        return None if value is None else round(float(value), digits)

    return {
        "accounts": int(row[0]),
        "posts": int(row[1] or 0),
        "posts_per_account_median": num(row[2]),
        "posts_per_account_max": int(row[3] or 0),
        "with_profile": int(row[4]),
        "share_created_in_30_days_before": num(row[5]),
        "share_created_in_window": num(row[6]),
        "median_age_days_at_first_post": num(row[7], 1),
        "median_lifetime_posts_per_day": num(row[8], 2),
        "median_follower_ratio": num(row[9]),
        "top_1pct_post_share": num(top[0] if top else None),
    }
