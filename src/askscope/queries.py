"""Query helpers for library users: the store's tables as pyarrow Tables (``.to_pandas()`` when
pandas is installed), with the store opened read-only for the call.

Every helper takes a :class:`~askscope.store.core.Store` or the path of a store file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from askscope.errors import QueryError, UsageError
from askscope.store.core import Store, open_store, table_names
from askscope.vocabulary import CATEGORIES

StoreLike = Store | str | os.PathLike[str]


@contextmanager
def _opened(store: StoreLike, *, locked: bool = False) -> Iterator[Store]:
    if isinstance(store, Store):
        yield store
        return
    with open_store(store, read_only=True, locked=locked) as db:
        yield db


def _arrow(db: Store, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pa.Table:
    relation = db.con.sql(sql, params=params or None)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # DuckDB 2 renamed it
    table: pa.Table = fetch()
    return table


def query(store: StoreLike, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """Run a read-only SQL query on the store (confined to the store, as ``askscope sql``) and
    return the result as a pyarrow Table. SQL errors become :class:`~askscope.errors.QueryError`."""
    import duckdb

    with _opened(store, locked=True) as db:
        try:
            return _arrow(db, sql, list(params or []))
        except duckdb.Error as exc:
            raise QueryError(
                f"query failed: {str(exc).splitlines()[0]}", 'the tables are listed by: askscope sql DB "SHOW TABLES"'
            ) from exc


def posts(
    store: StoreLike,
    *,
    category: str | None = None,
    relation: str | None = None,
    campaign_only: bool = True,
    limit: int | None = None,
) -> pa.Table:
    """The posts of the campaign (after ``analyze``) with their relation to the host and their
    discourse category; ``category`` and ``relation`` filter them. Without an analysis (or with
    ``campaign_only=False``) every matched post of the store."""
    if category is not None and category not in (*CATEGORIES, "unlabelled"):
        raise UsageError(f"unknown category {category!r}", "categories: " + ", ".join(CATEGORIES))
    with _opened(store) as db:
        have = table_names(db.con)
        analysed = campaign_only and {"relations", "labels"} <= have
        params: dict[str, Any] = {}
        if analysed:
            sql = (
                "SELECT p.platform, p.id, p.author_id, p.author_handle, p.created_at, p.kind, p.text, p.lang, "
                "p.in_reply_to_id, coalesce(p.repost_count, 0) AS reposts, coalesce(p.like_count, 0) AS likes, "
                "r.relation, coalesce(l.label, 'unlabelled') AS category "
                "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
                "LEFT JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'discourse' "
                "WHERE r.in_campaign"
            )
            if category is not None:
                sql += " AND coalesce(l.label, 'unlabelled') = $category"
                params["category"] = category
            if relation is not None:
                sql += " AND r.relation = $relation"
                params["relation"] = relation
        else:
            if category is not None or relation is not None:
                raise UsageError(
                    "posts have no category or relation before the analysis",
                    "run first: askscope analyze DB --campaign CAMPAIGN.toml",
                )
            sql = (
                "SELECT platform, id, author_id, author_handle, created_at, kind, text, lang, in_reply_to_id, "
                "coalesce(repost_count, 0) AS reposts, coalesce(like_count, 0) AS likes FROM posts "
                "WHERE NOT is_context"
            )
        sql += " ORDER BY created_at, platform, id"
        if limit is not None:
            sql += " LIMIT $limit"
            params["limit"] = int(limit)
        return _arrow(db, sql, params)


def metrics(store: StoreLike, lens: str | None = None) -> pa.Table:
    """Every number the lenses computed (lens, metric, value, ci_low, ci_high, n, method)."""
    with _opened(store) as db:
        _require_analysis(db)
        if lens is None:
            return _arrow(db, "SELECT * FROM metrics ORDER BY lens, metric")
        return _arrow(db, "SELECT * FROM metrics WHERE lens = ? ORDER BY metric", [lens])


def lens_results(store: StoreLike) -> dict[str, Any]:
    """The lenses' results document (what the report shows), by lens name."""
    with _opened(store) as db:
        _require_analysis(db)
        rows = db.con.execute("SELECT results FROM lens_results").fetchall()
        return dict(json.loads(rows[0][0])) if rows else {}


def _require_analysis(db: Store) -> None:
    if "lens_results" not in table_names(db.con):
        raise UsageError(
            f"{db.path} has not been analysed", f"run first: askscope analyze {db.path} --campaign CAMPAIGN.toml"
        )
