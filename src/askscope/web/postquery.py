"""The posts behind a number: filters, their SQL (bound parameters only), their description in
words, and keyset pagination.

The populations (``set``) are the lenses' own, written from the same definitions:

* ``audience``: the audience's posts of P, ``relations.in_campaign AND relation <> 'host'``
  joined to ``posts`` (:data:`askscope.lenses.common.AUDIENCE_SQL`): the ``n`` of the backfire
  shares, the authenticity lens's ``coordinated_share``;
* ``campaign``: every post of P (``in_campaign``), the host's included (``volume.posts``);
* ``questions``: the questions addressed to the host, one row of ``answers`` each (the ``n`` of
  the answer rates; ``answered`` splits them, ``category`` is the answers table's);
* ``host``: the host's posts in the window (``relation = 'host' AND in_window``, the engagement
  lens's host output);
* ``all``: every matched post of the store (``NOT is_context``), before or without an analysis.

A filter is a :class:`PostFilter`; :func:`parse` reads it from query parameters (the same names
in the pages and the API), :func:`describe` says it in words, :func:`where` builds the SQL.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

import duckdb

from askscope.timefmt import iso
from askscope.vocabulary import CATEGORIES, HOSTILE

SETS = {
    "audience": "the audience's posts of the campaign (the host's left out)",
    "campaign": "all posts of the campaign, the host's included",
    "questions": "questions addressed to the host",
    "host": "the host's posts in the campaign window",
    "window": "the audience's posts in the campaign window (the framing lens's participants)",
    "threads": "the first posts of the campaign's reply threads (one a thread: the dialogue depth's threads)",
    "all": "every matched post in the store",
}
#: Category values beyond the discourse categories: the hostile set, and posts without a label.
GROUPS = {"hostile": HOSTILE, "unlabelled": ()}
#: The hostile questions of the engagement lens (``hostile_answer_rate``).
HOSTILE_QUESTIONS = ("question_critical", "mockery")
SORTS = {
    "time": ("p.created_at", "ASC"),
    "-time": ("p.created_at", "DESC"),
    "reposts": ("coalesce(p.repost_count, 0)", "DESC"),
    "likes": ("coalesce(p.like_count, 0)", "DESC"),
}
MAX_PAGE = 200


class FilterError(ValueError):
    """A filter value that is not allowed (shown to the user, a 400)."""


@dataclass(frozen=True)
class PostFilter:
    """One view of the posts: a population and conditions, every field a query parameter."""

    set: str = "audience"
    category: str | None = None
    not_category: str | None = None
    relation: str | None = None
    answered: str | None = None
    language: str | None = None
    coordinated: str | None = None
    network: str | None = None
    kind: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    account: str | None = None
    frame: str | None = None
    frame_use: str | None = None
    #: The host's answer came ``latency_from <= latency_s < latency_to`` seconds after the question
    #: (the report's latency histogram bins).
    latency_from: float | None = None
    latency_to: float | None = None
    #: With ``set=threads``: threads whose longest reply chain is this deep.
    thread_depth: int | None = None
    q: str | None = None

    def params(self) -> dict[str, str]:
        """The filter as query parameters (what :func:`parse` reads back)."""
        out = {}
        for name, value in asdict(self).items():
            if value is None or (name == "set" and value == "audience"):
                continue
            if isinstance(value, datetime):
                out[name] = iso(value) or ""
            elif isinstance(value, float):
                out[name] = f"{value:g}"
            else:
                out[name] = str(value)
        return out


FILTER_FIELDS = [f.name for f in fields(PostFilter)]


def _time(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError as exc:
        raise FilterError(f"{name}={value!r} is not a time; give one such as 2021-05-18T14:00Z") from exc
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _duration(value: str) -> timedelta:
    amount, _, unit = value.strip().partition(" ")
    units = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
    try:
        return timedelta(seconds=int(amount) * units[unit.strip()])
    except (ValueError, KeyError) as exc:
        raise FilterError(f"bucket={value!r} is not a duration such as '1 hour' or '10 minutes'") from exc


def parse(params: dict[str, str]) -> PostFilter:
    """A filter from query parameters; unknown or malformed values are :class:`FilterError`.

    ``bucket`` with ``start`` (a bucket of the timeline) sets ``end`` to ``start + bucket``.
    """
    values: dict[str, Any] = {}
    for name in FILTER_FIELDS:
        raw = params.get(name)
        if raw is None or raw.strip() == "":
            continue
        values[name] = raw.strip() if name != "q" else raw
    set_ = values.get("set", "audience")
    if set_ not in SETS:
        raise FilterError(f"set={set_!r} is not one of: {', '.join(SETS)}")
    for name in ("category", "not_category"):
        if name in values and values[name] not in (*CATEGORIES, *GROUPS, "hostile_questions"):
            raise FilterError(f"{name}={values[name]!r} is not one of: {', '.join((*CATEGORIES, *GROUPS))}")
    if "frame_use" in values and "frame" not in values:
        raise FilterError("frame_use needs frame (the frame's name)")
    for name in ("answered", "coordinated", "frame_use"):
        if name in values and values[name] not in ("yes", "no"):
            raise FilterError(f"{name}={values[name]!r}: give yes or no")
    for name in ("start", "end"):
        if name in values:
            values[name] = _time(name, values[name])
    for name in ("latency_from", "latency_to"):
        if name in values:
            try:
                values[name] = float(values[name])
            except ValueError as exc:
                raise FilterError(f"{name}={values[name]!r} is not a number of seconds") from exc
            if not math.isfinite(values[name]) or values[name] < 0:
                raise FilterError(f"{name}={values[name]!r}: give a number of seconds, 0 or more")
    bucket = params.get("bucket", "").strip()
    if bucket:
        if "start" not in values:
            raise FilterError("bucket needs start (the bucket's first instant)")
        values["end"] = values["start"] + _duration(bucket)
    if "thread_depth" in values:
        if set_ != "threads":
            raise FilterError("thread_depth needs set=threads (the threads' first posts)")
        try:
            values["thread_depth"] = int(values["thread_depth"])
        except ValueError as exc:
            raise FilterError(f"thread_depth={values['thread_depth']!r} is not a whole number") from exc
    if "q" in values and len(values["q"]) > 500:
        raise FilterError("the search text is longer than 500 characters")
    return PostFilter(**values)


def _category_words(value: str) -> str:
    if value == "hostile":
        return "hostile (" + ", ".join(c.replace("_", " ") for c in HOSTILE) + ")"
    if value == "hostile_questions":
        return "hostile questions (" + ", ".join(c.replace("_", " ") for c in HOSTILE_QUESTIONS) + ")"
    return value.replace("_", " ")


def describe(f: PostFilter) -> str:
    """The filter in words, e.g. "the audience's posts of the campaign; category hostile (...);
    from 2021-05-18 14:00 UTC to 15:00 UTC"."""
    parts = [SETS[f.set]]
    if f.category:
        parts.append(f"category {_category_words(f.category)}")
    if f.not_category:
        parts.append(f"category not {_category_words(f.not_category)}")
    if f.relation:
        parts.append(f"relation to the host: {f.relation.replace('_', ' ')}")
    if f.answered:
        parts.append("questions to the host " + ("answered by the host" if f.answered == "yes" else "left unanswered"))
    if f.language:
        parts.append(f"language {f.language}")
    if f.coordinated:
        parts.append(
            ("by accounts in a coordinated group" if f.coordinated == "yes" else "by accounts in no coordinated group")
            + (f" of the {f.network} network" if f.network else "")
        )
    elif f.network:
        parts.append(f"by accounts coordinated in the {f.network} network")
    if f.kind:
        parts.append(f"kind {f.kind}")
    if f.start and f.end:
        parts.append(f"from {f.start:%Y-%m-%d %H:%M} to {f.end:%Y-%m-%d %H:%M} UTC (end excluded)")
    elif f.start:
        parts.append(f"from {f.start:%Y-%m-%d %H:%M} UTC")
    elif f.end:
        parts.append(f"before {f.end:%Y-%m-%d %H:%M} UTC")
    if f.latency_from is not None or f.latency_to is not None:
        low = _minutes(f.latency_from or 0.0)
        parts.append(
            f"answered {low} to {_minutes(f.latency_to)} after the question (end excluded)"
            if f.latency_to is not None
            else f"answered {low} or more after the question"
        )
    if f.thread_depth is not None:
        parts.append(f"threads whose longest reply chain is {f.thread_depth} replies deep")
    if f.account:
        parts.append(f"by account {f.account}")
    if f.frame:
        use = {"yes": "using", "no": "not using"}.get(f.frame_use or "", "scored for")
        parts.append(f"{use} the frame “{f.frame}”")
    if f.q:
        parts.append(f"containing “{f.q}”")
    return "; ".join(parts)


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


