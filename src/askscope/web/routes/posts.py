"""``/posts``: the posts explorer and drill-down target (filters as query parameters, described
in words, keyset pages), ``/posts/{platform}/{id}``: one post with its labels, its thread and the
host's answer; and their JSON twins under ``/api/posts``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from askscope.timefmt import iso
from askscope.vocabulary import CATEGORIES
from askscope.web import postquery
from askscope.web.deps import Reading, handle, reading
from askscope.web.templating import render

router = APIRouter()

FILTER_HELP = (
    "Filters (all optional): set (audience, campaign, questions, host, window, all), category (a discourse "
    "category, hostile, hostile_questions or unlabelled), not_category, relation, answered (yes/no), language, "
    "coordinated (yes/no), network, kind, start, end, bucket (with start), account, frame, frame_use, q (text search)"
)


#: How many views' counts are kept per snapshot.
COUNTS_KEPT = 1000


def _listing(request: Request, db: str | None, sort: str, limit: int, after: str | None) -> dict[str, Any]:
    params = dict(request.query_params)
    try:
        f = postquery.parse(params)
        if not 1 <= limit <= postquery.MAX_PAGE:
            raise postquery.FilterError(f"limit={limit}: give 1 to {postquery.MAX_PAGE} posts per page")
        with reading(request, db) as r:
            cache = handle(request, r.name).cache
            explore = handle(request, r.name).explore(r, wait=False) if postquery.explorable(f) else None
            try:
                # counts are kept for the snapshot (at most COUNTS_KEPT): the next pages count nothing
                counts = cache.setdefault(("counts", r.version), {})
                key = tuple(sorted(f.params().items()))
                if key not in counts:
                    if len(counts) >= COUNTS_KEPT:
                        counts.clear()
                    counts[key] = postquery.count(r.con, f, r.tables, explore)
                total = counts[key]
                rows, following = postquery.page(
                    r.con, f, r.tables, sort=sort, limit=limit, after=after, explore=explore
                )
            finally:
                if explore is not None:
                    explore.close()
            name = r.name
            if ("choices", r.version) not in cache:  # the filters' choices: fixed for a snapshot
                cache[("choices", r.version)] = (
                    _languages(r, handle(request, r.name).explore(r, wait=False)),
                    _relations(r),
                )
            languages, relations = cache[("choices", r.version)]
    except postquery.FilterError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return {
        "db": name,
        "filter": f,
        "filter_params": f.params(),
        "words": postquery.describe(f),
        "count": total,
        "posts": rows,
        "next": following,
        "sort": sort,
        "limit": limit,
        "after": after,
        "languages": languages,
        "relations": relations,
    }


def _languages(r: Reading, explore: Any = None) -> list[str]:
    """The languages to offer in the filter, most posts first (from the explorer table when there
    is one: it holds each post's language label)."""
    sql = "SELECT language FROM explore WHERE language IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 40"
    if explore is not None:
        try:
            return [row[0] for row in explore.execute(sql).fetchall()]
        finally:
            explore.close()
    if "labels" not in r.tables:
        return []
    return [
        row[0]
        for row in r.con.execute(
            "SELECT label FROM labels WHERE task = 'language' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 40"
        ).fetchall()
    ]


def _relations(r: Reading) -> list[str]:
    if "relations" not in r.tables:
        return []
    return [row[0] for row in r.con.execute("SELECT DISTINCT relation FROM relations ORDER BY 1").fetchall()]


@router.get("/posts", include_in_schema=False)
def posts_page(
    request: Request, db: str | None = None, sort: str = "time", limit: int = 50, after: str | None = None
) -> Response:
    data = _listing(request, db, sort, limit, after)
    params = {"db": data["db"], **data["filter_params"], "sort": sort if sort != "time" else None}
    if limit != 50:
        params["limit"] = str(limit)
    return render(
        request,
        "posts.html",
        {
            **data,
            "base_params": params,
            "categories": [*CATEGORIES, "hostile", "hostile_questions", "unlabelled"],
            "sets": postquery.SETS,
            "sorts": list(postquery.SORTS),
        },
    )


def _json_post(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso(v) if k == "created_at" else v) for k, v in row.items()}


