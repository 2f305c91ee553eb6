"""How complete the stored reply trees are, per platform.

Threads arrive in pieces: Reddit leaves ``more`` stubs (children to fetch with ``morechildren``,
or "continue this thread" links), Bluesky cuts ``getPostThread`` at a depth limit, and a reply's
parent may never have been fetched. The readers keep each stub in ``api_errors``
(``more``, ``replies_not_loaded``, ``not_found``, ``blocked``); this module counts which are still
open once every piece in the store is stitched by id:

* a ``more`` stub with children is expanded when all its children are stored; a "continue this
  thread" stub (no children listed) when its parent has a stored reply;
* a ``replies_not_loaded`` branch is expanded when its post has a stored reply;
* an *orphan* is a stored reply whose parent is not stored;
* the reply-count gap adds up, over stored posts, the replies the platform counted minus the
  replies stored (deleted or hidden replies make it positive even for a complete fetch).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from askscope.store.core import Store


@dataclass
class Completeness:
    platform: str
    posts: int
    replies: int
    orphans: int
    more_stubs: int
    more_stubs_open: int
    comments_not_loaded: int
    depth_limited: int
    depth_limited_open: int
    not_found: int
    reply_count_gap: int

    @property
    def complete(self) -> bool:
        return self.more_stubs_open == 0 and self.depth_limited_open == 0 and self.orphans == 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "complete": self.complete}

    def summary(self) -> str:
        parts = [f"{self.replies:,} replies, {self.orphans:,} without their parent"]
        if self.more_stubs:
            parts.append(
                f"{self.more_stubs - self.more_stubs_open:,} of {self.more_stubs:,} 'more' stubs expanded"
                f" ({self.comments_not_loaded:,} comments not loaded)"
            )
        if self.depth_limited:
            parts.append(
                f"{self.depth_limited - self.depth_limited_open:,} of {self.depth_limited:,} "
                "depth-limited branches expanded"
            )
        if self.not_found:
            parts.append(f"{self.not_found:,} referenced posts not returned by the API")
        return f"{self.platform}: " + "; ".join(parts)


def completeness(store: Store, platform: str) -> Completeness:
    """Stitch the stored pieces of ``platform``'s threads and count what is still missing."""
    con = store.con

    def scalar(sql: str) -> int:
        return int(con.execute(sql, [platform]).fetchall()[0][0] or 0)

    posts = scalar("SELECT count(*) FROM posts WHERE platform = ?")
    replies = scalar("SELECT count(*) FROM posts WHERE platform = ? AND in_reply_to_id IS NOT NULL")
    orphans = scalar(
        "SELECT count(*) FROM posts p WHERE platform = ? AND in_reply_to_id IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM posts q WHERE q.platform = p.platform AND q.id = p.in_reply_to_id)"
    )
    stubs = con.execute(
        """
        WITH stub AS (
            SELECT DISTINCT resource_id AS parent, coalesce(detail, '') AS children FROM api_errors
            WHERE resource_type = 'more' AND ? = 'reddit'),
        child AS (SELECT parent, children, unnest(string_split(children, ',')) AS id FROM stub WHERE children <> ''),
        open_children AS (
            SELECT parent, children, count(*) FILTER (WHERE NOT EXISTS (
                SELECT 1 FROM posts p WHERE p.platform = 'reddit' AND p.id = child.id)) AS missing
            FROM child GROUP BY parent, children),
        open_continue AS (
            SELECT parent FROM stub WHERE children = '' AND NOT EXISTS (
                SELECT 1 FROM posts p WHERE p.platform = 'reddit' AND p.in_reply_to_id = stub.parent))
        SELECT (SELECT count(*) FROM stub),
               (SELECT count(*) FROM open_children WHERE missing > 0) + (SELECT count(*) FROM open_continue),
               (SELECT coalesce(sum(missing), 0) FROM open_children)
        """,
        [platform],
    ).fetchall()[0]
    depth = (
        con.execute(
            """
        WITH branch AS (SELECT DISTINCT resource_id AS id FROM api_errors
                        WHERE resource_type = 'replies_not_loaded' AND resource_id IS NOT NULL)
        SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (
            SELECT 1 FROM posts p WHERE p.platform = ? AND p.in_reply_to_id = branch.id)) FROM branch
        """,
            [platform],
        ).fetchall()[0]
        if platform == "bluesky"
        else (0, 0)
    )
    not_found = scalar(
        "SELECT count(DISTINCT resource_id) FROM api_errors e WHERE resource_type IN ('not_found', 'blocked') "
        "AND ? = 'bluesky' AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.platform = 'bluesky' AND p.id = e.resource_id)"
    )
    gap = scalar(
        """
        SELECT coalesce(sum(greatest(p.reply_count - coalesce(c.n, 0), 0)), 0) FROM posts p
        LEFT JOIN (SELECT in_reply_to_id AS id, count(*) AS n FROM posts WHERE platform = $1
                   GROUP BY in_reply_to_id) c ON c.id = p.id
        WHERE p.platform = $1 AND p.reply_count IS NOT NULL AND p.kind <> 'repost'
          AND NOT (p.platform = 'reddit' AND p.id LIKE 't3_%')
        """
    )
    return Completeness(
        platform=platform,
        posts=posts,
        replies=replies,
        orphans=orphans,
        more_stubs=int(stubs[0]),
        more_stubs_open=int(stubs[1]),
        comments_not_loaded=int(stubs[2]),
        depth_limited=int(depth[0]),
        depth_limited_open=int(depth[1]),
        not_found=not_found,
        reply_count_gap=gap,
    )
