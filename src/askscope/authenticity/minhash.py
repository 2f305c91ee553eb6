"""MinHash signatures and LSH bands, vectorised with numpy (Broder 1997).

A document is a set of 64-bit element hashes (tokens or character shingles, hashed in DuckDB).
Permutation ``i`` maps an element ``h`` to ``(a_i * h + b_i) mod 2**64`` (``a_i`` odd: a
bijection of the 64-bit integers); the signature is the minimum per permutation. Two documents'
signatures agree at a position with probability close to their Jaccard similarity. LSH splits the
signature into ``b`` bands of ``r`` rows; documents sharing any band are candidates, which callers
verify exactly, so LSH only ever loses pairs (with the probability :func:`band_params` bounds).
"""

from __future__ import annotations

import numpy as np

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
#: Elements hashed per chunk (bounds memory: chunk x permutations x 8 bytes).
_CHUNK = 1 << 20


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The ``a`` (odd) and ``b`` coefficients of ``num_perm`` hash permutations."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def signatures(doc: np.ndarray, element: np.ndarray, n_docs: int, num_perm: int, seed: int = 1) -> np.ndarray:
    """MinHash signatures, shape ``(n_docs, num_perm)``, of the sets given as parallel arrays
    ``doc`` (document index, sorted ascending) and ``element`` (uint64 hashes). Documents without
    elements get the all-ones signature (never a candidate with a real document)."""
    a, b = permutations(num_perm, seed)
    out = np.full((n_docs, num_perm), _MASK, dtype=np.uint64)
    if len(doc) == 0:
        return out
    doc = np.asarray(doc, dtype=np.int64)
    element = np.asarray(element, dtype=np.uint64)
    with np.errstate(over="ignore"):
        start = 0
        while start < len(doc):
            stop = min(start + _CHUNK, len(doc))
            # Extend the chunk to a document boundary so each document is reduced in one piece.
            if stop < len(doc):
                stop = int(np.searchsorted(doc, doc[stop - 1], side="right"))
            d = doc[start:stop]
            e = element[start:stop]
            firsts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
            values = e[:, None] * a[None, :] + b[None, :]
            out[d[firsts]] = np.minimum.reduceat(values, firsts, axis=0)
            start = stop
    return out


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
            block = sig[:, j * rows:(j + 1) * rows]
            mixed = (block * mult[j][None, :]).sum(axis=1, dtype=np.uint64)
            mixed ^= mixed >> np.uint64(31)
            keys[:, j] = mixed * np.uint64(0x9E3779B97F4A7C15) + np.uint64(j)
    return keys


def estimate_similarity(sig: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of document pairs ``(left[i], right[i])``."""
    if len(left) == 0:
        return np.zeros(0)
    return (sig[left] == sig[right]).mean(axis=1)
