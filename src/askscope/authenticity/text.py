"""Text normalisation shared by co_post, co_similar and near-duplicate clusters.

:func:`normalise` is the QUT coordination-network-toolkit's ``message_preprocessor`` (mentions
removed, lower case, whitespace collapsed), written with the standard ``re`` module so that
co_post agrees with the toolkit's co_tweet text for text (tested against the toolkit itself).
Tokens for co_similar are runs of letters, marks, digits and underscores of the normalised text
(any script), computed in DuckDB.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

# The toolkit's social_media_cleaner: from '@' up to (not including) the next whitespace or the end.
_MENTION = re.compile(r"@.*?(?=(?:\s|$))")
#: RE2 pattern of a token (DuckDB's regexp_extract_all).
TOKEN_PATTERN = r"[\p{L}\p{M}\p{N}_]+"
#: RE2 pattern of a link, removed before shingling near-duplicates.
URL_PATTERN = r"https?://\S+"


def normalise(text: str | None) -> str:
    """Lower case, mentions removed, whitespace collapsed (the toolkit's message_preprocessor)."""
    if not text:
        return ""
    return " ".join(_MENTION.sub("", text.lower()).split())


#: Posts normalised per Arrow batch: the Python strings of one batch at a time (a few hundred MB
#: for every post's text at 2M posts, tens of GB at 100M, when the whole column was a list).
BATCH_ROWS = 200_000


def add_normalised(con: duckdb.DuckDBPyConnection, source: str, target: str) -> None:
    """Write ``target(pid, norm)``: the normalised text of every non-repost post of ``source``.

    In Python on purpose: DuckDB's (RE2) and Arrow's regular expressions and lower-casing differ
    from Python's outside ASCII, and were measured slower than this loop even on ASCII text. The
    texts are read as a stream of Arrow batches, each normalised on its own, so the process holds
    the normalised column in Arrow and one batch's texts as Python strings."""
    reader = con.sql(f"SELECT pid, text FROM {source} WHERE kind <> 'repost' ORDER BY pid").to_arrow_reader(BATCH_ROWS)
    schema = pa.schema([("pid", pa.int64()), ("norm", pa.string())])
    batches = [
        pa.record_batch(
            [
                batch.column(0).cast(pa.int64()),
                _normalise_column(batch.column(1)),
            ],
            schema=schema,
        )
        for batch in reader
    ]
    table = pa.Table.from_batches(batches, schema=schema)
    con.register("_auth_norm_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM _auth_norm_arrow")
    finally:
        con.unregister("_auth_norm_arrow")


def _normalise_column(texts: pa.Array) -> pa.Array:
    """:func:`normalise` of every text of the column (a missing one is ""), each distinct text
    once (a campaign's texts repeat: copies, slogans, templates)."""
    encoded = pc.dictionary_encode(texts)
    distinct = pa.array(_normalise_all(encoded.dictionary.to_pylist()), type=pa.string())
    return pc.fill_null(distinct.take(encoded.indices), "")


def _normalise_all(texts: Iterable[str | None]) -> list[str]:
    sub = _MENTION.sub
    return [" ".join(sub("", t.lower()).split()) if t else "" for t in texts]
