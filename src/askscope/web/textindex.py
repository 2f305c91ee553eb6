"""The explorer's full-text index: a token table built with DuckDB SQL, and the search condition
that uses it.

DuckDB's ``fts`` extension cannot be loaded on the app's locked-down connections (extensions are
off), so the explorer database holds its own inverted index, built once per snapshot next to the
explorer table (:meth:`askscope.web.deps.StoreHandle.explore`):

* ``vocabulary(id, term)``: every distinct token of the posts' texts, lower-cased;
* ``terms(term_id, seq)``: one row per (token, post), ``seq`` the post's row in ``explore``,
  sorted by token.

A token (:data:`TOKEN`) is a run of Unicode letters, combining marks, digits and ``_`` (so
accented words, Arabic with its vowel marks, CJK runs, ``snake_case``), with a leading ``#`` or
``@`` kept (hashtags and mentions are tokens of their own). Texts are split with
``regexp_extract_all`` in SQL, never in a Python loop.

**Semantics of** ``q`` **are unchanged**: a post matches when its text contains ``q`` as a
substring, case-insensitively (``ILIKE``, ``%`` and ``_`` literal). The index only narrows the
candidates: every token ``w`` of ``q`` lies inside one token of any text containing ``q`` (a
token is a maximal run of word characters, so the run ``w`` of the text extends, if at all, to a
longer run: a longer token), so a post is a candidate when, for every token of ``q``, one of its
tokens contains it (a scan of the vocabulary, not of the posts), and the candidates are then
checked with the same ``ILIKE``. The index and ``ILIKE`` alone select the same posts (tested).
A ``q`` without any token (``%``, ``?!``) is answered by ``ILIKE`` alone.
"""

from __future__ import annotations

from typing import Any

import duckdb

#: A token: an optional # or @, then letters, combining marks, digits and underscores (RE2 syntax).
TOKEN = r"[#@]?[\p{L}\p{M}\p{N}_]+"


def build(memory: duckdb.DuckDBPyConnection) -> None:
    """Create ``vocabulary`` and ``terms`` in the explorer database ``memory`` (which holds
    ``explore``), from the posts' texts."""
    memory.execute(
        "CREATE TEMP TABLE _tokens AS SELECT DISTINCT seq, unnest(regexp_extract_all(lower(text), ?)) AS term "
        "FROM explore WHERE text IS NOT NULL",
        [TOKEN],
    )
    memory.execute(
        "CREATE TABLE vocabulary AS SELECT (row_number() OVER (ORDER BY term))::INTEGER AS id, term "
        "FROM (SELECT DISTINCT term FROM _tokens)"
    )
    memory.execute(
        "CREATE TABLE terms AS SELECT v.id AS term_id, t.seq FROM _tokens t JOIN vocabulary v ON v.term = t.term "
        "ORDER BY v.id, t.seq"
    )
    memory.execute("DROP TABLE _tokens")


#: A token of ``q`` contained in more distinct terms than this narrows little: it is left to ILIKE.
MAX_TERMS = 2000
#: Selects no post (a token of ``q`` that no text has).
NOTHING = "SELECT NULL::BIGINT AS seq WHERE false"


def candidates(index: duckdb.DuckDBPyConnection, q: str) -> tuple[str, list[Any]] | None:
    """A query of the ``seq`` of the posts having, for every token of ``q``, a token containing
    it (and its parameters); None when no token of ``q`` narrows the search (none, or each in
    more than :data:`MAX_TERMS` terms). The terms of each token are looked up in the vocabulary
    first (on ``index``, the explorer database), so that the query reads the postings of those
    terms only (``terms`` is sorted by term: other terms' row groups are skipped). A superset of
    the matches: ``ILIKE`` must still be applied, to these posts only (:func:`condition`)."""
    words = [
        str(row[0])
        for row in index.execute("SELECT DISTINCT unnest(regexp_extract_all(lower(?), ?))", [q, TOKEN]).fetchall()
    ]
    parts: list[str] = []
    params: list[Any] = []
    for word in sorted(words):
        ids = [
            int(row[0])
            for row in index.execute(
                "SELECT id FROM vocabulary WHERE contains(term, ?) ORDER BY id LIMIT ?", [word, MAX_TERMS + 1]
            ).fetchall()
        ]
        if not ids:
            return NOTHING, []
        if len(ids) > MAX_TERMS:
            continue
        marks = ", ".join("?" for _ in ids)
        parts.append(f"SELECT seq FROM terms WHERE term_id BETWEEN ? AND ? AND term_id IN ({marks})")
        params += [ids[0], ids[-1], *ids]
    if not parts:
        return None
    return " INTERSECT ".join(parts), params


def condition(index: duckdb.DuckDBPyConnection | None, q: str, like: str, seq: str = "p.seq") -> tuple[str, list[Any]]:
    """The search condition: ``like`` (an ``ILIKE`` condition with one parameter, ``q`` escaped)
    applied only to the candidates of the index (:func:`candidates`), and its parameters (the
    last one left for the caller: the ``ILIKE`` pattern). A ``CASE`` keeps the ``ILIKE`` from being
    evaluated on every row of the scan (a plain ``AND`` would be pushed into it, before the
    join); without ``index``, or when the index cannot narrow ``q``, ``like`` alone."""
    found = candidates(index, q) if index is not None else None
    if found is None:
        return like, []
    sql, params = found
    return f"CASE WHEN {seq} IN ({sql}) THEN {like} ELSE false END", params
