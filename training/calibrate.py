"""Calibrate every bundled task on validation data and write its card (``MODELS_DIR/<task>.json``).

Usage: python -m training.calibrate DATA_DIR MODELS_DIR

(Sentiment, offensive, hate and emotion. Since v2.0.0 the ``irony`` and ``question`` cards are
written by ``training.irony_head`` and ``training.question_head``, which fit small heads first.)

Runs the *bundled* files (ONNX int8 encoder, n-gram model) exactly as the package does, then per
task: fits the log-linear calibration (source weights = inverse temperatures, class biases) by
minimising validation log-loss, tunes the decision rule (threshold or class weights) for the
task's official metric, and records the validation confusion matrix. Figures are reported twice:
``in_sample`` (calibration and decision fitted on all of val, as shipped) and ``cross_fitted``
(two folds of val, each scored with parameters fitted on the other: the honest estimate).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from askscope.classify import calibration
from askscope.classify.encoder import Encoder
from askscope.classify.language import identify
from askscope.classify.ngrams import NgramLinear
from training import data as d
from training.metrics import OFFICIAL, confusion
from training.tasks import NON_ENGLISH

VERSION = "1.3.0"
SEED = 7
LABELS = {
    "sentiment": ["negative", "neutral", "positive"],
    "irony": ["non_irony", "irony"],
    "offensive": ["not-offensive", "offensive"],
    "hate": ["not-hate", "hate"],
    "emotion": ["anger", "joy", "optimism", "sadness"],
    "question": ["not-question", "question"],
}
TRAINING_DATA = {
    "sentiment": [
        "semeval2017-sentiment (SemEval-2013..2016 task 4A pool, de-duplicated, minus tweets in "
        "tweeteval/sentiment/val and UMSAB English)",
        "umsab/{arabic,french,german,hindi,italian,portuguese,spanish}/train",
    ],
    "irony": [
        "tweeteval/irony/train (SemEval-2018 task 3A)",
        "isarcasmeval/train.En.csv minus a seeded, stratified 20% held out (sarcasm head)",
    ],
    "offensive": ["tweeteval/offensive/train (OffensEval-2019)"],
    "hate": ["tweeteval/hate/train (HatEval-2019)"],
    "emotion": ["tweeteval/emotion/train (SemEval-2018 task 1, 4 classes)"],
    "question": ["rumoureval/train subtask A (label 1 = query)"],
}


@dataclass
class TaskData:
    sources: list[np.ndarray]  # one score matrix per source, rows = validation posts
    gold: np.ndarray
    groups: np.ndarray  # validation set name of each row
    objective: Callable[[np.ndarray, np.ndarray, np.ndarray], float]
    route: np.ndarray | None = None  # calibration route of each row (routed tasks only)


def fit_calibration(sources: list[np.ndarray], gold: np.ndarray) -> tuple[list[float], list[float]]:
    k = sources[0].shape[1]
    logs = [calibration.log_softmax(s.astype(np.float64)) for s in sources]

    def loss(theta: np.ndarray) -> float:
        w, b = theta[: len(logs)], np.concatenate([[0.0], theta[len(logs) :]])
        z = b[None, :] + sum(wi * li for wi, li in zip(w, logs))
        lp = calibration.log_softmax(z)
        return float(-lp[np.arange(len(gold)), gold].mean() + 1e-4 * np.sum(theta**2))

    theta0 = np.concatenate([np.full(len(logs), 1.0 / len(logs)), np.zeros(k - 1)])
    theta = minimize(loss, theta0, method="L-BFGS-B").x
    return [round(float(x), 6) for x in theta[: len(logs)]], [0.0] + [round(float(x), 6) for x in theta[len(logs) :]]


def fit_decision(probabilities: np.ndarray, gold: np.ndarray, groups: np.ndarray, objective) -> dict:
    k = probabilities.shape[1]
    if k == 2:
        best = max(
            np.round(np.arange(0.05, 0.951, 0.01), 2),
            key=lambda t: (objective(gold, (probabilities[:, 1] >= t).astype(int), groups), -abs(t - 0.5)),
        )
        return {"kind": "threshold", "threshold": float(best)}
    grid = [0.7, 0.85, 1.0, 1.2, 1.4, 1.7, 2.0]
    candidates = [(1.0,) + c for c in itertools.product(grid, repeat=k - 1)]
    best = max(
        candidates,
        key=lambda w: (objective(gold, np.argmax(probabilities * np.array(w), 1), groups), -np.abs(np.log(w)).sum()),
    )
    return {"kind": "argmax", "class_weights": [float(x) for x in best]}


def fit_block(train: TaskData, rows: np.ndarray) -> dict:
    """The calibration block of a card, fitted on the given rows (one set per route if routed)."""
    if train.route is None:
        weights, bias = fit_calibration([s[rows] for s in train.sources], train.gold[rows])
        return {"weights": weights, "bias": bias}
    routes = {}
    for name in sorted(set(train.route)):
        chosen = rows[train.route[rows] == name]
        weights, bias = fit_calibration([s[chosen] for s in train.sources], train.gold[chosen])
        routes[name] = {"weights": weights, "bias": bias, "n": int(len(chosen))}
    return {"routes": routes}


def fit_and_apply(train: TaskData, rows_fit: np.ndarray, rows_apply: np.ndarray):
    block = fit_block(train, rows_fit)

    def probabilities(rows: np.ndarray) -> np.ndarray:
        route = train.route[rows] if train.route is not None else None
        return calibration.combine_card([s[rows] for s in train.sources], block, route)

    fitted = probabilities(rows_fit)
    if train.route is None:
        decision = fit_decision(fitted, train.gold[rows_fit], train.groups[rows_fit], train.objective)
    else:
        decision = {"routes": {}}
        for name in sorted(set(train.route)):
            inside = train.route[rows_fit] == name
            decision["routes"][name] = fit_decision(
                fitted[inside], train.gold[rows_fit][inside], train.groups[rows_fit][inside], train.objective
            )
    route = train.route[rows_apply] if train.route is not None else None
    return block, decision, calibration.decide(probabilities(rows_apply), decision, route)


def official(name: str) -> Callable[[np.ndarray, np.ndarray], float]:
    return OFFICIAL["umsab" if name.startswith("umsab") else name][1]


def group_scores(gold: np.ndarray, pred: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    return {g: round(100 * official(g)(gold[groups == g], pred[groups == g]), 2) for g in sorted(set(groups))}


def mean_objective(gold, pred, groups) -> float:
    """The mean official metric over the validation sets present (each weighted once)."""
    scores = group_scores(gold, pred, groups)
    english = [v for g, v in scores.items() if not g.startswith("umsab")]
    umsab = [v for g, v in scores.items() if g.startswith("umsab")]
    parts = english + ([float(np.mean(umsab))] if umsab else [])
    return float(np.mean(parts))


def build_task_data(data: Path, encoder: Encoder, ngrams: NgramLinear) -> dict[str, TaskData]:
    sets = {
        "sentiment": [
            ("sentiment", d.sentiment_val(data, "tweeteval")),
            ("umsab-english", d.sentiment_val(data, "umsab")),
        ]
        + [(f"umsab-{lang}", d.umsab(data, lang, "val")) for lang in NON_ENGLISH],
        "offensive": [("offensive", d.tweeteval(data, "offensive", "val"))],
        "hate": [("hate", d.tweeteval(data, "hate", "val"))],
        "emotion": [("emotion", d.tweeteval(data, "emotion", "val"))],
    }
    # irony and question are built by training.irony_head and training.question_head (v2.0.0).
    out = {}
    for task, parts in sets.items():
        texts = [t for _, s in parts for t in s.texts]
        gold = np.array([y for _, s in parts for y in s.labels])
        groups = np.array([name for name, s in parts for _ in s.texts])
        logits = encoder.logits(texts)
        route = None
        if task == "sentiment":
            sources = [logits["sentiment"], ngrams.scores(texts)]
            route = calibration.route_of([r[0][0] for r in identify(texts)])
        elif task == "irony":
            sources = [logits["irony"], logits["sarcasm"]]
        else:
            sources = [logits[task]]
        out[task] = TaskData(sources, gold, groups, mean_objective, route)
    return out


def source_specs(task: str) -> list[dict]:
    if task == "sentiment":
        return [{"kind": "encoder", "head": "sentiment"}, {"kind": "ngrams", "file": "sentiment_ngrams.npz"}]
    if task == "irony":
        return [{"kind": "encoder", "head": "irony"}, {"kind": "encoder", "head": "sarcasm"}]
    return [{"kind": "encoder", "head": task}]


def calibrate_task(task: str, td: TaskData) -> dict:
    n = len(td.gold)
    everything = np.arange(n)
    block, decision, pred = fit_and_apply(td, everything, everything)
    rng = np.random.default_rng(SEED)
    folds = rng.permutation(n) % 2
    cross = np.zeros(n, dtype=np.int64)
    for f in (0, 1):
        _, _, cross[folds != f] = fit_and_apply(td, np.where(folds == f)[0], np.where(folds != f)[0])
    k = len(LABELS[task])
    main_group = td.groups[0]
    main = td.groups == main_group
    metric_name = OFFICIAL[main_group][0]
    card = {
        "task": task,
        "version": VERSION,
        "labels": LABELS[task],
        "model": {
            "kind": "fine-tuned multi-task all-MiniLM-L6-v2 (ONNX int8)"
            + (" + char/word n-gram logistic regression" if task == "sentiment" else ""),
            "files": ["encoder.onnx", "tokenizer.json", "encoder.json"]
            + (["sentiment_ngrams.npz"] if task == "sentiment" else []),
        },
        "sources": source_specs(task),
        "training_data": TRAINING_DATA[task],
        "calibration": {
            "method": "log-linear: softmax(sum_i w_i * log_softmax(scores_i) + bias), "
            "fitted by validation log-loss"
            + (
                "; one parameter set per route: 'en' = identified as English or undetermined, "
                "'other' = any other language"
                if "routes" in block
                else ""
            ),
            **block,
        },
        "decision": decision,
        "validation": {
            "data": main_group,
            "n": int(main.sum()),
            "metric": metric_name,
            "in_sample": group_scores(td.gold[main], pred[main], td.groups[main])[main_group],
            "cross_fitted": group_scores(td.gold[main], cross[main], td.groups[main])[main_group],
            "confusion": confusion(td.gold[main], cross[main], k).tolist(),
            "confusion_note": "rows = gold, columns = predicted; cross-fitted predictions",
        },
        "validation_extra": {},
        "trained_with": {"python": platform.python_version()},
    }
    for group in sorted(set(td.groups) - {main_group}):
        rows = td.groups == group
        card["validation_extra"][group] = {
            "n": int(rows.sum()),
            "metric": OFFICIAL["umsab" if group.startswith("umsab") else group][0],
            "in_sample": group_scores(td.gold[rows], pred[rows], td.groups[rows])[group],
            "cross_fitted": group_scores(td.gold[rows], cross[rows], td.groups[rows])[group],
            "confusion": confusion(td.gold[rows], cross[rows], k).tolist(),
        }
    return card


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("models", type=Path)
    args = parser.parse_args()
    encoder = Encoder(args.models)
    ngrams = NgramLinear.load(args.models / "sentiment_ngrams.npz")
    for task, td in build_task_data(args.data, encoder, ngrams).items():
        card = calibrate_task(task, td)
        (args.models / f"{task}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
        extra = {g: v["cross_fitted"] for g, v in card["validation_extra"].items()}
        print(
            task,
            card["validation"]["metric"],
            "in-sample",
            card["validation"]["in_sample"],
            "cross-fitted",
            card["validation"]["cross_fitted"],
            extra,
            card["decision"],
            flush=True,
        )


if __name__ == "__main__":
    main()
