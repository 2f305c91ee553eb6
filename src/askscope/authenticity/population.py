"""Which posts the authenticity analysis looks at: the one function to adjust.

With the ``relations`` stage's table: the campaign set ``P`` (``in_campaign``) plus the reposts
that amplify the campaign (``relation = 'repost'`` with ``amplifies`` set, in the window; without
those columns: the reposts of posts of ``P``), counted apart from ``P`` but actions for
``co_repost``; the window is then ``campaign_window``'s when the campaign file gives none. Without it: every matched
post (``NOT is_context``: context posts were not observed as actions in the window) inside the
campaign window (``[campaign.start, campaign.end)``, as the relations stage reads it; else the data's own range).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from askscope.campaign import Campaign
from askscope.store.core import column_names

#: The temporary table :func:`build_population` writes.
POPULATION = "auth_population"
COLUMNS = ", ".join(
    f"p.{c}"
    for c in (
        "platform",
        "id",
        "author_id",
        "author_handle",
        "created_at",
        "kind",
        "text",
        "reposted_id",
        "in_reply_to_id",
        "urls",
    )
)


@dataclass(frozen=True)
class Population:
    """What :func:`build_population` selected."""

    source: str  # "relations" or "window"
    start: datetime | None
    end: datetime | None
    posts: int  # |P|: non-repost posts
    reposts: int
    authors: int


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    return column_names(con)


def build_population(con: duckdb.DuckDBPyConnection, campaign: Campaign | None) -> Population:
    """(Re)write the temporary table ``auth_population`` and say what is in it.

    Columns: ``pid`` (the post's number in the population, ordered by ``(platform, id)``: the
    same for the same posts however they were ingested, and defined when ``posts`` is a view over
    an archive's files, which has no ``rowid``), ``uid`` (dense account number),
    ``platform``, ``id``, ``author_id``, ``author_handle``, ``created_at``, ``t`` (epoch
    milliseconds), ``kind``, ``text``, ``reposted_id``, ``in_reply_to_id``, ``urls``.
    """
    start = campaign.start if campaign else None
    end = campaign.end if campaign else None
    window = "TRUE"
    params: list[object] = []
    if start is not None:
        window += " AND p.created_at >= ?"
        params.append(start)
    if end is not None:
        window += " AND p.created_at < ?"
        params.append(end)
    columns = _columns(con)
    relations = columns.get("relations", set())
    if {"platform", "post_id", "in_campaign"} <= relations:
        source = "relations"
        if {"relation", "amplifies"} <= relations:
            # the relations stage says what each repost amplifies (a host or a campaign post)
            in_window = " AND in_window" if "in_window" in relations else ""
            amplifying = f"""SELECT {COLUMNS} FROM posts p SEMI JOIN (
                                 SELECT platform, post_id FROM relations
                                 WHERE relation = 'repost' AND amplifies IS NOT NULL{in_window}) r
                             ON r.platform = p.platform AND r.post_id = p.id
                             WHERE NOT p.is_context AND p.kind = 'repost' AND {window}"""
        else:
            amplifying = f"""SELECT {COLUMNS} FROM posts p SEMI JOIN campaign c
                             ON c.platform = p.platform AND c.post_id = p.reposted_id
                             WHERE NOT p.is_context AND p.kind = 'repost' AND {window}"""
        selection = f"""
            WITH campaign AS (SELECT DISTINCT platform, post_id FROM relations WHERE in_campaign)
            SELECT {COLUMNS} FROM posts p SEMI JOIN campaign c ON c.platform = p.platform AND c.post_id = p.id
            WHERE NOT p.is_context AND p.kind <> 'repost' AND {window}
            UNION ALL
            {amplifying}
        """
        params = params + params
        if start is None and end is None and {"start", "end"} <= columns.get("campaign_window", set()):
            found = con.execute('SELECT "start", "end" FROM campaign_window LIMIT 1').fetchall()
            if found:
                start, end = found[0][0], found[0][1]
    else:
        source = "window"
        selection = f"SELECT {COLUMNS} FROM posts p WHERE NOT p.is_context AND {window}"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {POPULATION} AS
        WITH selected AS (SELECT (row_number() OVER (ORDER BY platform, id) - 1) AS pid, *
                         FROM ({selection}) WHERE author_id IS NOT NULL AND created_at IS NOT NULL),
        authors AS (SELECT platform, author_id, (row_number() OVER (ORDER BY platform, author_id) - 1)::INTEGER AS uid
                    FROM (SELECT DISTINCT platform, author_id FROM selected))
        SELECT s.pid, a.uid, s.platform, s.id, s.author_id, s.author_handle, s.created_at,
               epoch_ms(s.created_at) AS t, s.kind, s.text, s.reposted_id, s.in_reply_to_id, s.urls
        FROM selected s JOIN authors a USING (platform, author_id)
    """,
        params,
    )
    row = con.execute(f"""
        SELECT count(*) FILTER (WHERE kind <> 'repost'), count(*) FILTER (WHERE kind = 'repost'),
               coalesce(max(uid) + 1, 0), min(created_at), max(created_at)
        FROM {POPULATION}
    """).fetchall()[0]
    assert row is not None
    return Population(source, start or row[3], end or row[4], int(row[0]), int(row[1]), int(row[2]))
