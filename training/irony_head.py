"""The ``irony`` task (the mockery signal), fitted for realistic priors: head, calibration, card.

Usage: python -m training.irony_head DATA_DIR [MODELS_DIR]

Why: the v1.0.0 task was the product of the encoder's irony and sarcasm heads with a threshold
tuned for F1 on validation sets where 25-48% of posts are ironic; on ordinary posts it flagged most
of them. What this builds, on the frozen encoder (outputs cached by ``training.embed_cache``):

1. A logistic head (``irony_head.npz``, :class:`askscope.classify.heads.LinearHead`) over the
   384-d pooled vector, every encoder head's logits and surface cues (``classify/cues.py``),
   trained on TweetEval irony train + iSarcasmEval En minus its held-out fifth (positives and
   hard negatives) and on the *fit* half of ordinary posts (negatives: SemEval-2016 stance
   tweets, airline and complaint tweets to companies, TweetEval sentiment val; assumed not
   ironic, an assumption: a few of them are). The validation sets (TweetEval irony val, the
   iSarcasmEval held-out fifth) are not trained on, so they stay honest validation data for
   the calibration, the thresholds and the quantification estimator.
2. Calibration: the log-linear product of the two encoder heads and the new head
   (``askscope.classify.calibration.combine``), fitted by weighted log-loss on the validation sets
   plus the *check* half of the ordinary posts, weighted so that 15% of the weight is ironic
   (:data:`REFERENCE_PRIOR`) and the non-ironic weight is half hard negatives (the benchmarks'
   non-ironic tweets), half ordinary posts. Probabilities are therefore calibrated for a stream
   with 15% ironic posts.
3. The threshold maximises the mean F1 over priors 5%, 15%, 40% and each set's natural prior, for
   both validation sets, with the false-positive rate of a stream as in 2 (not F1 at the
   benchmark's own prior), among the thresholds that flag at most a fifth of the ordinary posts.

``--ngram-c C`` (an experiment, not what ships): also fits an n-gram model
(:class:`askscope.classify.ngrams.NgramLinear` over the package's hashed character and word
n-grams, own idf, L2 logistic regression with inverse regularisation C) on exactly the head's
training rows and weights, writes it as ``irony_ngrams.npz`` and adds it to the card's sources
(the package scores any card's ``ngram`` source). Measured 2 Dec 2026 (docs/models/irony.md,
"What was tried"): better validation F1, but more sincere replies flagged on a real reply thread,
so it is not shipped. Write such a card into another folder, not over the shipped models.

Figures are reported in-sample and cross-fitted (two seeded folds of every calibration set;
calibration and threshold fitted on one, scored on the other).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from askscope.classify import calibration
from askscope.classify.heads import LinearHead, inputs
from askscope.classify.ngrams import NgramLinear
from training import data as d
from training.data import ordinary_halves, unaddressed
from training.embed_cache import ROOT, SPLITS, encode, load_split
from training.metrics import confusion
from training.ngrams import design_matrix

VERSION = "2.3.0"
SEED = 11
C = 0.05
ORDINARY_BUDGET = 0.20  # the most of the ordinary posts (assumed not ironic) a threshold may flag
ORDINARY_WEIGHT = 1.0  # total weight of the ordinary fit rows, relative to the labelled rows
PRAISE_WEIGHT = 3.0  # ordinary posts labelled positive (airline, sentiment val) weigh this much more
REFERENCE_PRIOR = 0.15
PRIORS = (0.05, 0.15, 0.40)
INPUTS = (
    "pooled",
    "margin:irony",
    "margin:sarcasm",
    "logits:sentiment",
    "margin:offensive",
    "margin:hate",
    "logits:emotion",
    "margin:question",
    "rules:cues",
)
HEAD_FILE = "irony_head.npz"
NGRAM_FILE = "irony_ngrams.npz"  # only with --ngram-c (not shipped)
LABELLED_TRAIN = ("tweeteval-irony-train", "isarcasm-fit")
VALIDATION = {"irony": "tweeteval-irony-val", "sarcasm": "isarcasm-heldout"}
ORDINARY = ("tweeteval-sentiment-val", "complaints", "airline") + tuple(
    f"stance-{t}-{p}" for t in d.STANCE_TARGETS for p in ("train", "val")
)


PRAISE_SETS = ("airline", "tweeteval-sentiment-val")  # label 2 = positive in both
ADDRESSED_SETS = ("airline", "complaints")  # tweets that open with the company's handle


def _block(data: Path, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    split, logits, pooled = load_split(data, name)
    return inputs(INPUTS, split.texts, logits, pooled), np.asarray(split.labels), split.texts


def _unaddressed_block(data: Path, name: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    split = SPLITS[name](data)
    texts = [t for t, keep in zip(unaddressed(split.texts), rows) if keep]
    logits, pooled = encode(texts, progress=f"{name} without leading mentions")
    return inputs(INPUTS, texts, logits, pooled), np.asarray(split.labels)[rows], texts


def fit_head(data: Path, models: Path, ngram_c: float | None = None) -> tuple[LinearHead, dict]:
    """Fit the logistic head (returned); with ``ngram_c``, also the n-gram model on the same rows
    and weights (written to ``models``)."""
    xs, ys, texts = [], [], []
    for name in LABELLED_TRAIN:
        x, y, t = _block(data, name)
        xs.append(x)
        ys.append(y)
        texts += t
    n_labelled = sum(len(y) for y in ys)
    ordinary, praise = [], []
    for name in ORDINARY:
        x, labels, t = _block(data, name)
        half = ordinary_halves(len(x), name)
        ordinary.append(x[half])
        texts += [text for text, keep in zip(t, half) if keep]
        positive = labels == 2 if name in PRAISE_SETS else np.zeros(len(x), dtype=bool)
        praise.append(positive[half])
        if name in ADDRESSED_SETS:
            xu, lu, tu = _unaddressed_block(data, name, half)
            ordinary.append(xu)
            texts += tu
            praise.append(lu == 2 if name in PRAISE_SETS else np.zeros(len(xu), dtype=bool))
    xo = np.concatenate(ordinary)
    po = np.where(np.concatenate(praise), PRAISE_WEIGHT, 1.0)
    x = np.concatenate(xs + [xo])
    y = np.concatenate(ys + [np.zeros(len(xo), dtype=np.int64)])
    w = np.concatenate([np.ones(n_labelled), po * ORDINARY_WEIGHT * n_labelled / po.sum()])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=C, max_iter=5000).fit((x - mean) / scale, y, sample_weight=w)
    head = LinearHead(INPUTS, mean, scale, model.coef_[0], float(model.intercept_[0]))
    info = {
        "labelled_rows": n_labelled,
        "ordinary_rows": int(len(xo)),
        "C": C,
        "ordinary_weight": ORDINARY_WEIGHT,
        "praise_weight": PRAISE_WEIGHT,
    }
    if ngram_c is not None:
        matrix, idf = design_matrix(texts)
        ngram = LogisticRegression(C=ngram_c, max_iter=5000).fit(matrix, y, sample_weight=w)
        # two columns [0, z], as the logistic head's scores, so the calibration treats both alike
        coef = np.stack([np.zeros(matrix.shape[1]), ngram.coef_[0]], axis=1)
        NgramLinear.save(models / NGRAM_FILE, idf, coef, np.array([0.0, float(ngram.intercept_[0])]))
        info |= {"ngram_C": ngram_c, "ngram_buckets_in_use": int((idf > 0).sum())}
    return head, info


def sources_of(
    head: LinearHead, ngram: NgramLinear | None, data: Path, name: str
) -> tuple[list[np.ndarray], np.ndarray]:
    split, logits, pooled = load_split(data, name)
    texts = list(split.texts)
    sources = [logits["irony"], logits["sarcasm"], head.scores(texts, logits, pooled)]
    if ngram is not None:
        sources.append(ngram.scores(texts))
    return sources, np.asarray(split.labels)


def fit_weighted_calibration(
    sources: list[np.ndarray], gold: np.ndarray, weight: np.ndarray
) -> tuple[list[float], list[float]]:
    logs = [calibration.log_softmax(s.astype(np.float64)) for s in sources]
    weight = weight / weight.sum()

    def loss(theta: np.ndarray) -> float:
        z = np.array([0.0, theta[-1]])[None, :] + sum(wi * li for wi, li in zip(theta[:-1], logs))
        lp = calibration.log_softmax(z)
        return float(-(weight * lp[np.arange(len(gold)), gold]).sum() + 1e-4 * np.sum(theta**2))

    theta = minimize(loss, np.concatenate([np.full(len(logs), 1.0 / len(logs)), [0.0]]), method="L-BFGS-B").x
    return [round(float(v), 6) for v in theta[:-1]], [0.0, round(float(theta[-1]), 6)]


def stream_weights(groups: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Weights of the calibration rows: each validation set 15% ironic, 42.5% its own non-ironic
    rows; the ordinary rows together as heavy as the two sets' hard negatives."""
    w = np.zeros(len(gold))
    labelled = [g for g in VALIDATION]
    for g in labelled:
        pos, neg = (groups == g) & (gold == 1), (groups == g) & (gold == 0)
        w[pos] = REFERENCE_PRIOR / pos.sum()
        w[neg] = (1 - REFERENCE_PRIOR) / 2 / neg.sum()
    ordinary = groups == "ordinary"
    w[ordinary] = (1 - REFERENCE_PRIOR) / 2 * len(labelled) / ordinary.sum()
    return w


