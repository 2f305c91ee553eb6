"""Turning model scores into calibrated probabilities and decisions (shares: :mod:`quantify`).

Every task's probabilities come from one calibrated log-linear combination of its sources
(encoder heads, n-gram models)::

    p = softmax( sum_i w_i * log_softmax(scores_i) + bias )

With one source this is temperature scaling plus a class bias (``w = 1/T``); with several it is
a product of experts whose weights are fitted on validation data by minimising the negative
log-likelihood. The decision rule (a threshold or class weights) is then tuned on validation data
for the task's official metric.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np


def log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return cast(np.ndarray, shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))


def softmax(scores: np.ndarray) -> np.ndarray:
    return cast(np.ndarray, np.exp(log_softmax(scores)))


def combine(sources: list[np.ndarray], weights: list[float], bias: list[float]) -> np.ndarray:
    """Calibrated probabilities from the raw scores of each source."""
    z = np.asarray(bias, dtype=np.float64)[None, :] + sum(
        w * log_softmax(s.astype(np.float64)) for w, s in zip(weights, sources)
    )
    return softmax(z)


ROUTE_ENGLISH = ("en", "und")


def route_of(language_codes: list[str]) -> np.ndarray:
    """Calibration route of each post: ``en`` (English or undetermined) or ``other``."""
    return np.array(["en" if code in ROUTE_ENGLISH else "other" for code in language_codes])


def combine_card(sources: list[np.ndarray], calibration: dict[str, Any], route: np.ndarray | None = None) -> np.ndarray:
    """Probabilities from a card's calibration block: one parameter set, or one per route.

    A routed block (``{"routes": {"en": {...}, "other": {...}}}``) fits the source weights apart
    for English and for other posts, chosen by the post's identified language.
    """
    if "routes" not in calibration:
        return combine(sources, calibration["weights"], calibration["bias"])
    assert route is not None, "a routed calibration needs each post's route"
    out = np.zeros((len(route), sources[0].shape[1]))
    for name, params in calibration["routes"].items():
        rows = route == name
        if rows.any():
            out[rows] = combine([s[rows] for s in sources], params["weights"], params["bias"])
    return out


def decide(probabilities: np.ndarray, decision: dict[str, Any], route: np.ndarray | None = None) -> np.ndarray:
    """Label ids from probabilities: ``threshold`` (binary) or ``argmax`` with class weights,
    optionally one rule per route (``{"routes": {"en": {...}, "other": {...}}}``)."""
    if "routes" in decision:
        assert route is not None, "a routed decision needs each post's route"
        out = np.zeros(len(probabilities), dtype=np.int64)
        for name, rule in decision["routes"].items():
            rows = route == name
            out[rows] = decide(probabilities[rows], rule)
        return out
    if decision["kind"] == "threshold":
        return cast(np.ndarray, (probabilities[:, 1] >= decision["threshold"]).astype(np.int64))
    weights = np.asarray(decision.get("class_weights", [1.0] * probabilities.shape[1]))
    return cast(np.ndarray, np.argmax(probabilities * weights[None, :], axis=1).astype(np.int64))


def error_rates(confusion: list[list[int]], labels: list[str]) -> dict[str, dict[str, float]]:
    """Per class, one-vs-rest ``tpr`` (recall), ``fpr`` and ``precision`` from a confusion matrix
    (rows = gold, columns = predicted)."""
    matrix = np.asarray(confusion, dtype=np.float64)
    total = matrix.sum()
    rates: dict[str, dict[str, float]] = {}
    for k, name in enumerate(labels):
        tp = matrix[k, k]
        positives = matrix[k].sum()
        negatives = total - positives
        fp = matrix[:, k].sum() - tp
        predicted = matrix[:, k].sum()
        rates[name] = {
            "tpr": float(tp / positives) if positives else 0.0,
            "fpr": float(fp / negatives) if negatives else 0.0,
            "precision": float(tp / predicted) if predicted else 0.0,
            "support": int(positives),
        }
    return rates
