"""The vectorised path for X API v2 JSON lines: a block of twarc2 pages read by pyarrow's JSON
reader with an explicit schema, mapped to canonical posts and accounts by DuckDB column
expressions, instead of decoding and mapping each post in Python.

It must give exactly what :class:`askscope.readers.x_v2.XV2Reader` gives, so it only takes the
plain shape: a page with a non-empty ``data`` list of posts, ``includes`` users and tweets,
``errors`` objects (kept as API errors), no edited posts, no flattened (inlined) authors or
referenced posts, no JSON ``null`` anywhere in the line, timestamps in the one RFC 3339 form it
checks, counts that are not negative. Every other line of the block (a streaming page, a
flattened line, a counts bucket, an edited post, a bad value, anything unusual) is parsed by the
reader in Python, and the two halves are folded together by the same rule as
:func:`askscope.store.batch.build_batch` (per ``(platform, id)`` the latest observation, the
later line winning ties). When pyarrow cannot read the block at all (one line that is not JSON,
a value of another type than the schema says), or the Python half holds edited posts (whose
chains the store collapses in order), the whole block goes through Python. So nothing is lost,
and every reject keeps its file, line and reason.

The schema declares every field the reader's msgspec types declare, with the same types, so a
value of the wrong type fails here too (and the block falls back) instead of passing unchecked.

``ASKSCOPE_INGEST_VECTORISED=1`` turns the path on, ``0`` off; unset, :data:`DEFAULT` decides
(off for now: it is exact but slower, see :data:`DEFAULT`).
"""

from __future__ import annotations

import io
import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from askscope.readers import Reader
from askscope.readers.base import RawRecord, Sink
from askscope.store.batch import ACCOUNT_SCHEMA, POST_SCHEMA, Batch, build_batch, encode_raw, iter_lines

ENV = "ASKSCOPE_INGEST_VECTORISED"
#: The readers this path stands in for.
READERS = frozenset({"x-v2"})

#: A JSON ``null`` value follows a colon, a bracket or a comma; a line without this pattern has
#: none (a match inside a string only sends the line to Python, which is always exact).
_NULL = re.compile(rb"[:\[,]\s*null")


#: Whether the path is taken when the environment variable is not set. Off: measured on the
#: bench's twarc2 pages it costs about 3x the time of the per-post Python mapping per block and
#: 1.8x the CPU of a whole ingest (pyarrow's JSON reader alone takes longer than msgspec's
#: decoding; see docs/benchmarks.md), so the automatic choice is the Python path until a faster
#: column mapping exists.
DEFAULT = False


def enabled(reader: Reader) -> bool:
    """Whether blocks of ``reader``'s format go through this path: ``ASKSCOPE_INGEST_VECTORISED``
    (``1``/``0``) decides, else :data:`DEFAULT`. Within the path, each line is mapped by column
    expressions or by the reader automatically."""
    if reader.name not in READERS:
        return False
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return DEFAULT


# --- the explicit schema: the fields of askscope.readers.x_v2's msgspec types ------------------

_S = pa.string()
_I = pa.int64()
_B = pa.bool_()
_URL = pa.struct([("url", _S), ("expanded_url", _S), ("unwound_url", _S), ("media_key", _S)])
_ENTITIES = pa.struct(
    [
        ("hashtags", pa.list_(pa.struct([("tag", _S)]))),
        ("mentions", pa.list_(pa.struct([("username", _S), ("id", _S)]))),
        ("urls", pa.list_(_URL)),
    ]
)
_METRICS = pa.struct(
    [(n, _I) for n in ("retweet_count", "reply_count", "like_count", "quote_count", "impression_count")]
)
_USER = pa.struct(
    [
        ("id", _S),
        ("username", _S),
        ("name", _S),
        ("created_at", _S),
        ("public_metrics", pa.struct([(n, _I) for n in ("followers_count", "following_count", "tweet_count")])),
        ("verified", _B),
        ("location", _S),
        ("description", _S),
        ("url", _S),
        ("entities", pa.struct([("url", pa.struct([("urls", pa.list_(_URL))]))])),
        ("protected", _B),
    ]
)
_TWARC = pa.struct([("retrieved_at", _S)])


