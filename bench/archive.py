"""Archive-scale benchmarks (issue 15).

    python bench/archive.py dedup [--posts 10000]          # classify stage, real models, shared vs every post
    python bench/archive.py ingest [--posts 200000] [--workers 1,2] [--dask-only]   # archive ingest (Dask), embedded beside
    python bench/archive.py classify [--posts 4000] [--workers 1,2]   # archive analyze (classify on Dask)
    python bench/archive.py stages [--posts 200000] [--workers 1,2] [--no-conversation-ids]

``dedup``: a SYNTHETIC campaign (askscope.synthetic.campaign: real texts from ../shared/data,
drawn with replacement, so exact duplicate texts occur as in copy-paste campaigns; 20% reposts,
which are not in P and never classified) analysed up to ``relations``, then the ``classify``
stage with the bundled models twice on copies of that store: each distinct text once (the
default) and every post (the bundled labeler with ``text_only = False``). Each run in a child
process; prints posts in P, distinct texts, stage seconds and peak RSS.

``ingest``: SYNTHETIC posts with real texts (askscope.synthetic.twarc2) written as 8 twarc2 JSONL
files (2 bad lines in each), ingested into an archive with ``--dask local:N`` for each N (and once
at the first N with the merge in one key partition, ``ASKSCOPE_MERGE_PARTITIONS=1``: the work of a
one-process merge) and into an embedded store (``askscope ingest``, its default parser
processes); records per second, the phases (parse, merge, record, write), the peak RSS of a
worker (ru_maxrss of the parse and merge tasks' processes) and of the main process.

``classify``: the same kind of files (hashtag ``AskCampaign``, every post in P), ingested once,
then ``analyze --dask local:N`` (classify on the workers, ``ASKSCOPE_THREADS`` = 2 / N ONNX
threads each) and the embedded analyze; the classify stage's seconds from ``stage_runs``.

``stages``: the same kind of files, ingested into a store and exported as an archive once, then
``reply_trees`` and ``relations`` (``--only``) embedded and on ``--dask local:N`` (shuffled by
conversation, :mod:`askscope.archive.dask_stages`); each stage's seconds from ``stage_runs``, the
wall time of the whole run (cluster start and the load of the temporary store included) and the
peak RSS of the main process. ``--no-conversation-ids`` blanks ``conversation_id`` first (as in X
API v1.1 data), so the conversation keys come from pointer jumping.
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

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("ASKSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))

DEDUP_CHILD = r"""
import json, resource, sys, time
from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.stages.labeling import BundledLabeler
from askscope.store.core import open_store
from askscope.synthetic.campaign import SimulationSpec, campaign_file

path, posts, share = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
labeler = BundledLabeler()
labeler.text_only = share
campaign = parse_campaign(campaign_file(SimulationSpec(seed=1, posts=posts)))
started = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
summary = analyze(path, campaign, only=["classify"], settings={"labeler": labeler})["classify"]
seconds = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
with open_store(path, read_only=True) as store:
    stage = store.con.execute("SELECT seconds FROM stage_runs WHERE stage = 'classify' ORDER BY finished_at DESC LIMIT 1").fetchall()[0][0]
