"""End to end with the real models: ``askscope ingest``, ``analyze`` and ``report`` as a user runs them.

    python bench/end_to_end.py                      # 20,000 and 100,000 posts
    python bench/end_to_end.py --posts 1000000      # the issue's size
    python bench/end_to_end.py --posts 100000 --frames   # a campaign with frames (scored in classify)
    python bench/end_to_end.py --posts 100000 --dask local:1 local:2   # also as an archive on Dask
    python bench/end_to_end.py --posts 1000000 --dask local:2 --no-embedded   # the archive path alone
    python bench/end_to_end.py --posts 10000000 --dask local:2 --no-embedded --keep /tmp/e2e-10m
        # keep the work folder: a later run with the same --keep reuses the finished ingest
    python bench/end_to_end.py --posts 2000000 --dask local:2 --compare --kill-worker-after 240
        # both paths on the same files, one Dask worker SIGKILLed 240 s into the archive's analyze,
        # then the store and the archive compared table by table, lens results and reports too

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

The real texts come from ``../shared/data`` beside the checkout, or from ``ASKSCOPE_SHARED_DATA``
(as for the tests), e.g. when the benchmark runs from a worktree elsewhere.

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
DATA = Path(os.environ.get("ASKSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))
FILES = 4
TARGET_POSTS = 1_000_000

CAMPAIGN = """name = "bench end to end"
hosts = ["{host}"]
hashtags = ["AskCampaign"]
start = "2015-03-01T00:00:00Z"
end = "2015-04-30T00:00:00Z"
"""
#: ``--frames``: two frames (keywords and an example each), so that the classify stage also scores
#: every distinct text of P against them (the framing lens's input) as a campaign with frames does.
FRAMES = """
[frames.economy]
keywords = ["economy", "jobs", "taxes", "prices"]
examples = ["the economy needs more jobs and lower taxes for working families"]

[frames.security]
keywords = ["police", "attack", "terror", "army"]
examples = ["after the attack we need more police and a stronger army to keep people safe"]
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


def dask_workers(proc: psutil.Process) -> list[psutil.Process]:
    """The Dask worker processes of a ``LocalCluster`` started by ``proc``: its multiprocessing
    children that are not the resource tracker (each nanny lives in ``proc`` and spawns one)."""
    workers = []
    for child in proc.children(recursive=True):
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in line and "resource_tracker" not in line:
            workers.append(child)
    return workers


