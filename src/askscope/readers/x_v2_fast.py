"""The vectorised path for X v2 response pages: the same records as :mod:`askscope.readers.x_v2`,
built in C++ instead of Python.

A block of twarc2 page lines is decoded by Arrow's JSON reader against an explicit schema that
holds only the fields askscope uses, and turned into posts, context posts and accounts by SQL in
an in-memory DuckDB: the same rules as the reader, row by row, set-wise. Anything unusual goes
to the reader itself, so the result is always the reader's result:

* a block the JSON reader cannot decode against the schema (a broken line, a value of another
  type, flattened lines mixed with pages...) is handed whole to the reader;
* pages that need the reader's finer rules (edited posts, users pages, counts and lists, items
  without id or text, timestamps in another form, negative counts...) are picked out by SQL and
  parsed by the reader; the two parts are merged with the reader's precedence (the latest
  observation of a post or account wins; of equal ones, the later line).

``tests/test_fast_path.py`` checks that both paths give identical tables on every fixture and on
synthetic campaigns.
"""

from __future__ import annotations

import io
import threading
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.json as pj

from askscope.batch import (
    ACCOUNT_SCHEMA,
    API_ERROR_SCHEMA,
    POST_SCHEMA,
    REJECT_SCHEMA,
    Batch,
    _table,
    build_batch,
    iter_lines,
)
from askscope.post import ACCOUNT_FIELDS, POST_FIELDS
from askscope.readers.base import RawRecord, Sink

S = pa.string()
I = pa.int64()
_URL = pa.struct([("url", S), ("expanded_url", S), ("unwound_url", S), ("media_key", S)])
_ENTITIES = pa.struct([
    ("hashtags", pa.list_(pa.struct([("tag", S)]))),
    ("mentions", pa.list_(pa.struct([("username", S), ("id", S)]))),
    ("urls", pa.list_(_URL)),
])
_METRICS = pa.struct([("retweet_count", I), ("reply_count", I), ("like_count", I), ("quote_count", I),
                      ("impression_count", I)])
_TWEET = pa.struct([
    ("id", S), ("text", S), ("author_id", S), ("created_at", S), ("lang", S), ("conversation_id", S),
    ("in_reply_to_user_id", S),
    ("referenced_tweets", pa.list_(pa.struct([("type", S), ("id", S), ("text", S)]))),
    ("entities", _ENTITIES), ("public_metrics", _METRICS),
    ("attachments", pa.struct([("media_keys", pa.list_(S))])),
    ("edit_history_tweet_ids", pa.list_(S)),
    ("note_tweet", pa.struct([("text", S), ("entities", _ENTITIES)])),
    ("withheld", pa.struct([("copyright", pa.bool_()), ("country_codes", pa.list_(S)), ("scope", S)])),
    # markers of things only the reader handles
    ("username", S), ("tweet_count", I), ("member_count", I), ("author", pa.struct([("id", S)])),
    ("__twarc", pa.struct([("retrieved_at", S)])),
])
_USER = pa.struct([
    ("id", S), ("username", S), ("name", S), ("created_at", S),
    ("public_metrics", pa.struct([("followers_count", I), ("following_count", I), ("tweet_count", I)])),
    ("verified", pa.bool_()), ("location", S), ("description", S), ("url", S),
    ("entities", pa.struct([("url", pa.struct([("urls", pa.list_(_URL))]))])), ("protected", pa.bool_()),
])
_ERROR = pa.struct([("resource_type", S), ("resource_id", S), ("title", S), ("detail", S), ("value", S)])


def _page_schema(streaming: bool) -> pa.Schema:
    return pa.schema([
        ("data", _TWEET if streaming else pa.list_(_TWEET)),
        ("includes", pa.struct([("users", pa.list_(_USER)), ("tweets", pa.list_(_TWEET))])),
        ("errors", pa.list_(_ERROR)),
        ("__twarc", pa.struct([("retrieved_at", S)])),
        ("id", S),
    ])


_OPTIONS = {
    streaming: pj.ParseOptions(explicit_schema=_page_schema(streaming), unexpected_field_behavior="ignore",
                               newlines_in_values=False)
    for streaming in (False, True)
}
# RFC 3339 as msgspec reads it; other forms go to the reader.
_TS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"

_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:", config={"threads": 1, "memory_limit": "160MB"})
        con.execute("SET TimeZone = 'UTC'")
        _local.con = con
    return con


