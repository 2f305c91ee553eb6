"""Human coding: coverage and width of the prediction-powered shares, and the commands' speed.

    python bench/coding.py --seeds 200 --posts 100000

Part 1, simulated coding (numpy only, the estimators askscope code estimate runs): for each seed a
frame of ``--frame`` posts gets true discourse categories (the simulator's default mix) and model
labels drawn through a known confusion matrix (right with probability ``accuracy``, otherwise one
of the other five categories at random). A coder codes a sample of ``--n`` posts with the truth;
the prediction-powered interval of each category's share (and of the hostile share) is checked
against the frame's true share, and its width compared with the coded-only interval. Simple
random samples, samples stratified by the model's label and samples stratified by a covariate
that shifts the category mix (three strata, think of the relation to the host), with proportional
allocation as ``askscope code sample --stratify-by`` draws them, for a good and a weaker model.

Part 2, speed: a SYNTHETIC campaign of ``--posts`` posts (askscope.synthetic.campaign, labelled
through the simulator's confusion matrix), then ``askscope code sample`` (300 posts), ``import``
(the sample coded with the truth) and ``estimate`` timed as commands (wall time including the
interpreter's start) and as library calls.

Part 3 (``--real K``), real posts: the TweetEval irony validation tweets become a campaign
analysed with the bundled classifiers; K samples of 300 posts are coded with the tweets' own
labels, and the irony share's PPI interval is checked against the true share.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = ("question_genuine", "question_critical", "mockery", "abuse", "support", "other")
MIX = np.array([0.20, 0.15, 0.25, 0.08, 0.12, 0.20])
HOSTILE = (1, 2, 3)


DESIGNS = {
    "srs": "simple random sample",
    "label": "stratified by model label",
    "covariate": "stratified by a covariate",
}


def simulate(seeds: int, frame: int, n: int, accuracy: float, design: str) -> dict[str, object]:
    from askscope.coding.ppi import coded_share, ppi_share
    from askscope.coding.sampling import allocate

    targets = {name: (k,) for k, name in enumerate(CATEGORIES)} | {"hostile": HOSTILE}
    covered = {t: 0 for t in targets}
    covered_coded = {t: 0 for t in targets}
    ratios: dict[str, list[float]] = {t: [] for t in targets}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        # a covariate with three values (think: relation to the host) that shifts the category mix
        covariate = rng.choice(3, size=frame, p=[0.5, 0.3, 0.2])
        truth = np.empty(frame, dtype=int)
        for value in range(3):
            mix = np.roll(MIX, 2 * value)
            where = np.flatnonzero(covariate == value)
            truth[where] = rng.choice(len(CATEGORIES), size=len(where), p=mix / mix.sum())
        wrong = (truth + rng.integers(1, len(CATEGORIES), size=frame)) % len(CATEGORIES)
        model = np.where(rng.random(frame) < accuracy, truth, wrong)
        if design != "srs":
            key = model if design == "label" else covariate
            sizes = {str(k): int((key == k).sum()) for k in sorted(set(key.tolist()))}
            alloc = allocate(sizes, n)
            idx = np.concatenate(
                [rng.choice(np.flatnonzero(key == int(k)), alloc[k], replace=False) for k in sorted(sizes)]
            )
            strata = key[idx].astype(str)
        else:
            idx = rng.choice(frame, size=n, replace=False)
            strata, sizes = None, None
        for name, members in targets.items():
            y = np.isin(truth[idx], members).astype(float)
            yhat = np.isin(model[idx], members).astype(float)
            yhat_all = np.isin(model, members).astype(float)
            share = float(np.isin(truth, members).mean())
            ppi, _ = ppi_share(y, yhat, yhat_all, strata, sizes)
            coded = coded_share(y, strata, sizes)
            covered[name] += ppi.low <= share <= ppi.high
            covered_coded[name] += coded.low <= share <= coded.high
            ratios[name].append((ppi.high - ppi.low) / (coded.high - coded.low))
    all_ratios = [r for values in ratios.values() for r in values]
    return {
        "design": DESIGNS[design],
        "model_accuracy": accuracy,
        "seeds": seeds,
        "frame": frame,
        "n": n,
        "ppi_coverage": {t: covered[t] / seeds for t in targets},
        "ppi_coverage_all": sum(covered.values()) / (seeds * len(targets)),
        "coded_only_coverage_all": sum(covered_coded.values()) / (seeds * len(targets)),
        "width_ratio": {t: float(np.mean(v)) for t, v in ratios.items()},
        "width_ratio_all": float(np.mean(all_ratios)),
    }


def _cli(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "askscope", *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return seconds, proc.stdout


def speed(posts: int, data: Path, folder: Path) -> dict[str, object]:
    from askscope.analysis import analyze
    from askscope.campaign import parse_campaign
    from askscope.coding import draw_sample, estimate, import_codes, write_sample
    from askscope.store.core import open_store
    from askscope.synthetic.campaign import SimulationSpec, campaign_file, truth_labeler, write_campaign

    path = folder / "campaign.duckdb"
    spec = SimulationSpec(seed=1, posts=posts)
    started = time.perf_counter()
    write_campaign(path, spec, data)
    analyze(path, parse_campaign(campaign_file(spec)), settings={"labeler": truth_labeler(path, spec), "seed": 1})
    build = time.perf_counter() - started
    sample = folder / "sample.csv"
    cli_sample, _ = _cli("code", "sample", str(path), "--task", "discourse", "--n", "300", "-o", str(sample))
    with open_store(path, read_only=True) as store:
        truth = dict(store.con.execute("SELECT post_id, category FROM sim_truth").fetchall())
        frame = store.con.execute("SELECT count(*) FROM relations WHERE in_campaign AND relation <> 'host'").fetchall()[
            0
        ][0]
    rows = list(csv.reader(io.StringIO(sample.read_bytes().decode("utf-8-sig"), newline="")))
    header = rows[0]
    for row in rows[1:]:
        row[header.index("code")] = truth[row[header.index("post_id")]]
    coded = folder / "coded.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    coded.write_text(buffer.getvalue(), encoding="utf-8-sig")
    cli_import, _ = _cli("code", "import", str(path), str(coded), "--coder", "truth")
    cli_estimate, out = _cli("code", "estimate", str(path), "--task", "discourse", "--json")
    result = json.loads(out)
    with open_store(path) as store:
        t0 = time.perf_counter()
        write_sample(draw_sample(store, "discourse", 300, seed=2), folder / "again.csv")
        t1 = time.perf_counter()
        import_codes(store, coded, "truth-again")
        t2 = time.perf_counter()
        estimate(store, "discourse")
        t3 = time.perf_counter()
    return {
        "posts": posts,
        "frame": frame,
        "n_coded": result["n_coded"],
        "n_total": result["n_total"],
        "build_and_analyze_s": round(build, 1),
        "cli_s": {"sample": round(cli_sample, 2), "import": round(cli_import, 2), "estimate": round(cli_estimate, 2)},
        "library_s": {"sample": round(t1 - t0, 2), "import": round(t2 - t1, 2), "estimate": round(t3 - t2, 2)},
    }


def real(seeds: int, data: Path, folder: Path) -> dict[str, object]:
    """Part 3: the 955 TweetEval irony validation tweets as a campaign (hashtag #AskTest, one host
    post), analysed with the bundled classifiers; for each seed a 300-post sample coded with the
    tweets' own labels. Whether the PPI interval of the irony share covers the true share, and
    its width beside the coded-only one."""
    from askscope.analysis import analyze
    from askscope.campaign import parse_campaign
    from askscope.coding import draw_sample, estimate, import_codes, write_sample
    from askscope.ingestion.engine import ingest
    from askscope.store.core import open_store

    texts = (data / "tweeteval" / "irony" / "val_text.txt").read_text(encoding="utf-8").splitlines()
    gold = (data / "tweeteval" / "irony" / "val_labels.txt").read_text().split()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "author_id", "author.username", "created_at", "text"])
    writer.writerow([str(10**17 + 10**6), "4999", "TestHost", "2020-01-01T09:00:00.000Z", "Ask us anything #AskTest"])
    truth = {}
    for i, (text, label) in enumerate(zip(texts, gold)):
        post_id = str(10**17 + i)
        truth[post_id] = "irony" if label == "1" else "non_irony"
        writer.writerow(
            [
                post_id,
                str(5000 + i % 400),
                f"user{i % 400}",
                f"2020-01-01T{10 + i // 400:02d}:{(i // 7) % 60:02d}:00.000Z",
                f"{text} #AskTest",
            ]
        )
    (folder / "posts.csv").write_text(buffer.getvalue(), encoding="utf-8")
    path = folder / "real.duckdb"
    ingest(str(path), [str(folder / "posts.csv")])
    analyze(
        path,
        parse_campaign(
            {
                "name": "TweetEval irony val",
                "hosts": ["TestHost"],
                "hashtags": ["AskTest"],
                "start": "2020-01-01T00:00:00+00:00",
                "end": "2020-01-02T00:00:00+00:00",
            }
        ),
    )
    true_share = sum(v == "irony" for v in truth.values()) / len(truth)
    frame_truth = sum(v == "irony" for v in truth.values()) / (len(truth) + 1)  # + the host's post
    rows = []
    with open_store(path) as store:
        for seed in range(1, seeds + 1):
            sample = draw_sample(store, "irony", 300, seed=seed)
            for row in sample.rows:
                row["code"] = truth.get(row["post_id"], "non_irony")  # the host's post: not ironic
            write_sample(sample, folder / "coded.csv")
            import_codes(store, folder / "coded.csv", "gold")
            result = estimate(store, "irony", sample.sample_id).shares["irony"]
            ppi, coded, model = result["ppi"], result["coded_only"], result["model_only"]
            rows.append(
                {
                    "seed": seed,
                    "ppi": ppi.as_dict(),
                    "coded_only": coded.as_dict(),
                    "covers": ppi.low <= frame_truth <= ppi.high,
                    "width_ratio": (ppi.high - ppi.low) / (coded.high - coded.low),
                }
            )
        model_only = model.as_dict()
    return {
        "posts": len(truth) + 1,
        "true_irony_share_of_tweets": true_share,
        "true_irony_share_of_frame": frame_truth,
        "model_only": model_only,
        "ppi_coverage": sum(r["covers"] for r in rows) / len(rows),
        "width_ratio": float(np.mean([r["width_ratio"] for r in rows])),
        "seeds": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200, help="simulated seeds (part 1; 0: skip)")
    parser.add_argument("--frame", type=int, default=20_000, help="posts per simulated frame (part 1)")
    parser.add_argument("--n", type=int, default=300, help="coded posts per seed (part 1)")
    parser.add_argument("--posts", type=int, default=100_000, help="posts of the timed campaign (part 2; 0: skip)")
    parser.add_argument(
        "--real",
        type=int,
        default=0,
        help="seeds of the real-posts check (part 3: TweetEval irony validation, bundled models; 0: skip)",
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    results: dict[str, object] = {"simulation": []}
    for accuracy in (0.8, 0.6) if args.seeds else ():
        for design in DESIGNS:
            row = simulate(args.seeds, args.frame, args.n, accuracy, design)
            results["simulation"].append(row)  # type: ignore[attr-defined]
            print(
                f"{row['design']:<28} model {accuracy:.0%} right: PPI coverage {row['ppi_coverage_all']:.3f} "
                f"(min {min(row['ppi_coverage'].values()):.3f}), coded-only coverage "
                f"{row['coded_only_coverage_all']:.3f}, width PPI/coded {row['width_ratio_all']:.2f}",
                flush=True,
            )
            print(
                "    "
                + ", ".join(
                    f"{k} {row['ppi_coverage'][k]:.3f}/{row['width_ratio'][k]:.2f}" for k in row["ppi_coverage"]
                ),
                flush=True,
            )
    if args.posts:
        with tempfile.TemporaryDirectory(prefix="askscope-coding-") as folder:
            results["speed"] = speed(args.posts, args.data, Path(folder))
        print(json.dumps(results["speed"]))
    if args.real:
        with tempfile.TemporaryDirectory(prefix="askscope-coding-real-") as folder:
            results["real"] = real(args.real, args.data, Path(folder))
        summary = {k: v for k, v in results["real"].items() if k != "seeds"}  # type: ignore[union-attr]
        print(json.dumps(summary))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