def _tweet(referenced: pa.DataType) -> pa.DataType:
    return pa.struct(
        [
            ("id", _S),
            ("text", _S),
            ("author_id", _S),
            ("created_at", _S),
            ("lang", _S),
            ("conversation_id", _S),
            ("in_reply_to_user_id", _S),
            ("referenced_tweets", referenced),
            ("entities", _ENTITIES),
            ("public_metrics", _METRICS),
            ("attachments", pa.struct([("media_keys", pa.list_(_S))])),
            ("edit_history_tweet_ids", pa.list_(_S)),
            ("note_tweet", pa.struct([("text", _S), ("entities", _ENTITIES)])),
            ("withheld", pa.struct([("copyright", _B), ("country_codes", pa.list_(_S)), ("scope", _S)])),
            ("type", _S),
            ("author", _USER),
            ("in_reply_to_user", _USER),
            ("__twarc", _TWARC),
            ("username", _S),
            ("tweet_count", _I),
            ("member_count", _I),
        ]
    )


# A referenced tweet's own referenced tweets are only checked for presence (such a line goes
# to Python, which validates them): the schema cannot recurse.
_REF = _tweet(pa.list_(pa.struct([("id", _S)])))
_TWEET = _tweet(pa.list_(_REF))
PAGE_SCHEMA = pa.schema(
    [
        ("data", pa.list_(_TWEET)),
        ("includes", pa.struct([("users", pa.list_(_USER)), ("tweets", pa.list_(_TWEET))])),
        (
            "errors",
            pa.list_(pa.struct([(n, _S) for n in ("resource_type", "resource_id", "title", "detail", "value")])),
        ),
        ("__twarc", _TWARC),
    ]
)
_PARSE = pj.ParseOptions(explicit_schema=PAGE_SCHEMA, unexpected_field_behavior="ignore")

# --- the SQL: which pages are plain, and their posts and accounts ----------------------------

# msgspec reads these datetimes; the form checked here is one it reads, and DuckDB's cast must
# also accept it (so an impossible date sends the line to Python).
_TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"


def _ts_ok(x: str) -> str:
    return (
        f"({x} IS NULL OR (regexp_full_match({x}, '{_TS}') AND left({x}, 4) <> '0000' "
        f"AND TRY_CAST({x} AS TIMESTAMPTZ) IS NOT NULL))"
    )


def _counts_ok(m: str, names: tuple[str, ...]) -> str:
    return "(" + " AND ".join(f"coalesce({m}.{n}, 0) >= 0" for n in names) + ")"


_TWEET_COUNTS = ("retweet_count", "reply_count", "like_count", "quote_count", "impression_count")
_USER_COUNTS = ("followers_count", "following_count", "tweet_count")


def _all(items: str, var: str, cond: str) -> str:
    return f"coalesce(list_bool_and(list_transform({items}, lambda {var}: {cond})), true)"


_REF_OK = (
    "r.text IS NULL AND r.note_tweet IS NULL AND r.referenced_tweets IS NULL AND r.author IS NULL "
    'AND r.in_reply_to_user IS NULL AND r."__twarc" IS NULL AND r.tweet_count IS NULL '
    f"AND {_ts_ok('r.created_at')} AND {_counts_ok('r.public_metrics', _TWEET_COUNTS)}"
)


def _tweet_ok(t: str) -> str:
    return (
        f'coalesce(len({t}.edit_history_tweet_ids), 0) <= 1 AND {t}."__twarc" IS NULL AND {t}.author IS NULL '
        f"AND {t}.in_reply_to_user IS NULL AND {t}.tweet_count IS NULL AND {_ts_ok(f'{t}.created_at')} "
        f"AND {_counts_ok(f'{t}.public_metrics', _TWEET_COUNTS)} AND {_all(f'{t}.referenced_tweets', 'r', _REF_OK)}"
    )


