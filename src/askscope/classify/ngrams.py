"""Character and word n-gram features with a linear model, in plain numpy.

The same :func:`analyse` function builds the vocabulary at training time (passed to
scikit-learn's ``TfidfVectorizer`` as its analyzer) and featurises posts at run time, so the
features cannot drift apart. Weighting is scikit-learn's: sublinear tf, smooth idf, l2 norm.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from pathlib import Path

import numpy as np

from askscope.classify.text import normalise

CHAR_ORDERS = (2, 3, 4, 5)
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def analyse(text: str) -> list[str]:
    """The n-grams of one post: char 2-5-grams inside word boundaries, word 1-2-grams."""
    lowered = normalise(text).lower()
    grams: list[str] = []
    for word in lowered.split(" "):
        padded = f" {word} "
        size = len(padded)
        for n in CHAR_ORDERS:
            if n > size:
                break
            grams += [padded[i : i + n] for i in range(size - n + 1)]
    words = _WORD.findall(lowered)
    grams += ["w:" + w for w in words]
    grams += ["b:" + a + " " + b for a, b in zip(words, words[1:])]
    return grams


class NgramLinear:
    """A linear model over tf-idf n-grams: ``scores = tfidf(text) @ coef + intercept``."""

    def __init__(self, vocabulary: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        self.index = {gram: i for i, gram in enumerate(vocabulary)}
        self.idf = idf.astype(np.float32)
        self.coef = coef.astype(np.float32)  # (n_features, n_classes)
        self.intercept = intercept.astype(np.float32)

    @classmethod
    def load(cls, path: Path) -> "NgramLinear":
        with np.load(path) as arrays:
            idf, coef, intercept = arrays["idf"], arrays["coef"], arrays["intercept"]
        with gzip.open(path.with_suffix(".vocab.gz"), "rt", encoding="utf-8") as handle:
            vocabulary = handle.read().split("\n")
        return cls(vocabulary, idf, coef, intercept)

    @staticmethod
    def save(path: Path, vocabulary: list[str], idf: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        assert not any("\n" in g for g in vocabulary)
        np.savez_compressed(path, idf=idf.astype(np.float32), coef=coef.astype(np.float16),
                            intercept=intercept.astype(np.float32))
        with gzip.GzipFile(path.with_suffix(".vocab.gz"), "wb", mtime=0) as raw:
            raw.write("\n".join(vocabulary).encode("utf-8"))

    def scores(self, texts: list[str]) -> np.ndarray:
        """Decision scores, shape ``(len(texts), n_classes)``."""
        out = np.tile(self.intercept, (len(texts), 1))
        index = self.index
        for row, text in enumerate(texts):
            counts = Counter(g for g in analyse(text) if g in index)
            if not counts:
                continue
            cols = np.fromiter((index[g] for g in counts), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
            weights = tf * self.idf[cols]
            weights /= np.sqrt(np.dot(weights, weights))
            out[row] += weights @ self.coef[cols]
        return out
