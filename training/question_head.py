"""The ``question`` task: the encoder's question head combined with rule features.

Usage: python -m training.question_head DATA_DIR [MODELS_DIR]

For askscope a question is a question or a request addressed to someone, rhetorical ones
included (``askscope/classify/questions.py``). RumourEval's ``query`` label, the only
question-like human label in the data folder, is narrower: a reply asking for more information
about the rumour (evidence, a source, confirmation); rhetorical questions and questions about
other things are mostly annotated ``comment`` or ``deny``. The benchmark figure is query F1.

What this builds: a logistic head (``question_head.npz``) over the encoder question head's logit
margin, the rule features (question marks of every script, interrogative openers in nine
languages, requests, addressing, verification words) and every encoder head's logits (sentiment,
irony, sarcasm, offensive, hate, emotion: a query is rarely abusive or mocking, a comment often
is), fitted on RumourEval train only, with L2 regularisation whose strength C is chosen by
5-fold cross-validation on RumourEval train (query F1 of the out-of-fold scores; :data:`C_GRID`);
then, on RumourEval dev (never trained on), the
temperature-and-bias calibration and the threshold for query F1, as ``training.calibrate`` does.
The cross-fitted figure is the mean over 20 seeded two-fold splits of dev (calibration and
threshold fitted on one half, scored on the other); the card's confusion matrix is that of
``training.calibrate``'s seeded split.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from askscope.classify import calibration, questions
from askscope.classify.heads import LinearHead, inputs
from askscope.classify.language import identify
from training.calibrate import SEED as CALIBRATE_SEED
from training.calibrate import fit_calibration, fit_decision
from training.embed_cache import ROOT, load_split
from training.metrics import class_f1, confusion

VERSION = "2.4.0"
# Rule features that make a post a question whatever the model says, per language route.
RULE_FLOOR = {"en": ["request"], "other": ["question_mark", "interrogative_opener", "request"]}
C_GRID = (0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 1.0)
CV_FOLDS = 5
CV_SEED = 0
ENCODER_HEADS = ("sentiment", "irony", "sarcasm", "offensive", "hate", "emotion", "question")
INPUTS = ("margin:question", "rules:questions") + tuple(f"logits:{h}" for h in ENCODER_HEADS)
HEAD_FILE = "question_head.npz"
SPLITS = 20


def f1(gold: np.ndarray, pred: np.ndarray) -> float:
    return class_f1(gold, pred, 2, 1)


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> LinearHead:
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, y)
    return LinearHead(INPUTS, mean, scale, model.coef_[0], float(model.intercept_[0]))


def cv_f1(x: np.ndarray, y: np.ndarray, floor: np.ndarray, c: float) -> float:
    """Query F1 of out-of-fold scores on RumourEval train (5 stratified folds; each fold scored
    by a head fitted on the other four), at the best threshold of the out-of-fold margins with the
    rule floor applied (as at run time): how well a regularisation strength generalises."""
    margins = np.zeros(len(y))
    for fit, held in StratifiedKFold(CV_FOLDS, shuffle=True, random_state=CV_SEED).split(x, y):
        margins[held] = _fit(x[fit], y[fit], c).margin(x[held])
    return max(
        f1(y, np.maximum((margins >= t).astype(np.int64), floor))
        for t in np.quantile(margins, np.linspace(0.5, 0.99, 99))
    )


def fit_head(data: Path) -> tuple[LinearHead, dict[str, float], float]:
    """The head fitted on all of RumourEval train with the C of the best cross-validated F1;
    also returns each C's cross-validated F1 and the chosen C."""
    split, logits, pooled = load_split(data, "rumoureval-train")
    x = inputs(INPUTS, split.texts, logits, pooled)
    y = np.asarray(split.labels)
    route = calibration.route_of([r[0][0] for r in identify(split.texts)])
    floor = questions.rule_floor(split.texts, RULE_FLOOR, route)
    scores = {str(c): round(100 * cv_f1(x, y, floor, c), 2) for c in C_GRID}
    best = max(C_GRID, key=lambda c: (scores[str(c)], -c))
    return _fit(x, y, best), scores, best


