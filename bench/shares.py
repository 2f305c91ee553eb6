"""Shares at realistic priors: does the share estimator stay right when the prior moves?

    python bench/shares.py ../shared/data [--draws 40] [--posts 1000] [--choose] [--models fast]

For every task's shipped validation set (``askscope/classify/models/validation/<task>.npz``, or
the fast model set's in ``models_fast/validation`` with ``--models fast``,
written by ``training/quantify_data.py``), split the rows in two folds (stratified by source and
gold class; a new seeded split for every simulated campaign, so no single lucky or unlucky split
decides the figures). One fold is the estimator's validation set (the error rates, the
recalibration); the other is resampled, with replacement, into a campaign of ``--posts`` posts
whose share of the target class is 5%, 15%, 40% or the source's natural prior, drawn without
replacement (a campaign of distinct real posts; smaller than ``--posts`` where the fold holds too
few posts of a class for that prior: the mean size is reported). Each campaign's
share is estimated by every method (cc, acc, pacc, em; ``askscope.classify.quantify``) and
compared with the campaign's true share. Sets: sarcasm (iSarcasmEval
held-out rows through the irony task), irony (TweetEval), offensive, hate, each sentiment class,
question (RumourEval dev). Reports per set and method the mean absolute error (points) and the
coverage of the 95% interval; ``--choose`` records the best method per task in the validation
sidecar (lowest worst-set error among the corrections whose interval covers >= 80% on every
set; cc, the uncorrected baseline, is never chosen).

The data folder argument is only recorded: everything is read from the shipped validation files.
Results: ``bench/results/shares.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from askscope.classify import models  # noqa: E402
from askscope.classify.quantify import METHODS, Validation, quantify  # noqa: E402

PRIORS = (0.05, 0.15, 0.40)
# (set name, task, source, target class)
SETS = [
    ("sarcasm", "irony", "isarcasmeval-heldout", "irony"),
    ("irony", "irony", "tweeteval-irony-val", "irony"),
    ("offensive", "offensive", None, "offensive"),
    ("hate", "hate", None, "hate"),
    ("sentiment:negative", "sentiment", None, "negative"),
    ("sentiment:neutral", "sentiment", None, "neutral"),
    ("sentiment:positive", "sentiment", None, "positive"),
    ("question", "question", None, "question"),
]
TARGET_ERROR = 5.0
TARGET_COVERAGE = 0.8
#: The validation folder read (and, with --choose, written): the chosen model set's.
VALIDATION_DIR = models.SETS["default"] / "validation"


def load(task: str) -> Validation:
    meta = json.loads((VALIDATION_DIR / f"{task}.json").read_text(encoding="utf-8"))
    with np.load(VALIDATION_DIR / f"{task}.npz", allow_pickle=False) as arrays:
        return Validation(
            task,
            tuple(meta["labels"]),
            arrays["gold"].astype(np.int64),
            arrays["predicted"].astype(np.int64),
            arrays["probabilities"].astype(np.float64),
            arrays["source"].astype(str),
            meta.get("method", "acc"),
            meta.get("data", ""),
            meta,
        )


def folds(validation: Validation, seed: int) -> np.ndarray:
    """Fold (0 or 1) of every row: half of each (source, gold) stratum, seeded."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(validation.gold), dtype=np.int64)
    assert validation.source is not None
    for source in np.unique(validation.source):
        for c in range(validation.k):
            rows = np.flatnonzero((validation.source == source) & (validation.gold == c))
            rng.shuffle(rows)
            fold[rows[len(rows) // 2 :]] = 1
    return fold


def campaign(
    pool: Validation, target: int, prior: float, posts: int, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Rows of one simulated campaign, drawn without replacement from the pool (so the campaign
    is a sample of distinct real posts, as a real one is): ``prior`` of them from the target class,
    the rest from the other classes. Its size is ``posts`` or as many as the pool allows at that
    prior. Returns (row indices, true share of the target)."""
    positives = np.flatnonzero(pool.gold == target)
    negatives = np.flatnonzero(pool.gold != target)
    n = int(min(posts, len(positives) / prior, len(negatives) / (1 - prior)))
    k = int(round(prior * n))
    rows = np.concatenate([rng.choice(positives, k, replace=False), rng.choice(negatives, n - k, replace=False)])
    return rows, k / n


def run(draws: int, posts: int, resamples: int, seed: int, tasks: set[str] | None) -> dict:
    results: dict = {
        "sets": {},
        "settings": {
            "draws": draws,
            "posts": posts,
            "resamples": resamples,
            "seed": seed,
            "priors": list(PRIORS) + ["natural"],
        },
    }
    cache: dict[str, Validation] = {}
    for name, task, source, target_label in SETS:
        if tasks and task not in tasks:
            continue
        if task not in cache:
            cache[task] = load(task)
        validation = cache[task]
        target = validation.labels.index(target_label)
        rows_of_source = np.ones(len(validation.gold), bool) if source is None else validation.source == source
        natural = float((validation.gold[rows_of_source] == target).mean())
        entry: dict = {
            "task": task,
            "source": source or "all",
            "class": target_label,
            "natural_prior": round(natural, 4),
            "priors": {},
        }
        for prior in (*PRIORS, natural):
            label = "natural" if prior is natural else f"{prior:.2f}"
            errors: dict[str, list[float]] = {m: [] for m in METHODS}
            covered: dict[str, list[bool]] = {m: [] for m in METHODS}
            widths: dict[str, list[float]] = {m: [] for m in METHODS}
            sizes: list[int] = []
            rng = np.random.default_rng([seed, len(name), int(prior * 10_000)])
            for draw in range(draws):
                fold = folds(validation, seed * 100_003 + draw)
                fitted = validation.subset(fold == 0)
                pool = validation.subset((fold == 1) & rows_of_source)
                rows, truth = campaign(pool, target, prior, posts, rng)
                sizes.append(len(rows))
                for method in METHODS:
                    shares = quantify(
                        fitted,
                        predicted=pool.predicted[rows],
                        probabilities=pool.probabilities[rows],
                        method=method,
                        resamples=resamples,
                        seed=draw,
                    )
                    low, high = shares.low[target], shares.high[target]
                    errors[method].append(abs(float(shares.estimate[target]) - truth))
                    covered[method].append(bool(low - 1e-9 <= truth <= high + 1e-9))
                    widths[method].append(float(high - low))
            entry["priors"][label] = {
                m: {
                    "mae_points": round(100 * float(np.mean(errors[m])), 2),
                    "coverage": round(float(np.mean(covered[m])), 3),
                    "mean_width_points": round(100 * float(np.mean(widths[m])), 2),
                }
                for m in METHODS
            }
            entry["priors"][label]["posts"] = round(float(np.mean(sizes)))
            print(
                f"{name:20s} {label:8s} n={entry['priors'][label]['posts']:4d} "
                + "  ".join(
                    f"{m}:{entry['priors'][label][m]['mae_points']:5.1f}/{entry['priors'][label][m]['coverage']:.2f}"
                    for m in METHODS
                ),
                flush=True,
            )
        results["sets"][name] = entry
    return results


def choose(results: dict) -> dict[str, dict]:
    """Per task, the method with the lowest worst-set error among those covering >= 80% on every
    set (else the lowest worst-set error)."""
    by_task: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for entry in results["sets"].values():
        for figures in entry["priors"].values():
            for method, f in figures.items():
                if method not in METHODS:
                    continue
                by_task.setdefault(entry["task"], {}).setdefault(method, []).append((f["mae_points"], f["coverage"]))
    choices = {}
    for task, methods in by_task.items():
        summary = {
            m: {
                "worst_mae_points": max(e for e, _ in v),
                "mean_mae_points": round(float(np.mean([e for e, _ in v])), 2),
                "min_coverage": min(c for _, c in v),
            }
            for m, v in methods.items()
        }
        corrections = [m for m in summary if m != "cc"]  # cc is the uncorrected baseline
        eligible = [m for m in corrections if summary[m]["min_coverage"] >= TARGET_COVERAGE] or corrections
        best = min(eligible, key=lambda m: (summary[m]["worst_mae_points"], summary[m]["mean_mae_points"]))
        choices[task] = {"method": best, "summary": summary}
    return choices


def speed(posts: int, seed: int) -> dict[str, dict[str, float]]:
    """Seconds per estimate (default 1,000 bootstrap draws) for a campaign of ``posts`` posts made
    by resampling the irony (2 classes) and sentiment (3 classes) validation rows."""
    from askscope.classify.quantify import RESAMPLES

    out: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(seed)
    for task in ("irony", "sentiment"):
        validation = load(task)
        assert validation.probabilities is not None
        rows = rng.integers(0, len(validation.gold), posts)
        out[task] = {}
        for method in METHODS:
            started = time.perf_counter()
            quantify(
                validation,
                predicted=validation.predicted[rows],
                probabilities=validation.probabilities[rows],
                method=method,
                resamples=RESAMPLES,
                seed=seed,
            )
            out[task][method] = round(time.perf_counter() - started, 2)
        print(
            f"speed {task:10s} {posts:,} posts: " + "  ".join(f"{m} {t:.2f}s" for m, t in out[task].items()), flush=True
        )
    return out


def table(results: dict) -> str:
    """The Markdown table of docs/benchmarks.md: MAE (points) / coverage per set, prior and method."""
    lines = ["| set | prior | posts | " + " | ".join(METHODS) + " |", "|---|---|---:|" + "---|" * len(METHODS)]
    for name, entry in results["sets"].items():
        for label, figures in entry["priors"].items():
            shown = f"natural ({entry['natural_prior']:.2f})" if label == "natural" else label
            lines.append(
                f"| {name} | {shown} | {figures['posts']} | "
                + " | ".join(f"{figures[m]['mae_points']:.1f} / {100 * figures[m]['coverage']:.0f}%" for m in METHODS)
                + " |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the shared data folder (recorded; the bench reads the shipped files)")
    parser.add_argument("--draws", type=int, default=40, help="campaigns per set and prior (a fold split each)")
    parser.add_argument("--posts", type=int, default=1000, help="posts per simulated campaign")
    parser.add_argument("--resamples", type=int, default=200, help="bootstrap draws per interval")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", nargs="*", help="only these tasks")
    parser.add_argument("--choose", action="store_true", help="record each task's best method in its sidecar")
    parser.add_argument(
        "--models", choices=sorted(models.SETS), default="default", help="the model set whose validation files are read"
    )
    parser.add_argument("--out", type=Path, help="results file (default: bench/results/shares[-SET].json)")
    parser.add_argument(
        "--speed",
        type=int,
        default=100_000,
        metavar="POSTS",
        help="also time one estimate per method on a campaign of POSTS posts (0: skip)",
    )
    args = parser.parse_args()
    global VALIDATION_DIR
    VALIDATION_DIR = models.SETS[args.models] / "validation"
    out = args.out or ROOT / "bench" / "results" / (
        "shares.json" if args.models == "default" else f"shares-{args.models}.json"
    )
    started = time.perf_counter()
    timings = speed(args.speed, args.seed) if args.speed else {}
    results = run(args.draws, args.posts, args.resamples, args.seed, set(args.tasks) if args.tasks else None)
    results["settings"]["models"] = args.models
    results["choices"] = choose(results)
    results["speed_seconds"] = {"posts": args.speed, "tasks": timings}
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(table(results))
    for task, choice in results["choices"].items():
        print(f"{task:10s} best: {choice['method']}  " + json.dumps(choice["summary"][choice["method"]]))
        if args.choose:
            path = VALIDATION_DIR / f"{task}.json"
            sidecar = json.loads(path.read_text(encoding="utf-8"))
            sidecar["method"] = choice["method"]
            sidecar["method_choice"] = {
                "by": "bench/shares.py",
                "settings": results["settings"],
                "summary": choice["summary"],
            }
            path.write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"{results['seconds']}s; results in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
