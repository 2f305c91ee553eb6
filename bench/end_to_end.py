"""End to end with the real models: ``askscope ingest``, ``analyze`` and ``report`` as a user runs them.

    python bench/end_to_end.py                      # 20,000 and 100,000 posts
    python bench/end_to_end.py --posts 1000000      # the issue's size
    python bench/end_to_end.py --posts 100000 --dask local:1 local:2   # also as an archive on Dask
    python bench/end_to_end.py --posts 1000000 --dask local:2 --no-embedded   # the archive path alone
    python bench/end_to_end.py --posts 10000000 --dask local:2 --no-embedded --keep /tmp/e2e-10m
        # keep the work folder: a later run with the same --keep reuses the finished ingest

The other analysis benchmarks either label posts through a simulated labeler (bench/analyze.py,
which measures the pipeline around the models) or time the classify stage alone
(bench/classify.py, bench/archive.py). This one is the path a user waits for (issue 15: "1M-post
campaign with real texts and the real models, end to end (ingest, analyze, report) on this
2-core machine in <= 15 minutes and <= 4 GiB peak RSS"):

1. SYNTHETIC twarc2 JSON-lines files (``askscope.synthetic.twarc2``: the shape of real X API v2
   search pages, real tweet texts from TweetEval and UMSAB train, with mentions, replies, quotes and
   retweets; 4 files, cached in the temp folder);
2. ``askscope ingest DB FILES``, ``askscope analyze DB --campaign F`` (the bundled ONNX models,
   each distinct text up to mentions and links once) and ``askscope report DB --format json``, each as its own process (the
   installed CLI, ``python -m askscope``), timed, with the peak RSS of the process and its children
   sampled every 50 ms;
3. the stages' seconds from ``stage_runs``, the posts in P, the texts classified (the classify
   stage's count) and the distinct raw texts.

With ``--dask ADDRESS...`` the same files also go through the archive path for each address:
``askscope ingest ARCHIVE FILES --dask ADDRESS``, ``analyze ARCHIVE --campaign F --dask ADDRESS``
and ``report ARCHIVE --format json`` (the Dask workers are the command's children, so the peak
RSS of the tree counts them; the peak of the largest single process is reported beside it).

Prints a table and a linear extrapolation of each command to 1,000,000 posts from the largest
size measured (the stages are linear in posts: docs/benchmarks.md, "Analysis and report"; the
classify stage is linear in the texts classified, which on these SYNTHETIC files grow more slowly
than the posts: they draw from about 42,000 real texts, so the more posts, the more repeats up to
mentions and links, and the extrapolation overestimates; measure the size itself). Results: ``bench/results/end_to_end.json`` (``end_to_end_dask.json`` with ``--no-embedded``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FILES = 4
TARGET_POSTS = 1_000_000

CAMPAIGN = """name = "bench end to end"
hosts = ["{host}"]
hashtags = ["AskCampaign"]
start = "2015-03-01T00:00:00Z"
end = "2015-04-30T00:00:00Z"
"""


def synthetic_files(folder: Path, posts: int) -> list[Path]:
    """``FILES`` SYNTHETIC twarc2 files holding ``posts`` posts in all (cached in ``folder``)."""
    from datetime import UTC, datetime, timedelta

    from askscope.synthetic.twarc2 import load_texts, write_twarc2

    out = []
    texts = None
    for i in range(FILES):
        path = folder / f"e2e-{posts}-{i}.jsonl"
        out.append(path)
        if path.exists():
            continue
        texts = texts or load_texts(DATA)
        tmp = path.with_suffix(".tmp")
        start = datetime(2015, 3, 13, 12, 0, tzinfo=UTC) + timedelta(days=3 * i)
        write_twarc2(tmp, posts // FILES, texts, seed=100 + i, start=start)
        tmp.rename(path)
    return out


def timed(args: list[str]) -> dict[str, float]:
    """Run ``python -m askscope ARGS``; wall seconds, CPU seconds and peak RSS of the process tree."""
    started = time.perf_counter()
    proc = psutil.Popen(
        [sys.executable, "-m", "askscope", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak, single, cpu = 0, 0, 0.0
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            sizes = [p.memory_info().rss for p in tree]
            peak, single = max(peak, sum(sizes)), max(single, *sizes)
            times = proc.cpu_times()
            cpu = times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"askscope {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mib": round(peak / 2**20, 1),
        "peak_rss_one_process_mib": round(single / 2**20, 1),
    }


def run(posts: int, cache: Path, dask: str | None = None, keep: Path | None = None) -> dict:
    import duckdb

    files = synthetic_files(cache, posts)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    work = keep or Path(tempfile.mkdtemp(prefix="askscope-e2e-"))
    try:
        target = work / ("archive" if dask else "campaign.duckdb")
        on = ["--dask", dask] if dask else []
        result: dict = {
            "posts_written": posts,
            "path": f"archive, --dask {dask}" if dask else "embedded store",
            "input_mib": round(sum(f.stat().st_size for f in files) / 2**20, 1),
        }
        done = work / "ingest.json"  # --keep: an ingest that finished is not run again
        if keep is not None and done.exists():
            result["ingest"] = json.loads(done.read_text())
            result["ingest_reused"] = True
        else:
            result["ingest"] = timed(["ingest", str(target), *map(str, files), *on])
            if keep is not None:
                done.write_text(json.dumps(result["ingest"]))

        def table(name: str) -> str:
            if not dask:
                return name
            pattern = "**/*.parquet" if name == "posts" else "*.parquet"
            return f"read_parquet('{target / name / pattern}', hive_partitioning = false)"

        with duckdb.connect(str(target) if not dask else ":memory:", read_only=not dask) as con:
            # the busiest author as the host, as bench/archive.py does: the campaign has answers to find
            host = con.execute(
                f"SELECT author_handle FROM {table('posts')} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ).fetchone()
            result["posts_stored"] = con.execute(f"SELECT count(*) FROM {table('posts')}").fetchone()[0]
        campaign = work / "campaign.toml"
        campaign.write_text(CAMPAIGN.format(host=host[0]), encoding="utf-8")
        result["analyze"] = timed(["analyze", str(target), "--campaign", str(campaign), *on])
        result["report"] = timed(["report", str(target), "--format", "json", "-o", str(work / "report.json")])
        with duckdb.connect(str(target) if not dask else ":memory:", read_only=not dask) as con:
            stages = con.execute(
                f"SELECT stage, seconds FROM {table('stage_runs')} "
                "QUALIFY row_number() OVER (PARTITION BY stage ORDER BY finished_at DESC) = 1"
            ).fetchall()
            result["stages"] = {stage: round(seconds, 2) for stage, seconds in stages}
            result["labelled_posts"] = con.execute(
                f"SELECT count(DISTINCT (platform, post_id)) FROM {table('labels')}"
            ).fetchone()[0]
            # the texts the labeler was given: the classify stage's own count (distinct texts up to
            # mentions and links, the bundled labeler's key); distinct raw texts beside it
            summary = con.execute(
                f"SELECT summary FROM {table('stage_runs')} WHERE stage = 'classify' ORDER BY finished_at DESC LIMIT 1"
            ).fetchone()
            result["distinct_texts"] = json.loads(summary[0]).get("distinct_texts") if summary else None
            result["distinct_raw_texts"] = con.execute(
                f"SELECT count(DISTINCT text_hash) FROM {table('labels')}"
            ).fetchone()[0]
        result["total_seconds"] = round(sum(result[c]["seconds"] for c in ("ingest", "analyze", "report")), 1)
        result["peak_rss_mib"] = max(result[c]["peak_rss_mib"] for c in ("ingest", "analyze", "report"))
        result["peak_rss_one_process_mib"] = max(
            result[c]["peak_rss_one_process_mib"] for c in ("ingest", "analyze", "report")
        )
        return result
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-e2e-bench")
    parser.add_argument("--dask", nargs="*", default=[], help="also as an archive on these Dask addresses")
    parser.add_argument("--no-embedded", action="store_true", help="only the archive path (with --dask)")
    parser.add_argument(
        "--keep",
        type=Path,
        help="work in this folder and keep it (one size and path): a finished ingest is reused by the next run",
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(
        f"load average before: {os.getloadavg()}; ASKSCOPE_THREADS={os.environ.get('ASKSCOPE_THREADS', '(all cores)')}"
    )
    rows = []
    for posts in args.posts:
        for dask in ([] if args.no_embedded else [None]) + args.dask:
            result = run(posts, args.cache, dask, args.keep)
            result["load_average_after"] = os.getloadavg()
            rows.append(result)
            print(json.dumps(result), flush=True)
    out = ROOT / "bench" / "results" / ("end_to_end_dask.json" if args.no_embedded else "end_to_end.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print()
    print(
        "| posts | path | stored | labelled (P) | texts classified | distinct raw texts | ingest s | "
        "analyze s (classify) | report s | "
        "total s | peak RSS MiB (tree) | largest process MiB |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['posts_written']:,} | {r['path']} | {r['posts_stored']:,} | {r['labelled_posts']:,} | "
            f"{r['distinct_texts'] or 0:,} | {r['distinct_raw_texts']:,} | {r['ingest']['seconds']:.1f} | "
            f"{r['analyze']['seconds']:.1f} "
            f"({r['stages'].get('classify', 0):.1f}) | {r['report']['seconds']:.1f} | {r['total_seconds']:.1f} | "
            f"{r['peak_rss_mib']:.0f} | {r['peak_rss_one_process_mib']:.0f} |"
        )
    embedded = [r for r in rows if r["path"] == "embedded store"]
    last = embedded[-1] if embedded else None
    if last is not None and TARGET_POSTS > last["posts_written"]:
        scale = TARGET_POSTS / last["posts_written"]
        classify = last["stages"].get("classify", 0.0)
        rest = last["total_seconds"] - classify
        print(
            f"\nlinear extrapolation to {TARGET_POSTS:,} posts from {last['posts_written']:,}: "
            f"classify {classify * scale / 60:.1f} min + everything else {rest * scale / 60:.1f} min "
            f"= {(classify + rest) * scale / 60:.1f} min (target 15 min); "
            f"texts classified per second {(last['distinct_texts'] or 0) / max(classify, 1e-9):.0f}"
        )


if __name__ == "__main__":
    main()
