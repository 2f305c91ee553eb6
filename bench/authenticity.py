"""Authenticity benchmark: every co-action network on a simulated campaign, and askscope against
the QUT coordination-network-toolkit on the same 100k-post input, in the same run.

    python bench/authenticity.py                          # 1M posts + the 100k comparison
    python bench/authenticity.py --posts 200000 --compare 50000

Builds (once, cached in --cache) SYNTHETIC twarc2 campaigns with ``askscope.synthetic.twarc2``
(real TweetEval/UMSAB texts, Zipf-active accounts, replies, quotes, retweets, links) and ingests
them. Part 1 runs the whole ``authenticity`` analysis (5 networks with 10 null runs each,
near-duplicate clusters, bursts, account signals) on the large store and times each step.
Part 2 takes the comparison store, hands the toolkit exactly askscope's population rows
(``toolkit_messages``) and times, for co_repost/co_retweet, co_post/co_tweet, co_link, co_reply
and co_similar (Jaccard ≥ 0.8, ≥ 5 tokens): askscope's edges (no null runs: the same work as the
toolkit) against the toolkit's preprocess + compute. Prints a markdown table and writes
bench/results/authenticity-N.json. Record the table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "src"))

import askscope  # noqa: E402
from askscope.authenticity import analyze_authenticity  # noqa: E402
from askscope.authenticity.coordination import run_coordination  # noqa: E402
from askscope.authenticity.exports import toolkit_messages  # noqa: E402
from askscope.authenticity.population import build_population  # noqa: E402
from askscope.authenticity.settings import AuthenticitySettings  # noqa: E402
from askscope.synthetic.twarc2 import load_texts, write_twarc2  # noqa: E402


def campaign_store(cache: Path, posts: int, data: Path) -> Path:
    """A store of ``posts`` SYNTHETIC posts, built once."""
    store = cache / f"campaign-{posts}.duckdb"
    if store.exists():
        return store
    source = cache / f"campaign-{posts}.jsonl"
    print(f"writing {posts:,} SYNTHETIC posts to {source} ...", file=sys.stderr)
    write_twarc2(source, posts, load_texts(data), seed=7)
    print("ingesting ...", file=sys.stderr)
    partial = store.with_suffix(".partial")
    if partial.exists():
        partial.unlink()
    askscope.ingest(str(partial), [str(source)])
    partial.rename(store)
    source.unlink()
    return store


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def full_analysis(store_path: Path, work: Path) -> dict[str, object]:
    copy = work / "full.duckdb"
    shutil.copy(store_path, copy)
    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    last = [started]

    def step(message: str) -> None:
        now = time.perf_counter()
        steps.append((message, now - last[0]))
        last[0] = now

    with askscope.open_store(copy) as store, store.transaction():
        summary = analyze_authenticity(store, None, {}, progress=step)
    step("done")
    total = time.perf_counter() - started
    # each message marks the start of a step: attribute the time to the previous message
    timings: dict[str, float] = {}
    for (message, _), (_, seconds) in zip(steps, steps[1:]):
        timings[message.replace("authenticity: ", "")] = round(seconds, 2)
    copy.unlink()
    return {
        "seconds": round(total, 2),
        "steps": timings,
        "population": summary["population"],
        "networks": {
            n: {k: v[k] for k in ("edges", "pairs", "threshold_weight", "significant_pairs", "coordinated_accounts")}
            for n, v in summary["networks"].items()
        },
        "near_duplicates": summary["near_duplicates"],
    }


def compare_with_toolkit(store_path: Path, work: Path) -> dict[str, object]:
    from coordination_network_toolkit import compute_networks as toolkit
    from coordination_network_toolkit.preprocess import preprocess_data
    from coordination_network_toolkit.similarity import get_similarity_fn_from_min_size

    copy = work / "compare.duckdb"
    shutil.copy(store_path, copy)
    results: dict[str, dict[str, float]] = {}
    with askscope.open_store(copy) as store:
        started = time.perf_counter()
        population = build_population(store.con, None)
        prepared = time.perf_counter() - started
        for network in ("co_repost", "co_post", "co_link", "co_reply", "co_similar"):
            settings = AuthenticitySettings(networks=(network,), null_runs=1, max_crowd=None)  # the same work
            clock = time.perf_counter()
            # null_runs=1 still runs one shuffle: subtract it by timing the edges alone below
            from askscope.authenticity.networks import build_actions, compute_edges
            from askscope.authenticity.population import POPULATION

            build_actions(store.con, network, settings)
            edges = compute_edges(store.con, network, POPULATION, 60.0, settings)
            results[network] = {"askscope_seconds": round(time.perf_counter() - clock, 3), "edges": len(edges)}
        rows = list(toolkit_messages(store.con))
        with_nulls = time.perf_counter()
        run_coordination(store.con, population, AuthenticitySettings())
        results_all_with_nulls = time.perf_counter() - with_nulls
    db = str(work / "toolkit.db")
    clock = time.perf_counter()
    preprocess_data(db, rows)
    toolkit_preprocess = time.perf_counter() - clock
    calls = {
        "co_repost": lambda: toolkit.compute_co_retweet_parallel(db, 60, n_threads=2),
        "co_post": lambda: toolkit.compute_co_tweet_network(db, 60, n_threads=2),
        "co_link": lambda: toolkit.compute_co_link_network(db, 60, n_threads=2),
        "co_reply": lambda: toolkit.compute_co_reply_network(db, 60, n_threads=2),
        "co_similar": lambda: toolkit.compute_co_similar_tweet(
            db, 60, n_threads=2, similarity_threshold=0.8, similarity_function=get_similarity_fn_from_min_size(5)
        ),
    }
    import sqlite3

    tables = {
        "co_repost": "co_retweet_network",
        "co_post": "co_tweet_network",
        "co_link": "co_link_network",
        "co_reply": "co_reply_network",
        "co_similar": "co_similar_tweet_network",
    }
    for network, call in calls.items():
        clock = time.perf_counter()
        call()
        results[network]["toolkit_seconds"] = round(time.perf_counter() - clock, 3)
        with sqlite3.connect(db) as con:
            results[network]["toolkit_edges"] = con.execute(
                f"SELECT count(*) FROM {tables[network]} WHERE user_1 != user_2"
            ).fetchone()[0]
    ours = prepared + sum(r["askscope_seconds"] for r in results.values())
    theirs = toolkit_preprocess + sum(r["toolkit_seconds"] for r in results.values())
    shared = ("co_repost", "co_post", "co_link", "co_reply")
    ours_shared = prepared + sum(results[n]["askscope_seconds"] for n in shared)
    theirs_shared = toolkit_preprocess + sum(results[n]["toolkit_seconds"] for n in shared)
    copy.unlink()
    return {
        "posts": len(rows),
        "networks": results,
        "askscope_prepare_seconds": round(prepared, 3),
        "toolkit_preprocess_seconds": round(toolkit_preprocess, 3),
        "askscope_seconds": round(ours, 2),
        "toolkit_seconds": round(theirs, 2),
        "speedup_all_five": round(theirs / ours, 1),
        "speedup_shared_four": round(theirs_shared / ours_shared, 1),
        "askscope_with_null_runs_seconds": round(results_all_with_nulls + prepared, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1_000_000, help="size of the large campaign")
    parser.add_argument("--compare", type=int, default=100_000, help="size of the toolkit comparison input")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--skip-full", action="store_true", help="only the toolkit comparison")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    }
    with tempfile.TemporaryDirectory(dir=args.cache) as work:
        compare_store = campaign_store(args.cache, args.compare, args.data)
        result["toolkit_comparison"] = compare_with_toolkit(compare_store, Path(work))
        if not args.skip_full:
            large = campaign_store(args.cache, args.posts, args.data)
            result["full"] = full_analysis(large, Path(work))
    result["peak_rss_mb"] = round(peak_rss_mb())
    out = ROOT / "bench" / "results" / f"authenticity-{args.posts}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    comparison = result["toolkit_comparison"]
    print(f"\n| network ({comparison['posts']:,} posts) | askscope s | toolkit s | edges (askscope / toolkit) |")
    print("|---|---:|---:|---|")
    for network, r in comparison["networks"].items():
        print(
            f"| {network} | {r['askscope_seconds']} | {r['toolkit_seconds']} | {r['edges']:,} / {r['toolkit_edges']:,} |"
        )
    print(
        f"| input preparation | {comparison['askscope_prepare_seconds']} | {comparison['toolkit_preprocess_seconds']} | |"
    )
    print(
        f"| **total** | **{comparison['askscope_seconds']}** | **{comparison['toolkit_seconds']}** | "
        f"speed-up {comparison['speedup_all_five']}x (shared four: {comparison['speedup_shared_four']}x) |"
    )
    if "full" in result:
        full = result["full"]
        print(
            f"\nFull analysis on {full['population']['posts'] + full['population']['reposts']:,} posts: "
            f"{full['seconds']} s"
        )
        for name, seconds in full["steps"].items():
            print(f"| {name} | {seconds} |")
    print(f"\npeak RSS {result['peak_rss_mb']} MB; wrote {out}")


if __name__ == "__main__":
    main()