def _arrow(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None) -> pa.Table:
    """The whole result of ``query`` as an Arrow table (``to_arrow_table`` in DuckDB 2,
    ``arrow`` before)."""
    relation = con.sql(query, params=params)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def _ts_ok(expr: str) -> str:
    return f"({expr} IS NULL OR regexp_full_match({expr}, '{_TS}'))"


def _nonneg(expr: str) -> str:
    return f"coalesce({expr} >= 0, true)"


def _tweet_ok(t: str) -> str:
    """SQL: a tweet struct the set-wise rules handle exactly like the reader."""
    pm = f"{t}.public_metrics"
    lists = [f"{t}.edit_history_tweet_ids", f"{t}.attachments.media_keys", f"{t}.withheld.country_codes"]
    return " AND ".join([
        f"len(coalesce({t}.edit_history_tweet_ids, [])) <= 1",
        _ts_ok(f"{t}.created_at"),
        *(_nonneg(f"{pm}.{c}") for c in ("retweet_count", "reply_count", "like_count", "quote_count",
                                          "impression_count")),
        *(f"len(list_filter(coalesce({lst}, []), lambda _x: _x IS NULL)) = 0" for lst in lists),
        f"len(list_filter(coalesce({t}.referenced_tweets, []), lambda _r: _r.text IS NOT NULL)) = 0",
        f"{t}.author IS NULL AND {t}.__twarc IS NULL",
    ])


_DATA_OK = (
    "_t.id IS NOT NULL AND _t.id <> '' AND (_t.text IS NOT NULL OR _t.note_tweet IS NOT NULL) "
    "AND _t.username IS NULL AND _t.tweet_count IS NULL AND _t.member_count IS NULL AND " + _tweet_ok("_t")
)
_USER_OK = " AND ".join([_ts_ok("_u.created_at"), *(_nonneg(f"_u.public_metrics.{c}") for c in
                                                     ("followers_count", "following_count", "tweet_count"))])

_ANOMALIES = f"""
SELECT line FROM _pages WHERE
  (data IS NULL AND id IS NOT NULL)
  OR NOT {_ts_ok("__twarc.retrieved_at")}
  OR len(list_filter(coalesce(data, []), lambda _t: NOT coalesce({_DATA_OK}, false))) > 0
  OR len(list_filter(coalesce(includes.tweets, []), lambda _t: NOT coalesce({_tweet_ok("_t")}, false))) > 0
  OR len(list_filter(coalesce(includes.users, []), lambda _u: NOT coalesce({_USER_OK}, false))) > 0
"""