def _labels_in(value: str) -> tuple[str, ...]:
    if value in GROUPS:
        return GROUPS[value]
    if value == "hostile_questions":
        return HOSTILE_QUESTIONS
    return (value,)


def _category_condition(column: str, value: str, negate: bool, params: list[Any]) -> str:
    if value == "unlabelled":
        return f"{column} IS {'NOT ' if negate else ''}NULL"
    labels = list(_labels_in(value))
    params.extend(labels)
    within = f"{column} IN ({', '.join('?' for _ in labels)})"
    if negate:  # the lenses count an unlabelled post as 'not support' (capture): NULL is kept
        return f"({column} IS NULL OR NOT {within})"
    return within


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


#: The explorer table (one row per post, the filters' columns joined once per snapshot: see
#: :func:`explore_sql`) answers every filter but ``frame`` and ``network``.
def explorable(f: PostFilter) -> bool:
    return f.frame is None and f.network is None


#: The roots (``tr``: thread_roots) of the threads holding a post of P: the engagement lens's
#: dialogue depth counts these threads.
CAMPAIGN_ROOTS = (
    "tr.root_id IN (SELECT DISTINCT t.root_id FROM threads t JOIN relations rr ON rr.platform = t.platform "
    "AND rr.post_id = t.post_id WHERE rr.in_campaign)"
)


