"""A static first pass in front of the encoder: how many posts could skip it? (issue 15)

Usage: python -m training.cascade_probe DATA_DIR [--out build/cascade/report.json]

Issue 15 asks for the whole stack at >= 500 posts per CPU-second with no task more than a point
below today's validation figures, and names one way: a cheap first pass, with the encoder only
where the first pass is unsure. This measures how far that way goes before anything is built:

1. the *stack* (every encoder task as the package runs it: ``askscope.classify.classify``) labels
   a pool of training posts (TweetEval, UMSAB and iSarcasmEval train, the SemEval sentiment
   pool, RumourEval train; never a validation set) and every validation set of
   ``training.evaluate``; the encoder's outputs come from ``training.embed_cache``;
2. a first pass learns to predict the stack's label of each task from the text alone: TF-IDF
   word 1-2-grams and character 2-5-grams, one logistic model per task (the strongest cheap
   text model at hand; a static-embedding model such as Model2Vec is weaker than this on these
   tasks, so its skip rate would be lower still);
3. on a fifth of the pool held aside, each task gets the lowest probability threshold above
   which the first pass agrees with the stack on at least ``A`` of the posts (``A`` swept);
4. on the validation sets a post *skips the encoder* when every task's first-pass probability is
   above its threshold, and takes the first pass's labels; the others keep the stack's. Printed:
   the skip rate, each set's official figure with and without the cascade, and the posts per
   CPU-second the skip rate implies from the measured costs (``--encoder-ms``, ``--rest-ms``) and
   the first pass's own measured cost.

Nothing here is shipped; the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from askscope.classify import classify
from askscope.classify.text import normalise
from training import data as d
from training.discourse_head import cached_encoder
from training.embed_cache import SPLITS
from training.metrics import OFFICIAL

TASKS = ["sentiment", "irony", "offensive", "hate", "emotion", "question", "discourse"]
POOL = [
    *(f"tweeteval-{t}-train" for t in ("irony", "offensive", "hate", "emotion")),
    *(f"umsab-{lang}-train" for lang in d.UMSAB_LANGUAGES),
    "semeval2017-pool",
    "isarcasm-fit",
    "rumoureval-train",
]
AGREEMENTS = (0.95, 0.97, 0.98, 0.99, 0.995)
SEED = 15


def val_sets(data: Path) -> dict[str, tuple[str, d.Split]]:
    """The sets of ``training.evaluate``: name -> (task, split)."""
    sets = {
        "sentiment": ("sentiment", d.sentiment_val(data, "tweeteval")),
        "irony": ("irony", d.tweeteval(data, "irony", "val")),
        "offensive": ("offensive", d.tweeteval(data, "offensive", "val")),
        "hate": ("hate", d.tweeteval(data, "hate", "val")),
        "emotion": ("emotion", d.tweeteval(data, "emotion", "val")),
        "sarcasm": ("irony", d.isarcasm(data, "heldout")),
        "question": ("question", d.rumoureval(data, "dev")),
        "umsab-english": ("sentiment", d.sentiment_val(data, "umsab")),
    }
    for lang in d.UMSAB_LANGUAGES:
        if lang != "english":
            sets[f"umsab-{lang}"] = ("sentiment", d.umsab(data, lang, "val"))
    return sets


def stack_labels(texts: list[str]) -> dict[str, np.ndarray]:
    """Each task's labels as the package gives them."""
    with cached_encoder():
        out = classify(texts, TASKS)
    return {t: np.asarray(out[t].labels) for t in TASKS}


