"""The live console's tables: its queue, the team's actions, alerts and the intake checkpoint.

They sit beside the ordinary campaign tables; ``askscope analyze`` and ``askscope report`` ignore
them, so a live store is an ordinary store afterwards with the session's log kept.
"""

from __future__ import annotations

from askscope.store.core import Store

DDL = (
    """CREATE TABLE IF NOT EXISTS live_items (
        item_id VARCHAR PRIMARY KEY, platform VARCHAR, post_id VARCHAR, status VARCHAR, category VARCHAR,
        abuse BOOLEAN, assigned_to VARCHAR, pinned BOOLEAN, closed_by VARCHAR, closed_at TIMESTAMPTZ,
        answer_platform VARCHAR, answer_id VARCHAR, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS live_item_posts (
        item_id VARCHAR, platform VARCHAR, post_id VARCHAR, similarity DOUBLE, added_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS live_actions (
        "at" TIMESTAMP, member VARCHAR, item_id VARCHAR, action VARCHAR, assignee VARCHAR, note VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS live_alerts (
        id VARCHAR PRIMARY KEY, "at" TIMESTAMPTZ, kind VARCHAR, message VARCHAR, posts VARCHAR, href VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS live_intake (
        session VARCHAR PRIMARY KEY, kind VARCHAR, source VARCHAR, position BIGINT, total BIGINT,
        status VARCHAR, stored BIGINT, rejected BIGINT, started_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)""",
)

TABLES = ("live_items", "live_item_posts", "live_actions", "live_alerts", "live_intake")


def ensure_tables(store: Store) -> None:
    """Create the live tables that do not exist yet."""
    for statement in DDL:
        store.con.execute(statement)