_USER_OK = f"{_ts_ok('u.created_at')} AND {_counts_ok('u.public_metrics', _USER_COUNTS)}"
_ITEM_OK = (
    "coalesce(d.id, '') <> '' AND (d.text IS NOT NULL OR d.note_tweet IS NOT NULL) AND d.username IS NULL "
    f"AND d.member_count IS NULL AND {_tweet_ok('d')}"
)
PLAIN_SQL = f"""
SELECT li FROM pages WHERE NOT coalesce(
    plain AND len(data) > 0
    AND {_ts_ok('"__twarc".retrieved_at')}
    AND {_all("data", "d", _ITEM_OK)}
    AND {_all("includes.tweets", "d", _tweet_ok("d"))}
    AND {_all("includes.users", "u", _USER_OK)},
    false)
"""


def _names(items: str, field: str) -> str:
    """The non-empty ``field`` of each struct in a list, in order ([] for none)."""
    return f"coalesce(list_transform(list_filter({items}, lambda e: e.{field} <> ''), lambda e: e.{field}), [])"


_URL_OF = "coalesce(nullif(e.unwound_url, ''), nullif(e.expanded_url, ''), nullif(e.url, ''))"
# The reader's XV2Reader._post, column by column: ``t`` the tweet, ``c`` its content (a repost's
# original when the page has it), ``ent`` the entities of the content (of its note_tweet if any).
MAP_SQL = f"""
WITH
page AS (
    SELECT li, line, coalesce(CAST("__twarc".retrieved_at AS TIMESTAMPTZ), $observed) AS obs, data, includes
    FROM pages
),
inc AS (
    SELECT li, unnest(includes.tweets) AS t, generate_subscripts(includes.tweets, 1) AS k
    FROM page WHERE len(includes.tweets) > 0
),
tweets AS (SELECT li, t.id AS id, arg_max(t, k) AS t FROM inc WHERE t.id <> '' GROUP BY li, t.id),
users AS (
    SELECT li, u.id AS id, arg_max(u, k) AS u FROM (
        SELECT li, unnest(includes.users) AS u, generate_subscripts(includes.users, 1) AS k
        FROM page WHERE len(includes.users) > 0
    ) WHERE u.id <> '' GROUP BY li, u.id
),
src AS (
    SELECT li, line, obs, unnest(data) AS t, generate_subscripts(data, 1) AS k, false AS is_context FROM page
    UNION ALL
    SELECT p.li, p.line, p.obs, w.t, 0 AS k, true AS is_context
    FROM tweets w JOIN page p USING (li)
    WHERE w.t.text IS NOT NULL OR w.t.note_tweet IS NOT NULL
),
refs AS (
    SELECT *,
        list_filter(t.referenced_tweets, lambda r: r.type = 'retweeted')[-1].id AS reposted,
        list_filter(t.referenced_tweets, lambda r: r.type = 'replied_to')[-1].id AS reply_to,
        list_filter(t.referenced_tweets, lambda r: r.type = 'quoted')[-1].id AS quoted
    FROM src
),
joined AS (
    SELECT r.*, o.t AS orig, a.u AS author
    FROM refs r
    LEFT JOIN tweets o ON o.li = r.li AND o.id = r.reposted
    LEFT JOIN users a ON a.li = r.li AND a.id = r.t.author_id
),
content AS (
    SELECT *, CASE WHEN orig IS NOT NULL THEN orig ELSE t END AS c FROM joined
),
ents AS (
    SELECT *,
        CASE WHEN c.note_tweet.entities IS NOT NULL THEN c.note_tweet.entities ELSE c.entities END AS ent,
        orig IS NOT NULL AND t.entities IS NOT NULL AS adds_own
    FROM content
),
lists AS (
    SELECT *,
        {_names("ent.hashtags", "tag")} AS hashtags,
        {_names("ent.mentions", "username")} AS base_mentions,
        {_names("ent.mentions", "id")} AS base_mention_ids,
        coalesce(list_transform(list_filter(ent.urls, lambda e: e.media_key IS NULL AND {_URL_OF} IS NOT NULL),
            lambda e: {_URL_OF}), []) AS urls
    FROM ents
),
extra AS (
    SELECT *,
        CASE WHEN adds_own THEN coalesce(list_filter(t.entities.mentions, lambda m, i:
            m.username <> '' AND NOT list_contains(base_mentions, m.username)
            AND list_position(list_transform(t.entities.mentions, lambda x: x.username), m.username) = i), [])
        ELSE [] END AS own
    FROM lists
)
SELECT
    'x' AS platform,
    t.id AS id,
    t.author_id AS author_id,
    author.username AS author_handle,
    CAST(t.created_at AS TIMESTAMPTZ) AS created_at,
    CASE WHEN c.note_tweet.text <> '' THEN c.note_tweet.text ELSE coalesce(c.text, '') END AS text,
    t.lang AS lang,
    CASE WHEN reposted IS NOT NULL THEN 'repost' WHEN reply_to IS NOT NULL THEN 'reply'
         WHEN quoted IS NOT NULL THEN 'quote' ELSE 'post' END AS kind,
    reply_to AS in_reply_to_id,
    t.in_reply_to_user_id AS in_reply_to_author_id,
    t.conversation_id AS conversation_id,
    quoted AS quoted_id,
    reposted AS reposted_id,
    hashtags,
    list_concat(list_transform(own, lambda m: m.username), base_mentions) AS mentions,
    urls,
    coalesce(len(c.attachments.media_keys), 0)::INTEGER AS media_count,
    t.public_metrics.like_count AS like_count,
    t.public_metrics.retweet_count AS repost_count,
    t.public_metrics.reply_count AS reply_count,
    t.public_metrics.quote_count AS quote_count,
    t.public_metrics.impression_count AS view_count,
    obs AS observed_at,
    is_context,
    $source_file AS source_file,
    line AS source_line,
    list_concat(coalesce(list_transform(list_filter(own, lambda m: m.id <> ''), lambda m: m.id), []),
        base_mention_ids) AS mention_ids,
    []::VARCHAR[] AS edit_ids,
    CASE WHEN t.withheld IS NULL THEN []::VARCHAR[] ELSE list_concat(
        coalesce(t.withheld.country_codes, []::VARCHAR[]),
        CASE WHEN t.withheld.copyright THEN ['copyright'] ELSE []::VARCHAR[] END,
        CASE WHEN t.withheld.scope <> '' THEN ['scope:' || t.withheld.scope] ELSE []::VARCHAR[] END) END AS withheld,
    'https://x.com/' || CASE WHEN author.username <> '' THEN author.username ELSE 'i/web' END
        || '/status/' || t.id AS url,
    k AS _k
FROM extra
"""