print(json.dumps({"share": share, "posts": summary["posts"], "texts": summary["distinct_texts"], "stage_s": stage,
    "wall_s": seconds, "cpu_s": cpu, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def dedup(posts: int) -> list[dict[str, float]]:
    """Classify-stage time with and without sharing labels between identical texts."""
    from askscope.analysis import analyze
    from askscope.campaign import parse_campaign
    from askscope.synthetic.campaign import SimulationSpec, campaign_file, write_campaign

    folder = Path(tempfile.mkdtemp(prefix="askscope-dedup-"))
    base = folder / "base.duckdb"
    spec = SimulationSpec(seed=1, posts=posts)
    write_campaign(str(base), spec, DATA)
    analyze(str(base), parse_campaign(campaign_file(spec)), only=["reply_trees", "relations"])
    results = []
    for share in (False, True):
        db = folder / f"share{int(share)}.duckdb"
        shutil.copyfile(base, db)
        out = subprocess.run(
            [sys.executable, "-c", DEDUP_CHILD, str(db), str(posts), "1" if share else "0"],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    shutil.rmtree(folder)
    return results


INGEST_CHILD = r"""
import json, resource, sys, time
from askscope.archive.dask_ingest import ingest_archive
from askscope.ingestion.engine import ingest
target, mode, files = sys.argv[1], sys.argv[2], sys.argv[3:]
started = time.perf_counter()
if mode == "embedded":
    result, reports, phases = ingest(target, files), [], {}
else:
    result, reports, phases = ingest_archive(target, files, dask=mode)
seconds = time.perf_counter() - started
print(json.dumps({"mode": mode, "seconds": seconds, "read": result.totals.read, "rejected": result.totals.rejected,
    "reconciles": result.reconciles, "records_per_s": result.totals.read / seconds,
    "worker_peak_rss_mib": max([r["peak_rss_mib"] for r in reports], default=None),
    "workers_used": len({r["pid"] for r in reports}),
    "parse_s": sum(r["seconds"] for r in reports), "phases": phases,
    "main_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

ANALYZE_CHILD = r"""
import json, resource, sys, time
import duckdb
from askscope.analysis import analyze
from askscope.archive.dask_analyze import analyze_archive
from askscope.campaign import parse_campaign
target, mode = sys.argv[1], sys.argv[2]
posts = "posts" if mode == "embedded" else "read_parquet('" + target + "/posts/**/*.parquet')"
con = duckdb.connect(target, read_only=True) if mode == "embedded" else duckdb.connect()
host = con.execute("SELECT author_handle FROM " + posts + " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
con.close()
campaign = parse_campaign({"name": "bench", "hosts": [host], "hashtags": ["AskCampaign"],
    "start": "2015-03-01T00:00:00Z", "end": "2015-04-30T00:00:00Z"})
started = time.perf_counter()
if mode == "embedded":
    out = analyze(target, campaign)
    runs = duckdb.connect(target, read_only=True).execute("SELECT stage, seconds FROM stage_runs").fetchall()
else:
    out = analyze_archive(target, campaign, dask=mode)
    runs = duckdb.connect().execute("SELECT stage, seconds FROM read_parquet(?)", [target + "/stage_runs/*.parquet"]).fetchall()
stages = dict(runs)
print(json.dumps({"mode": mode, "seconds": time.perf_counter() - started, "classify_s": stages["classify"],
    "posts": out["classify"]["posts"], "texts": out["classify"]["distinct_texts"],
    "posts_per_s": out["classify"]["posts"] / stages["classify"], "stages": stages,
    "main_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


STAGES_CHILD = r"""
import json, resource, sys, time
import duckdb
from askscope.analysis import analyze
from askscope.archive.dask_analyze import analyze_archive
from askscope.campaign import parse_campaign
target, mode = sys.argv[1], sys.argv[2]
posts = "posts" if mode == "embedded" else "read_parquet('" + target + "/posts/**/*.parquet')"
con = duckdb.connect(target, read_only=True) if mode == "embedded" else duckdb.connect()
host = con.execute("SELECT author_handle FROM " + posts + " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
n = con.execute("SELECT count(*), count(conversation_id) FROM " + posts).fetchall()[0]
con.close()
campaign = parse_campaign({"name": "bench", "hosts": [host], "hashtags": ["AskCampaign"],
    "start": "2015-03-01T00:00:00Z", "end": "2015-04-30T00:00:00Z"})
only = ["reply_trees", "relations"]
said = []
started = time.perf_counter()
if mode == "embedded":
    out = analyze(target, campaign, only=only)
    runs = duckdb.connect(target, read_only=True).execute("SELECT stage, seconds FROM stage_runs").fetchall()
else:
    out = analyze_archive(target, campaign, dask=mode, only=only, progress=said.append)
    runs = duckdb.connect().execute("SELECT stage, seconds FROM read_parquet(?)", [target + "/stage_runs/*.parquet"]).fetchall()
print(json.dumps({"mode": mode, "posts": n[0], "with_conversation_id": n[1], "wall_s": time.perf_counter() - started,
    "said": [m for m in said if "on Dask" in m],
    "stages_s": dict(runs), "trees": out["reply_trees"]["trees"], "campaign_posts": out["relations"]["campaign_posts"],
    "main_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def stages_bench(posts: int, workers: list[int], blank_conversations: bool) -> list[dict]:
    """``reply_trees`` and ``relations`` embedded and on Dask (see the module docstring)."""
    import duckdb

    cache = Path(tempfile.gettempdir()) / "askscope-archive-bench"
    cache.mkdir(exist_ok=True)
    files = synthetic_files(cache, posts)
    work = Path(tempfile.mkdtemp(prefix="askscope-archive-"))
    store = work / "store.duckdb"
    _child(INGEST_CHILD, str(store), "embedded", *files)
    if blank_conversations:
        with duckdb.connect(str(store)) as con:
            con.execute("UPDATE posts SET conversation_id = NULL")
    results = []
    for mode in ["embedded"] + [f"local:{w}" for w in workers]:
        target = store
        if mode != "embedded":
            target = work / f"archive-{mode.replace(':', '')}"
            subprocess.run(
                [sys.executable, "-m", "askscope", "export", str(store), "--parquet", str(target)],
                check=True,
                capture_output=True,
            )
        results.append(_child(STAGES_CHILD, str(target), mode))
        print(json.dumps(results[-1]), flush=True)
    shutil.rmtree(work)
    return results


def synthetic_files(folder: Path, posts: int, files: int = 8) -> list[str]:
    """``files`` SYNTHETIC twarc2 JSONL files of ``posts`` posts in all, 2 bad lines in each
    (cached in ``folder``)."""
    from datetime import UTC, datetime, timedelta

    from askscope.synthetic.twarc2 import load_texts, write_twarc2

    out = []
    texts = None
    for i in range(files):
        path = folder / f"synthetic-{posts}-{i}.jsonl"
        out.append(str(path))
        if path.exists():
            continue
        texts = texts or load_texts(DATA)
        start = datetime(2015, 3, 13, 12, 0, tzinfo=UTC) + timedelta(days=2 * i)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as handle:
            write_twarc2(handle, posts // files, texts, seed=i, start=start)
            handle.write(b'{"data": [{"id": \n')
            handle.write(b"not json at all\n")
        tmp.rename(path)
    return out


def _child(code: str, *args: str, env: dict[str, str] | None = None) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ingest_bench(posts: int, workers: list[int], dask_only: bool = False) -> list[dict]:
    cache = Path(tempfile.gettempdir()) / "askscope-archive-bench"
    cache.mkdir(exist_ok=True)
    files = synthetic_files(cache, posts)
    results = []
    # the merge in one key partition (one task: the work of the one-process merge) against the
    # default, two partitions per worker
    runs = [("embedded", None)] + [(f"local:{w}", "1") for w in workers[:1]] + [(f"local:{w}", None) for w in workers]
    if dask_only:  # the default partitions on each worker count alone (the size too large for three runs)
        runs = [(f"local:{w}", None) for w in workers]
    for mode, partitions in runs:
        work = Path(tempfile.mkdtemp(prefix="askscope-archive-"))
        target = work / ("store.duckdb" if mode == "embedded" else "archive")
        env = {"ASKSCOPE_MERGE_PARTITIONS": partitions} if partitions else {}
        results.append(_child(INGEST_CHILD, str(target), mode, *files, env=env))
        results[-1]["merge_partitions_forced"] = partitions
        print(json.dumps(results[-1]), flush=True)
        shutil.rmtree(work)
    one = next((r for r in results if r["merge_partitions_forced"] == "1"), None)
    for r in results:
        if one is not None and r["mode"] != "embedded":
            print(
                f"{r['mode']} ({r['phases']['partitions']} partitions): merge {r['phases']['merge_s']:.1f} s, "
                f"{one['phases']['merge_s'] / r['phases']['merge_s']:.2f}x the one-partition merge; "
                f"whole run {r['seconds']:.1f} s, {results[0]['seconds'] / r['seconds']:.2f}x the embedded ingest",
                flush=True,
            )
    return results


def classify_bench(posts: int, workers: list[int]) -> list[dict]:
    cache = Path(tempfile.gettempdir()) / "askscope-archive-bench"
    cache.mkdir(exist_ok=True)
    files = synthetic_files(cache, posts, files=2)
    results = []
    for mode in ["embedded"] + [f"local:{w}" for w in workers]:
        work = Path(tempfile.mkdtemp(prefix="askscope-archive-"))
        target = work / ("store.duckdb" if mode == "embedded" else "archive")
        _child(INGEST_CHILD, str(target), "embedded" if mode == "embedded" else "local:1", *files)
        threads = "2" if mode == "embedded" else str(max(1, 2 // int(mode.split(":")[1])))
        results.append(_child(ANALYZE_CHILD, str(target), mode, env={"ASKSCOPE_THREADS": threads}))
        print(json.dumps(results[-1]), flush=True)
        shutil.rmtree(work)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["dedup", "ingest", "classify", "stages"])
    parser.add_argument("--posts", type=int, default=None)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--no-conversation-ids", action="store_true", help="stages: blank conversation_id first")
    parser.add_argument("--dask-only", action="store_true", help="ingest: only the Dask runs, default partitions")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    started = time.perf_counter()
    workers = [int(w) for w in args.workers.split(",")]
    if args.part == "dedup":
        dedup(args.posts or 10_000)
    elif args.part == "stages":
        stages_bench(args.posts or 200_000, workers, args.no_conversation_ids)
    elif args.part == "ingest":
        ingest_bench(args.posts or 200_000, workers, args.dask_only)
    else:
        classify_bench(args.posts or 4_000, workers)
    print(f"load average after: {os.getloadavg()}; {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