def fit_and_apply(
    scores: np.ndarray, gold: np.ndarray, fit: np.ndarray, apply: np.ndarray, floor: np.ndarray | None = None
):
    """Calibration and threshold fitted on rows ``fit`` (with the rule floor applied, as at run
    time), labels of rows ``apply``."""
    floor = np.zeros(len(gold), dtype=np.int64) if floor is None else floor
    weights, bias = fit_calibration([scores[fit]], gold[fit])
    p_fit = calibration.combine([scores[fit]], weights, bias)
    floor_fit = floor[fit]
    decision = fit_decision(
        p_fit, gold[fit], np.array(["question"] * len(fit)), lambda g, p, _groups: f1(g, np.maximum(p, floor_fit))
    )
    pred = calibration.decide(calibration.combine([scores[apply]], weights, bias), decision)
    return weights, bias, decision, np.maximum(pred, floor[apply])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("models", type=Path, nargs="?", default=ROOT / "src" / "askscope" / "classify" / "models")
    args = parser.parse_args()
    head, cv_scores, chosen_c = fit_head(args.data)
    head.save(args.models / HEAD_FILE)
    head = LinearHead.load(args.models / HEAD_FILE)

    dev, logits, pooled = load_split(args.data, "rumoureval-dev")
    gold = np.asarray(dev.labels)
    scores = head.scores(dev.texts, logits, pooled)
    n = len(gold)
    everything = np.arange(n)
    route = calibration.route_of([r[0][0] for r in identify(dev.texts)])
    floor = questions.rule_floor(dev.texts, RULE_FLOOR, route)
    weights, bias, decision, pred_in = fit_and_apply(scores, gold, everything, everything, floor)
    decision["rule_floor"] = RULE_FLOOR

    def cross(seed: int) -> np.ndarray:
        folds = np.random.default_rng(seed).permutation(n) % 2
        out = np.zeros(n, dtype=np.int64)
        for f in (0, 1):
            out[folds != f] = fit_and_apply(scores, gold, np.where(folds == f)[0], np.where(folds != f)[0], floor)[3]
        return out

    seeded = cross(CALIBRATE_SEED)
    repeated = [f1(gold, cross(seed)) for seed in range(SPLITS)]
    head_only = logits["question"]
    head_repeated = []
    for seed in range(SPLITS):
        folds = np.random.default_rng(seed).permutation(n) % 2
        out = np.zeros(n, dtype=np.int64)
        for f in (0, 1):
            out[folds != f] = fit_and_apply(head_only, gold, np.where(folds == f)[0], np.where(folds != f)[0])[3]
        head_repeated.append(f1(gold, out))
    question_mark = np.array(["?" in t for t in dev.texts], dtype=np.int64)
    rule = questions.rule(dev.texts).astype(np.int64)
    card = {
        "task": "question",
        "version": VERSION,
        "labels": ["not-question", "question"],
        "model": {
            "kind": "fine-tuned multi-task all-MiniLM-L6-v2 (ONNX int8) question head + rule features "
            "(classify/questions.py), combined by a logistic head",
            "files": ["encoder.onnx", "tokenizer.json", "encoder.json", HEAD_FILE],
        },
        "sources": [{"kind": "head", "file": HEAD_FILE}],
        "training_data": [
            "rumoureval/train subtask A (label 1 = query): the encoder's question head and the logistic head "
            f"(inputs {', '.join(INPUTS)}; C = {chosen_c}, chosen by {CV_FOLDS}-fold cross-validation on train)",
        ],
        "head": {
            "file": HEAD_FILE,
            "inputs": list(INPUTS),
            "rule_features": list(questions.FEATURES),
            "C": chosen_c,
            "C_cross_validated_query_f1_on_train": cv_scores,
            "coef": [round(float(v), 4) for v in head.coef],
        },
        "calibration": {
            "method": "log-linear: softmax(sum_i w_i * log_softmax(scores_i) + bias), fitted by "
            "validation log-loss (RumourEval dev)",
            "weights": weights,
            "bias": bias,
        },
        "decision": decision,
        "validation": {
            "data": "question",
            "rule_floor_posts": int(floor.sum()),
            "n": n,
            "metric": "F1 of the query class",
            "in_sample": round(100 * f1(gold, pred_in), 2),
            "cross_fitted": round(100 * f1(gold, seeded), 2),
            "cross_fitted_mean_of_20_splits": round(100 * float(np.mean(repeated)), 2),
            "cross_fitted_sd_of_20_splits": round(100 * float(np.std(repeated)), 2),
            "confusion": confusion(gold, seeded, 2).tolist(),
            "confusion_note": "rows = gold, columns = predicted; cross-fitted predictions",
            "baselines": {
                "contains ?": round(100 * f1(gold, question_mark), 2),
                "rule alone (classify/questions.py rule())": round(100 * f1(gold, rule), 2),
                "encoder question head alone, cross-fitted mean of 20 splits": round(
                    100 * float(np.mean(head_repeated)), 2
                ),
            },
        },
        "validation_extra": {},
        "trained_with": {"python": platform.python_version()},
    }
    (args.models / "question.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: card[k] for k in ("head", "calibration", "decision", "validation")}, indent=1))


if __name__ == "__main__":
    main()
