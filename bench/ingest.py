"""Ingest benchmark: askscope ingest (both paths) vs DuckDB's own read_json vs twarc2 csv, same file, same run.

    python bench/ingest.py                      # 200k posts (default)
    python bench/ingest.py --posts 1000000      # the 1M-post memory check
    python bench/ingest.py --posts 20000 --runs 1 --skip twarc-csv

``askscope`` is ``askscope ingest`` on the per-post Python path (``ASKSCOPE_INGEST_VECTORISED=0``),
``askscope-vectorised`` the same command on the vectorised path (``=1``: pyarrow's JSON reader and
DuckDB column expressions, :mod:`askscope.ingestion.vectorised`); ``--skip askscope-vectorised``
leaves it out.

Builds (once, cached) a realistic SYNTHETIC twarc2 JSONL of N posts with
``askscope.synthetic.twarc2`` (texts from ../shared/data TweetEval and UMSAB, authors, replies,
quotes, retweets, includes), then runs each tool as a separate process on the same file and
measures wall time and peak RSS (the sum over the process and its children, sampled every 20 ms).
Prints posts/s, MB/s, peak RSS and the ratio of askscope's speed to each alternative; writes the
numbers to bench/results/ingest-N.json. Record the printed table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def measure(cmd: list[str], cwd: str | None = None, env: dict[str, str] | None = None) -> tuple[float, int, str, float]:
    """Run ``cmd`` (with ``env`` added to the environment); return (seconds, peak RSS in bytes
    over the process tree, stdout, CPU seconds of the process and its children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env={**os.environ, **(env or {})}
    )
    peak = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            total = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    return seconds, peak, out.decode(), cpu


def build_file(posts: int, seed: int, data: Path, folder: Path) -> Path:
    path = folder / f"twarc2-{posts}-{seed}.jsonl"
    if path.exists():
        return path
    from askscope.synthetic.twarc2 import load_texts, write_twarc2

    print(f"building {path} ...", file=sys.stderr)
    tmp = path.with_suffix(".tmp")
    write_twarc2(tmp, posts, load_texts(data), seed=seed)
    tmp.rename(path)
    return path


DUCKDB_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE pages AS SELECT * FROM read_json(?, format='newline_delimited')", [sys.argv[2]])
print(con.execute("SELECT sum(len(data)) FROM pages").fetchall()[0][0])
"""

DUCKDB_UNNEST_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE posts AS SELECT unnest(data, recursive := true) FROM "
            "read_json(?, format='newline_delimited')", [sys.argv[2]])
print(con.execute("SELECT count(*) FROM posts").fetchall()[0][0])
"""

TWARC_CSV_SCRIPT = """
import sys
from twarc_csv import csv
csv.main([sys.argv[1], sys.argv[2]], standalone_mode=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="../shared/data")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    parser.add_argument("--runs", type=int, default=2, help="runs per tool; the best is reported")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        help="tool to skip (askscope-vectorised, duckdb, duckdb-unnest, twarc-csv)",
    )
    parser.add_argument("--workers", type=int, default=None, help="askscope --workers")
    args = parser.parse_args()

    args.cache.mkdir(parents=True, exist_ok=True)
    path = build_file(args.posts, args.seed, args.data, args.cache)
    size = path.stat().st_size
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="askscope-bench-"))
    results: dict[str, dict[str, float]] = {}

    def run(name: str, make_cmd, env: dict[str, str] | None = None) -> None:
        best = None
        for i in range(args.runs):
            target = work / f"{name}-{i}"
            cmd = make_cmd(target)
            seconds, peak, out, cpu = measure(cmd, env=env)
            if best is None or seconds < best["seconds"]:
                best = {
                    "seconds": seconds,
                    "cpu_seconds": cpu,
                    "peak_rss_mb": peak / 2**20,
                    "output": out.strip()[-200:],
                }
            for leftover in work.glob(f"{name}-{i}*"):
                leftover.unlink() if leftover.is_file() else shutil.rmtree(leftover)
        assert best is not None
        best["posts_per_s"] = args.posts / best["seconds"]
        best["mb_per_s"] = size / 2**20 / best["seconds"]
        results[name] = best
        print(
            f"  {name:<14} {best['seconds']:8.2f} s  {best['posts_per_s']:10,.0f} posts/s  "
            f"{best['mb_per_s']:7.1f} MB/s  CPU {best['cpu_seconds']:7.1f} s  peak RSS {best['peak_rss_mb']:7.0f} MB",
            file=sys.stderr,
        )

    workers = [] if args.workers is None else ["--workers", str(args.workers)]
    print(f"{args.posts:,} posts, {size / 2**20:.0f} MB: {path}", file=sys.stderr)
    load_before = os.getloadavg()
    print(f"load average (1, 5, 15 min) before the run: {load_before}", file=sys.stderr)

    def askscope(t: Path) -> list[str]:
        return [python, "-m", "askscope", "ingest", f"{t}.duckdb", str(path), "--json", "--no-progress", *workers]

    run("askscope", askscope, env={"ASKSCOPE_INGEST_VECTORISED": "0"})
    if "askscope-vectorised" not in args.skip:
        run("askscope-vectorised", askscope, env={"ASKSCOPE_INGEST_VECTORISED": "1"})
    if "duckdb" not in args.skip:
        run("duckdb", lambda t: [python, "-c", DUCKDB_SCRIPT, f"{t}.duckdb", str(path)])
    if "duckdb-unnest" not in args.skip:
        run("duckdb-unnest", lambda t: [python, "-c", DUCKDB_UNNEST_SCRIPT, f"{t}.duckdb", str(path)])
    if "twarc-csv" not in args.skip:
        try:
            import twarc_csv  # noqa: F401
        except ImportError:
            print("  twarc-csv not installed (pip install 'askscope[bench]'): skipped", file=sys.stderr)
        else:
            run("twarc-csv", lambda t: [python, "-c", TWARC_CSV_SCRIPT, str(path), f"{t}.csv"])

    mine = results["askscope"]["posts_per_s"]
    duck = results["duckdb"]["posts_per_s"] if "duckdb" in results else None
    print()
    print("| tool | seconds | posts/s | MB/s | CPU s | peak RSS (MB) | askscope speed-up | x DuckDB read_json |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio = mine / r["posts_per_s"]
        versus = f"{r['posts_per_s'] / duck:.2f}x" if duck else "-"
        print(
            f"| {name} | {r['seconds']:.2f} | {r['posts_per_s']:,.0f} | {r['mb_per_s']:.1f} | "
            f"{r['cpu_seconds']:.1f} | {r['peak_rss_mb']:.0f} | {ratio:.2f}x | {versus} |"
        )
    print(f"\nload average (1, 5, 15 min) after the run: {os.getloadavg()}")
    summary = {
        "posts": args.posts,
        "bytes": size,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": {k: {kk: vv for kk, vv in v.items() if kk != "output"} for k, v in results.items()},
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"ingest-{args.posts}.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