def _post_select(rows: str, is_context: bool) -> str:
    """SQL building post rows from ``rows`` (line, pos, observed, t) like ``_PageBuilder._post``."""
    content_mentions = "coalesce(ent.mentions, [])"
    mentions_c = f"list_filter(list_transform({content_mentions}, lambda _m: _m.username), lambda _n: _n IS NOT NULL AND _n <> '')"
    ids_c = f"list_filter(list_transform({content_mentions}, lambda _m: _m.id), lambda _n: _n IS NOT NULL AND _n <> '')"
    extra = ("list_filter(coalesce(x.t.entities.mentions, []), lambda _e, _i: _e.username IS NOT NULL AND _e.username <> '' "
             f"AND NOT list_contains({mentions_c}, _e.username) "
             "AND list_position(list_transform(coalesce(x.t.entities.mentions, []), lambda _y: _y.username), _e.username) = _i)")
    prefix = "x.reposted_id IS NOT NULL AND x.has_original AND x.t.entities IS NOT NULL"
    return f"""
SELECT 'x' AS platform, x.t.id AS id, x.t.author_id AS author_id, a.u.username AS author_handle,
  CAST(x.t.created_at AS TIMESTAMPTZ) AS created_at,
  CASE WHEN x.c.note_tweet IS NOT NULL AND coalesce(x.c.note_tweet.text, '') <> '' THEN x.c.note_tweet.text
       ELSE coalesce(x.c.text, '') END AS text,
  x.t.lang AS lang,
  CASE WHEN x.reposted_id IS NOT NULL THEN 'repost' WHEN x.reply_id IS NOT NULL THEN 'reply'
       WHEN x.quoted_id IS NOT NULL THEN 'quote' ELSE 'post' END AS kind,
  x.reply_id AS in_reply_to_id, x.t.in_reply_to_user_id AS in_reply_to_author_id,
  x.t.conversation_id AS conversation_id, x.quoted_id AS quoted_id, x.reposted_id AS reposted_id,
  list_filter(list_transform(coalesce(ent.hashtags, []), lambda _h: _h.tag), lambda _g: _g IS NOT NULL AND _g <> '') AS hashtags,
  CASE WHEN {prefix} THEN list_concat(list_transform({extra}, lambda _m: _m.username), {mentions_c}) ELSE {mentions_c} END AS mentions,
  list_filter(list_transform(list_filter(coalesce(ent.urls, []), lambda _w: _w.media_key IS NULL),
      lambda _w: coalesce(nullif(_w.unwound_url, ''), nullif(_w.expanded_url, ''), nullif(_w.url, ''))),
      lambda _v: _v IS NOT NULL) AS urls,
  CASE WHEN x.c.attachments IS NULL THEN 0 ELSE len(coalesce(x.c.attachments.media_keys, [])) END::INTEGER AS media_count,
  x.t.public_metrics.like_count AS like_count, x.t.public_metrics.retweet_count AS repost_count,
  x.t.public_metrics.reply_count AS reply_count, x.t.public_metrics.quote_count AS quote_count,
  x.t.public_metrics.impression_count AS view_count,
  x.observed AS observed_at, {str(is_context).lower()} AS is_context, $source_file AS source_file,
  x.line::BIGINT AS source_line,
  CASE WHEN {prefix} THEN list_concat(list_filter(list_transform({extra}, lambda _m: _m.id), lambda _v: _v IS NOT NULL AND _v <> ''), {ids_c})
       ELSE {ids_c} END AS mention_ids,
  []::VARCHAR[] AS edit_ids,
  CASE WHEN x.t.withheld IS NULL THEN []::VARCHAR[] ELSE list_concat(coalesce(x.t.withheld.country_codes, []),
       CASE WHEN x.t.withheld.copyright THEN ['copyright'] ELSE []::VARCHAR[] END,
       CASE WHEN coalesce(x.t.withheld.scope, '') <> '' THEN ['scope:' || x.t.withheld.scope] ELSE []::VARCHAR[] END)
  END AS withheld,
  'https://x.com/' || coalesce(nullif(a.u.username, ''), 'i/web') || '/status/' || x.t.id AS url,
  x.line AS _line, x.pos AS _pos
FROM (
  SELECT r.*, CASE WHEN o.t IS NOT NULL THEN o.t ELSE r.t END AS c, o.t IS NOT NULL AS has_original
  FROM (
    SELECT line, pos, observed, t,
      list_filter(coalesce(t.referenced_tweets, []), lambda _q: _q.type = 'retweeted')[-1].id AS reposted_id,
      list_filter(coalesce(t.referenced_tweets, []), lambda _q: _q.type = 'replied_to')[-1].id AS reply_id,
      list_filter(coalesce(t.referenced_tweets, []), lambda _q: _q.type = 'quoted')[-1].id AS quoted_id
    FROM {rows}
  ) r LEFT JOIN _inc o ON o.line = r.line AND o.t.id = r.reposted_id
) x
LEFT JOIN _users a ON a.line = x.line AND a.u.id = x.t.author_id,
LATERAL (SELECT CASE WHEN x.c.note_tweet IS NOT NULL AND x.c.note_tweet.entities IS NOT NULL
                     THEN x.c.note_tweet.entities ELSE x.c.entities END AS ent)
"""


_PREPARE = """
CREATE OR REPLACE TEMP TABLE _ok AS
  SELECT line, coalesce(CAST(__twarc.retrieved_at AS TIMESTAMPTZ), $observed::TIMESTAMPTZ) AS observed,
         data, includes, errors
  FROM _pages WHERE line NOT IN (SELECT unnest($slow::BIGINT[]));
CREATE OR REPLACE TEMP TABLE _data AS
  SELECT line, observed, unnest(coalesce(data, [])) AS t, generate_subscripts(coalesce(data, []), 1) AS pos FROM _ok;
CREATE OR REPLACE TEMP TABLE _inc AS
  SELECT * FROM (SELECT line, observed, unnest(coalesce(includes.tweets, [])) AS t,
                        generate_subscripts(coalesce(includes.tweets, []), 1) AS pos FROM _ok)
  WHERE t.id IS NOT NULL AND t.id <> ''
  QUALIFY row_number() OVER (PARTITION BY line, t.id ORDER BY pos DESC) = 1;
CREATE OR REPLACE TEMP TABLE _users AS
  SELECT * FROM (SELECT line, observed, unnest(coalesce(includes.users, [])) AS u,
                        generate_subscripts(coalesce(includes.users, []), 1) AS pos FROM _ok)
  WHERE u.id IS NOT NULL AND u.id <> ''
  QUALIFY row_number() OVER (PARTITION BY line, u.id ORDER BY pos DESC) = 1;
CREATE OR REPLACE TEMP TABLE _ctx_rows AS
  SELECT i.line, i.pos, i.observed, i.t FROM _inc i
  WHERE (i.t.text IS NOT NULL OR i.t.note_tweet IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM _data d WHERE d.line = i.line AND d.t.id = i.t.id);
"""