def f1_at(tpr: float, fpr: float, prior: float) -> float:
    """Expected F1 of the positive class at a given prior, from the rates (as a resample would)."""
    tp, fp, fn = prior * tpr, (1 - prior) * fpr, prior * (1 - tpr)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def rates(p: np.ndarray, gold: np.ndarray, groups: np.ndarray, threshold: float) -> dict[str, tuple[float, float]]:
    """Per validation set, (tpr, stream fpr): fpr = mean of its own and the ordinary rows' fpr."""
    flagged = p >= threshold
    ordinary_fpr = flagged[groups == "ordinary"].mean()
    out = {}
    for g in VALIDATION:
        pos, neg = (groups == g) & (gold == 1), (groups == g) & (gold == 0)
        out[g] = (float(flagged[pos].mean()), float((flagged[neg].mean() + ordinary_fpr) / 2))
    return out


def natural_prior(gold: np.ndarray, groups: np.ndarray, g: str) -> float:
    return float(gold[groups == g].mean())


def objective(p: np.ndarray, gold: np.ndarray, groups: np.ndarray, threshold: float) -> float:
    """Mean F1 over priors 5/15/40% and each set's natural prior, over both validation sets."""
    scores = []
    for g, (tpr, fpr) in rates(p, gold, groups, threshold).items():
        for prior in PRIORS + (natural_prior(gold, groups, g),):
            scores.append(f1_at(tpr, fpr, prior))
    return float(np.mean(scores))


