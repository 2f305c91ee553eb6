"""The ``relations`` stage: each post's relation to the host, and the campaign set P.

Hosts (``hosts`` and ``representatives`` of the campaign file) are resolved to account ids by
id or by handle (case-insensitive) over accounts, authors and mentions in the store. Every post
then gets one relation, the first that holds in this order:

``host`` (written by a host account), ``repost`` (amplification: counted apart, never in P),
``direct_reply`` (replies to a host post, or to a host account whose post is missing),
``thread_reply`` (deeper in a thread a host post started), ``quote`` (quotes a host post),
``mention`` (names a host account), ``hashtag_only`` (uses a campaign hashtag without addressing
the host), ``none``.

P (``in_campaign``) = posts with one of the first-order relations other than ``repost`` and
``none``, created inside the window ``[start, end)``. Without a window in the campaign file, the
window is the span of those posts in the data. Reposts record what they amplify
(``amplifies`` = ``host`` or ``campaign``).

Tables (public, see docs/schema.md): ``hosts``, ``relations``, ``campaign_window``.
"""

from __future__ import annotations

import difflib
from typing import Any

from askscope.campaign import CampaignError
from askscope.stages.base import Context, Stage
from askscope.timefmt import iso

RELATION_ORDER = ("host", "repost", "direct_reply", "thread_reply", "quote", "mention", "hashtag_only", "none")
IN_CAMPAIGN = ("host", "direct_reply", "thread_reply", "quote", "mention", "hashtag_only")

HOSTS_SQL = """
CREATE OR REPLACE TABLE hosts AS
WITH refs AS (
    SELECT * FROM (SELECT unnest($platforms) AS platform, unnest($values) AS value, unnest($roles) AS role)
),
known AS (
    SELECT platform, id AS author_id, handle FROM accounts
    UNION SELECT platform, author_id, author_handle FROM posts WHERE author_id IS NOT NULL
    UNION SELECT platform, m.id, m.handle FROM (
        SELECT platform, unnest(mention_ids) AS id, unnest(mentions) AS handle FROM posts
        WHERE len(mention_ids) = len(mentions) AND len(mentions) > 0) m
),
matched AS (
    SELECT r.platform, r.value AS ref, r.role, k.author_id, k.handle
    FROM refs r JOIN known k ON k.platform = r.platform
     AND (k.author_id = r.value OR lower(k.handle) = lower(r.value))
)
SELECT platform, author_id, min(handle) AS handle, min(role) AS role, min(ref) AS ref
FROM matched WHERE author_id IS NOT NULL GROUP BY platform, author_id
UNION ALL
SELECT r.platform, NULL, r.value, r.role, r.value FROM refs r
WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.platform = r.platform AND m.ref = r.value AND m.author_id IS NOT NULL)
"""

RELATIONS_SQL = """
CREATE OR REPLACE TABLE relations AS
WITH host_ids AS (SELECT DISTINCT platform, author_id FROM hosts WHERE author_id IS NOT NULL),
host_handles AS (SELECT DISTINCT platform, lower(handle) AS handle FROM hosts WHERE handle IS NOT NULL),
host_posts AS (SELECT p.platform, p.id FROM posts p SEMI JOIN host_ids h ON h.platform = p.platform AND h.author_id = p.author_id),
flags AS (
    SELECT p.platform, p.id, p.kind, p.created_at,
        EXISTS (SELECT 1 FROM host_ids h WHERE h.platform = p.platform AND h.author_id = p.author_id) AS by_host,
        (t.parent_id IS NOT NULL AND EXISTS (SELECT 1 FROM host_posts hp WHERE hp.platform = p.platform AND hp.id = t.parent_id))
          OR (coalesce(t.parent_missing, p.in_reply_to_id IS NOT NULL)
              AND EXISTS (SELECT 1 FROM host_ids h WHERE h.platform = p.platform AND h.author_id = p.in_reply_to_author_id))
          AS replies_to_host,
        (t.depth > 1 AND EXISTS (SELECT 1 FROM host_posts hp WHERE hp.platform = p.platform AND hp.id = t.root_id))
          OR (p.conversation_id IS NOT NULL AND p.conversation_id <> p.id AND p.in_reply_to_id IS NOT NULL
              AND EXISTS (SELECT 1 FROM host_posts hp WHERE hp.platform = p.platform AND hp.id = p.conversation_id))
          AS in_host_thread,
        p.quoted_id IS NOT NULL AND EXISTS (SELECT 1 FROM host_posts hp WHERE hp.platform = p.platform AND hp.id = p.quoted_id)
          AS quotes_host,
        EXISTS (SELECT 1 FROM host_handles hh WHERE hh.platform = p.platform AND list_contains(list_transform(p.mentions, lambda _m: lower(_m)), hh.handle))
          OR EXISTS (SELECT 1 FROM host_ids h WHERE h.platform = p.platform AND list_contains(p.mention_ids, h.author_id))
          AS mentions_host,
        len(list_intersect(list_transform(p.hashtags, lambda _h: lower(_h)), $tags::VARCHAR[])) > 0 AS has_tag,
        p.reposted_id
    FROM posts p LEFT JOIN threads t ON t.platform = p.platform AND t.post_id = p.id
)
SELECT platform, id AS post_id,
    CASE WHEN by_host THEN 'host' WHEN kind = 'repost' THEN 'repost' WHEN replies_to_host THEN 'direct_reply'
         WHEN in_host_thread THEN 'thread_reply' WHEN quotes_host THEN 'quote' WHEN mentions_host THEN 'mention'
         WHEN has_tag THEN 'hashtag_only' ELSE 'none' END AS relation,
    false AS in_campaign,
    false AS in_window,
    has_tag, mentions_host, reposted_id, created_at,
    NULL::VARCHAR AS amplifies
FROM flags
"""


