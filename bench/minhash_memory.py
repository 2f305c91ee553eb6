"""The MinHash steps of the authenticity stage alone: co_similar's actions and the near-duplicate
clusters, their time, what they allocate in Python and numpy (``tracemalloc``: DuckDB's own
memory is not counted) and a digest of what they wrote, for one or more source trees.

    python bench/authenticity.py       # builds /tmp/askscope-bench/campaign-1000000.duckdb once (real texts)
    python bench/minhash_memory.py /tmp/askscope-bench/campaign-1000000.duckdb --trees /tmp/old/src src

Each measurement is its own process (``PYTHONPATH`` set to the tree's ``src``) that copies the
store, builds the authenticity population and the normalised texts (not measured), then runs
one step under ``tracemalloc`` inside a transaction it rolls back. The last line says whether
every tree wrote the same actions and clusters.
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
import json, shutil, sys, time, tracemalloc
from askscope.authenticity import duplicates, networks
from askscope.authenticity.population import build_population
from askscope.authenticity.settings import AuthenticitySettings
from askscope.store.core import open_store

source, work, step = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.copy(source, work)
with open_store(work) as store:
    con = store.con
    con.execute("SET memory_limit = '1.5GB'")
    con.execute("BEGIN")
    settings = AuthenticitySettings()
    build_population(con, None)
    networks._ensure_normalised(con)
    tracemalloc.start()
    started = time.perf_counter()
    if step == "similar":
        networks._build_similar_actions(con, settings)
    else:
        duplicates.near_duplicate_clusters(con, settings)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] // 2**20
    tracemalloc.stop()
    if step == "similar":
        digest = con.execute(
            f"SELECT count(*), sum(hash(uid, pid, k)) FROM {networks.actions_table('co_similar')}"
        ).fetchall()[0]
    else:
        digest = con.execute(
            "SELECT (SELECT count(*) FROM duplicate_members), "
            "(SELECT sum(hash(cluster_id, platform, post_id)) FROM duplicate_members), "
            "(SELECT sum(hash(cluster_id, size, accounts, text)) FROM duplicate_clusters)"
        ).fetchall()[0]
    con.execute("ROLLBACK")
print(json.dumps({"seconds": round(seconds, 1), "python_mib": traced, "digest": [str(v) for v in digest]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="an ingested store (it is copied, not changed)")
    parser.add_argument("--trees", type=Path, nargs="+", default=[Path(__file__).resolve().parent.parent / "src"])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "askscope-minhash-bench.duckdb")
    args = parser.parse_args()
    if not args.store.exists():
        raise SystemExit(f"no store at {args.store}")
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    print("| tree | step | seconds | Python and numpy peak MiB |")
    print("|---|---|---:|---:|")
    digests: dict[str, set[str]] = {}
    for step in ("similar", "duplicates"):
        for tree in args.trees:
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            try:
                out = subprocess.run(
                    [sys.executable, "-c", MEASURE, str(args.store), str(args.work), step],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                )
            finally:
                args.work.unlink(missing_ok=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            digests.setdefault(step, set()).add(json.dumps(result["digest"]))
            print(f"| {tree} | {step} | {result['seconds']} | {result['python_mib']} |", flush=True)
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print(f"the same actions and clusters from every tree: {all(len(d) == 1 for d in digests.values())}")


if __name__ == "__main__":
    main()