def explore_sql(tables: frozenset[str]) -> str | None:
    """The query of the explorer table of an analysed store: every post with its relation, its
    discourse and language labels, its row of ``answers`` and whether its author is coordinated,
    joined exactly as :func:`source` joins them (None when the store is not analysed)."""
    if not {"relations", "labels", "answers"} <= tables:
        return None
    coordinated = (
        "EXISTS (SELECT 1 FROM coordinated_accounts c WHERE c.platform = p.platform AND c.author_id = p.author_id)"
        if "coordinated_accounts" in tables
        else "NULL::BOOLEAN"
    )
    # the depth of the thread a post is the first post of, for the campaign's threads (set=threads)
    threads = (
        f"LEFT JOIN (SELECT tr.platform, tr.root_id, tr.max_depth FROM thread_roots tr WHERE {CAMPAIGN_ROOTS}) th "
        "ON th.platform = p.platform AND th.root_id = p.id"
        if {"threads", "thread_roots"} <= tables
        else "LEFT JOIN (SELECT NULL AS platform, NULL AS root_id, NULL::INTEGER AS max_depth WHERE false) th ON true"
    )
    return f"""
    SELECT p.platform, p.id, p.author_id, p.author_handle, p.created_at, p.kind, p.text, p.url, p.in_reply_to_id,
           p.repost_count, p.like_count, p.reply_count, p.is_context, r.relation, r.in_campaign, r.in_window, d.label AS category,
           lg.label AS language, a.question_id IS NOT NULL AS is_question, a.answer_id IS NOT NULL AS answered,
           a.category AS q_category, a.latency_s, {coordinated} AS coordinated, th.max_depth AS thread_depth,
           row_number() OVER (ORDER BY p.created_at, p.platform, p.id) AS seq
    FROM posts p
    LEFT JOIN relations r ON r.platform = p.platform AND r.post_id = p.id
    LEFT JOIN labels d ON d.platform = p.platform AND d.post_id = p.id AND d.task = 'discourse'
    LEFT JOIN labels lg ON lg.platform = p.platform AND lg.post_id = p.id AND lg.task = 'language'
    LEFT JOIN answers a ON a.platform = p.platform AND a.question_id = p.id
    {threads}
    ORDER BY p.created_at, p.platform, p.id
    """