class Relations(Stage):
    name = "relations"
    description = "each post's relation to the host (reply, thread, quote, mention, hashtag) and the campaign set P"
    requires = ("posts", "accounts", "threads")
    provides = ("hosts", "relations", "campaign_window")

    def run(self, ctx: Context) -> dict[str, Any]:
        resolve_hosts(ctx)
        ctx.store.con.execute(RELATIONS_SQL, {"tags": list(ctx.campaign.hashtags_lower)})
        return finish(ctx)


def resolve_hosts(ctx: Context) -> None:
    """The ``hosts`` table: the campaign's hosts and representatives resolved to account ids;
    refuses a campaign whose hosts or hashtags match nothing (:func:`_check_matches`)."""
    campaign = ctx.campaign
    refs = [(r.platform, r.value, "host") for r in campaign.hosts] + [
        (r.platform, r.value, "representative") for r in campaign.representatives
    ]
    ctx.store.con.execute(
        HOSTS_SQL,
        {"platforms": [r[0] for r in refs], "values": [r[1] for r in refs], "roles": [r[2] for r in refs]},
    )
    _check_matches(ctx)


def finish(ctx: Context) -> dict[str, Any]:
    """After ``RELATIONS_SQL`` (each post's relation, computed post by post): the window, P
    (``in_campaign``), what each repost amplifies, ``campaign_window`` and the summary. These
    read across posts (the window's span, a repost's original), so the Dask form of the stage
    (:mod:`askscope.archive.dask_stages`) runs them too, after its per-partition relations."""
    con = ctx.store.con
    campaign = ctx.campaign
    start, end = campaign.start, campaign.end
    if start is None or end is None:
        lo, hi = con.execute(
            "SELECT min(created_at), max(created_at) FROM relations WHERE relation IN "
            "(SELECT unnest($r::VARCHAR[])) AND relation <> 'host'",
            {"r": list(IN_CAMPAIGN)},
        ).fetchall()[0]
        # The host's posts that open the campaign (the posts the audience answers, quotes or
        # continues, and its posts with a campaign hashtag) belong in the window: without
        # them the opening post, minutes before the first reply, would fall outside.
        opening = con.execute(OPENING_SQL).fetchall()[0][0]
        if lo is not None and opening is not None:
            lo = min(lo, opening)
        start = start or lo
        if end is None and hi is not None:
            end = hi  # inclusive for a data-derived window
            inclusive_end = True
        else:
            inclusive_end = False
    else:
        inclusive_end = False
    con.execute(
        "UPDATE relations SET in_window = created_at IS NOT NULL "
        "AND ($start::TIMESTAMPTZ IS NULL OR created_at >= $start) "
        "AND ($end::TIMESTAMPTZ IS NULL OR created_at < $end OR ($inclusive AND created_at = $end))",
        {"start": start, "end": end, "inclusive": inclusive_end},
    )
    con.execute(
        "UPDATE relations SET in_campaign = in_window AND relation IN (SELECT unnest($r::VARCHAR[]))",
        {"r": list(IN_CAMPAIGN)},
    )
    con.execute(
        "UPDATE relations SET amplifies = CASE WHEN o.relation = 'host' THEN 'host' "
        "WHEN o.in_campaign OR relations.has_tag THEN 'campaign' END "
        "FROM relations o WHERE relations.relation = 'repost' AND o.platform = relations.platform "
        "AND o.post_id = relations.reposted_id"
    )
    con.execute(
        "UPDATE relations SET amplifies = 'campaign' WHERE relation = 'repost' AND amplifies IS NULL AND has_tag"
    )
    con.execute(
        'CREATE OR REPLACE TABLE campaign_window AS SELECT $start::TIMESTAMPTZ AS start, $end::TIMESTAMPTZ AS "end", '
        "$inclusive::BOOLEAN AS end_inclusive, $given::BOOLEAN AS from_campaign_file",
        {
            "start": start,
            "end": end,
            "inclusive": inclusive_end,
            "given": campaign.start is not None and campaign.end is not None,
        },
    )
    counts = dict(
        con.execute(
            "SELECT relation, count(*) FROM relations WHERE in_campaign OR relation = 'repost' GROUP BY 1"
        ).fetchall()
    )
    hosts = con.execute("SELECT ref, author_id, handle, role FROM hosts ORDER BY role, ref").fetchall()
    unresolved = sorted(r[0] for r in hosts if r[1] is None)
    summary = {
        "window": {"start": iso(start), "end": iso(end), "from_campaign_file": campaign.start is not None},
        "hosts_resolved": [{"ref": r[0], "author_id": r[1], "handle": r[2], "role": r[3]} for r in hosts if r[1]],
        "hosts_unresolved": unresolved,
        "campaign_posts": int(con.execute("SELECT count(*) FROM relations WHERE in_campaign").fetchall()[0][0]),
        "by_relation": {k: int(counts.get(k, 0)) for k in RELATION_ORDER if k != "none"},
    }
    if unresolved:
        ctx.say("representatives not found in the store: " + ", ".join(unresolved))
    if not summary["campaign_posts"]:
        raise CampaignError(
            f"campaign {campaign.name!r} matches no post in the window {iso(start) or 'open'} to {iso(end) or 'open'}",
            "check the window (start, end) in the campaign file against the store's time range: askscope info DB",
        )
    return summary


