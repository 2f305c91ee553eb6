"""Train the n-gram sentiment model (char 2-5-grams + words, all eight languages).

Usage: python -m training.ngrams DATA_DIR MODELS_DIR

Writes ``MODELS_DIR/sentiment_ngrams.npz`` and ``.vocab.gz``: tf-idf vocabulary and weights of
a multinomial logistic regression (class-balanced), read at run time by
``askscope.classify.ngrams.NgramLinear``. It adds what the English WordPiece encoder cannot
see in Arabic script and in the other languages' words.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from askscope.classify.ngrams import NgramLinear, analyse
from training.tasks import training_sets

MAX_FEATURES = 300_000
C = 4.0


def train_sentiment(data: Path, models: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    split = training_sets(data)["sentiment"]
    vectoriser = TfidfVectorizer(analyzer=analyse, sublinear_tf=True, min_df=2,
                                 max_features=MAX_FEATURES, dtype=np.float32)
    features = vectoriser.fit_transform(split.texts)
    model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    model.fit(features, split.labels)
    vocabulary = [""] * len(vectoriser.vocabulary_)
    for gram, column in vectoriser.vocabulary_.items():
        vocabulary[column] = gram
    NgramLinear.save(models / "sentiment_ngrams.npz", vocabulary, vectoriser.idf_,
                     model.coef_.T, model.intercept_)
    print(f"sentiment n-grams: {features.shape[0]} posts, {features.shape[1]} features")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("models", type=Path)
    args = parser.parse_args()
    args.models.mkdir(parents=True, exist_ok=True)
    train_sentiment(args.data, args.models)


if __name__ == "__main__":
    main()