_ACCOUNTS = f"""
SELECT 'x' AS platform, u.id AS id, u.username AS handle, u.name AS name,
  CAST(u.created_at AS TIMESTAMPTZ) AS created_at,
  u.public_metrics.followers_count AS followers_count, u.public_metrics.following_count AS following_count,
  u.public_metrics.tweet_count AS posts_count, u.verified AS verified, u.location AS location,
  u.description AS description, observed AS observed_at,
  CASE WHEN len(coalesce(u.entities.url.urls, [])) > 0
       THEN coalesce(nullif(u.entities.url.urls[1].expanded_url, ''), nullif(u.entities.url.urls[1].url, ''), nullif(u.url, ''))
       ELSE nullif(u.url, '') END AS url,
  u.protected AS protected, line AS _line, pos AS _pos
FROM _users
"""

_ERRORS = """
SELECT $source_file AS source_file, line::BIGINT AS source_line, e.resource_type AS resource_type,
  coalesce(nullif(e.resource_id, ''), e.value) AS resource_id, e.title AS title, e.detail AS detail
FROM (SELECT line, unnest(coalesce(errors, [])) AS e, generate_subscripts(coalesce(errors, []), 1) AS pos FROM _ok)
ORDER BY line, pos
"""


def _latest_sql(name: str, exclude: str | None = None) -> str:
    where = f"WHERE (platform, id) NOT IN (SELECT (platform, id) FROM {exclude})" if exclude else ""
    return (f"SELECT * EXCLUDE (_line, _pos) FROM {name} {where} QUALIFY row_number() OVER "
            f"(PARTITION BY platform, id ORDER BY observed_at DESC NULLS LAST, _line DESC, _pos DESC) = 1")


def _with_order(table: pa.Table, lines: list[int]) -> pa.Table:
    return table.append_column("_line", pa.array(lines, pa.int64())).append_column(
        "_pos", pa.array(range(len(lines)), pa.int64()))


def parse_pages(reader: Any, source_file: str, block: bytes, first_line: int, offset: int,
                observed: datetime | None) -> Batch | None:
    """The batch of a block of page lines, or None when the block is not for this path (then
    the caller parses it with the reader). The raw block is not attached here."""
    if not block or b"\n\n" in block or b"\r" in block or block.startswith(b"\n"):
        return None
    head = block[:16].replace(b" ", b"")
    if not head.startswith(b'{"data":'):
        return None
    streaming = head.startswith(b'{"data":{')
    try:
        pages = pj.read_json(io.BytesIO(block), read_options=pj.ReadOptions(use_threads=False, block_size=len(block) + 1),
                             parse_options=_OPTIONS[streaming])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    if pages.num_rows != lines:
        return None
    pages = pages.append_column("line", pa.array(range(first_line, first_line + pages.num_rows), pa.int64()))
    con = _connection()
    con.register("_raw_pages", pages)
    try:
        # streaming output holds one tweet per page: make it a list of one
        data = "CASE WHEN data IS NULL THEN NULL ELSE [data] END" if streaming else "data"
        con.execute(f"CREATE OR REPLACE TEMP TABLE _pages AS SELECT * REPLACE ({data} AS data) FROM _raw_pages")
        slow_lines = [row[0] for row in con.execute(_ANOMALIES).fetchall()]
        params = {"observed": observed, "slow": slow_lines}
        for statement in _PREPARE.split(";"):
            if statement.strip():
                named = {k: v for k, v in params.items() if f"${k}" in statement}
                con.execute(statement, named)
        fast_matches = _arrow(con, _post_select("_data", False), {"source_file": source_file})
        fast_context = _arrow(con, _post_select("_ctx_rows", True), {"source_file": source_file})
        fast_accounts = _arrow(con, _ACCOUNTS)
        fast_errors = _arrow(con, _ERRORS, {"source_file": source_file})
    finally:
        con.unregister("_raw_pages")

    slow = Sink(source_file=source_file, default_observed_at=observed)
    if slow_lines:
        wanted = set(slow_lines)
        for number, position, content in iter_lines(block, first_line, offset):
            if number in wanted:
                reader.parse(RawRecord(number, position, content), slow)
    return _merge(con, slow, fast_matches, fast_context, fast_accounts, fast_errors)


