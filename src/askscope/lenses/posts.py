"""The posts a reader of the report should see: the most reposted mocking posts, the host's most
reposted answers, and the questions left unanswered and answered (critical first).

Stored by the ``lenses`` stage like every lens, so the report and the web app list the same
posts without querying the campaign. Handles and texts are kept as posted: pseudonymising
(``askscope report --pseudonymise``) is a transformation of the report document, not of the
stored results.
"""

from __future__ import annotations

from typing import Any

from askscope.lenses.base import Lens
from askscope.lenses.common import LensInput
from askscope.timefmt import iso

#: Mocking posts and host answers listed.
TOP = 10
#: Questions listed, unanswered and answered each.
QUESTION_LIST = 25

_POST_COLUMNS = (
    "p.id, p.author_handle, p.created_at, p.text, coalesce(p.repost_count, 0) AS reposts, "
    "coalesce(p.like_count, 0) AS likes"
)


def _rows(inp: LensInput, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = inp.store.con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _post(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "author": row["author_handle"],
        "created_at": iso(row["created_at"]),
        "text": row["text"],
        "reposts": int(row["reposts"]),
        "likes": int(row["likes"]),
        "category": row["category"],
    }


def _question(row: dict[str, Any]) -> dict[str, Any]:
    out = _post(row)
    out.update({"answer_id": row["answer_id"], "latency_s": row["latency_s"], "answer_kind": row["answer_kind"]})
    return out


def top_posts(inp: LensInput, top: int = TOP, questions: int = QUESTION_LIST) -> dict[str, Any]:
    """The four lists, each ordered (reposts, likes, then id; questions by category rank:
    critical, mocking, genuine, other, then reposts and id) so that the result is deterministic."""
    mocking = _rows(
        inp,
        f"SELECT {_POST_COLUMNS}, l.label AS category FROM relations r "
        "JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'discourse' "
        "WHERE r.in_campaign AND r.relation <> 'host' AND l.label = 'mockery' "
        "ORDER BY reposts DESC, likes DESC, p.id LIMIT ?",
        [top],
    )
    answers = _rows(
        inp,
        f"SELECT {_POST_COLUMNS}, NULL AS category FROM answers a "
        "JOIN posts p ON p.platform = a.platform AND p.id = a.answer_id "
        "ORDER BY reposts DESC, likes DESC, p.id LIMIT ?",
        [top],
    )
    # each list's first ``questions`` in SQL: every question of a large campaign (and its text)
    # would otherwise pass through Python to keep 25
    asked = {
        answered: _rows(
            inp,
            f"SELECT {_POST_COLUMNS}, a.category, a.answer_id, a.latency_s, a.answer_kind, "
            "CASE a.category WHEN 'question_critical' THEN 0 WHEN 'mockery' THEN 1 WHEN 'question_genuine' THEN 2 "
            "ELSE 3 END AS rank FROM answers a JOIN posts p ON p.platform = a.platform AND p.id = a.question_id "
            f"WHERE a.answer_id IS {'NOT ' if answered else ''}NULL ORDER BY rank, reposts DESC, p.id LIMIT ?",
            [questions],
        )
        for answered in (False, True)
    }
    return {
        "mocking_posts": [_post(r) for r in mocking],
        "host_answers": [_post(r) for r in answers],
        "unanswered_questions": [_question(q) for q in asked[False]],
        "answered_questions": [_question(q) for q in asked[True]],
    }


POSTS = Lens(
    name="posts",
    title="Posts to read",
    order=50,
    compute=lambda inp, results: top_posts(inp),
    description="the most reposted mocking posts and host answers, unanswered and answered questions",
)