@router.get("/api/posts", summary="The posts a filter selects: count and one keyset page")
def api_posts(
    request: Request,
    db: str | None = Query(None, description="store name (the first store when omitted)"),
    sort: str = Query("time", description="time, -time, reposts or likes"),
    limit: int = Query(50, description="posts per page, 1 to 200"),
    after: str | None = Query(None, description="the cursor 'next' of the previous page"),
    set: str = Query("audience", description=FILTER_HELP),
) -> dict[str, Any]:
    """Filters are the query parameters of ``/posts`` (same names); ``count`` is the number of posts
    the filter selects (what the overview's number linking here counts)."""
    data = _listing(request, db, sort, limit, after)
    return {
        "db": data["db"],
        "filter": data["filter_params"],
        "description": data["words"],
        "count": data["count"],
        "next": data["next"],
        "posts": [_json_post(p) for p in data["posts"]],
    }


def post_detail(r: Reading, platform: str, post_id: str, explore: Any = None) -> dict[str, Any]:
    """One post: its row, labels with probabilities, its thread (ancestors, replies) and the
    host's first answer when it is a question."""
    cursor = r.con.execute(
        f"SELECT {postquery.COLUMNS}, p.lang, p.is_context FROM posts p WHERE p.platform = ? AND p.id = ?",
        [platform, post_id],
    )
    names = [d[0] for d in cursor.description or []]
    found = cursor.fetchall()
    if not found:
        raise HTTPException(status_code=404, detail=f"no post {platform}/{post_id} in this store")
    post = dict(zip(names, found[0]))
    labels: list[dict[str, Any]] = []
    if "labels" in r.tables:
        for task, label, probability, model in r.con.execute(
            "SELECT task, label, probability, model FROM labels WHERE platform = ? AND post_id = ? ORDER BY task",
            [platform, post_id],
        ).fetchall():
            labels.append({"task": task, "label": label, "probability": probability, "model": model})
    relation = None
    if "relations" in r.tables:
        rows = r.con.execute(
            "SELECT relation, in_campaign, in_window FROM relations WHERE platform = ? AND post_id = ?",
            [platform, post_id],
        ).fetchall()
        if rows:
            relation = {"relation": rows[0][0], "in_campaign": rows[0][1], "in_window": rows[0][2]}
    answer = None
    if "answers" in r.tables:
        rows = r.con.execute(
            "SELECT answer_id, latency_s, answer_kind, follow_up_id, follow_up_answer_id FROM answers "
            "WHERE platform = ? AND question_id = ?",
            [platform, post_id],
        ).fetchall()
        if rows:
            answer = dict(
                zip(("answer_id", "latency_s", "answer_kind", "follow_up_id", "follow_up_answer_id"), rows[0])
            )
    return {
        "post": post,
        "labels": labels,
        "relation": relation,
        "answer": answer,
        "thread": thread(r, platform, post_id, explore),
    }


#: The most posts a thread view shows (ancestors, then replies breadth-first).
THREAD_LIMIT = 200