# XV2Reader._account: the first of the profile's entity URLs, else its url field.
ACCOUNTS_SQL = """
WITH page AS (
    SELECT li, line, coalesce(CAST("__twarc".retrieved_at AS TIMESTAMPTZ), $observed) AS obs, includes FROM pages
),
users AS (
    SELECT li, line, obs, u.id AS id, arg_max(u, k) AS u FROM (
        SELECT li, line, obs, unnest(includes.users) AS u, generate_subscripts(includes.users, 1) AS k
        FROM page WHERE len(includes.users) > 0
    ) WHERE u.id <> '' GROUP BY li, line, obs, u.id
)
SELECT
    'x' AS platform,
    id,
    u.username AS handle,
    u.name AS name,
    CAST(u.created_at AS TIMESTAMPTZ) AS created_at,
    u.public_metrics.followers_count AS followers_count,
    u.public_metrics.following_count AS following_count,
    u.public_metrics.tweet_count AS posts_count,
    u.verified AS verified,
    u.location AS location,
    u.description AS description,
    obs AS observed_at,
    CASE WHEN len(u.entities.url.urls) > 0 THEN coalesce(nullif(u.entities.url.urls[1].expanded_url, ''),
        nullif(u.entities.url.urls[1].url, ''), nullif(u.url, '')) ELSE nullif(u.url, '') END AS url,
    u.protected AS protected,
    line AS _line
FROM users
"""

