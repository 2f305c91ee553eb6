"""Write the model cards ``docs/models/<task>.md`` from the bundled cards and the benchmark.

Usage: python -m training.model_cards MODELS_DIR BENCH_JSON DOCS_DIR

The figures come from ``MODELS_DIR/<task>.json`` (written by ``training.calibrate``) and the
benchmark results (``bench/classify.py --json``); the prose on data, attempts and failure modes
comes from ``training/card_notes.py``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.card_notes import NOTES

GOALS = {
    "sentiment": ("TweetEval sentiment macro-recall", 62.9, 71.3),
    "irony": ("TweetEval irony F1 (ironic)", 63.1, 70.0),
    "offensive": ("TweetEval offensive macro-F1", 73.4, 79.5),
    "hate": ("TweetEval hate macro-F1", 50.6, 56.0),
    "emotion": ("TweetEval emotion macro-F1", 65.2, 76.1),
    "question": ("RumourEval query F1", 70.0, 80.0),
}


def size_mib(models: Path, files: list[str]) -> float:
    return sum((models / f).stat().st_size for f in files) / 2**20


def calibration_params(block: dict) -> str:
    if "routes" in block:
        return "; ".join(f"route `{name}` (n={p['n']}): weights {p['weights']}, bias {p['bias']}"
                         for name, p in block["routes"].items())
    return f"weights {block['weights']}, bias {block['bias']}"


def figures_table(card: dict) -> list[str]:
    lines = ["| validation set | n | metric | cross-fitted | in-sample (as shipped) |", "|---|---|---|---|---|"]
    blocks = [(card["validation"]["data"], card["validation"])] + list(card.get("validation_extra", {}).items())
    for name, block in blocks:
        lines.append(f"| {name} | {block['n']} | {block['metric']} | {block['cross_fitted']:.1f} | {block['in_sample']:.1f} |")
    umsab = [b for n, b in blocks if n.startswith("umsab")]
    if len(umsab) == 8:
        cross = sum(b["cross_fitted"] for b in umsab) / 8
        inside = sum(b["in_sample"] for b in umsab) / 8
        lines.append(f"| **UMSAB mean of 8 languages** | {sum(b['n'] for b in umsab)} | macro-F1 | {cross:.1f} | {inside:.1f} |")
    return lines


def render(task: str, card: dict, bench: dict, models: Path) -> str:
    notes = NOTES[task]
    files = card["model"]["files"]
    speed = bench["results"].get(task, {})
    stack = bench["results"].get("stack", {})
    metric, floor, goal = GOALS[task]
    value = card["validation"]["cross_fitted"]
    verdict = "meets the goal" if value >= goal else ("beats the floor, below the goal" if value > floor else "below the floor")
    out = [
        f"# `{task}` (v{card['version']})", "",
        notes["summary"], "",
        "## Model", "",
        f"- {card['model']['kind']}.",
        f"- Files in `askscope/classify/models/`: {', '.join(f'`{f}`' for f in files)} "
        f"({size_mib(models, files):.1f} MiB; the encoder is shared by all six model tasks).",
        f"- Labels (the data set's own ids): "
        + ", ".join(f"{i} = `{name}`" for i, name in enumerate(card["labels"])) + ".",
        f"- Calibration: {card['calibration']['method']}; {calibration_params(card['calibration'])}.",
        f"- Decision: {json.dumps(card['decision'])} (tuned on validation for the official metric).",
        "",
        "## Training data", "",
        *[f"- {d}" for d in card["training_data"]],
        "",
        "## Validation figures", "",
        f"Official metric: {metric}. Floor {floor}, goal {goal}: the cross-fitted validation figure "
        f"{value:.1f} {verdict}. The floor and goal are test-split figures from the literature; "
        "the held-out test splits are not in the data folder, so all figures here are validation "
        "figures (see *Caveats*).", "",
        *figures_table(card), "",
        "*Cross-fitted*: validation split in two seeded halves, calibration and decision rule fitted "
        "on one half and scored on the other (the honest estimate; its confusion matrix is the one "
        "stored for error-rate correction). *In-sample*: fitted and scored on all of validation, "
        "as shipped.", "",
        "Confusion matrix (cross-fitted; rows = gold, columns = predicted, order as the labels):", "",
        "```", *[" ".join(f"{x:6d}" for x in row) for row in card["validation"]["confusion"]], "```", "",
        "## Speed and size", "",
    ]
    if speed:
        out.append(f"- This task alone: {speed['posts_per_cpu_second']:.0f} posts per CPU-second "
                   f"({speed['posts_per_second']:.0f} posts/s wall on a shared machine, load average "
                   f"{speed['loadavg_1min_after']:.1f}); {speed['posts']:,} real tweets, {bench['threads']} threads, "
                   f"peak RSS {speed['peak_rss_mib']:.0f} MiB, model load {speed['load_seconds']:.1f} s.")
    if stack:
        out.append(f"- Whole stack (every task on every post, one encoder pass): {stack['posts_per_cpu_second']:.0f} "
                   f"posts per CPU-second, about {2 * stack['posts_per_cpu_second']:.0f} posts/s on two idle cores; "
                   f"peak RSS {stack['peak_rss_mib']:.0f} MiB. See `docs/benchmarks.md`.")
    out += ["", "## What was tried", "", notes["tried"], "", "## Known failure modes and biases", "",
            notes["failures"], "", "## Caveats", "", notes.get("caveats", CAVEATS), ""]
    return "\n".join(out)


CAVEATS = (
    "Validation data also chose the calibration and the decision rule (the in-sample column); "
    "the cross-fitted column removes that optimism but not the optimism of choosing the training "
    "recipe on the same validation sets. Test splits of these benchmarks are typically harder than "
    "their validation splits (other time periods, other topics), so expect lower figures there."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", type=Path)
    parser.add_argument("bench", type=Path)
    parser.add_argument("docs", type=Path)
    args = parser.parse_args()
    bench = json.loads(args.bench.read_text())
    args.docs.mkdir(parents=True, exist_ok=True)
    for task in GOALS:
        card = json.loads((args.models / f"{task}.json").read_text(encoding="utf-8"))
        (args.docs / f"{task}.md").write_text(render(task, card, bench, args.models), encoding="utf-8")


if __name__ == "__main__":
    main()