def fit_rule(sources, gold, groups, rows) -> tuple[list[float], list[float], float]:
    weights, bias = fit_weighted_calibration(
        [s[rows] for s in sources], gold[rows], stream_weights(groups[rows], gold[rows])
    )
    p = calibration.combine([s[rows] for s in sources], weights, bias)[:, 1]
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    ordinary = groups[rows] == "ordinary"
    allowed = [t for t in grid if (p[ordinary] >= t).mean() <= ORDINARY_BUDGET] or [grid[-1]]
    # The mean F1 over priors is flat near its maximum (2 Dec 2026, one post per graph call: within
    # 0.6 points from 0.13 to 0.21) while the share of ordinary posts flagged halves over that range,
    # and a reply stream is mostly ordinary posts: maximise it among the thresholds that flag at
    # most ORDINARY_BUDGET of the ordinary posts.
    threshold = float(max(allowed, key=lambda t: (objective(p, gold[rows], groups[rows], t), -abs(t - 0.5))))
    return weights, bias, threshold


def f1(gold: np.ndarray, pred: np.ndarray) -> float:
    tp = int(((pred == 1) & (gold == 1)).sum())
    fp = int(((pred == 1) & (gold == 0)).sum())
    fn = int(((pred == 0) & (gold == 1)).sum())
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("models", type=Path, nargs="?", default=ROOT / "src" / "askscope" / "classify" / "models")
    parser.add_argument(
        "--ngram-c", type=float, default=None, help="experiment: add an n-gram model with this C (not shipped)"
    )
    args = parser.parse_args()
    head, info = fit_head(args.data, args.models, args.ngram_c)
    head.save(args.models / HEAD_FILE)
    head = LinearHead.load(args.models / HEAD_FILE)  # score with the float32 weights that ship
    ngram = NgramLinear.load(args.models / NGRAM_FILE) if args.ngram_c is not None else None

    parts = []
    for g, name in VALIDATION.items():
        sources, gold = sources_of(head, ngram, args.data, name)
        parts.append((g, sources, gold))
    for name in ORDINARY:
        sources, gold = sources_of(head, ngram, args.data, name)
        check = ~ordinary_halves(len(gold), name)
        parts.append(("ordinary", [s[check] for s in sources], np.zeros(int(check.sum()), dtype=np.int64)))
    sources = [np.concatenate([p[1][i] for p in parts]) for i in range(len(parts[0][1]))]
    gold = np.concatenate([p[2] for p in parts])
    groups = np.array([p[0] for p in parts for _ in p[2]])

    everything = np.arange(len(gold))
    weights, bias, threshold = fit_rule(sources, gold, groups, everything)
    p_in = calibration.combine(sources, weights, bias)[:, 1]
    rng = np.random.default_rng(SEED)
    folds = np.zeros(len(gold), dtype=np.int64)
    for g in sorted(set(groups)):
        rows = np.where(groups == g)[0]
        folds[rows] = rng.permutation(len(rows)) % 2
    p_cross = np.zeros(len(gold))
    cross_pred = np.zeros(len(gold), dtype=np.int64)
    for f in (0, 1):
        w_f, b_f, t_f = fit_rule(sources, gold, groups, np.where(folds == f)[0])
        rows = folds != f
        p_cross[rows] = calibration.combine([s[rows] for s in sources], w_f, b_f)[:, 1]
        cross_pred[rows] = p_cross[rows] >= t_f
    pred_in = (p_in >= threshold).astype(np.int64)

    def block(g: str, metric: str) -> dict:
        rows = groups == g
        return {
            "n": int(rows.sum()),
            "metric": metric,
            "in_sample": round(100 * f1(gold[rows], pred_in[rows]), 2),
            "cross_fitted": round(100 * f1(gold[rows], cross_pred[rows]), 2),
            "confusion": confusion(gold[rows], cross_pred[rows], 2).tolist(),
        }

    ordinary = groups == "ordinary"
    card = {
        "task": "irony",
        "version": VERSION,
        "labels": ["non_irony", "irony"],
        "model": {
            "kind": "fine-tuned multi-task all-MiniLM-L6-v2 (ONNX int8): irony and sarcasm heads, plus a "
            "logistic head on the frozen pooled vector, all head logits and surface cues",
            "files": ["encoder.onnx", "tokenizer.json", "encoder.json", HEAD_FILE]
            + ([NGRAM_FILE] if ngram is not None else []),
        },
        "sources": [
            {"kind": "encoder", "head": "irony"},
            {"kind": "encoder", "head": "sarcasm"},
            {"kind": "head", "file": HEAD_FILE},
        ]
        + ([{"kind": "ngram", "file": NGRAM_FILE}] if ngram is not None else []),
        "training_data": [
            "tweeteval/irony/train (SemEval-2018 task 3A): irony head and the logistic head",
            "isarcasmeval/train.En.csv minus a seeded, stratified 20% held out: sarcasm head and the logistic head",
            "ordinary posts as negatives (a seeded half of each: tweeteval/stance/* train+val, airline/Tweets.csv, "
            "complaints/, tweeteval/sentiment/val), assumed not ironic: the logistic head",
        ],
        "head": {"file": HEAD_FILE, "inputs": list(INPUTS), **info},
        "calibration": {
            "method": "log-linear: softmax(sum_i w_i * log_softmax(scores_i) + bias), fitted by weighted log-loss "
            "on TweetEval irony val, the iSarcasmEval held-out fifth and the check half of the ordinary "
            "posts, weighted to a stream with 15% ironic posts (non-ironic: half the benchmarks' own, "
            "half ordinary posts)",
            "prior": REFERENCE_PRIOR,
            "weights": weights,
            "bias": bias,
        },
        "decision": {
            "kind": "threshold",
            "threshold": threshold,
            "chosen_for": "mean F1 over priors 5%, 15%, 40% and each validation set's natural prior",
        },
        "validation": {
            **block("irony", "F1 of the ironic class"),
            "data": "irony",
            "confusion_note": "rows = gold, columns = predicted; cross-fitted predictions",
        },
        "validation_extra": {"sarcasm": block("sarcasm", "F1 of the sarcastic class")},
        "realistic_priors": {
            "note": "expected F1 and classify-and-count share at each prior, from each set's tpr and a stream fpr "
            "(mean of the set's own non-ironic rows and the ordinary check rows); cross-fitted",
            "table": _table_from_predictions(cross_pred, gold, groups),
            "ordinary_flagged_share": {
                "in_sample": round(float(pred_in[ordinary].mean()), 4),
                "cross_fitted": round(float(cross_pred[ordinary].mean()), 4),
                "n": int(ordinary.sum()),
            },
        },
        "trained_with": {"python": platform.python_version()},
    }
    (args.models / "irony.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(
        json.dumps(
            {k: card[k] for k in ("calibration", "decision", "validation", "validation_extra", "realistic_priors")},
            indent=1,
        )
    )


def _table_from_predictions(pred: np.ndarray, gold: np.ndarray, groups: np.ndarray) -> dict:
    """Per set and prior (cross-fitted labels): expected F1 and classify-and-count share, from the
    set's tpr and the stream fpr, as a resample of the set to that prior would give on average."""
    ordinary_fpr = float(pred[groups == "ordinary"].mean())
    table = {}
    for g in VALIDATION:
        pos, neg = (groups == g) & (gold == 1), (groups == g) & (gold == 0)
        tpr, fpr = float(pred[pos].mean()), float((pred[neg].mean() + ordinary_fpr) / 2)
        for prior in PRIORS + (natural_prior(gold, groups, g),):
            flagged = prior * tpr + (1 - prior) * fpr
            table[f"{g}@{prior:.3f}"] = {
                "f1": round(100 * f1_at(tpr, fpr, prior), 2),
                "flagged_share": round(flagged, 4),
                "abs_error_classify_and_count": round(abs(flagged - prior), 4),
            }
    return table


if __name__ == "__main__":
    main()
