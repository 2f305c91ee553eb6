"""The ``threads`` stage: reply trees across the whole store.

Every post that is not a repost gets its parent (``in_reply_to_id``, resolved through X edit
histories to the stored version), the root it hangs from, its depth, and whether its parent is
missing from the store. A reply whose parent is not in the store is never dropped: it becomes
the top of an incomplete tree, and ``missing_parents`` lists every absent parent with the replies
waiting for it and, where the API said why (``api_errors``), the reason.

Tables (public, see docs/schema.md): ``threads``, ``thread_roots``, ``missing_parents``.
"""

from __future__ import annotations

from typing import Any

from askscope.stages.base import Context, Stage

MAX_DEPTH = 10_000

THREADS_SQL = f"""
CREATE OR REPLACE TABLE threads AS
WITH RECURSIVE
versions AS (
    SELECT p.platform, v.old AS old_id, p.id AS latest_id
    FROM posts p, unnest(p.edit_ids) AS v(old)
    WHERE len(p.edit_ids) > 1 AND v.old <> p.id
),
nodes AS (
    SELECT p.platform, p.id, coalesce(v.latest_id, p.in_reply_to_id) AS parent_id, p.in_reply_to_id AS raw_parent_id
    FROM posts p LEFT JOIN versions v ON v.platform = p.platform AND v.old_id = p.in_reply_to_id
    WHERE p.kind <> 'repost'
),
linked AS (
    SELECT n.*, (n.parent_id IS NOT NULL AND q.id IS NULL) AS parent_missing,
           (n.parent_id IS NOT NULL AND q.id IS NOT NULL) AS has_parent
    FROM nodes n LEFT JOIN nodes q ON q.platform = n.platform AND q.id = n.parent_id
),
walk(platform, post_id, root_id, depth, root_complete) AS (
    SELECT platform, id, id, 0, NOT parent_missing FROM linked WHERE NOT has_parent
    UNION ALL
    SELECT c.platform, c.id, w.root_id, w.depth + 1, w.root_complete
    FROM linked c JOIN walk w ON c.platform = w.platform AND c.parent_id = w.post_id
    WHERE c.has_parent AND w.depth < {MAX_DEPTH}
)
SELECT l.platform, l.id AS post_id, l.parent_id, l.parent_missing,
       coalesce(w.root_id, l.id) AS root_id, coalesce(w.depth, 0) AS depth,
       coalesce(w.root_complete, false) AS root_complete, w.post_id IS NULL AS in_cycle
FROM linked l LEFT JOIN walk w ON w.platform = l.platform AND w.post_id = l.id
"""

ROOTS_SQL = """
CREATE OR REPLACE TABLE thread_roots AS
SELECT t.platform, t.root_id, count(*) AS posts, max(t.depth) AS max_depth,
       count(*) FILTER (WHERE t.depth > 0) AS replies, bool_and(t.root_complete) AS complete,
       any_value(p.author_id) FILTER (WHERE t.post_id = t.root_id) AS root_author_id,
       any_value(p.reply_count) FILTER (WHERE t.post_id = t.root_id) AS root_reply_count
FROM threads t JOIN posts p ON p.platform = t.platform AND p.id = t.post_id
GROUP BY t.platform, t.root_id
"""

MISSING_SQL = """
CREATE OR REPLACE TABLE missing_parents AS
SELECT t.platform, t.parent_id, count(*) AS replies, min(t.post_id) AS first_reply_id,
       min(e.title) AS api_error, min(e.detail) AS api_detail
FROM threads t
LEFT JOIN (SELECT resource_id, min(title) AS title, min(detail) AS detail FROM api_errors
           WHERE resource_type = 'tweet' GROUP BY resource_id) e ON e.resource_id = t.parent_id
WHERE t.parent_missing
GROUP BY t.platform, t.parent_id
"""


class ReplyTrees(Stage):
    name = "reply_trees"
    description = "reply trees across the store: parents, roots, depth; missing parents counted"
    requires = ("posts", "api_errors")
    provides = ("threads", "thread_roots", "missing_parents")

    def run(self, ctx: Context) -> dict[str, Any]:
        con = ctx.store.con
        con.execute(THREADS_SQL)
        con.execute(ROOTS_SQL)
        con.execute(MISSING_SQL)
        return summarize(con)


def summarize(con: Any) -> dict[str, Any]:
    """The stage's summary, from the three tables it wrote (also used by the Dask form of the
    stage, :mod:`askscope.archive.dask_stages`, which writes the same tables on workers)."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE parent_id IS NOT NULL), "
        "count(*) FILTER (WHERE parent_id IS NOT NULL AND NOT parent_missing), "
        "count(*) FILTER (WHERE parent_missing), count(*) FILTER (WHERE in_cycle), "
        "coalesce(max(depth), 0) FROM threads"
    ).fetchall()[0]
    missing = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE api_error IS NOT NULL) FROM missing_parents"
    ).fetchall()[0]
    roots = con.execute("SELECT count(*), count(*) FILTER (WHERE replies > 0) FROM thread_roots").fetchall()[0]
    return {
        "posts": row[0],
        "replies": row[1],
        "edges_rebuilt": row[2],
        "replies_with_missing_parent": row[3],
        "in_cycles": row[4],
        "max_depth": row[5],
        "missing_parents": missing[0],
        "missing_parents_explained_by_api": missing[1],
        "trees": roots[0],
        "trees_with_replies": roots[1],
    }
