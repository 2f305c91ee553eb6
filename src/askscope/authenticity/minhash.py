"""MinHash signatures and LSH bands, vectorised with numpy (Broder 1997).

A document is a set of element hashes (tokens or character shingles, hashed in DuckDB, folded to
32 bits). Permutation ``i`` maps an element ``h`` to ``(a_i * h + b_i) mod 2**32`` (``a_i`` odd:
a bijection of the 32-bit integers); the signature is the minimum per permutation. Two documents'
signatures agree at a position with probability close to their Jaccard similarity. LSH splits the
signature into ``b`` bands of ``r`` rows; documents sharing any band are candidates, which callers
verify exactly, so LSH only ever loses pairs (with the probability :func:`band_params` bounds).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, cast

import numpy as np

_ONES = np.uint32(0xFFFFFFFF)


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The ``a`` (odd) and ``b`` coefficients of ``num_perm`` permutations of the 32-bit integers."""
    rng = np.random.default_rng(seed)
    a = (rng.integers(0, 2**31, size=num_perm, dtype=np.uint64) * 2 + 1).astype(np.uint32)
    b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint64).astype(np.uint32)
    return a, b


def fold(element: np.ndarray) -> np.ndarray:
    """64-bit element hashes folded to 32 bits (high half xor low half)."""
    element = np.asarray(element, dtype=np.uint64)
    return cast(np.ndarray, (element ^ (element >> np.uint64(32))).astype(np.uint32))


def signatures(doc: np.ndarray, element: np.ndarray, n_docs: int, num_perm: int, seed: int = 1) -> np.ndarray:
    """MinHash signatures, shape ``(n_docs, num_perm)`` (uint32), of the sets given as parallel
    arrays ``doc`` (document index, sorted ascending) and ``element`` (64-bit hashes, folded to
    32 bits). Permutation ``i`` is ``x -> a_i * x + b_i mod 2**32`` (``a_i`` odd); it runs over all
    elements at once (1-D, native 32-bit SIMD multiplies), one permutation at a time. Documents
    without elements get the all-ones signature."""
    a, b = permutations(num_perm, seed)
    out = np.full((num_perm, n_docs), _ONES, dtype=np.uint32)
    if len(doc) == 0:
        return out.T.copy()
    doc = np.asarray(doc, dtype=np.int64)
    values = fold(element)
    firsts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
    present = doc[firsts]
    scratch = np.empty_like(values)
    with np.errstate(over="ignore"):
        for i in range(num_perm):
            np.multiply(values, a[i], out=scratch)
            scratch += b[i]
            out[i, present] = np.minimum.reduceat(scratch, firsts)
    return out.T.copy()


#: Rows of ``(doc, element)`` per batch when a document set's elements are read in batches.
BATCH_ROWS = 2_000_000


