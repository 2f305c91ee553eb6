"""Co-action networks: accounts that did the same thing within τ, computed inside DuckDB.

An *action* is ``(uid, pid, k)``: account ``uid`` did something with object ``k`` in post
``pid`` (reposted post ``k``, posted text ``k``, shared URL ``k``, replied to post ``k``, or for
co_similar fell in LSH band bucket ``k``); its time comes from a separate ``(pid, t)`` table so
the null model can swap times without touching actions. Edges are directed as in the QUT
toolkit: ``weight(A → B)`` = number of distinct posts of A that share an object with a post of B
posted within τ (inclusive), A ≠ B. Both directions exist whenever one does.

The band join never compares all pairs: actions are bucketed by ``t // τ`` and each action meets
only the actions of the same object in its own and the two neighbouring buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from askscope.authenticity import minhash
from askscope.authenticity.population import POPULATION
from askscope.authenticity.settings import AuthenticitySettings
from askscope.authenticity.text import TOKEN_PATTERN, add_normalised

NORMALISED = "auth_norm"
TOKENS = "auth_tokens"
SETS = "auth_token_sets"


@dataclass
class Edges:
    """Directed edges of one network: parallel arrays of account numbers and weights."""

    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray

    @classmethod
    def empty(cls) -> Edges:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return len(self.weight)

    def pair_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Undirected pairs ``(a < b)`` with weight ``min(w(a→b), w(b→a))``, ordered by ``(a, b)``.

        Account numbers and weights are packed into one int64 (``a``, ``b``, weight: as many bits
        as the largest of each needs) and sorted once, so a pair's smallest weight comes first in
        its run; 4-6x faster than a two-key ``lexsort`` on millions of edges, the same arrays. Keys
        too wide to pack (2 x 31 bits of account numbers) take the ``lexsort``."""
        if len(self) == 0:
            return self.source, self.target, self.weight
        # int64 straight from the ufuncs, then packed in place: at 12M edges the temporaries of
        # `astype` and of each shift cost more than the sort (page faults on fresh memory)
        lo = np.minimum(self.source, self.target, dtype=np.int64)
        hi = np.maximum(self.source, self.target, dtype=np.int64)
        account_bits = int(hi.max()).bit_length()
        weight_bits = int(self.weight.max()).bit_length()
        if int(lo.min()) < 0 or int(self.weight.min()) < 0 or 2 * account_bits + weight_bits > 63:
            return self._pair_weights_lexsort(lo, hi)
        packed = lo  # (lo << account_bits | hi) << weight_bits | weight
        np.left_shift(packed, account_bits, out=packed)
        np.bitwise_or(packed, hi, out=packed)
        del hi
        np.left_shift(packed, weight_bits, out=packed)
        np.bitwise_or(packed, self.weight, out=packed, dtype=np.int64)
        packed.sort()
        pair = packed >> weight_bits
        first = np.empty(len(pair), dtype=bool)
        first[0] = True
        np.not_equal(pair[1:], pair[:-1], out=first[1:])
        pair = pair[first]
        return (
            (pair >> account_bits).astype(np.int32),
            (pair & ((1 << account_bits) - 1)).astype(np.int32),
            (packed[first] & ((1 << weight_bits) - 1)).astype(self.weight.dtype),
        )

    def _pair_weights_lexsort(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = lo << 32 | hi
        order = np.lexsort((self.weight, key))
        key, w = key[order], self.weight[order]
        first = np.r_[True, key[1:] != key[:-1]]
        return (key[first] >> 32).astype(np.int32), (key[first] & 0xFFFFFFFF).astype(np.int32), w[first]


def actions_table(network: str) -> str:
    return f"auth_actions_{network}"


def build_actions(con: duckdb.DuckDBPyConnection, network: str, settings: AuthenticitySettings) -> int:
    """Write ``auth_actions_<network>(uid, pid, k)`` from the population; returns its row count."""
    target = actions_table(network)
    if network in ("co_post", "co_similar"):
        _ensure_normalised(con)
    if network == "co_repost":
        query = f"""SELECT uid, pid, hash(platform, reposted_id) AS k FROM {POPULATION}
                    WHERE kind = 'repost' AND reposted_id IS NOT NULL"""
    elif network == "co_post":
        empty = "" if settings.keep_empty_text else "AND n.norm <> ''"
        query = f"""SELECT p.uid, p.pid, hash(p.platform, n.norm) AS k FROM {POPULATION} p
                    JOIN {NORMALISED} n USING (pid) WHERE TRUE {empty}"""
    elif network == "co_link":
        query = f"""SELECT DISTINCT uid, pid, hash(platform, url) AS k FROM (
                        SELECT uid, pid, platform, unnest(urls) AS url FROM {POPULATION} WHERE kind <> 'repost')
                    WHERE url IS NOT NULL AND url <> ''"""
    elif network == "co_reply":
        query = f"""SELECT uid, pid, hash(platform, in_reply_to_id) AS k FROM {POPULATION}
                    WHERE kind <> 'repost' AND in_reply_to_id IS NOT NULL"""
    elif network == "co_similar":
        return _build_similar_actions(con, settings)
    else:  # pragma: no cover - settings.check() rejects unknown names
        raise ValueError(network)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS {query}")
    return _keep_shared(con, network)


def _keep_shared(con: duckdb.DuckDBPyConnection, network: str) -> int:
    """Record the network's posts (the null model permutes their times), then drop the actions on
    objects fewer than two accounts used: they can never make an edge. Returns the action count."""
    target = actions_table(network)
    count = _count(con, target)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {posts_table(network)} AS SELECT DISTINCT pid FROM {target} ORDER BY pid"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        SELECT * FROM {target} SEMI JOIN (SELECT k FROM {target} GROUP BY k HAVING count(DISTINCT uid) >= 2) USING (k)
    """)
    return count


def posts_table(network: str) -> str:
    return f"auth_posts_{network}"


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
    return int(row[0]) if row else 0


def _ensure_normalised(con: duckdb.DuckDBPyConnection) -> None:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND temporary", [NORMALISED]
    ).fetchall()[0]
    if not exists or not exists[0]:
        add_normalised(con, POPULATION, NORMALISED)


def _build_similar_actions(con: duckdb.DuckDBPyConnection, settings: AuthenticitySettings) -> int:
    """co_similar's actions, with similarity settled once, independently of time.

    Posts with the same token set (≥ min_tokens distinct tokens) share the object ``('set', s)``.
    MinHash-LSH over the *distinct* token sets proposes pairs of sets; each is checked exactly
    (Jaccard ≥ similarity) and a verified pair ``(s1, s2)`` becomes the object ``('pair', s1, s2)``
    of every post of either set. Two posts then share an object exactly when their sets are
    identical or a verified similar pair, so the band join (and every null run) needs no further
    text comparison.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {TOKENS} AS
        SELECT pid, uid, toks, len(toks) AS n FROM (
            SELECT p.pid, p.uid, list_sort(list_distinct(list_transform(
                       regexp_extract_all(n.norm, '{TOKEN_PATTERN}'), lambda x: hash(x)))) AS toks
            FROM {POPULATION} p JOIN {NORMALISED} n USING (pid))
        WHERE len(toks) >= {int(settings.min_tokens)}
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SETS} AS
        SELECT (row_number() OVER (ORDER BY h, toks) - 1)::INTEGER AS sid, toks, len(toks) AS n, h
        FROM (SELECT DISTINCT toks, hash(toks) AS h FROM {TOKENS})
    """)
    n_sets = _count(con, SETS)
    pairs = np.zeros((0, 2), dtype=np.int64)
    if n_sets > 1:
        bands, rows = minhash.band_params(settings.similarity, settings.num_perm)
        # the sets' tokens read in batches: one batch of tokens and signatures held at a time
        elements = con.sql(f"SELECT sid, unnest(toks) AS h FROM {SETS} ORDER BY sid").to_arrow_reader(
            minhash.BATCH_ROWS
        )
        pairs = minhash.candidate_pairs(minhash.streamed_band_keys(elements, n_sets, settings.num_perm, bands, rows))
    con.register(
        "_auth_candidates",
        pa.table({"s1": pa.array(pairs[:, 0].astype(np.int32)), "s2": pa.array(pairs[:, 1].astype(np.int32))}),
    )
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _auth_similar_sets AS
            SELECT c.s1, c.s2 FROM _auth_candidates c JOIN {SETS} a ON a.sid = c.s1 JOIN {SETS} b ON b.sid = c.s2
            WHERE len(list_intersect(a.toks, b.toks)) / (a.n + b.n - len(list_intersect(a.toks, b.toks)))
                  >= {float(settings.similarity)!r}
        """)
    finally:
        con.unregister("_auth_candidates")
    target = actions_table("co_similar")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {target} AS
        WITH post_sets AS (SELECT t.uid, t.pid, s.sid FROM {TOKENS} t JOIN {SETS} s ON s.h = hash(t.toks) AND s.toks = t.toks)
        SELECT uid, pid, hash('set', sid) AS k FROM post_sets
        UNION ALL
        SELECT p.uid, p.pid, hash('pair', c.s1, c.s2) AS k
        FROM post_sets p JOIN (SELECT s1, s2, s1 AS sid FROM _auth_similar_sets
                               UNION ALL SELECT s1, s2, s2 FROM _auth_similar_sets) c USING (sid)
    """)
    con.execute("DROP TABLE IF EXISTS _auth_similar_sets")
    return _keep_shared(con, "co_similar")


#: The band join's SQL, one piece per step, shared by :func:`compute_edges` and the Dask path
#: (``askscope.archive.dask_networks``), which runs the same text per object partition.
#: 1. The actions with their times ``t`` and τ-buckets ``b``.
TIMED_SQL = """
        CREATE OR REPLACE TEMP TABLE _auth_timed AS
        SELECT x.uid, x.pid, x.k, s.t, s.t // {width} AS b FROM {actions} x JOIN {times} s USING (pid)
    """
#: 2. The crowd rule: delete the actions with more than ``max_crowd`` actions on their object within τ.
CROWD_SQL = """
            WITH around AS (
                SELECT pid, k, count(*) OVER (PARTITION BY k ORDER BY t
                                              RANGE BETWEEN {tau_ms} PRECEDING AND {tau_ms} FOLLOWING) AS n
                FROM _auth_timed)
            DELETE FROM _auth_timed t USING around c
            WHERE t.pid = c.pid AND t.k = c.k AND c.n > {max_crowd}
        """
#: 3. The pairs of actions on one object within τ: each action meets its own and the two
#: neighbouring buckets.
NEAR_SQL = """
        SELECT a1.uid AS u1, a1.pid AS p1, a2.uid AS u2, a2.pid AS p2
        FROM (SELECT uid, pid, k, t, b + d AS bb FROM _auth_timed, (VALUES (-1), (0), (1)) AS shift(d)) a1
        JOIN _auth_timed a2 ON a2.k = a1.k AND a2.b = a1.bb
        WHERE a1.uid <> a2.uid AND abs(a1.t - a2.t) <= {tau_ms}
    """
#: 4. Each post of A counted once per B, whatever the objects it shares with B.
TRIPLES_SQL = "SELECT DISTINCT u1, p1, u2 FROM ({near})"
#: 5. The edge weights.
WEIGHTS_SQL = """
        SELECT u1, u2, count(*)::INTEGER AS w FROM {triples}
        GROUP BY u1, u2 ORDER BY u1, u2
    """


def tau_ms(tau_seconds: float) -> int:
    """τ in milliseconds, as the band join compares times."""
    return int(round(tau_seconds * 1000))


def bucket_width(tau_seconds: float) -> int:
    """The width of a τ-bucket in milliseconds (at least 1: τ = 0 keeps exact ties)."""
    return max(tau_ms(tau_seconds), 1)


def compute_edges(
    con: duckdb.DuckDBPyConnection,
    network: str,
    times: str,
    tau_seconds: float,
    settings: AuthenticitySettings,
    stats: dict[str, int] | None = None,
) -> Edges:
    """Directed edges of ``network`` with the post times in ``times(pid, t)`` (epoch ms). Actions
    in crowds (more than ``settings.max_crowd`` actions on the same object within τ of them, the
    action itself included) make no edges; their number goes to ``stats["crowded_actions"]``."""
    window = tau_ms(tau_seconds)
    con.execute(TIMED_SQL.format(width=bucket_width(tau_seconds), actions=actions_table(network), times=times))
    if settings.max_crowd is not None:
        crowded = con.execute(CROWD_SQL.format(tau_ms=window, max_crowd=int(settings.max_crowd))).fetchall()[0][0]
        if stats is not None:
            stats["crowded_actions"] = int(crowded)
    triples = TRIPLES_SQL.format(near=NEAR_SQL.format(tau_ms=window))
    result = con.execute(WEIGHTS_SQL.format(triples=f"({triples})")).fetchnumpy()
    con.execute("DROP TABLE IF EXISTS _auth_timed")
    return edges_of(result)


def edges_of(result: dict[str, Any]) -> Edges:
    """:class:`Edges` from the columns ``u1, u2, w`` of :data:`WEIGHTS_SQL`."""
    return Edges(
        np.asarray(result["u1"], dtype=np.int32),
        np.asarray(result["u2"], dtype=np.int32),
        np.asarray(result["w"], dtype=np.int32),
    )


def posts_and_times(con: duckdb.DuckDBPyConnection, network: str) -> tuple[np.ndarray, np.ndarray]:
    """The posts of ``network`` (see :func:`posts_of`) and their times (epoch ms), ordered by
    ``(platform, id)`` (the order ``pid`` follows too), so that the
    seeded null permutation gives the same floor for the same posts however they were ingested."""
    data = con.execute(
        f"SELECT pid, t FROM {posts_table(network)} JOIN {POPULATION} USING (pid) ORDER BY platform, id"
    ).fetchnumpy()
    return np.asarray(data["pid"], dtype=np.int64), np.asarray(data["t"], dtype=np.int64)


def posts_of(con: duckdb.DuckDBPyConnection, network: str) -> np.ndarray:
    """The distinct post numbers of ``network``'s actions before unshared objects were dropped (sorted)."""
    return np.asarray(
        con.execute(f"SELECT pid FROM {posts_table(network)} ORDER BY pid").fetchnumpy()["pid"], dtype=np.int64
    )
