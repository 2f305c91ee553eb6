"""The whole authenticity analysis on a copy of an analysed store, for one or more source trees.

    python bench/lenses.py --posts 2000000 --rounds 0          # builds the 2M store once (cached)
    python bench/authenticity_stage.py /tmp/askscope-bench/lenses-2000000.duckdb \
        --trees /tmp/old/src src --memory 1.5GB

Each measurement is its own process (``PYTHONPATH`` set to the tree's ``src``) that copies the
store, gives DuckDB the memory limit the ``analyze`` command gives it (``--memory``; 1.5 GB by
default, ``ASKSCOPE_ANALYZE_MEMORY``), runs ``analyze_authenticity`` in one transaction (five
co-action networks with their null runs, near-duplicates, bursts, account signals, embedded)
and prints its wall seconds, each step's seconds (from the analysis's progress messages), the
peak RSS of the process (and of each step, sampled every 20 ms) and a digest of what it wrote:
the ``coaction_edges`` rows (count and a sum of row hashes), every network's threshold, flagged
accounts and null floor, and the near-duplicate clusters and their members. Trees
alternate round by round, so that load from other jobs falls on both alike; the last line says
whether every measurement wrote the same.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MEASURE = r"""
import json, resource, shutil, sys, threading, time
from askscope.authenticity import analyze_authenticity
from askscope.store.core import open_store

source, work, memory = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.copy(source, work)


def rss_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))


with open_store(work) as store:
    store.con.execute(f"SET memory_limit = '{memory}'")
    started = time.perf_counter()
    # each progress message starts a step; the first ("N posts, ...") ends the population's
    steps, last, peaks, running = {}, ["population", started], {}, [True]

    def sample():  # the peak RSS of each step, sampled every 20 ms
        while running[0]:
            step = last[0] or "population"
            peaks[step] = max(peaks.get(step, 0), rss_mib())
            time.sleep(0.02)

    threading.Thread(target=sample, daemon=True).start()

    def say(message):
        now = time.perf_counter()
        if last[0] is not None:
            steps[last[0]] = round(now - last[1], 1)
        name = message.split(":", 1)[1].strip() if ":" in message else message
        last[0], last[1] = (None if "posts," in name else name), now

    store.con.execute("BEGIN")
    summary = analyze_authenticity(store, progress=say)
    store.con.execute("COMMIT")
    running[0] = False
    now = time.perf_counter()
    if last[0] is not None:
        steps[last[0]] = round(now - last[1], 1)
    edges = store.con.execute(
        "SELECT count(*), sum(hash(network, source_id, target_id, weight, significant)) FROM coaction_edges"
    ).fetchall()[0]
    networks = {
        name: [n["threshold_weight"], n["null_accounts_flagged"], n["null_floor"]]
        for name, n in summary["networks"].items()
    }
    duplicates = store.con.execute(
        "SELECT (SELECT count(*) FROM duplicate_members), "
        "(SELECT sum(hash(cluster_id, platform, post_id)) FROM duplicate_members), "
        "(SELECT sum(hash(cluster_id, size, accounts, first_post_id, text)) FROM duplicate_clusters)"
    ).fetchall()[0]
print(json.dumps({
    "wall_s": round(now - started, 1),
    "steps": steps,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "step_peaks": peaks,
    "digest": [int(edges[0]), str(edges[1]), networks, [str(v) for v in duplicates]],
}))
"""


def measure(store: Path, tree: Path, memory: str, work: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    try:
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, str(store), str(work), memory],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    finally:
        work.unlink(missing_ok=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith('{"wall_s"')]
    if not lines:
        raise SystemExit(f"no result from {tree}; its output:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="an analysed store (it is copied, not changed)")
    parser.add_argument("--trees", type=Path, nargs="+", default=[Path(__file__).resolve().parent.parent / "src"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--memory", default="1.5GB", help="DuckDB's memory limit (the analyze command's default)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "askscope-authenticity-bench.duckdb")
    args = parser.parse_args()
    if not args.store.exists():
        raise SystemExit(f"no store at {args.store}")
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    print("| tree | round | wall s | steps (s) | peak RSS MiB |")
    print("|---|---:|---:|---|---:|")
    digests = []
    for round_ in range(1, args.rounds + 1):
        for tree in args.trees:
            result = measure(args.store, tree, args.memory, args.work)
            digests.append(json.dumps(result["digest"], sort_keys=True))
            steps = ", ".join(
                f"{k} {v} ({result.get('step_peaks', {}).get(k, '?')} MiB)" for k, v in result["steps"].items()
            )
            print(f"| {tree} | {round_} | {result['wall_s']} | {steps} | {result['peak_rss_mib']} |", flush=True)
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    same = len(set(digests)) == 1
    print(f"the same edges, thresholds, null floors and near-duplicate clusters in every measurement: {same}")


if __name__ == "__main__":
    main()
