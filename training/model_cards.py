"""Write the model cards ``docs/models/<task>.md`` from the bundled cards and the benchmark.

Usage: python -m training.model_cards MODELS_DIR BENCH_JSON DOCS_DIR [--shares bench/results/shares.json]

The figures come from ``MODELS_DIR/<task>.json`` (written by ``training.calibrate``,
``training.irony_head``, ``training.question_head``), the benchmark results
(``bench/classify.py --json``) and, for the error of estimated shares at realistic priors, the
share benchmark (``bench/shares.py``, default ``bench/results/shares.json``; without it the card
says so and shows the card's own classify-and-count figures where it has them); the prose on data,
attempts and failure modes comes from ``training/card_notes.py``.
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
        return "; ".join(
            f"route `{name}` (n={p['n']}): weights {p['weights']}, bias {p['bias']}"
            for name, p in block["routes"].items()
        )
    return f"weights {block['weights']}, bias {block['bias']}"


def figures_table(card: dict) -> list[str]:
    lines = ["| validation set | n | metric | cross-fitted | in-sample (as shipped) |", "|---|---|---|---|---|"]
    blocks = [(card["validation"]["data"], card["validation"])] + list(card.get("validation_extra", {}).items())
    for name, block in blocks:
        lines.append(
            f"| {name} | {block['n']} | {block['metric']} | {block['cross_fitted']:.1f} | {block['in_sample']:.1f} |"
        )
    main = card["validation"]
    if "cross_fitted_mean_of_20_splits" in main:
        lines.append(
            f"| {main['data']}, mean (sd) of 20 seeded two-fold splits | {main['n']} | {main['metric']} | "
            f"{main['cross_fitted_mean_of_20_splits']:.1f} ({main['cross_fitted_sd_of_20_splits']:.1f}) | |"
        )
    for name, value in main.get("baselines", {}).items():
        lines.append(f"| {main['data']}, baseline: {name} | {main['n']} | {main['metric']} | {value:.1f} | |")
    if "ordinary_flagged_share" in card.get("realistic_priors", {}):
        o = card["realistic_priors"]["ordinary_flagged_share"]
        lines.append(
            f"| ordinary posts (check half; assumed not ironic) | {o['n']} | share labelled ironic | "
            f"{100 * o['cross_fitted']:.1f}% | {100 * o['in_sample']:.1f}% |"
        )
    umsab = [b for n, b in blocks if n.startswith("umsab")]
    if len(umsab) == 8:
        cross = sum(b["cross_fitted"] for b in umsab) / 8
        inside = sum(b["in_sample"] for b in umsab) / 8
        lines.append(
            f"| **UMSAB mean of 8 languages** | {sum(b['n'] for b in umsab)} | macro-F1 | {cross:.1f} | {inside:.1f} |"
        )
    return lines


def shares_section(task: str, card: dict, shares: dict | None) -> list[str]:
    """Absolute error of the estimated share at priors 5/15/40%/natural, per validation set."""
    out = ["## Shares at realistic priors", ""]
    sets = {n: e for n, e in (shares or {}).get("sets", {}).items() if e["task"] == task}
    if sets:
        chosen = shares.get("choices", {}).get(task, {}).get("method", "acc")
        settings = shares.get("settings", {})
        out += [
            f"Mean absolute error of the estimated share (points) and the 95% interval's coverage, over "
            f"{settings.get('draws', '?')} simulated campaigns of up to {settings.get('posts', '?')} real validation "
            f"posts per set and prior (`bench/shares.py`: rates from one fold, campaign drawn from the other, "
            f"without replacement: a fold with few posts of a class makes smaller campaigns, column posts). "
            f"`{chosen}` is the method the estimator uses for this task; `cc` counts labels (no correction).",
            "",
            "| set (class) | prior | posts | " + f"{chosen} error / coverage | cc error |",
            "|---|---|---|---|---|",
        ]
        for name, entry in sets.items():
            for label, figures in entry["priors"].items():
                shown = f"natural ({entry['natural_prior']:.2f})" if label == "natural" else label
                out.append(
                    f"| {name} (`{entry['class']}`) | {shown} | {figures.get('posts', '?')} | "
                    f"{figures[chosen]['mae_points']:.1f} / "
                    f"{100 * figures[chosen]['coverage']:.0f}% | {figures['cc']['mae_points']:.1f} |"
                )
        return out + [""]
    table = card.get("realistic_priors", {}).get("table")
    out.append(
        "`bench/shares.py` had not been run when this card was written: no estimated-share errors here."
        if shares is None
        else "`bench/shares.py` has no validation set for this task: no estimated-share "
        "errors here (the share estimator has no validation data for it)."
    )
    if table:
        out += [
            "Classify-and-count (labels counted, no correction), from each set's cross-fitted true and "
            "false positive rates at each prior:",
            "",
            "| set @ prior | expected F1 | share of posts labelled | absolute error (points) |",
            "|---|---|---|---|",
        ]
        for key, row in table.items():
            out.append(
                f"| {key} | {row['f1']:.1f} | {100 * row['flagged_share']:.1f}% | "
                f"{100 * row['abs_error_classify_and_count']:.1f} |"
            )
    return out + [""]


def render(task: str, card: dict, bench: dict, models: Path, shares: dict | None = None) -> str:
    notes = NOTES[task]
    files = card["model"]["files"]
    speed = bench["results"].get(task, {})
    stack = bench["results"].get("stack", {})
    metric, floor, goal = GOALS[task]
    value = card["validation"]["cross_fitted"]
    verdict = (
        "meets the goal"
        if value >= goal
        else ("beats the floor, below the goal" if value > floor else "below the floor")
    )
    out = [
        f"# `{task}` (v{card['version']})",
        "",
        notes["summary"],
        "",
        "## Model",
        "",
        f"- {card['model']['kind']}.",
        f"- Files in `askscope/classify/models/`: {', '.join(f'`{f}`' for f in files)} "
        f"({size_mib(models, files):.1f} MiB; the encoder is shared by all six model tasks).",
        "- Labels (the data set's own ids): "
        + ", ".join(f"{i} = `{name}`" for i, name in enumerate(card["labels"]))
        + ".",
        f"- Calibration: {card['calibration']['method']}; {calibration_params(card['calibration'])}.",
        f"- Decision: {json.dumps(card['decision'])} (tuned on validation data: "
        + (f"{card['decision']['chosen_for']}" if "chosen_for" in card["decision"] else "for the official metric")
        + (
            "; `rule_floor`: rule features that make a post positive whatever the model says, per language route"
            if "rule_floor" in card["decision"]
            else ""
        )
        + ").",
        "",
        "## Training data",
        "",
        *[f"- {d}" for d in card["training_data"]],
        "",
        "## Validation figures",
        "",
        f"Official metric: {metric}. Floor {floor}, goal {goal}: the cross-fitted validation figure "
        f"{value:.1f} {verdict}. The floor and goal are test-split figures from the literature; "
        "the held-out test splits are not in the data folder, so all figures here are validation "
        "figures (see *Caveats*).",
        "",
        *figures_table(card),
        "",
        "*Cross-fitted*: validation split in two seeded halves, calibration and decision rule fitted "
        "on one half and scored on the other (the honest estimate; its confusion matrix is the one "
        "stored for error-rate correction). *In-sample*: fitted and scored on all of validation, "
        "as shipped.",
        "",
        "Confusion matrix (cross-fitted; rows = gold, columns = predicted, order as the labels):",
        "",
        "```",
        *[" ".join(f"{x:6d}" for x in row) for row in card["validation"]["confusion"]],
        "```",
        "",
        "## Speed and size",
        "",
    ]
    if speed:
        out.append(
            f"- This task alone: {speed['posts_per_cpu_second']:.0f} posts per CPU-second "
            f"({speed['posts_per_second']:.0f} posts/s wall on a shared machine, load average "
            f"{speed['loadavg_1min_after']:.1f}); {speed['posts']:,} real tweets, {bench['threads']} threads, "
            f"peak RSS {speed['peak_rss_mib']:.0f} MiB, model load {speed['load_seconds']:.1f} s."
        )
    if stack:
        out.append(
            f"- Whole stack (every task on every post, one encoder pass): {stack['posts_per_cpu_second']:.0f} "
            f"posts per CPU-second (load average {stack.get('loadavg_1min_after', float('nan')):.1f} on 2 cores "
            "while measured: per-CPU-second figures fall under heavy load too), about "
            f"{2 * stack['posts_per_cpu_second']:.0f} posts/s on two idle cores at that rate; "
            f"peak RSS {stack['peak_rss_mib']:.0f} MiB. See `docs/benchmarks.md`."
        )
        out.append(
            f"- Measured on {bench.get('cpu') or 'AMD EPYC cores with AVX-512 VNNI'}. The int8 encoder's speed "
            "depends on the CPU about threefold: the whole stack ran at 314-324 posts per CPU-second on AMD EPYC "
            "cores with AVX-512 VNNI (8-bit weights) and at 138-160 on an AVX2-only one (7-bit), with the same outputs (docs/benchmarks.md, "
            '"Exact int8 products on a CPU without VNNI" and "The fast model set, and 7-bit weights"). The fast '
            'model set labels about 1.8 times as many posts per CPU-second (docs/classify.md, "Model sets").'
        )
    out += ["", *shares_section(task, card, shares)]
    if notes.get("definition"):
        out += ["## What the label means", "", notes["definition"], ""]
    out += [
        "## What was tried",
        "",
        notes["tried"],
        "",
        "## Known failure modes and biases",
        "",
        notes["failures"],
        "",
        "## Caveats",
        "",
        notes.get("caveats", CAVEATS),
        "",
    ]
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
    parser.add_argument(
        "--shares",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "bench" / "results" / "shares.json",
        help="bench/shares.py results (optional)",
    )
    parser.add_argument("--tasks", nargs="*", default=list(GOALS), help="only these cards (default: all six)")
    args = parser.parse_args()
    bench = json.loads(args.bench.read_text())
    shares = json.loads(args.shares.read_text()) if args.shares.is_file() else None
    args.docs.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        card = json.loads((args.models / f"{task}.json").read_text(encoding="utf-8"))
        (args.docs / f"{task}.md").write_text(render(task, card, bench, args.models, shares), encoding="utf-8")


if __name__ == "__main__":
    main()
