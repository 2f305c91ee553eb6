"""Analysis benchmark: analyze + report on SYNTHETIC campaigns of 100k, 300k and 1M posts.

    python bench/analyze.py                       # 100k, 300k, 1M
    python bench/analyze.py --sizes 100000        # one size

Each campaign is simulated once (askscope.synthetic.campaign; cached in the temp folder) and
labelled through a known confusion matrix (TruthLabeler), so the classify stage measures the
pipeline around the models, not the models (bench/classify.py measures those; the classify
stage's time is reported separately, as the issue asks). Every stage runs in a child process
whose peak RSS (process and children) is sampled. Prints the time per stage, analyze + report
without classification, and peak RSS; the cost should grow linearly with posts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.reports import report
from askscope.store.core import open_store
from askscope.synthetic.campaign import SimulationSpec, campaign_file, truth_labeler

path, posts = sys.argv[1], int(sys.argv[2])
spec = SimulationSpec(seed=1, posts=posts)
campaign = campaign_file(spec)
campaign["frames"] = {"answering": {"keywords": ["answer", "thank you"]}, "failure": {"keywords": ["failure", "fake"]}}
labeler = truth_labeler(path, spec)
started = time.perf_counter()
analyze(path, parse_campaign(campaign), settings={"labeler": labeler, "seed": 0})
analyzed = time.perf_counter()
sizes = {}
for fmt in ("json", "md", "html"):
    sizes[fmt] = len(report(path, format=fmt))
done = time.perf_counter()
with open_store(path, read_only=True) as store:
    stages = dict(store.con.execute(
        "SELECT stage, seconds FROM stage_runs QUALIFY row_number() OVER (PARTITION BY stage ORDER BY finished_at DESC) = 1"
    ).fetchall())
print(json.dumps({"analyze_s": analyzed - started, "report_s": done - analyzed, "stages": stages, "report_bytes": sizes}))
"""


def build(posts: int, folder: Path, data: Path) -> Path:
    path = folder / f"campaign-{posts}.duckdb"
    if not path.exists():
        from askscope.synthetic.campaign import SimulationSpec, write_campaign

        print(f"simulating {posts:,} posts ...", file=sys.stderr)
        tmp = folder / f"campaign-{posts}.tmp.duckdb"
        write_campaign(tmp, SimulationSpec(seed=1, posts=posts), data)
        tmp.rename(path)
    return path


def run(path: Path, posts: int) -> dict:
    copy = path.with_suffix(".run.duckdb")
    copy.write_bytes(path.read_bytes())
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(copy), str(posts)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True)))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    copy.unlink(missing_ok=True)
    if proc.returncode:
        raise SystemExit(err.decode()[-3000:])
    lines = [line for line in out.decode().splitlines() if line.startswith('{"analyze_s"')]
    if not lines:
        raise SystemExit(f"no result from the child; its output:\n{out.decode()[-3000:]}\n{err.decode()[-3000:]}")
    result = json.loads(lines[-1])
    result["peak_rss_mb"] = peak / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for posts in args.sizes:
        path = build(posts, args.cache, args.data)
        result = run(path, posts)
        stages = result["stages"]
        classify = stages.get("classify", 0.0)
        rows.append((posts, result, classify))
        print(
            f"{posts:>9,} posts: analyze {result['analyze_s']:.1f}s (classify stage {classify:.1f}s), "
            f"report {result['report_s']:.1f}s, peak RSS {result['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
        )
    out = ROOT / "bench" / "results" / "analyze.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([{"posts": p, **r} for p, r, _ in rows], indent=2))
    print(
        "| posts | threads | relations | classify (labels, reported apart) | authenticity | answers | lenses "
        "| report (json+md+html) | analyze + report without classify | peak RSS (MB) | seconds per 100k posts |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for posts, result, classify in rows:
        s = result["stages"]
        total = result["analyze_s"] - classify + result["report_s"]
        print(
            f"| {posts:,} | {s.get('threads', 0):.1f} | {s.get('relations', 0):.1f} | {classify:.1f} | "
            f"{s.get('authenticity', 0):.1f} | {s.get('answers', 0):.1f} | {s.get('lenses', 0):.1f} | {result['report_s']:.1f} | {total:.1f} | "
            f"{result['peak_rss_mb']:.0f} | {100_000 * total / posts:.1f} |"
        )


if __name__ == "__main__":
    main()