def thread(r: Reading, platform: str, post_id: str, explore: Any = None) -> list[dict[str, Any]]:
    """The post's ancestors (root first) and its replies down the thread, each with ``rel`` (its
    distance from the post: negative above it), its parent and whether a host wrote it; at most
    :data:`THREAD_LIMIT` posts, ancestors first, then replies breadth-first.

    The thread is walked one lookup per post on the indexed reply edges of the explorer
    (``explore``: a thread under a host's opening post may hold most of the campaign, so it is
    never read whole), or with a recursive query on ``threads`` without one."""
    if "threads" not in r.tables:
        return []
    members: dict[str, int] = {}
    parents: dict[str, str | None] = {}
    if explore is not None:
        found = explore.execute(
            "SELECT parent_id FROM edges WHERE post_id = ? AND platform = ?", [post_id, platform]
        ).fetchall()
        if not found:
            return []
        members[post_id], parents[post_id] = 0, found[0][0]
        node, hops = found[0][0], 1
        while node is not None and node not in members and hops <= 100:
            up = explore.execute("SELECT parent_id FROM edges WHERE post_id = ? AND platform = ?", [node, platform])
            row = up.fetchall()
            members[node] = -hops
            parents[node] = row[0][0] if row else None
            node, hops = parents[node], hops + 1
        level, depth = [post_id], 1
        while level and len(members) < THREAD_LIMIT:
            following = []
            for node in level:
                replies = explore.execute(
                    "SELECT post_id FROM edges WHERE parent_id = ? AND platform = ? ORDER BY post_id", [node, platform]
                ).fetchall()
                for (child,) in replies:
                    if child not in members and len(members) < THREAD_LIMIT:
                        members[child], parents[child] = depth, node
                        following.append(child)
            level, depth = following, depth + 1
    else:
        rows = r.con.execute(THREAD_SQL, [platform, post_id, platform, post_id]).fetchall()
        for rel, node, parent in rows:
            if node not in members and len(members) < THREAD_LIMIT:
                members[node], parents[node] = rel, parent
    if not members:
        return []
    hosts = (
        "EXISTS (SELECT 1 FROM hosts h WHERE h.platform = p.platform AND h.author_id = p.author_id)"
        if "hosts" in r.tables
        else "false"
    )
    cursor = r.con.execute(
        f"SELECT {postquery.COLUMNS}, {hosts} AS by_host FROM posts p "
        "WHERE p.platform = ? AND p.id IN (SELECT unnest(?))",
        [platform, list(members)],
    )
    names = [d[0] for d in cursor.description or []]
    out = []
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        row["rel"] = members[row["id"]]
        row["parent_id"] = parents.get(row["id"])
        out.append(row)
    out.sort(key=lambda row: (row["rel"], row["created_at"] is None, row["created_at"], row["id"]))
    return out


#: The thread by recursive queries (a store analysed without an explorer table): (rel, id, parent).
THREAD_SQL = """
WITH RECURSIVE
up(platform, post_id, parent_id, hops) AS (
    SELECT platform, post_id, parent_id, 0 FROM threads WHERE platform = ? AND post_id = ?
    UNION ALL
    SELECT t.platform, t.post_id, t.parent_id, up.hops + 1 FROM threads t
    JOIN up ON t.platform = up.platform AND t.post_id = up.parent_id WHERE up.hops < 100
),
down(platform, post_id, parent_id, hops) AS (
    SELECT platform, post_id, parent_id, 0 FROM threads WHERE platform = ? AND post_id = ?
    UNION ALL
    SELECT t.platform, t.post_id, t.parent_id, down.hops + 1 FROM threads t
    JOIN down ON t.platform = down.platform AND t.parent_id = down.post_id WHERE down.hops < 50
)
SELECT -hops AS rel, post_id, parent_id FROM up
UNION ALL SELECT hops, post_id, parent_id FROM down WHERE hops > 0
ORDER BY 1, 2
"""


def _detail(request: Request, r: Reading, platform: str, post_id: str) -> dict[str, Any]:
    explore = handle(request, r.name).explore(r, wait=False)
    try:
        return post_detail(r, platform, post_id, explore)
    finally:
        if explore is not None:
            explore.close()


@router.get("/posts/{platform}/{post_id}", include_in_schema=False)
def post_page(request: Request, platform: str, post_id: str, db: str | None = None) -> Response:
    with reading(request, db) as r:
        data = _detail(request, r, platform, post_id)
        name = r.name
    return render(request, "post.html", {"db": name, **data})


@router.get("/api/posts/{platform}/{post_id}", summary="One post with its labels, thread and the host's answer")
def api_post(
    request: Request,
    platform: str,
    post_id: str,
    db: str | None = Query(None, description="store name (the first store when omitted)"),
) -> dict[str, Any]:
    with reading(request, db) as r:
        data = _detail(request, r, platform, post_id)
    data["post"] = _json_post(data["post"])
    data["thread"] = [_json_post(p) for p in data["thread"]]
    return data
