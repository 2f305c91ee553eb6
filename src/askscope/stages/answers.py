"""The ``answers`` stage: for every question in P, the host's first answer and its latency.

Q (questions addressed to the host) = posts of P not written by a host, labelled ``question``
by the classifier (form, not category: a mocking question is a question), whose relation is
``direct_reply``, ``quote``, ``mention`` or ``hashtag_only``, or ``thread_reply`` naming a host
(a question deeper in a host's thread that names nobody is addressed to whoever it replies to).

The answer to ``q`` is the earliest post by a host account, created after ``q``, that
1. replies to ``q`` (``reply``), or
2. quotes ``q`` (``quote``: hosts of Q&A sessions often quote a question with their answer), or
3. replies to a post below ``q`` in its thread (``thread``: the host answers further down,
   after a follow-up or someone else's reply).

Follow-ups: after the answer, the asker's first reply to it (``follow_up_id``) and the host's
first reply to that follow-up (``follow_up_answer_id``).

Tables (public, see docs/schema.md): ``answers``, one row per question (``answer_id`` NULL when
unanswered); ``answered_posts``, every audience post of P (questions or not) with whether it is
addressed to the host, its question label, and the host's first answer (the whole answered set;
the corrected answer rate reads its addressed rows).
"""

from __future__ import annotations

import contextlib
from typing import Any

import duckdb

from askscope.stages.base import Context, Stage

ELIGIBLE_SQL = """
CREATE OR REPLACE TEMP TABLE _eligible AS
SELECT r.platform, r.post_id AS question_id, p.author_id AS asker_id, p.created_at, r.relation,
       coalesce(p.repost_count, 0) AS question_reposts,
       coalesce(q.label = 'question', false) AS is_question, d.label AS category,
       (r.relation IN ('direct_reply', 'quote', 'mention', 'hashtag_only')
        OR (r.relation = 'thread_reply' AND r.mentions_host)) AS addressed
FROM relations r
JOIN posts p ON p.platform = r.platform AND p.id = r.post_id
LEFT JOIN labels q ON q.platform = r.platform AND q.post_id = r.post_id AND q.task = 'question'
LEFT JOIN labels d ON d.platform = r.platform AND d.post_id = r.post_id AND d.task = 'discourse'
WHERE r.in_campaign AND r.relation <> 'host'
"""

FIRST_ANSWERS_SQL = """
CREATE OR REPLACE TEMP TABLE _first_answers AS
WITH RECURSIVE
host_ids AS (SELECT DISTINCT platform, author_id FROM hosts WHERE author_id IS NOT NULL),
hp AS (
    SELECT p.platform, p.id, p.created_at, p.author_id, t.parent_id, p.quoted_id
    FROM posts p JOIN host_ids h ON h.platform = p.platform AND h.author_id = p.author_id
    LEFT JOIN threads t ON t.platform = p.platform AND t.post_id = p.id
),
-- ancestors of host replies (host posts are few; chains are short)
up(platform, host_post, ancestor, steps) AS (
    SELECT platform, id, parent_id, 1 FROM hp WHERE parent_id IS NOT NULL
    UNION ALL
    SELECT u.platform, u.host_post, t.parent_id, u.steps + 1
    FROM up u JOIN threads t ON t.platform = u.platform AND t.post_id = u.ancestor
    WHERE t.parent_id IS NOT NULL AND u.steps < 10000
),
candidates AS (
    SELECT q.platform, q.question_id, hp.id AS answer_id, hp.created_at, hp.author_id, 'reply' AS kind, 1 AS rank
    FROM _eligible q JOIN hp ON hp.platform = q.platform AND hp.parent_id = q.question_id
    UNION ALL
    SELECT q.platform, q.question_id, hp.id, hp.created_at, hp.author_id, 'quote', 2
    FROM _eligible q JOIN hp ON hp.platform = q.platform AND hp.quoted_id = q.question_id
    UNION ALL
    SELECT q.platform, q.question_id, hp.id, hp.created_at, hp.author_id, 'thread', 3
    FROM _eligible q JOIN up ON up.platform = q.platform AND up.ancestor = q.question_id AND up.steps > 1
    JOIN hp ON hp.platform = up.platform AND hp.id = up.host_post
)
SELECT c.* FROM candidates c JOIN _eligible q ON q.platform = c.platform AND q.question_id = c.question_id
WHERE c.created_at > q.created_at OR (c.created_at = q.created_at AND c.answer_id > c.question_id)
QUALIFY row_number() OVER (PARTITION BY c.platform, c.question_id ORDER BY c.created_at, c.rank, c.answer_id) = 1
"""