# The host's posts that open the campaign: those the audience's replies, quotes and threads point
# to, and those with a campaign hashtag (their earliest time).
OPENING_SQL = """
SELECT min(h.created_at) FROM relations h
WHERE h.relation = 'host' AND (h.has_tag OR EXISTS (
    SELECT 1 FROM relations a JOIN posts p ON p.platform = a.platform AND p.id = a.post_id
    LEFT JOIN threads t ON t.platform = a.platform AND t.post_id = a.post_id
    WHERE a.relation IN ('direct_reply', 'thread_reply', 'quote') AND a.platform = h.platform
      AND h.post_id IN (p.in_reply_to_id, p.quoted_id, t.root_id, p.conversation_id)))
"""


def _check_matches(ctx: Context) -> None:
    """Refuse a campaign whose hosts, or all of whose hashtags, match nothing in the store,
    naming what was not found and the closest handles or the commonest hashtags there."""
    con, campaign = ctx.store.con, ctx.campaign
    missing = [
        ref
        for ref, author, role in con.execute("SELECT ref, author_id, role FROM hosts ORDER BY ref").fetchall()
        if author is None and role == "host"
    ]
    if missing:
        handles = [
            h
            for (h,) in con.execute(
                "SELECT DISTINCT handle FROM (SELECT handle FROM accounts UNION ALL SELECT author_handle FROM posts) "
                "WHERE handle IS NOT NULL"
            ).fetchall()
        ]
        lowered = {h.lower(): h for h in handles}
        close = sorted(
            {
                lowered[m]
                for ref in missing
                for m in difflib.get_close_matches(ref.lower(), list(lowered), n=3, cutoff=0.5)
            }
        )
        busiest = [
            h
            for (h,) in con.execute(
                "SELECT author_handle FROM posts WHERE author_handle IS NOT NULL AND NOT is_context "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5"
            ).fetchall()
        ]
        instead = (
            f"closest handles in the store: {', '.join(close)}"
            if close
            else f"the store's most active accounts: {', '.join(busiest) or 'none'}"
        )
        raise CampaignError(
            f"host{'s' if len(missing) > 1 else ''} not found in the store: {', '.join(missing)} ({instead})",
            "put the host's handle or account id in `hosts` of the campaign file (prefix the platform "
            'when several are stored, e.g. "x:Handle")',
        )
    tags = list(campaign.hashtags_lower)
    if (
        tags
        and not con.execute(
            "SELECT count(*) FROM posts WHERE len(list_intersect(list_transform(hashtags, lambda _h: lower(_h)), "
            "$tags::VARCHAR[])) > 0",
            {"tags": tags},
        ).fetchall()[0][0]
    ):
        top = [
            f"#{t} ({n:,})"
            for t, n in con.execute(
                "SELECT h, count(*) AS n FROM (SELECT unnest(hashtags) AS h FROM posts) GROUP BY h "
                "ORDER BY n DESC, h LIMIT 5"
            ).fetchall()
        ]
        raise CampaignError(
            f"no post in the store carries the campaign hashtags {', '.join('#' + t for t in tags)}"
            f" (commonest hashtags there: {', '.join(top) or 'none'})",
            "correct `hashtags` in the campaign file, or remove it to follow the hosts only",
        )
