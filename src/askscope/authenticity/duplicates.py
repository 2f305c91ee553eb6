"""Near-duplicate clusters: MinHash-LSH over character shingles (Broder 1997).

Each non-repost post's normalised text with links removed is cut into character shingles of
length ``shingle`` (hashed in DuckDB). Identical texts are one document. Documents sharing an LSH
band with a band bucket's first document are linked when their signatures estimate a Jaccard
similarity ≥ ``cluster_threshold``; clusters are the connected components, reported when they
hold at least two posts. Tables: ``duplicate_clusters`` and ``duplicate_members``.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from askscope.authenticity import minhash
from askscope.authenticity.groups import component_labels
from askscope.authenticity.networks import NORMALISED, _ensure_normalised
from askscope.authenticity.population import POPULATION
from askscope.authenticity.settings import AuthenticitySettings
from askscope.authenticity.text import URL_PATTERN


def _signatures_of(con: duckdb.DuckDBPyConnection, shingles: str, needed: np.ndarray, num_perm: int) -> np.ndarray:
    """The signatures (seed 3) of the documents ``needed`` (ascending ``tid``), in that order:
    their shingles read again in batches (``shingles`` over the documents kept)."""
    sig = np.full((len(needed), num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    con.register("_auth_needed", pa.table({"tid": pa.array(needed.astype(np.int32))}))
    try:
        kept = "(SELECT d.tid, d.ct FROM _auth_docs d SEMI JOIN _auth_needed n ON n.tid = d.tid)"
        reader = con.sql(shingles.format(docs=kept)).to_arrow_reader(minhash.BATCH_ROWS)
        for docs, part in minhash.streamed_signatures(reader, num_perm, seed=3):
            sig[np.searchsorted(needed, docs)] = part
    finally:
        con.unregister("_auth_needed")
    return sig


def near_duplicate_clusters(con: duckdb.DuckDBPyConnection, settings: AuthenticitySettings) -> dict[str, Any]:
    """Write ``duplicate_clusters`` and ``duplicate_members``; return a summary."""
    _ensure_normalised(con)
    k = int(settings.shingle)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _auth_ctext AS
        SELECT pid, trim(regexp_replace(regexp_replace(norm, '{URL_PATTERN}', ' ', 'g'), '\\s+', ' ', 'g')) AS ct
        FROM {NORMALISED}
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _auth_docs AS
        SELECT (row_number() OVER (ORDER BY ct) - 1)::INTEGER AS tid, ct FROM (SELECT DISTINCT ct FROM _auth_ctext WHERE ct <> '')
    """)
    n_docs = int(con.execute("SELECT count(*) FROM _auth_docs").fetchall()[0][0])
    labels = np.zeros(0, dtype=np.int64)
    if n_docs:
        shingles = f"""
            SELECT tid, hash(substr(ct, i, {k})) AS h
            FROM (SELECT tid, ct, unnest(range(1, greatest(length(ct) - {k} + 1, 1) + 1)) AS i FROM {{docs}})
            ORDER BY tid
        """
        bands, rows = minhash.band_params(settings.cluster_threshold, settings.num_perm)
        # the shingles read in batches: one batch of shingles and signatures held at a time
        keys = minhash.streamed_band_keys(
            con.sql(shingles.format(docs="_auth_docs")).to_arrow_reader(minhash.BATCH_ROWS),
            n_docs,
            settings.num_perm,
            bands,
            rows,
            seed=3,
            key_seed=4,
        )
        left_parts, right_parts = [], []
        for j in range(bands):
            order = np.argsort(keys[:, j], kind="stable")
            sorted_keys = keys[order, j]
            starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
            run_first = order[np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))]
            linked = ~starts
            left_parts.append(run_first[linked])
            right_parts.append(order[linked])
        del keys
        left = np.concatenate(left_parts) if left_parts else np.zeros(0, np.int64)
        right = np.concatenate(right_parts) if right_parts else np.zeros(0, np.int64)
        if len(left):
            pairs = np.unique(np.stack([left, right], axis=1), axis=0)
            # the candidates' signatures again, only theirs, to estimate their similarity
            needed = np.unique(pairs)
            sig = _signatures_of(con, shingles, needed, settings.num_perm)
            similar = (
                minhash.estimate_similarity(
                    sig, np.searchsorted(needed, pairs[:, 0]), np.searchsorted(needed, pairs[:, 1])
                )
                >= settings.cluster_threshold
            )
            left, right = pairs[similar, 0], pairs[similar, 1]
        labels = component_labels(n_docs, left, right)
    con.register(
        "_auth_doc_labels", pa.table({"tid": pa.array(np.arange(n_docs, dtype=np.int32)), "label": pa.array(labels)})
    )
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _auth_dup AS
            SELECT l.label, p.platform, p.id AS post_id, p.author_id, p.created_at, p.t, p.text
            FROM _auth_ctext c JOIN _auth_docs d USING (ct) JOIN _auth_doc_labels l USING (tid)
            JOIN {POPULATION} p USING (pid)
        """)
    finally:
        con.unregister("_auth_doc_labels")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _auth_dup_ranked AS
        WITH sized AS (SELECT label, count(*) AS size, min(t) AS first_t,
                              arg_min(post_id, (t, platform, post_id)) AS first_id FROM _auth_dup GROUP BY label HAVING count(*) >= 2)
        SELECT label, (row_number() OVER (ORDER BY size DESC, first_t, first_id))::INTEGER AS cluster_id FROM sized
    """)
    con.execute("""
        CREATE OR REPLACE TABLE duplicate_members AS
        SELECT r.cluster_id, d.platform, d.post_id, d.author_id, d.created_at
        FROM _auth_dup d JOIN _auth_dup_ranked r USING (label) ORDER BY r.cluster_id, d.created_at, d.platform, d.post_id
    """)
    con.execute("""
        CREATE OR REPLACE TABLE duplicate_clusters AS
        SELECT r.cluster_id, count(*)::BIGINT AS size, count(DISTINCT (d.platform, d.author_id))::BIGINT AS accounts,
               arg_min(d.platform, (d.t, d.platform, d.post_id)) AS first_platform,
               arg_min(d.post_id, (d.t, d.platform, d.post_id)) AS first_post_id,
               arg_min(d.author_id, (d.t, d.platform, d.post_id)) AS first_author_id,
               min(d.created_at) AS first_at, max(d.created_at) AS last_at,
               (max(d.t) - min(d.t)) / 1000.0 AS spread_seconds,
               left(arg_min(d.text, (d.t, d.platform, d.post_id)), 280) AS text
        FROM _auth_dup d JOIN _auth_dup_ranked r USING (label) GROUP BY r.cluster_id ORDER BY r.cluster_id
    """)
    row = con.execute("""SELECT count(*), coalesce(sum(size), 0), coalesce(max(size), 0),
                                count(*) FILTER (WHERE accounts >= 2) FROM duplicate_clusters""").fetchall()[0]
    assert row is not None
    return {
        "clusters": int(row[0]),
        "posts_in_clusters": int(row[1]),
        "largest": int(row[2]),
        "multi_account_clusters": int(row[3]),
        "threshold": settings.cluster_threshold,
        "shingle": k,
        "num_perm": settings.num_perm,
    }
