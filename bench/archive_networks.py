"""The co-action networks and their null model on Dask (``askscope.archive.dask_networks``) against
the embedded ones, on the same SYNTHETIC campaign, each configuration in its own process.

    python bench/archive_networks.py --posts 200000 --workers 1,2
    python bench/archive_networks.py --posts 200000 --workers 2 --heavy 2000   # cut objects above 2,000 actions

The store is ``bench/authenticity.py``'s cached SYNTHETIC twarc2 campaign (real texts,
Zipf-active accounts; built once in --cache). Each run copies it, builds the population and runs
``run_coordination`` (the five networks, 10 null runs each, thresholds, groups, the three
tables) embedded or with ``DaskNetworks(client, N).runners()`` on ``local:N``; it times, per
network, the observed edges and the null runs (the rest of a network's work is the same
embedded code in every configuration), and checks that every configuration wrote the same
``coaction_edges``, ``coordinated_accounts`` and ``coordination_networks`` and the same null
floors. Prints a markdown table and the load averages; writes
bench/results/archive-networks-N[-heavyH].json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import askscope  # noqa: E402
from askscope.authenticity.coordination import Runners, run_coordination  # noqa: E402
from askscope.authenticity.networks import Edges  # noqa: E402
from askscope.authenticity.population import build_population  # noqa: E402
from askscope.authenticity.settings import AuthenticitySettings  # noqa: E402

TABLES = ("coaction_edges", "coordinated_accounts", "coordination_networks")


def _digest(con: Any, results: dict[str, Any]) -> str:
    """One hash of the three tables (in their written order) and every null floor's runs."""
    h = hashlib.sha256()
    for table in TABLES:
        h.update(repr(con.execute(f"SELECT * FROM {table}").fetchall()).encode())
    for network, result in sorted(results.items()):
        h.update(network.encode() + json.dumps(result.as_dict(), sort_keys=True).encode())
        for run in result.floor.runs_seen:
            h.update(str(run.pairs).encode() + run.pairs_at_least.tobytes() + run.accounts_at_least.tobytes())
    return h.hexdigest()[:16]


def one(store_path: Path, workers: int, heavy: int | None) -> dict[str, Any]:
    """One configuration (workers 0: embedded), in this process."""
    timings: dict[str, dict[str, float]] = {}

    def add(network: str, key: str, seconds: float) -> None:
        entry = timings.setdefault(network, {"edges": 0.0, "null_runs": 0.0})
        entry[key] = round(entry[key] + seconds, 2)

    client = cluster = None
    report: dict[str, Any] = {}
    started = time.perf_counter()
    if workers:
        from askscope.archive.cluster import dask_client
        from askscope.archive.dask_networks import HEAVY_ACTIONS, DaskNetworks

        cluster = dask_client(f"local:{workers}")
        client = cluster.__enter__()
        networks = DaskNetworks(client, workers, heavy_actions=heavy or HEAVY_ACTIONS)
        report = networks.report
        base = networks.runners()
    else:
        base = Runners()
    cluster_start = time.perf_counter() - started

    def edges(con: Any, network: str, times: str, tau: float, settings: Any, stats: Any = None) -> Edges:
        clock = time.perf_counter()
        result = base.edges(con, network, times, tau, settings, stats)
        add(network, "edges" if stats is not None else "null_runs", time.perf_counter() - clock)
        return result

    null = base.null_runs

    def null_runs(con: Any, network: str, *args: Any) -> Iterable[Edges]:
        assert null is not None
        clock = time.perf_counter()
        result = list(null(con, network, *args))
        add(network, "null_runs", time.perf_counter() - clock)
        return result

    runners = Runners(edges=edges, null_runs=null_runs if null else None)
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "store.duckdb"
        shutil.copy(store_path, copy)
        clock = time.perf_counter()
        with askscope.open_store(copy) as store, store.transaction():
            population = build_population(store.con, None)
            results = run_coordination(store.con, population, AuthenticitySettings(), runners=runners)
            digest = _digest(store.con, results)
        seconds = time.perf_counter() - clock
    if cluster is not None:
        cluster.__exit__(None, None, None)
    return {
        "workers": workers,
        "seconds": round(seconds, 2),
        "cluster_start": round(cluster_start, 2),
        "networks": timings,
        "dask": report,
        "pairs": {n: r.pairs for n, r in results.items()},
        "digest": digest,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (the embedded run is added)")
    parser.add_argument("--heavy", type=int, default=None, help="DaskNetworks heavy_actions (default: the module's)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.store, args.one, args.heavy)))
        return
    from authenticity import campaign_store  # bench/authenticity.py: the cached SYNTHETIC store

    args.cache.mkdir(parents=True, exist_ok=True)
    store = campaign_store(args.cache, args.posts, args.data)
    runs = []
    load_before = os.getloadavg()
    for workers in [0, *(int(w) for w in args.workers.split(","))]:
        command = [sys.executable, __file__, "--one", str(workers), "--store", str(store)]
        if args.heavy is not None:
            command += ["--heavy", str(args.heavy)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{'embedded' if not workers else f'local:{workers}'}: {runs[-1]['seconds']} s", file=sys.stderr)
    load_after = os.getloadavg()
    same = len({r["digest"] for r in runs}) == 1
    networks = list(runs[0]["networks"])
    header = (
        "| run | " + " | ".join(f"{n} edges / null runs (s)" for n in networks) + " | all networks (s) | peak RSS |"
    )
    print(header)
    print("|" + "---|" * (len(networks) + 3))
    for r in runs:
        name = "embedded" if not r["workers"] else f"`local:{r['workers']}`"
        cells = [f"{r['networks'][n]['edges']} / {r['networks'][n]['null_runs']}" for n in networks]
        print(f"| {name} | " + " | ".join(cells) + f" | {r['seconds']} | {r['peak_rss_mib']} MiB |")
    print(f"\nload average before {load_before}, after {load_after}; identical tables and floors: {same}")
    result = {"posts": args.posts, "heavy": args.heavy, "runs": runs, "load": [load_before, load_after], "same": same}
    suffix = f"-heavy{args.heavy}" if args.heavy is not None else ""
    out_path = ROOT / "bench" / "results" / f"archive-networks-{args.posts}{suffix}.json"
    out_path.write_text(json.dumps(result, indent=1) + "\n")
    if not same:
        sys.exit("the configurations differ: " + ", ".join(r["digest"] for r in runs))


if __name__ == "__main__":
    main()