def source(
    f: PostFilter,
    tables: frozenset[str],
    *,
    explore: bool = False,
    index: duckdb.DuckDBPyConnection | None = None,
) -> tuple[str, list[Any]]:
    """``FROM ... WHERE ...`` selecting the filter's posts (aliases: ``p`` posts, ``r`` relations,
    ``d`` discourse label, ``lg`` language label, ``a`` answers) and its parameters. With
    ``explore``, the same conditions on the explorer table (``p``, :func:`explore_sql`); with
    ``index`` too (the explorer's connection), ``q`` is narrowed by its token index first
    (:mod:`askscope.web.textindex`), then checked with the same ``ILIKE``."""
    analysed = "relations" in tables
    if f.set != "all" and not analysed:
        raise FilterError(f"set={f.set} needs an analysed store: run askscope analyze first (or use set=all)")
    if explore and not explorable(f):
        raise ValueError("frame and network filters read their own tables: not on the explorer table")
    has_labels = "labels" in tables
    latency = f.latency_from is not None or f.latency_to is not None
    needs_answers = f.set == "questions" or f.answered is not None or latency
    if needs_answers and "answers" not in tables:
        raise FilterError("answered / questions need the answers table: run askscope analyze first")
    if (f.coordinated or f.network) and "coordinated_accounts" not in tables:
        raise FilterError("coordinated needs the authenticity stage: run askscope analyze first")
    params: list[Any] = []
    if explore:
        col = {
            "relation": "p.relation",
            "in_campaign": "p.in_campaign",
            "in_window": "p.in_window",
            "category": "p.category",
            "language": "p.language",
            "is_question": "p.is_question",
            "answered": "p.answered",
            "q_category": "p.q_category",
            "latency": "p.latency_s",
            "coordinated": "p.coordinated",
            "threads": "p.thread_depth IS NOT NULL",
            "thread_depth": "p.thread_depth",
        }
        joins = ["FROM explore p"]
    else:
        col = {
            "relation": "r.relation",
            "in_campaign": "r.in_campaign",
            "in_window": "r.in_window",
            "category": "d.label",
            "language": "lg.label",
            "is_question": "a.question_id IS NOT NULL",
            "answered": "a.answer_id IS NOT NULL",
            "q_category": "a.category",
            "latency": "a.latency_s",
            "threads": "EXISTS (SELECT 1 FROM thread_roots tr WHERE tr.platform = p.platform AND tr.root_id = p.id "
            f"AND {CAMPAIGN_ROOTS}{{depth}})",
            "thread_depth": "tr.max_depth",
            "coordinated": "EXISTS (SELECT 1 FROM coordinated_accounts c WHERE c.platform = p.platform "
            "AND c.author_id = p.author_id{network})",
        }
        joins = ["FROM posts p"]
        if analysed:
            joins.append(
                ("JOIN" if f.set not in ("all", "threads") else "LEFT JOIN")
                + " relations r ON r.platform = p.platform AND r.post_id = p.id"
            )
        # the label joins only when a condition reads them (labels holds a row per post and task)
        if has_labels and (f.category or f.not_category) and f.set != "questions":
            joins.append("LEFT JOIN labels d ON d.platform = p.platform AND d.post_id = p.id AND d.task = 'discourse'")
        if has_labels and f.language:
            joins.append(
                "LEFT JOIN labels lg ON lg.platform = p.platform AND lg.post_id = p.id AND lg.task = 'language'"
            )
        if needs_answers:
            joins.append("LEFT JOIN answers a ON a.platform = p.platform AND a.question_id = p.id")
        if f.frame:
            if "frame_scores" not in tables:
                raise FilterError("frame needs the frame scores: run askscope analyze with frames in the campaign file")
            joins.append("JOIN frame_scores fs ON fs.platform = p.platform AND fs.post_id = p.id AND fs.frame = ?")
            params.append(f.frame)
    where = {
        "audience": f"{col['in_campaign']} AND {col['relation']} <> 'host'",
        "campaign": col["in_campaign"],
        "questions": col["is_question"],
        "host": f"{col['relation']} = 'host' AND {col['in_window']}",
        "window": f"{col['in_window']} AND {col['relation']} <> 'host'",
        "all": "NOT p.is_context",
        # the engagement lens's dialogue depth: the first posts of the threads holding a post of P
        "threads": col["threads"].format(depth=f" AND {col['thread_depth']} = ?" if f.thread_depth is not None else "")
        if not explore
        else col["threads"] + (f" AND {col['thread_depth']} = ?" if f.thread_depth is not None else ""),
    }[f.set]
    if f.set == "threads":
        if not {"threads", "thread_roots"} <= tables:
            raise FilterError("set=threads needs the reply trees: run askscope analyze first")
        if f.thread_depth is not None:
            params.append(f.thread_depth)
    conditions = [where]
    for name, negate in (("category", False), ("not_category", True)):
        value = getattr(f, name)
        if value is None:
            continue
        if f.set == "questions":
            column = col["q_category"]
        elif has_labels:
            column = col["category"]
        else:
            raise FilterError("category needs labels: run askscope analyze first")
        conditions.append(_category_condition(column, value, negate, params))
    if f.relation:
        if not analysed:
            raise FilterError("relation needs an analysed store: run askscope analyze first")
        conditions.append(f"{col['relation']} = ?")
        params.append(f.relation)
    if f.answered:
        conditions.append(f"{col['is_question']} AND " + ("" if f.answered == "yes" else "NOT ") + col["answered"])
    if f.language:
        if not has_labels:
            raise FilterError("language needs labels: run askscope analyze first")
        conditions.append(f"{col['language']} = ?")
        params.append(f.language)
    if f.coordinated or f.network:
        exists = col["coordinated"].format(network=" AND c.network = ?" if f.network else "")
        conditions.append(f"NOT {exists}" if f.coordinated == "no" else exists)
        if f.network:
            params.append(f.network)
    if f.latency_from is not None:
        conditions.append(f"{col['latency']} >= ?")
        params.append(f.latency_from)
    if f.latency_to is not None:
        conditions.append(f"{col['latency']} < ?")
        params.append(f.latency_to)
    if f.frame_use:
        conditions.append("fs.uses" if f.frame_use == "yes" else "NOT fs.uses")
    if f.kind:
        conditions.append("p.kind = ?")
        params.append(f.kind)
    if f.start:
        conditions.append("p.created_at >= ?")
        params.append(f.start)
    if f.end:
        conditions.append("p.created_at < ?")
        params.append(f.end)
    if f.account:
        conditions.append("(p.author_id = ? OR lower(p.author_handle) = lower(?))")
        params += [f.account.lstrip("@"), f.account.lstrip("@")]
    if f.q:
        # with the explorer's token index, ILIKE is applied to its candidates only (textindex)
        from askscope.web import textindex

        searched, searched_params = textindex.condition(index if explore else None, f.q, "p.text ILIKE ? ESCAPE '\\'")
        conditions.append(searched)
        params += [*searched_params, _like(f.q)]
    return " ".join(joins) + " WHERE " + " AND ".join(f"({c})" for c in conditions), params