def _merge(con: duckdb.DuckDBPyConnection, slow: Sink, fast_matches: pa.Table, fast_context: pa.Table,
           fast_accounts: pa.Table, fast_errors: pa.Table) -> Batch:
    """Both parts together, with the reader's precedence (see :func:`askscope.batch.build_batch`)."""
    lines: dict[str, list[int]] = {}
    slow.materialize(lines)
    match_records = fast_matches.num_rows + len(slow.matches)
    post_columns = list(POST_FIELDS) + ["_line", "_pos"]
    slow_matches = _with_order(_table(slow.matches, POST_SCHEMA), [p.source_line or 0 for p in slow.matches])
    slow_context = _with_order(_table(slow.context, POST_SCHEMA), lines.get("context", []))
    slow_accounts = _with_order(_table(slow.accounts, ACCOUNT_SCHEMA), lines.get("account", []))
    account_records = build_batch(Sink(source_file=slow.source_file, account_records=slow.account_records),
                                  compress=False).account_records
    try:
        con.register("_fm", fast_matches.select(post_columns).cast(_ordered(POST_SCHEMA)))
        con.register("_sm", slow_matches.cast(_ordered(POST_SCHEMA)))
        con.register("_fc", fast_context.select(post_columns).cast(_ordered(POST_SCHEMA)))
        con.register("_sc", slow_context.cast(_ordered(POST_SCHEMA)))
        con.register("_fa", fast_accounts.select(list(ACCOUNT_FIELDS) + ["_line", "_pos"]).cast(_ordered(ACCOUNT_SCHEMA)))
        con.register("_sa", slow_accounts.cast(_ordered(ACCOUNT_SCHEMA)))
        con.register("_ar", account_records)
        con.execute("CREATE OR REPLACE TEMP TABLE _m AS SELECT * FROM _fm UNION ALL SELECT * FROM _sm")
        con.execute("CREATE OR REPLACE TEMP TABLE _c AS SELECT * FROM _fc UNION ALL SELECT * FROM _sc")
        con.execute("CREATE OR REPLACE TEMP TABLE _a AS SELECT * FROM _fa UNION ALL SELECT * FROM _sa")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _mf AS {_latest_sql('_m')}")
        matches = _arrow(con, "SELECT * FROM _mf")
        context = _arrow(con, _latest_sql("_c", exclude="_mf"))
        accounts = _arrow(con, _latest_sql("_a", exclude="_ar"))
    finally:
        for name in ("_fm", "_sm", "_fc", "_sc", "_fa", "_sa", "_ar"):
            con.unregister(name)
        for table in ("_pages", "_ok", "_data", "_inc", "_users", "_ctx_rows", "_m", "_c", "_a", "_mf"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
    slow_errors = _table(slow.api_errors, API_ERROR_SCHEMA)
    errors = pa.concat_tables([fast_errors.cast(API_ERROR_SCHEMA), slow_errors])
    if slow_errors.num_rows:
        errors = errors.sort_by([("source_line", "ascending")])
    matches = matches.cast(POST_SCHEMA)
    context = context.cast(POST_SCHEMA)
    chains = [ids for ids in matches.column("edit_ids").to_pylist() + context.column("edit_ids").to_pylist()
              if ids and len(ids) > 1]
    return Batch(
        matches=matches,
        context=context,
        account_records=account_records,
        accounts=accounts.cast(ACCOUNT_SCHEMA),
        rejects=_table(slow.rejects, REJECT_SCHEMA),
        api_errors=errors,
        match_records=match_records,
        account_record_count=len(slow.account_records),
        raw_block=None,
        raw_first_line=0,
        raw_last_line=0,
        raw_records=0,
        edit_chains=chains,
        platforms=["x"] if matches.num_rows or context.num_rows else [],
    )


def _ordered(schema: pa.Schema) -> pa.Schema:
    return pa.schema(list(schema) + [("_line", pa.int64()), ("_pos", pa.int64())])
