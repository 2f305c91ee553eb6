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
#: Candidates above this share of the posts narrow little: the search is left to ILIKE.
MAX_SHARE = 0.5


def condition(index: duckdb.DuckDBPyConnection, q: str, seq: str = "p.seq") -> tuple[str, list[Any]]:
    """The SQL condition (and its parameters) keeping the posts whose ``seq`` has, for every
    token of ``q``, a token containing it; ``true`` when no token of ``q`` narrows the search (none,
    or each in more than :data:`MAX_TERMS` terms). The terms of each token are looked up in the
    vocabulary first (on ``index``, the explorer database), then the posts having them all (the
    postings of those terms only: ``terms`` is sorted by term, other terms' row groups are
    skipped); the condition keeps those posts. This is a superset of the matches: ``ILIKE``
    must still be applied."""
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
            return "false", []
        if len(ids) > MAX_TERMS:
            continue
        marks = ", ".join("?" for _ in ids)
        parts.append(f"SELECT seq FROM terms WHERE term_id BETWEEN ? AND ? AND term_id IN ({marks})")
        params += [ids[0], ids[-1], *ids]
    if not parts:
        return "true", []
    # the candidates, as a list: the outer query then reads their rows only (a subquery would let
    # the ILIKE be applied to every row of the scan before the join)
    candidates = [int(row[0]) for row in index.execute(" INTERSECT ".join(parts), params).fetchall()]
    if not candidates:
        return "false", []
    total = int(index.execute("SELECT count(*) FROM explore").fetchall()[0][0])
    if len(candidates) > total * MAX_SHARE:
        return "true", []
    return f"{seq} IN (SELECT unnest(?::BIGINT[]))", [candidates]
