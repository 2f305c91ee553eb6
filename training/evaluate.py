"""Official validation figures of the installed package, computed through ``askscope.classify``.

Usage: python -m training.evaluate DATA_DIR [--out report.json]

This is the path a user takes (normalisation, ONNX encoder, calibration, decision rule), so the
figures are those of the shipped models. Calibration and decision rules were fitted on these
same validation sets: see each card's ``cross_fitted`` figure for the honest estimate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

import numpy as np

from askscope.classify import classify
from training import data as d
from training.discourse_head import cached_encoder
from training.metrics import OFFICIAL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--live-encoder",
        action="store_true",
        help="run the ONNX encoder on every post instead of reading its outputs from training.embed_cache "
        "(same outputs: a post's outputs depend on its own text only; the cache only saves time)",
    )
    args = parser.parse_args()
    scoring = contextlib.nullcontext() if args.live_encoder else cached_encoder()
    with scoring:
        run(args)


def run(args: argparse.Namespace) -> None:
    """The body of :func:`main` (parsed arguments in, files and printed figures out)."""
    sets = {
        "sentiment": ("sentiment", d.sentiment_val(args.data, "tweeteval")),
        "irony": ("irony", d.tweeteval(args.data, "irony", "val")),
        "offensive": ("offensive", d.tweeteval(args.data, "offensive", "val")),
        "hate": ("hate", d.tweeteval(args.data, "hate", "val")),
        "emotion": ("emotion", d.tweeteval(args.data, "emotion", "val")),
        "sarcasm": ("irony", d.isarcasm(args.data, "heldout")),
        "question": ("question", d.rumoureval(args.data, "dev")),
    }
    sets["umsab-english"] = ("sentiment", d.sentiment_val(args.data, "umsab"))
    for lang in [lang for lang in d.UMSAB_LANGUAGES if lang != "english"]:
        sets[f"umsab-{lang}"] = ("sentiment", d.umsab(args.data, lang, "val"))
    report = {}
    for name, (task, split) in sets.items():
        labels = classify(split.texts, [task])[task].labels
        metric_name, metric = OFFICIAL["umsab" if name.startswith("umsab") else name]
        report[name] = {
            "task": task,
            "metric": metric_name,
            "n": len(split),
            "value": round(100 * metric(split.labels, labels), 2),
        }
        print(f"{name:18s} {task:10s} {metric_name:28s} {report[name]['value']:6.2f}  (n={len(split)})", flush=True)
    umsab = [v["value"] for k, v in report.items() if k.startswith("umsab")]
    report["umsab-mean"] = {
        "task": "sentiment",
        "metric": "mean macro-F1 of 8 languages",
        "value": round(float(np.mean(umsab)), 2),
    }
    print(f"umsab-mean         sentiment  mean macro-F1 of 8 languages {report['umsab-mean']['value']:6.2f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