def count(
    con: duckdb.DuckDBPyConnection,
    f: PostFilter,
    tables: frozenset[str],
    explore: duckdb.DuckDBPyConnection | None = None,
) -> int:
    """How many posts the filter selects (on the explorer table ``explore`` when given and it
    answers the filter)."""
    use = explore is not None and explorable(f)
    sql, params = source(f, tables, explore=use, index=explore if use else None)
    target = explore if use and explore is not None else con
    return int(target.execute("SELECT count(*) " + sql, params).fetchall()[0][0])


COLUMNS = (
    "p.platform, p.id, p.author_id, p.author_handle, p.created_at, p.kind, p.text, p.url, p.in_reply_to_id, "
    "coalesce(p.repost_count, 0) AS reposts, coalesce(p.like_count, 0) AS likes, "
    "coalesce(p.reply_count, 0) AS replies"
)


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(
        json.dumps([iso(v) if isinstance(v, datetime) else v for v in values]).encode()
    ).decode()


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != 3:
            raise ValueError
        key = _time("after", values[0]) if sort in ("time", "-time") else int(values[0])
        return [key, str(values[1]), str(values[2])]
    except (ValueError, TypeError, json.JSONDecodeError, FilterError) as exc:
        raise FilterError("after= is not a cursor this page gave") from exc