ANSWERS_SQL = """
CREATE OR REPLACE TABLE answers AS
WITH
host_ids AS (SELECT DISTINCT platform, author_id FROM hosts WHERE author_id IS NOT NULL),
follow AS (
    SELECT fa.platform, fa.question_id, p.id AS follow_up_id
    FROM _first_answers fa JOIN _eligible q ON q.platform = fa.platform AND q.question_id = fa.question_id
    JOIN threads t ON t.platform = fa.platform AND t.parent_id = fa.answer_id
    JOIN posts p ON p.platform = t.platform AND p.id = t.post_id AND p.author_id = q.asker_id
    QUALIFY row_number() OVER (PARTITION BY fa.platform, fa.question_id ORDER BY p.created_at, p.id) = 1
),
follow_answer AS (
    SELECT f.platform, f.question_id, p.id AS follow_up_answer_id
    FROM follow f JOIN threads t ON t.platform = f.platform AND t.parent_id = f.follow_up_id
    JOIN posts p ON p.platform = t.platform AND p.id = t.post_id
    JOIN host_ids h ON h.platform = p.platform AND h.author_id = p.author_id
    QUALIFY row_number() OVER (PARTITION BY f.platform, f.question_id ORDER BY p.created_at, p.id) = 1
)
SELECT q.platform, q.question_id, fa.answer_id,
       CASE WHEN fa.answer_id IS NULL THEN NULL ELSE epoch(fa.created_at) - epoch(q.created_at) END AS latency_s,
       q.asker_id, q.relation, q.question_reposts, fa.kind AS answer_kind, fa.author_id AS answered_by,
       f.follow_up_id, fu.follow_up_answer_id, q.category
FROM _eligible q
LEFT JOIN _first_answers fa ON fa.platform = q.platform AND fa.question_id = q.question_id
LEFT JOIN follow f ON f.platform = q.platform AND f.question_id = q.question_id
LEFT JOIN follow_answer fu ON fu.platform = q.platform AND fu.question_id = q.question_id
WHERE q.is_question AND q.addressed
ORDER BY q.platform, q.question_id
"""

ANSWERED_POSTS_SQL = """
CREATE OR REPLACE TABLE answered_posts AS
WITH direct AS (
    SELECT DISTINCT t.platform, t.parent_id AS post_id FROM threads t
    JOIN posts p ON p.platform = t.platform AND p.id = t.post_id
    JOIN hosts h ON h.platform = p.platform AND h.author_id = p.author_id
    WHERE t.parent_id IS NOT NULL
)
SELECT q.platform, q.question_id AS post_id, q.relation, q.addressed, q.is_question,
       fa.answer_id IS NOT NULL AS answered, fa.answer_id, fa.kind AS answer_kind,
       CASE WHEN fa.answer_id IS NULL THEN NULL ELSE epoch(fa.created_at) - epoch(q.created_at) END AS latency_s,
       d.post_id IS NOT NULL AS host_replied_directly
FROM _eligible q LEFT JOIN _first_answers fa ON fa.platform = q.platform AND fa.question_id = q.question_id
LEFT JOIN direct d ON d.platform = q.platform AND d.post_id = q.question_id
ORDER BY q.platform, q.question_id
"""


#: The stage's statements, in order: every one reads only tables named in the stage's contract and
#: the temporary tables the earlier ones make (the Dask form runs them per partition).
STATEMENTS = (ELIGIBLE_SQL, FIRST_ANSWERS_SQL, ANSWERS_SQL, ANSWERED_POSTS_SQL)
#: The temporary tables they make, dropped after.
TEMPORARY = ("_eligible", "_first_answers")


class Answers(Stage):
    name = "answers"
    description = "the host's first answer to each question in P, its latency, follow-ups"
    requires = ("posts", "hosts", "relations", "threads", "labels")
    provides = ("answers", "answered_posts")

    def run(self, ctx: Context) -> dict[str, Any]:
        con = ctx.store.con
        try:
            for sql in STATEMENTS:
                con.execute(sql)
        finally:  # temporary tables stay in memory until the connection closes (P-sized here)
            for temp in TEMPORARY:
                with contextlib.suppress(duckdb.Error):  # an aborted transaction takes them with it
                    con.execute(f"DROP TABLE IF EXISTS {temp}")
        return summarize(con)


def summarize(con: Any) -> dict[str, Any]:
    """The stage's summary, read from the ``answers`` table (shared with the Dask form of the stage,
    :mod:`askscope.archive.dask_answers`, which assembles that table from its partitions)."""
    row = con.execute(
        "SELECT count(*), count(answer_id), median(latency_s), count(*) FILTER (WHERE answer_kind = 'reply'), "
        "count(*) FILTER (WHERE answer_kind = 'quote'), count(*) FILTER (WHERE answer_kind = 'thread'), "
        "count(follow_up_id), count(follow_up_answer_id) FROM answers"
    ).fetchall()[0]
    return {
        "questions": row[0],
        "answered": row[1],
        "median_latency_s": row[2],
        "by_kind": {"reply": row[3], "quote": row[4], "thread": row[5]},
        "follow_ups": row[6],
        "follow_ups_answered": row[7],
    }
