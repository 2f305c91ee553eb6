"""Train the n-gram sentiment model (hashed char 2-5-grams + words, all eight languages).

Usage: python -m training.ngrams DATA_DIR MODELS_DIR

Writes ``MODELS_DIR/sentiment_ngrams.npz``: idf and weights of a class-balanced multinomial
logistic regression over ``askscope.classify.ngrams.features``. It adds what the English
WordPiece encoder cannot see in Arabic script and in the other languages' words.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from askscope.classify.ngrams import BITS, NgramLinear, features, tfidf
from training.tasks import training_sets

C = 4.0
MIN_DF = 2


def design_matrix(texts: list[str], idf: np.ndarray | None = None):
    """Sparse tf-idf matrix of the posts; fits the idf (smooth, min_df) when none is given."""
    from scipy.sparse import csr_matrix

    rows, buckets, counts = features(texts)
    if idf is None:
        df = np.bincount(buckets, minlength=1 << BITS)
        n = len(texts)
        idf = np.where(df >= MIN_DF, np.log((1 + n) / (1 + df)) + 1.0, 0.0).astype(np.float16).astype(np.float32)
    weights = tfidf(rows, buckets, counts, idf, len(texts))
    return csr_matrix((weights, (rows, buckets)), shape=(len(texts), 1 << BITS)), idf


def train_sentiment(data: Path, models: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    split = training_sets(data)["sentiment"]
    matrix, idf = design_matrix(split.texts)
    model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    model.fit(matrix, split.labels)
    NgramLinear.save(models / "sentiment_ngrams.npz", idf, model.coef_.T, model.intercept_)
    print(f"sentiment n-grams: {matrix.shape[0]} posts, {int((idf > 0).sum())} buckets in use")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("models", type=Path)
    args = parser.parse_args()
    args.models.mkdir(parents=True, exist_ok=True)
    train_sentiment(args.data, args.models)


if __name__ == "__main__":
    main()