def page(
    con: duckdb.DuckDBPyConnection,
    f: PostFilter,
    tables: frozenset[str],
    *,
    sort: str = "time",
    limit: int = 50,
    after: str | None = None,
    explore: duckdb.DuckDBPyConnection | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the filter's posts in ``sort`` order, after the cursor ``after`` (keyset
    pagination on (sort key, platform, id): no page reads the posts before it), and the cursor
    of the next page (None on the last)."""
    if sort not in SORTS:
        raise FilterError(f"sort={sort!r} is not one of: {', '.join(SORTS)}")
    use = explore is not None and explorable(f)
    sql, params = source(f, tables, explore=use, index=explore if use else None)
    key, direction = SORTS[sort]
    op = ">" if direction == "ASC" else "<"
    if after:
        sql += f" AND ({key}, p.platform, p.id) {op} (?, ?, ?)"
        params = [*params, *decode_cursor(after, sort)]
    order = f"ORDER BY {key} {direction}, p.platform {direction}, p.id {direction} LIMIT ?"
    if use and sort in ("time", "-time"):
        # in time order, the explorer's rows are read in windows of its sequence (see below)
        order = f"AND p.seq BETWEEN ? AND ? {order}"
    if use:
        query = f"SELECT {COLUMNS}, p.relation, p.category, {key} AS _key {sql} {order}"
    else:
        relation = ", r.relation AS relation" if "relations" in tables else ", NULL AS relation"
        inner = f"SELECT {COLUMNS}{relation}, {key} AS _key {sql} {order}"
        # the page's discourse labels, joined to its rows only
        if "labels" in tables:
            query = (
                f"SELECT page.*, d.label AS category FROM ({inner}) page LEFT JOIN labels d "
                "ON d.platform = page.platform AND d.post_id = page.id AND d.task = 'discourse' "
                f"ORDER BY page._key {direction}, page.platform {direction}, page.id {direction}"
            )
        else:
            query = f"SELECT page.*, NULL AS category FROM ({inner}) page"
    if use and explore is not None and sort in ("time", "-time"):
        rows = _time_window_rows(explore, query, params, limit + 1, ascending=sort == "time", after=after)
    else:
        cursor = (explore if use and explore is not None else con).execute(query, [*params, limit + 1])
        names = [d[0] for d in cursor.description or []]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    following = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        following = encode_cursor([last["_key"], last["platform"], last["id"]])
    for row in rows:
        row.pop("_key", None)
        row["hostile"] = row.get("category") in HOSTILE
    return rows, following


#: The first window of explorer rows a time-ordered page reads (it doubles until the page is full).
WINDOW = 32_768


def _time_window_rows(
    explore: duckdb.DuckDBPyConnection,
    query: str,
    params: list[Any],
    wanted: int,
    *,
    ascending: bool,
    after: str | None,
) -> list[dict[str, Any]]:
    """The first ``wanted`` rows of ``query`` in time order, read window by window of the
    explorer's ``seq`` (its rows' rank in time order) from the cursor on: DuckDB skips the row
    groups outside a window by their min/max, so a page of a dense filter reads one window, not
    the whole table, and a sparse one reads windows doubling in size. The windows are disjoint and
    in order, so their rows concatenated are the rows of one ordered query."""
    low_high = explore.execute("SELECT min(seq), max(seq) FROM explore").fetchall()[0]
    first, last = int(low_high[0] or 0), int(low_high[1] or 0)
    if after:
        when = decode_cursor(after, "time")[0]
        bound = explore.execute(
            "SELECT min(seq) FROM explore WHERE created_at >= ?"
            if ascending
            else "SELECT max(seq) FROM explore WHERE created_at <= ?",
            [when],
        ).fetchall()[0][0]
        if bound is None:
            return []
        start = int(bound)
    else:
        start = first if ascending else last
    rows: list[dict[str, Any]] = []
    size = WINDOW
    while len(rows) < wanted and first <= start <= last:
        low, high = (start, start + size - 1) if ascending else (start - size + 1, start)
        cursor = explore.execute(query, [*params, low, high, wanted - len(rows)])
        names = [d[0] for d in cursor.description or []]
        rows += [dict(zip(names, row)) for row in cursor.fetchall()]
        start = high + 1 if ascending else low - 1
        size *= 2
    return rows
