"""Do the lenses recover a simulated campaign's truth? Coverage of the reported 95% intervals.

    python bench/recovery.py --seeds 100 --posts 3000

For each seed: simulate a SYNTHETIC campaign (askscope.synthetic.campaign), label it through a
known confusion matrix (TruthLabeler), run every stage, and check whether the reported interval
of the hostile share (corrected), the answer rate (corrected for question-detection error) and
the median answer latency contains the campaign's realised truth. Prints the coverage of each.

The lenses never see the labeler's confusion matrix: the labeler hands them a simulated
validation set drawn from it (100 posts per true category, 100 questions and 100 other posts),
and the corrected shares go through the quantification estimator exactly as in a real run
(askscope.classify.quantify: adjusted classify-and-count, the interval bootstrapping the posts and
the validation set). The answer rate's correction uses the question error rates measured on that
validation set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_seed(seed: int, posts: int, data: Path, folder: Path) -> dict[str, bool | float | None]:
    from askscope.analysis import analyze
    from askscope.campaign import parse_campaign
    from askscope.store.core import open_store
    from askscope.synthetic.campaign import SimulationSpec, campaign_file, truth_labeler, write_campaign

    path = folder / f"sim-{seed}.duckdb"
    spec = SimulationSpec(seed=seed, posts=posts)
    simulation = write_campaign(path, spec, data)
    truth = simulation.realised()
    analyze(path, parse_campaign(campaign_file(spec)), settings={"labeler": truth_labeler(path, spec), "seed": seed})
    with open_store(path, read_only=True) as store:
        results = json.loads(store.con.execute("SELECT results FROM lens_results").fetchall()[0][0])
    path.unlink()

    def inside(value: float | None, estimate: dict) -> bool:
        low, high = estimate["ci"]
        return value is not None and low is not None and low <= value <= high

    hostile = results["backfire"]["hostile_share"]["corrected"]
    rate = results["engagement"]["answer_rate"]["corrected"]
    latency = results["engagement"]["answer_latency"]["median_s"]
    return {
        "hostile_share": inside(truth["hostile_share"], hostile),
        "answer_rate": inside(truth["answer_rate"], rate),
        "latency_median": inside(truth["latency_median_s"], latency),
        "hostile_error": hostile["value"] - truth["hostile_share"],
        "answer_rate_error": rate["value"] - truth["answer_rate"],
        "latency_error_s": latency["value"] - truth["latency_median_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="askscope-recovery-"))
    started = time.perf_counter()
    rows = [run_seed(seed, args.posts, args.data, folder) for seed in range(args.seeds)]
    for key in ("hostile_share", "answer_rate", "latency_median"):
        covered = sum(1 for r in rows if r[key])
        print(f"{key:<16} covered in {covered}/{len(rows)} seeds ({100 * covered / len(rows):.0f}%)")
    for key in ("hostile_error", "answer_rate_error", "latency_error_s"):
        values = [r[key] for r in rows]
        print(f"{key:<18} mean {sum(values) / len(values):+.4f}")
    print(f"{args.seeds} seeds of {args.posts} posts in {time.perf_counter() - started:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
