"""The lens stage alone, on a SYNTHETIC campaign's analysed store, for one or more source trees.

    python bench/lenses.py                                  # 300,000 posts, this checkout, 2 rounds
    python bench/lenses.py --posts 300000 --trees /tmp/old/src src --rounds 2   # before / after
    python bench/lenses.py --archive --trees /tmp/old/src src    # the same store as an archive folder
    python bench/lenses.py --trees /tmp/old/src src --documents /tmp/docs  # and compare the lens documents
    python bench/lenses.py --posts 2000000 --dask local:2 --documents /tmp/docs  # embedded and on Dask

The store is simulated once (``askscope.synthetic.campaign``, seed 1, labelled through the
simulator's known confusion matrix as in bench/analyze.py) and analysed once, then cached in the
temp folder. Each measurement is its own process (``PYTHONPATH`` set to the tree's ``src``) that
opens the store read-only and runs every registered lens in turn, as the ``lenses`` stage does;
it prints the wall and CPU seconds, each lens's seconds and the peak RSS. Trees alternate round
by round, so that load from other jobs falls on both alike.

``--archive``: the store exported once to an archive folder (``askscope export --parquet``), and
each measurement does what ``askscope analyze ARCHIVE --dask`` does around its stages: open the
archive as a temporary store (``archive_as_store``), run the authenticity stage embedded and the
lenses on it, and write the tables back; it prints each step's seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BUILD = r"""
import sys
from pathlib import Path
from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.synthetic.campaign import SimulationSpec, campaign_file, truth_labeler, write_campaign

path, posts, data = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
spec = SimulationSpec(seed=1, posts=posts)
write_campaign(path, spec, data)
campaign = campaign_file(spec)
campaign["frames"] = {"answering": {"keywords": ["answer", "thank you"]}, "failure": {"keywords": ["failure", "fake"]}}
analyze(str(path), parse_campaign(campaign), settings={"labeler": truth_labeler(str(path), spec), "seed": 0})
"""

MEASURE = r"""
import contextlib, json, os, resource, sys, tempfile, time
from pathlib import Path
from askscope import registry
from askscope.lenses.common import load_input
from askscope.store.core import open_store

address = os.environ.get("ASKSCOPE_BENCH_DASK")
with contextlib.ExitStack() as stack:
    store = stack.enter_context(open_store(sys.argv[1], read_only=True))
    inp = load_input(store, 0)
    if address:  # the backfire lens's audience summarised by Dask tasks, as an archive's analysis does
        from askscope.archive.cluster import dask_client
        from askscope.archive.dask_lenses import DaskAudience

        client = stack.enter_context(dask_client(address))
        inp.summarise = DaskAudience(client, Path(stack.enter_context(tempfile.TemporaryDirectory())))
    results, seconds = {}, {}
    cpu, wall = time.process_time(), time.perf_counter()
    for lens in registry.lenses():
        started = time.perf_counter()
        value = lens.compute(inp, results)
        seconds[lens.name] = round(time.perf_counter() - started, 2)
        if value is not None:
            results[lens.name] = value
    wall_s, cpu_s = round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)
    if len(sys.argv) > 2:  # --documents: the lens documents, for a byte-for-byte comparison
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            json.dump(results, out, sort_keys=True, default=str)
    print(json.dumps({
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "lenses": seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }))
"""

MEASURE_ARCHIVE = r"""
import json, resource, sys, time
from askscope import registry
from askscope.archive.dask_analyze import archive_as_store
from askscope.campaign import parse_campaign
from askscope.lenses.common import load_input
from askscope.stages.base import Context, run_stages
from askscope.store.core import open_store
from askscope.synthetic.campaign import SimulationSpec, campaign_file