# XV2Reader's api_errors: each ``errors`` object of a page, in order.
ERRORS_SQL = """
SELECT $source_file AS source_file, line AS source_line, e.resource_type AS resource_type,
    coalesce(nullif(e.resource_id, ''), e.value) AS resource_id, e.title AS title, e.detail AS detail, k AS _k
FROM (SELECT line, unnest(errors) AS e, generate_subscripts(errors, 1) AS k FROM pages WHERE len(errors) > 0)
ORDER BY line, k
"""

_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per thread (and per worker process), one thread each: the worker
    processes already use the cores."""
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(config={"threads": 1})
        con.execute("SET TimeZone = 'UTC'")
        _local.con = con
    return con


def _arrow(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None) -> pa.Table:
    """The whole result of ``query`` as an Arrow table (DuckDB 2 renamed the method)."""
    relation = con.sql(query, params=params)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    table: pa.Table = fetch()
    return table


@dataclass
class Split:
    """How a block was read: lines mapped by column expressions and lines parsed in Python."""

    vectorised: int
    python: int


def _read_pages(block: bytes, longest: int) -> pa.Table | None:
    try:
        options = pj.ReadOptions(use_threads=False, block_size=max(1 << 20, longest + 2))
        return pj.read_json(io.BytesIO(block), read_options=options, parse_options=_PARSE)
    except (pa.ArrowException, UnicodeDecodeError, ValueError):
        return None


def parse_block(
    reader: Reader,
    source_file: str,
    block: bytes,
    first_line: int,
    offset: int,
    observed: datetime,
    max_record: int,
) -> tuple[Batch, Split] | None:
    """One block of JSON lines as a batch, plain pages by column expressions and the other
    lines by ``reader`` in Python; None when the block must go through Python whole."""
    lines = list(iter_lines(block, first_line, offset))
    if not lines:
        return None
    pages = _read_pages(block, max(len(content) for _, _, content in lines))
    if pages is None or pages.num_rows != len(lines):
        return None
    plain = [
        len(content) <= max_record and (b"null" not in content or _NULL.search(content) is None)
        for _, _, content in lines
    ]
    pages = pages.append_column("li", pa.array(range(len(lines)), pa.int64()))
    pages = pages.append_column("line", pa.array([n for n, _, _ in lines], pa.int64()))
    pages = pages.append_column("plain", pa.array(plain, pa.bool_()))
    con = _connection()
    con.register("pages", pages)
    try:
        odd = {row[0] for row in con.execute(PLAIN_SQL).fetchall()}
        if odd:
            con.unregister("pages")
            keep = pa.array([i not in odd for i in range(len(lines))], pa.bool_())
            con.register("pages", pages.filter(keep))
        posts = _arrow(con, MAP_SQL, {"observed": observed, "source_file": source_file})
        accounts = _arrow(con, ACCOUNTS_SQL, {"observed": observed})
        errors = _arrow(con, ERRORS_SQL, {"source_file": source_file})
    except duckdb.Error:
        return None  # not expected; the Python path is always exact
    finally:
        con.unregister("pages")
    sink = Sink(source_file=source_file, default_observed_at=observed)
    for index in sorted(odd):
        line, position, content = lines[index]
        record = RawRecord(line, position, content)
        if len(content) > max_record:
            sink.reject(
                record,
                "record_too_large",
                f"a record of {len(content):,} bytes is over the limit of {max_record:,} bytes",
            )
        else:
            reader.parse(record, sink)
    try:
        batch = _fold(con, posts, accounts, errors, sink)
    except duckdb.Error:
        return None
    if batch is None:
        return None
    batch.raw_block = encode_raw(block=(first_line, offset, block))
    batch.raw_first_line, batch.raw_last_line, batch.raw_records = lines[0][0], lines[-1][0], len(lines)
    return batch, Split(vectorised=len(lines) - len(odd), python=len(odd))


_FOLD_SQL = """
SELECT * EXCLUDE (_line, _k) FROM {table} x WHERE {where}
QUALIFY row_number() OVER (PARTITION BY platform, id ORDER BY observed_at DESC NULLS LAST, _line DESC, _k DESC) = 1
ORDER BY _line, _k
"""
_NOT_IN = "NOT EXISTS (SELECT 1 FROM {other} o WHERE o.platform = x.platform AND o.id = x.id)"


def _fold(
    con: duckdb.DuckDBPyConnection, posts: pa.Table, accounts: pa.Table, errors: pa.Table, sink: Sink
) -> Batch | None:
    """Both halves as one batch, folded as :func:`~askscope.store.batch.build_batch` folds one
    sink: per ``(platform, id)`` the latest observation, the later line (then item) winning ties;
    context posts that are also matches, and accounts that are also account records, left out.
    None when the Python half holds edited posts (the order of their chains matters to the store)."""
    lines: dict[str, list[int]] = {}
    sink.materialize(lines)
    account_lines = {(a.platform, a.id): n for a, n in zip(sink.accounts, lines.get("account", []))}
    python = build_batch(sink, compress=False)
    if python.edit_chains:
        return None
    vec = posts.append_column("_line", posts["source_line"])
    py_posts = pa.concat_tables([python.matches, python.context])
    py_posts = py_posts.append_column("_k", pa.array([0] * py_posts.num_rows, pa.int64()))
    py_posts = py_posts.append_column("_line", py_posts["source_line"])
    vec_accounts = accounts.append_column("_k", pa.array([0] * accounts.num_rows, pa.int64()))
    py_accounts = python.accounts.append_column("_k", pa.array([0] * python.accounts.num_rows, pa.int64()))
    py_accounts = py_accounts.append_column(
        "_line",
        pa.array(
            [account_lines[key] for key in zip(*(python.accounts[c].to_pylist() for c in ("platform", "id")))],
            pa.int64(),
        ),
    )
    vec_accounts = vec_accounts.select(py_accounts.column_names).cast(py_accounts.schema)
    con.register("fold_posts", pa.concat_tables([vec.cast(py_posts.schema), py_posts]))
    con.register("fold_accounts", pa.concat_tables([vec_accounts, py_accounts]))
    con.register("fold_records", python.account_records.select(["platform", "id"]))
    try:
        matches = _arrow(con, _FOLD_SQL.format(table="fold_posts", where="NOT is_context"))
        con.register("fold_matches", matches)
        try:
            where = "is_context AND " + _NOT_IN.format(other="fold_matches")
            context = _arrow(con, _FOLD_SQL.format(table="fold_posts", where=where))
        finally:
            con.unregister("fold_matches")
        where = _NOT_IN.format(other="fold_records")
        others = _arrow(con, _FOLD_SQL.format(table="fold_accounts", where=where))
    finally:
        for name in ("fold_posts", "fold_accounts", "fold_records"):
            con.unregister(name)
    matches, context = matches.cast(POST_SCHEMA), context.cast(POST_SCHEMA)
    items = int(pc.sum(pc.invert(posts["is_context"])).as_py() or 0)
    py_errors = python.api_errors.append_column("_k", pa.array(range(python.api_errors.num_rows), pa.int64()))
    api_errors = pa.concat_tables([errors.cast(py_errors.schema), py_errors]).sort_by(
        [("source_line", "ascending"), ("_k", "ascending")]
    )
    return Batch(
        matches=matches,
        context=context,
        account_records=python.account_records,
        accounts=others.cast(ACCOUNT_SCHEMA),
        rejects=python.rejects,
        api_errors=api_errors.drop_columns(["_k"]),
        match_records=python.match_records + items,
        account_record_count=python.account_record_count,
        raw_block=None,
        raw_first_line=0,
        raw_last_line=0,
        raw_records=0,
        edit_chains=[],
        platforms=sorted(set(matches["platform"].to_pylist()) | set(context["platform"].to_pylist())),
    )