def timed(args: list[str], kill_after: float | None = None, check: bool = True) -> dict:
    """Run ``python -m askscope ARGS``; wall seconds, CPU seconds and peak RSS of the process tree.

    ``kill_after``: that many seconds in, SIGKILL the largest Dask worker process (the nanny
    starts a new one; the run must then finish with the same results or fail cleanly). With
    ``check=False`` a failed command is returned (``returncode``, the end of its stderr), not raised.
    """
    started = time.perf_counter()
    proc = psutil.Popen(
        [sys.executable, "-m", "askscope", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak, single, cpu = 0, 0, 0.0
    killed: dict | None = None
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            sizes = [p.memory_info().rss for p in tree]
            peak, single = max(peak, sum(sizes)), max(single, *sizes)
            times = proc.cpu_times()
            cpu = times.user + times.system + times.children_user + times.children_system
            if kill_after is not None and killed is None and time.perf_counter() - started >= kill_after:
                workers = dask_workers(proc)
                if workers:
                    victim = max(workers, key=lambda p: p.memory_info().rss)
                    rss = victim.memory_info().rss
                    victim.kill()
                    killed = {
                        "pid": victim.pid,
                        "at_seconds": round(time.perf_counter() - started, 1),
                        "rss_mib": round(rss / 2**20, 1),
                        "workers_before": len(workers),
                    }
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    # stderr is read after the end: the analyze commands write a few progress lines only
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode and check:
        raise SystemExit(f"askscope {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    out: dict = {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mib": round(peak / 2**20, 1),
        "peak_rss_one_process_mib": round(single / 2**20, 1),
    }
    if kill_after is not None:
        out["killed_worker"] = killed
    if not check:
        out["returncode"] = proc.returncode
        out["stderr_tail"] = err[-600:]
    return out


#: tables compared between the embedded store and the archive (``--compare``), and the columns
#: left out: when a record was observed and which ingest stored a reject differ by design
COMPARED = {
    "posts": ("observed_at",),
    "accounts": ("observed_at",),
    "rejects": ("ingest_id",),
    "labels": (),
    "relations": (),
    "metrics": (),
    "lens_results": (),
}


def close(a: object, b: object, rel: float = 1e-9, path: str = "") -> list[str]:
    """Where two JSON documents differ: numbers beyond ``rel`` (relative, absolute near zero),
    anything else exactly; the paths of the differences."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in close(a[k], b[k], rel, f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} against {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in close(x, y, rel, f"{path}[{i}]")]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return [] if abs(a - b) <= rel * max(1.0, abs(a), abs(b)) else [f"{path}: {a} against {b}"]
    return [] if a == b else [f"{path}: {a!r} against {b!r}"]


def compare(store: Path, archive: Path) -> dict:
    """The embedded store against the archive of the same files: per table the rows of either
    that the other lacks (``EXCEPT ALL`` both ways, the columns of :data:`COMPARED`), the lens
    documents and the two JSON reports compared number by number (:func:`close`)."""
    import duckdb

    con = duckdb.connect()
    con.execute("ATTACH ? AS e (READ_ONLY)", [str(store)])
    out: dict = {"tables": {}}
    for table, leave_out in COMPARED.items():
        columns = [
            (name, kind)
            for name, kind in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'e' AND table_name = ? "
                "ORDER BY column_index",
                [table],
            ).fetchall()
            if name not in leave_out
        ]
        exact = ", ".join(f'"{c}"' for c, _ in columns)
        # floating-point columns also at float32 precision: the two paths batch the numpy work
        # differently, which may move a float64 in its last bits (1e-16), never a label or a count
        rounded = ", ".join(
            f'CAST("{c}" AS FLOAT)'
            if kind in ("DOUBLE", "FLOAT")
            else f'CAST("{c}" AS FLOAT[])'
            if kind in ("DOUBLE[]", "FLOAT[]")
            else f'"{c}"'
            for c, kind in columns
        )
        pattern = "**/*.parquet" if table == "posts" else "*.parquet"
        theirs = f"read_parquet('{archive / table / pattern}', hive_partitioning = false)"
        counts: dict = {"rows": con.execute(f"SELECT count(*) FROM e.{table}").fetchone()[0]}
        for name, listed in (("", exact), ("_at_float32", rounded)):
            a, b = f"SELECT {listed} FROM e.{table}", f"SELECT {listed} FROM {theirs}"
            counts["only_in_store" + name] = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
            counts["only_in_archive" + name] = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
        out["tables"][table] = counts
    documents = [
        json.loads(con.execute(f"SELECT results FROM {t}").fetchone()[0])
        for t in ("e.lens_results", f"read_parquet('{archive / 'lens_results' / '*.parquet'}')")
    ]
    out["lens_document_differences"] = close(*documents)[:20]
    reports = [json.loads((p.parent / "report.json").read_text()) for p in (store, archive)]
    out["report_differences"] = close(*reports)[:20]
    out["identical_tables"] = all(t["only_in_store"] == 0 and t["only_in_archive"] == 0 for t in out["tables"].values())
    out["same_tables_at_float32"] = all(
        t["only_in_store_at_float32"] == 0 and t["only_in_archive_at_float32"] == 0 for t in out["tables"].values()
    )
    out["same_results"] = not out["lens_document_differences"] and not out["report_differences"]
    return out


def run(
    posts: int,
    cache: Path,
    dask: str | None = None,
    keep: Path | None = None,
    kill_after: float | None = None,
    leave: bool = False,
    labeler: str = "bundled",
    frames: bool = False,
) -> dict:
    """One size through one path. ``leave``: do not delete the work folder (``--compare`` reads
    it, then deletes it); its path is ``result["work"]``."""
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
            "labeler": labeler,
            "frames": frames,
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
        campaign.write_text(CAMPAIGN.format(host=host[0]) + (FRAMES if frames else ""), encoding="utf-8")
        result["analyze"] = timed(
            ["analyze", str(target), "--campaign", str(campaign), "--labeler", labeler, *on],
            kill_after=kill_after if dask else None,
            check=not (kill_after and dask),
        )
        if result["analyze"].get("returncode"):
            # the killed worker failed the run: it must have failed cleanly (checked by the caller)
            result["work"] = str(work)
            return result
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
            if frames:  # the texts scored against the frames (each distinct text of P once)
                result["frame_texts"] = con.execute(
                    f"SELECT count(DISTINCT coalesce(p.text, '')) FROM {table('frame_scores')} f "
                    f"JOIN {table('posts')} p ON p.platform = f.platform AND p.id = f.post_id"
                ).fetchone()[0]
        result["total_seconds"] = round(sum(result[c]["seconds"] for c in ("ingest", "analyze", "report")), 1)
        result["peak_rss_mib"] = max(result[c]["peak_rss_mib"] for c in ("ingest", "analyze", "report"))
        result["peak_rss_one_process_mib"] = max(
            result[c]["peak_rss_one_process_mib"] for c in ("ingest", "analyze", "report")
        )
        result["work"] = str(work)
        return result
    finally:
        if keep is None and not leave:
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
    parser.add_argument(
        "--compare",
        action="store_true",
        help="compare the embedded store with each archive of the same size: tables, lens results, reports",
    )
    parser.add_argument(
        "--labeler",
        default="bundled",
        help="the classify stage's labeler: bundled (the default model set) or bundled-fast (the 3-layer student)",
    )
    parser.add_argument(
        "--frames", action="store_true", help="give the campaign two frames (the framing lens's scoring included)"
    )
    parser.add_argument(
        "--kill-worker-after",
        type=float,
        metavar="SECONDS",
        help="SIGKILL the largest Dask worker this many seconds into each archive analyze",
    )
    args = parser.parse_args()
    if args.compare and (args.no_embedded or not args.dask or args.keep):
        parser.error("--compare needs the embedded path and at least one --dask address, without --keep")
    args.cache.mkdir(parents=True, exist_ok=True)
    print(
        f"load average before: {os.getloadavg()}; ASKSCOPE_THREADS={os.environ.get('ASKSCOPE_THREADS', '(all cores)')}"
    )
    rows, failed = [], []
    for posts in args.posts:
        store: Path | None = None
        for dask in ([] if args.no_embedded else [None]) + args.dask:
            result = run(
                posts,
                args.cache,
                dask,
                args.keep,
                args.kill_worker_after,
                leave=args.compare,
                labeler=args.labeler,
                frames=args.frames,
            )
            result["load_average_after"] = os.getloadavg()
            work = Path(result["work"])
            if result["analyze"].get("returncode"):
                # a run the killed worker stopped: it must say so cleanly (exit 1, ``Error:``)
                tail = result["analyze"]["stderr_tail"]
                result["failed_cleanly"] = (
                    result["analyze"]["returncode"] == 1 and "Error:" in tail and ("Traceback" not in tail)
                )
                failed.append(result)
                print(json.dumps(result), flush=True)
                shutil.rmtree(work, ignore_errors=True)
                continue
            if args.compare and dask is None:
                store = work / "campaign.duckdb"
            elif args.compare and store is not None:
                result["compared_with_embedded"] = compare(store, work / "archive")
                shutil.rmtree(work, ignore_errors=True)
            rows.append(result)
            print(json.dumps(result), flush=True)
        if store is not None:
            shutil.rmtree(store.parent, ignore_errors=True)
    out = ROOT / "bench" / "results" / ("end_to_end_dask.json" if args.no_embedded else "end_to_end.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows + failed, indent=2))
    for r in failed:
        print(f"{r['path']}: the killed worker stopped the run; failed cleanly: {r['failed_cleanly']}")
    for r in rows:
        if "compared_with_embedded" in r:
            c = r["compared_with_embedded"]
            killed = r["analyze"].get("killed_worker")
            print(
                f"{r['path']} against the embedded store ({r['posts_written']:,} posts"
                + (f"; a worker killed at {killed['at_seconds']} s" if killed else "")
                + f"): tables identical {c['identical_tables']}, the same at float32 {c['same_tables_at_float32']}, "
                f"lens results and report the same {c['same_results']}"
            )
            for table, t in c["tables"].items():
                print(
                    f"  {table}: {t['rows']:,} rows; only in the store / only in the archive: "
                    f"{t['only_in_store']} / {t['only_in_archive']} exact, "
                    f"{t['only_in_store_at_float32']} / {t['only_in_archive_at_float32']} at float32"
                )
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