campaign = parse_campaign(campaign_file(SimulationSpec(seed=1, posts=int(sys.argv[2]))))
cpu, wall = time.process_time(), time.perf_counter()
seconds = {}
with archive_as_store(sys.argv[1], write_back=True) as path:
    seconds["open"] = round(time.perf_counter() - wall, 2)
    started = time.perf_counter()
    with open_store(path, create=False) as store:
        run_stages(Context(store=store, campaign=campaign, settings={"seed": 0}), only=["authenticity"])
    seconds["authenticity"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    with open_store(path, read_only=True) as store:
        inp = load_input(store, 0)
        results = {}
        for lens in registry.lenses():
            value = lens.compute(inp, results)
            if value is not None:
                results[lens.name] = value
    seconds["lenses"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
seconds["write_back"] = round(time.perf_counter() - started, 2)
print(json.dumps({
    "wall_s": round(time.perf_counter() - wall, 2),
    "cpu_s": round(time.process_time() - cpu, 2),
    "lenses": seconds,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
}))
"""


def archive_of(store: Path) -> Path:
    folder = store.with_suffix(".archive")
    if not folder.exists():
        from askscope.archive.parquet import export_store

        export_store(store, folder)
    return folder


def build(posts: int, folder: Path, data: Path) -> Path:
    path = folder / f"lenses-{posts}.duckdb"
    if not path.exists():
        print(f"simulating and analysing {posts:,} posts ...", file=sys.stderr)
        tmp = folder / f"lenses-{posts}.tmp.duckdb"
        tmp.unlink(missing_ok=True)
        subprocess.run([sys.executable, "-c", BUILD, str(tmp), str(posts), str(data)], check=True)
        tmp.rename(path)
    return path


def measure(
    store: Path,
    tree: Path,
    archive: Path | None = None,
    posts: int = 0,
    document: Path | None = None,
    dask: str | None = None,
) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    if dask:
        env["ASKSCOPE_BENCH_DASK"] = dask
    command = [sys.executable, "-c", MEASURE, str(store), *([str(document)] if document else [])]
    if archive is not None:
        command = [sys.executable, "-c", MEASURE_ARCHIVE, str(archive), str(posts)]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    lines = [line for line in out.stdout.splitlines() if line.startswith('{"wall_s"')]
    if not lines:
        raise SystemExit(f"no result from {tree}; its output:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=300_000)
    parser.add_argument("--trees", type=Path, nargs="+", default=[ROOT / "src"], help="source trees (their src)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--archive", action="store_true", help="the store as an archive folder (see above)")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument(
        "--documents",
        type=Path,
        help="write each tree's lens documents here (tree-N-round-R.json) and say whether the trees' are the same",
    )
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="also measure each tree with the backfire lens's audience summarised on Dask (local:N or tcp://...; "
        "the trees must have askscope.archive.dask_lenses); its peak RSS is the analysing process's alone",
    )
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    store = build(args.posts, args.cache, args.data)
    archive = archive_of(store) if args.archive else None
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    steps = "steps (s)" if archive else "lenses (s)"
    print("| tree | round | wall s | CPU s | " + " | ".join([steps, "peak RSS MiB"]) + " |")
    print("|---|---:|---:|---:|---|---:|")
    written: dict[Path, bytes] = {}
    for round_ in range(1, args.rounds + 1):
        for number, tree in enumerate(args.trees, 1):
            # a tree from before the audience's summaries has no Dask form of the lens stage
            summarised = (tree / "askscope" / "archive" / "dask_lenses.py").exists()
            for dask in [None, args.dask] if args.dask and archive is None and summarised else [None]:
                document = None
                if args.documents is not None and archive is None:
                    args.documents.mkdir(parents=True, exist_ok=True)
                    document = args.documents / f"tree-{number}{'-dask' if dask else ''}-round-{round_}.json"
                result = measure(store, tree, archive, args.posts, document, dask)
                if document is not None:
                    written[document] = document.read_bytes()
                lenses = ", ".join(f"{k} {v}" for k, v in result["lenses"].items())
                label = f"{tree}, audience on Dask {dask}" if dask else str(tree)
                print(
                    f"| {label} | {round_} | {result['wall_s']} | {result['cpu_s']} | {lenses} | "
                    f"{result['peak_rss_mib']} |",
                    flush=True,
                )
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    if written:
        same = len(set(written.values())) == 1
        print(f"lens documents ({len(written)}, {args.documents}): {'all the same' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
