"""Hashed character and word n-gram features with a linear model, vectorised in numpy.

Features (the same code builds them for training and at run time): character 2-5-grams inside
word boundaries (each word padded with a space, as scikit-learn's ``char_wb``), word unigrams
and word bigrams of the normalised, lower-cased post, hashed into ``2**BITS`` buckets. Weighting
follows scikit-learn's tf-idf: sublinear tf (``1 + log tf``), smooth idf, l2 norm per post.
Character n-grams are hashed with a vectorised polynomial hash over code points, so a batch of
posts is featurised without a Python loop over n-grams.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import cast

import numpy as np

from askscope.classify.text import normalise

BITS = 20
CHAR_ORDERS = (2, 3, 4, 5)
CHUNK = 2048
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(1_000_003)
_SPACE = 32


def _bucket(hashes: np.ndarray) -> np.ndarray:
    return ((hashes * _MIX) >> np.uint64(64 - BITS)).astype(np.int64)


def features(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hashed n-gram counts of each post as ``(row, bucket, count)`` triples, sorted by row."""
    lowered = [normalise(t).lower() for t in texts]
    # One long array of code points: each post as " w1  w2 " (every word padded by spaces).
    padded = [" " + "  ".join(t.split(" ")) + " " if t else "" for t in lowered]
    lengths = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    keys = []
    space = codes == _SPACE
    for n in CHAR_ORDERS:
        m = len(codes) - n + 1
        if m <= 0:
            continue
        valid = rows[:m] == rows[n - 1 : n - 1 + m]  # inside one post
        h = np.full(m, np.uint64(n), dtype=np.uint64)
        for j in range(n):
            h = h * _BASE + codes[j : j + m]
            if 0 < j < n - 1:
                valid &= ~space[j : j + m]  # no space inside: one word's n-gram
        if n == 2:
            valid &= ~(space[:m] & space[1 : 1 + m])
        keys.append((rows[:m][valid] << np.int64(BITS)) | _bucket(h[valid]))
    word_rows, word_hashes = [], []
    for row, text in enumerate(lowered):
        words = _WORD.findall(text)
        grams = ["w:" + w for w in words] + ["b:" + a + " " + b for a, b in zip(words, words[1:])]
        word_rows += [row] * len(grams)
        word_hashes += [zlib.crc32(g.encode("utf-8")) for g in grams]
    if word_hashes:
        hashed = _bucket(np.asarray(word_hashes, dtype=np.uint64) + np.uint64(1 << 40))
        keys.append((np.asarray(word_rows, dtype=np.int64) << np.int64(BITS)) | hashed)
    if not keys:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    unique, counts = np.unique(np.concatenate(keys), return_counts=True)
    return unique >> np.int64(BITS), unique & np.int64((1 << BITS) - 1), counts


def tfidf(rows: np.ndarray, buckets: np.ndarray, counts: np.ndarray, idf: np.ndarray, n: int) -> np.ndarray:
    """l2-normalised sublinear tf-idf weights of the ``(row, bucket)`` entries."""
    weights = (1.0 + np.log(counts.astype(np.float32))) * idf[buckets]
    norms = np.sqrt(np.bincount(rows, weights=weights.astype(np.float64) ** 2, minlength=n))
    return cast(np.ndarray, (weights / np.maximum(norms[rows], 1e-12)).astype(np.float32))


class NgramLinear:
    """A linear model over hashed tf-idf n-grams: ``scores = tfidf(text) @ coef + intercept``."""

    def __init__(self, idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.idf = idf.astype(np.float32)  # (2**BITS,), 0 for unused buckets
        self.coef = coef.astype(np.float32)  # (2**BITS, n_classes)
        self.intercept = intercept.astype(np.float32)

    @classmethod
    def load(cls, path: Path) -> NgramLinear:
        with np.load(path) as arrays:
            return cls(arrays["idf"], arrays["coef"], arrays["intercept"])

    @staticmethod
    def save(path: Path, idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        np.savez_compressed(
            path, idf=idf.astype(np.float16), coef=coef.astype(np.float16), intercept=intercept.astype(np.float32)
        )

    def scores(self, texts: list[str]) -> np.ndarray:
        """Decision scores, shape ``(len(texts), n_classes)``."""
        out = np.tile(self.intercept, (len(texts), 1))
        for start in range(0, len(texts), CHUNK):
            chunk = texts[start : start + CHUNK]
            rows, buckets, counts = features(chunk)
            weights = tfidf(rows, buckets, counts, self.idf, len(chunk))
            for k in range(self.coef.shape[1]):
                out[start : start + len(chunk), k] += np.bincount(
                    rows, weights=weights * self.coef[buckets, k], minlength=len(chunk)
                )
        return out