class FirstPass:
    """TF-IDF n-grams and a logistic model per task, fitted to the stack's labels."""

    def __init__(self) -> None:
        self.words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=300_000)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=300_000
        )
        self.models: dict[str, LogisticRegression] = {}

    def features(self, texts: list[str], fit: bool = False):  # noqa: ANN201 (a scipy sparse matrix)
        norm = [normalise(t) for t in texts]
        if fit:
            return hstack([self.words.fit_transform(norm), self.chars.fit_transform(norm)]).tocsr()
        return hstack([self.words.transform(norm), self.chars.transform(norm)]).tocsr()

    def fit(self, texts: list[str], labels: dict[str, np.ndarray]) -> None:
        x = self.features(texts, fit=True)
        for task in TASKS:
            model = LogisticRegression(C=8.0, max_iter=300, solver="saga", tol=1e-3)
            model.fit(x, labels[task])
            self.models[task] = model

    def predict(self, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Labels and the probability of each label, per task."""
        x = self.features(texts)
        labels, sure = {}, {}
        for task, model in self.models.items():
            proba = model.predict_proba(x)
            labels[task] = model.classes_[proba.argmax(axis=1)]
            sure[task] = proba.max(axis=1)
        return labels, sure


def thresholds(sure: dict[str, np.ndarray], agree: dict[str, np.ndarray], target: float) -> dict[str, float]:
    """Per task, the lowest probability threshold whose posts above it agree with the stack on
    at least ``target`` of them (1.01: none does)."""
    out = {}
    for task in TASKS:
        order = np.argsort(-sure[task], kind="stable")
        hits = np.cumsum(agree[task][order]) / np.arange(1, len(order) + 1)
        ok = np.nonzero(hits >= target)[0]
        # the largest prefix (most posts) still at the target
        out[task] = float(sure[task][order][ok.max()]) if len(ok) else 1.01
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/cascade/report.json"))
    parser.add_argument("--encoder-ms", type=float, default=5.9, help="CPU ms of the encoder's part of a post")
    parser.add_argument("--rest-ms", type=float, default=0.6, help="CPU ms of the rest of the stack (language, rules)")
    args = parser.parse_args()

    pool_texts: list[str] = []
    for name in POOL:
        pool_texts += [str(t) for t in SPLITS[name](args.data).texts]
    pool_texts = list(dict.fromkeys(pool_texts))
    started = time.monotonic()
    pool_labels = stack_labels(pool_texts)
    print(f"pool: {len(pool_texts)} distinct texts labelled by the stack in {time.monotonic() - started:.0f} s")

    rng = np.random.default_rng(SEED)
    aside = rng.random(len(pool_texts)) < 0.2
    fit_texts = [t for t, a in zip(pool_texts, aside) if not a]
    gate_texts = [t for t, a in zip(pool_texts, aside) if a]
    first = FirstPass()
    started = time.monotonic()
    first.fit(fit_texts, {t: v[~aside] for t, v in pool_labels.items()})
    print(f"first pass fitted on {len(fit_texts)} posts in {time.monotonic() - started:.0f} s")
    gate_labels, gate_sure = first.predict(gate_texts)
    gate_agree = {t: gate_labels[t] == pool_labels[t][aside] for t in TASKS}
    for task in TASKS:
        print(f"  {task:10s} agreement with the stack on the aside fifth: {gate_agree[task].mean():.3f}")

    sets = val_sets(args.data)
    val_texts = list(dict.fromkeys(t for _, split in sets.values() for t in map(str, split.texts)))
    val_stack = stack_labels(val_texts)
    started = time.process_time()
    val_first, val_sure = first.predict(val_texts)
    first_ms = 1000 * (time.process_time() - started) / len(val_texts)
    row = {t: i for i, t in enumerate(val_texts)}

    report: dict[str, object] = {"pool": len(pool_texts), "val_texts": len(val_texts), "first_pass_ms": first_ms}
    sweeps = []
    for target in AGREEMENTS:
        cut = thresholds(gate_sure, gate_agree, target)
        skip = np.all([val_sure[t] >= cut[t] for t in TASKS], axis=0)
        per_set = {}
        for name, (task, split) in sets.items():
            idx = np.asarray([row[str(t)] for t in split.texts])
            gold = np.asarray(split.labels)
            stack = val_stack[task][idx]
            mixed = np.where(skip[idx], val_first[task][idx], stack)
            _, metric = OFFICIAL["umsab" if name.startswith("umsab") else name]
            per_set[name] = {
                "skip": float(skip[idx].mean()),
                "stack": round(100 * metric(gold, stack), 2),
                "cascade": round(100 * metric(gold, mixed), 2),
            }
        rate = float(skip.mean())
        alone = {t: float((val_sure[t] >= cut[t]).mean()) for t in TASKS}
        cpu_ms = args.rest_ms + first_ms + (1 - rate) * args.encoder_ms
        worst = min(per_set.items(), key=lambda kv: kv[1]["cascade"] - kv[1]["stack"])
        sweeps.append(
            {
                "agreement": target,
                "thresholds": cut,
                "skip": rate,
                "sure_per_task": alone,
                "posts_per_cpu_second": 1000 / cpu_ms,
                "sets": per_set,
            }
        )
        print(
            f"A={target:.3f}: skip {100 * rate:5.1f}% of validation posts, "
            f"{1000 / cpu_ms:5.0f} posts per CPU-second implied; worst set {worst[0]} "
            f"{worst[1]['stack']:.2f} -> {worst[1]['cascade']:.2f}"
        )
        print("    sure per task: " + ", ".join(f"{t} {100 * v:.1f}%" for t, v in alone.items()))
        for name, figures in per_set.items():
            print(
                f"    {name:18s} skip {100 * figures['skip']:5.1f}%  {figures['stack']:6.2f} -> {figures['cascade']:6.2f}"
            )
    report["sweeps"] = sweeps
    report["first_pass_alone"] = {}
    for name, (task, split) in sets.items():
        idx = np.asarray([row[str(t)] for t in split.texts])
        _, metric = OFFICIAL["umsab" if name.startswith("umsab") else name]
        value = round(100 * metric(np.asarray(split.labels), val_first[task][idx]), 2)
        report["first_pass_alone"][name] = value
        print(f"first pass alone, {name:18s} {value:6.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"first pass: {first_ms:.3f} ms CPU per post (features and {len(TASKS)} models, batch of all)")


if __name__ == "__main__":
    main()