def streamed_signatures(
    batches: Iterable[Any], num_perm: int, seed: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The signatures of documents given as batches of ``(doc, element)`` rows ordered by
    ``doc`` (columns 0 and 1 of Arrow record batches: a DuckDB result read in batches): per run of
    whole documents, ``(docs, signatures)``, the documents ascending. A document whose rows span
    two batches is signed once, with all its elements; documents without rows are not given. Each
    signature is the row :func:`signatures` gives that document from all the rows at once, while
    only a batch of elements is held."""
    carry_doc = np.zeros(0, dtype=np.int64)
    carry_element = np.zeros(0, dtype=np.uint64)

    def signed(doc: np.ndarray, element: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        docs, local = np.unique(doc, return_inverse=True)
        return docs, signatures(local.reshape(-1), element, len(docs), num_perm, seed)

    for batch in batches:
        doc = np.concatenate([carry_doc, np.asarray(batch.column(0).to_numpy(zero_copy_only=False), dtype=np.int64)])
        element = np.concatenate(
            [carry_element, np.asarray(batch.column(1).to_numpy(zero_copy_only=False), dtype=np.uint64)]
        )
        if not len(doc):
            continue
        cut = int(np.searchsorted(doc, doc[-1], side="left"))  # the last document may go on
        carry_doc, carry_element = doc[cut:], element[cut:]
        if cut:
            yield signed(doc[:cut], element[:cut])
    if len(carry_doc):
        yield signed(carry_doc, carry_element)


def streamed_band_keys(
    batches: Iterable[Any], n_docs: int, num_perm: int, bands: int, rows: int, seed: int = 1, key_seed: int = 2
) -> np.ndarray:
    """:func:`band_keys` of the :func:`signatures` of ``n_docs`` documents (numbered ``0 ..
    n_docs - 1``) whose ``(doc, element)`` rows come in batches ordered by ``doc``; the same keys
    as from all the rows at once (a document without rows has the all-ones signature's keys),
    holding a batch of elements and its signatures at a time, not every document's."""
    keys = np.empty((n_docs, bands), dtype=np.uint64)
    keys[:] = band_keys(np.full((1, num_perm), _ONES, dtype=np.uint32), bands, rows, key_seed)[0]
    for docs, sig in streamed_signatures(batches, num_perm, seed):
        keys[docs] = band_keys(sig, bands, rows, key_seed)
    return keys


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that two documents of Jaccard ``similarity`` share at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def band_params(threshold: float, num_perm: int, recall: float = 0.995) -> tuple[int, int]:
    """``(bands, rows)``: the most rows per band (fewest false candidates) such that two documents
    at the threshold still become candidates with probability ``recall``."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        if candidate_probability(threshold, bands, rows) >= recall:
            best = (bands, rows)
    return best


def band_keys(sig: np.ndarray, bands: int, rows: int, seed: int = 2) -> np.ndarray:
    """One 64-bit key per document and band, shape ``(n_docs, bands)``; band ``j`` hashes
    signature columns ``j*rows .. j*rows+rows-1`` and mixes in ``j``."""
    rng = np.random.default_rng(seed)
    mult = rng.integers(0, 2**63, size=(bands, rows), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    keys = np.empty((sig.shape[0], bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(bands):
            block = sig[:, j * rows : (j + 1) * rows].astype(np.uint64)
            mixed = (block * mult[j][None, :]).sum(axis=1, dtype=np.uint64)
            mixed ^= mixed >> np.uint64(31)
            keys[:, j] = mixed * np.uint64(0x9E3779B97F4A7C15) + np.uint64(j)
    return keys


def candidate_pairs(keys: np.ndarray, max_bucket: int = 200) -> np.ndarray:
    """Distinct document pairs ``(i < j)`` sharing a band key, shape ``(m, 2)``. A bucket of more
    than ``max_bucket`` documents links each to the bucket's first document only (a star), so a
    huge bucket costs linear, not quadratic, work."""
    parts: list[np.ndarray] = []
    for j in range(keys.shape[1]):
        order = np.argsort(keys[:, j], kind="stable")
        sorted_keys = keys[order, j]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        for size in np.unique(sizes[sizes > 1]):
            firsts = starts[sizes == size]
            members = order[firsts[:, None] + np.arange(size)[None, :]]  # (buckets, size)
            if size <= max_bucket:
                left, right = np.triu_indices(size, k=1)
                parts.append(np.stack([members[:, left].ravel(), members[:, right].ravel()], axis=1))
            else:
                parts.append(np.stack([np.repeat(members[:, 0], size - 1), members[:, 1:].ravel()], axis=1))
    if not parts:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(parts).astype(np.int64)
    pairs = np.stack([pairs.min(axis=1), pairs.max(axis=1)], axis=1)
    return np.unique(pairs, axis=0)


def estimate_similarity(sig: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of document pairs ``(left[i], right[i])``."""
    if len(left) == 0:
        return np.zeros(0)
    return cast(np.ndarray, (sig[left] == sig[right]).mean(axis=1))
