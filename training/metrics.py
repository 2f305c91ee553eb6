"""Official metrics, following TweetEval's ``evaluation_script.py`` logic."""

from __future__ import annotations

import numpy as np


def confusion(gold: list[int] | np.ndarray, pred: list[int] | np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix, rows = gold class, columns = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(gold), np.asarray(pred)), 1)
    return matrix


def per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 per class (0 where undefined, as scikit-learn does)."""
    tp = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    actual = matrix.sum(axis=1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1


def macro_f1(gold, pred, n_classes: int) -> float:
    return float(per_class(confusion(gold, pred, n_classes))[2].mean())


def macro_recall(gold, pred, n_classes: int) -> float:
    return float(per_class(confusion(gold, pred, n_classes))[1].mean())


def class_f1(gold, pred, n_classes: int, cls: int) -> float:
    return float(per_class(confusion(gold, pred, n_classes))[2][cls])


OFFICIAL = {
    # task -> (metric name, function(gold, pred) -> float)
    "sentiment": ("macro-recall", lambda g, p: macro_recall(g, p, 3)),
    "umsab": ("macro-F1", lambda g, p: macro_f1(g, p, 3)),
    "irony": ("F1 of the ironic class", lambda g, p: class_f1(g, p, 2, 1)),
    "sarcasm": ("F1 of the sarcastic class", lambda g, p: class_f1(g, p, 2, 1)),
    "offensive": ("macro-F1", lambda g, p: macro_f1(g, p, 2)),
    "hate": ("macro-F1", lambda g, p: macro_f1(g, p, 2)),
    "emotion": ("macro-F1", lambda g, p: macro_f1(g, p, 4)),
    "question": ("F1 of the query class", lambda g, p: class_f1(g, p, 2, 1)),
}
