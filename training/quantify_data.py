"""Write the validation data the share estimator ships with (``askscope.classify.quantify``).

Usage: python -m training.quantify_data DATA_DIR [TASK ...]

For each model task (default: all six), run the installed models (``askscope.classify.classify``,
the path a user takes) on validation data the shipped models were not trained on, and write
``src/askscope/classify/models/validation/<task>.npz`` with

* ``gold``: the data set's label ids, in the label order of the task's card,
* ``probabilities``: the model's calibrated probabilities (float16, n x k),
* ``predicted``: the shipped decision,
* ``source``: which data set each row comes from,

and a sidecar ``<task>.json`` (labels, data, model version, the quantification method). The
method is chosen by measurement (``bench/shares.py DATA --choose`` writes it); a rerun after
retraining keeps the recorded choice until the bench is run again. Re-runnable: run it after
every retraining (the discourse head writes ``discourse.npz`` in the same format).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
from pathlib import Path

import numpy as np

from askscope.classify import classify, model_info
from askscope.classify.quantify import VALIDATION_DIR, model_digest
from askscope.classify.tasks import MODEL_TASKS
from training import data as d
from training.discourse_head import cached_encoder

DEFAULT_METHOD = "acc"


def validation_sources(data: Path, task: str) -> list[tuple[str, d.Split]]:
    """(source name, split) pairs of a task's validation data, never trained on by the models."""
    if task == "irony":
        # iSarcasmEval's held-out fifth: rows labelled sarcastic count as ironic (label 1)
        return [
            ("tweeteval-irony-val", d.tweeteval(data, "irony", "val")),
            ("isarcasmeval-heldout", d.isarcasm(data, "heldout")),
        ]
    if task == "sentiment":
        return [("tweeteval-sentiment-val-unseen", d.sentiment_val(data, "tweeteval"))]
    if task == "question":
        return [("rumoureval-dev", d.rumoureval(data, "dev"))]
    return [(f"tweeteval-{task}-val", d.tweeteval(data, task, "val"))]


DESCRIPTIONS = {
    "tweeteval-irony-val": "TweetEval irony val (SemEval-2018 task 3A)",
    "isarcasmeval-heldout": "iSarcasmEval English, the seeded held-out fifth (sarcastic = ironic)",
    "tweeteval-sentiment-val-unseen": "TweetEval sentiment val minus tweets the encoder trained on",
    "rumoureval-dev": "RumourEval 2017 dev (query = question)",
}


def export(data: Path, task: str, out: Path = VALIDATION_DIR) -> dict:
    """Classify a task's validation data and write its ``.npz`` and ``.json``; returns the sidecar."""
    sources = validation_sources(data, task)
    texts = [t for _, split in sources for t in split.texts]
    gold = np.asarray([y for _, split in sources for y in split.labels], dtype=np.int8)
    names = np.asarray([name for name, split in sources for _ in split.texts])
    result = classify(texts, [task])[task]
    probabilities = np.asarray(result.probabilities, dtype=np.float16)
    predicted = np.asarray(result.labels, dtype=np.int8)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{task}.npz", gold=gold, probabilities=probabilities, predicted=predicted, source=names)
    info = model_info(task)
    sidecar_path = out / f"{task}.json"
    previous = json.loads(sidecar_path.read_text(encoding="utf-8")) if sidecar_path.exists() else {}
    sidecar = {
        "task": task,
        "labels": list(info["labels"]),
        "model_version": info.get("version"),
        "model_sha256": model_digest(task),
        "data": "; ".join(f"{DESCRIPTIONS.get(name, name)} ({len(split)})" for name, split in sources),
        "sources": {name: len(split) for name, split in sources},
        "n": int(len(gold)),
        "per_class": {label: int((gold == i).sum()) for i, label in enumerate(info["labels"])},
        "texts_sha256": hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest(),
        "method": previous.get("method", DEFAULT_METHOD),
        "method_choice": previous.get("method_choice"),
    }
    sidecar_path.write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return sidecar


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("tasks", nargs="*", default=list(MODEL_TASKS))
    parser.add_argument(
        "--live-encoder",
        action="store_true",
        help="run the ONNX encoder on every post instead of reading its outputs from training.embed_cache "
        "(same outputs: a post's outputs depend on its own text only; the cache only saves time)",
    )
    args = parser.parse_args()
    for task in args.tasks:
        if task not in MODEL_TASKS:
            parser.error(f"unknown model task {task!r}; one of {', '.join(MODEL_TASKS)}")
    scoring = contextlib.nullcontext() if args.live_encoder else cached_encoder()
    with scoring:
        run(args)


def run(args: argparse.Namespace) -> None:
    """The body of :func:`main` (parsed arguments in, files and printed figures out)."""
    for task in args.tasks:
        sidecar = export(args.data, task)
        print(f"{task:10s} n={sidecar['n']:5d} {sidecar['per_class']} method={sidecar['method']}", flush=True)


if __name__ == "__main__":
    main()
