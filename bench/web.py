"""Web app benchmark: server time per page on an analysed SYNTHETIC campaign of N posts, and the
startup time of ``askscope serve`` on the demo store.

    python bench/web.py --posts 200000                 # build (cached) and measure 200k
    python bench/web.py --posts 1000000 --runs 10      # 1M
    python bench/web.py --startup-only --demo DIR      # startup on the demo store (askscope demo -o DIR)

Each campaign is simulated (askscope.synthetic.campaign, cached in the temp folder) and analysed
once with the TruthLabeler (as bench/analyze.py). The app is created in this process and called
through Starlette's TestClient, so the time is the app's own (routing, the snapshot cursor, the
SQL, the template), without a network. The first overview (snapshot taken, report document built), the first posts
pages (answered by the direct queries while the explorer table and its text index are built in
the background) and the time from the app's start to that table being ready are reported apart;
the text searches are compared through the index and by ILIKE alone (the same counts); then every page is requested once to warm it, then
``--runs`` times as a first view (the view's kept count forgotten before each) and once more as
a repeat; the median and 95th percentile per page, the median over the pages' medians and the p95
over every request are printed and written to bench/results/web.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

ANALYSE = r"""
import sys
from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.synthetic.campaign import SimulationSpec, campaign_file, truth_labeler

path, posts = sys.argv[1], int(sys.argv[2])
spec = SimulationSpec(seed=1, posts=posts)
campaign = campaign_file(spec)
campaign["frames"] = {"answering": {"keywords": ["answer", "thank you"]}, "failure": {"keywords": ["failure", "fake"]}}
analyze(path, parse_campaign(campaign), settings={"labeler": truth_labeler(path, spec), "seed": 0})
"""


def build(posts: int, folder: Path, data: Path) -> Path:
    """The analysed campaign of ``posts`` posts (simulated and analysed once, then cached)."""
    analysed = folder / f"web-campaign-{posts}.duckdb"
    if analysed.exists():
        return analysed
    raw = folder / f"campaign-{posts}.duckdb"  # shared with bench/analyze.py
    if not raw.exists():
        from askscope.synthetic.campaign import SimulationSpec, write_campaign

        print(f"simulating {posts:,} posts ...", file=sys.stderr)
        tmp = folder / f"campaign-{posts}.tmp.duckdb"
        write_campaign(tmp, SimulationSpec(seed=1, posts=posts), data)
        tmp.rename(raw)
    work = folder / f"web-campaign-{posts}.tmp.duckdb"
    work.write_bytes(raw.read_bytes())
    print(f"analysing {posts:,} posts ...", file=sys.stderr)
    subprocess.run([sys.executable, "-c", ANALYSE, str(work), str(posts)], check=True)
    work.rename(analysed)
    return analysed


def pages(client: Any) -> dict[str, str]:
    """The pages measured: the overview, the drill-downs of its numbers, the explorer's filters,
    a deep page, a post with its thread, and the API."""
    lenses = client.get("/api/lenses").json()
    timeline = lenses["lenses"]["backfire"]["timeline"]
    busiest = max(timeline["points"], key=lambda p: p["posts"])
    numbers = lenses["numbers"]
    hostile = next(s for s in numbers["backfire"]["shares"] if s["label"] == "hostile share")
    unanswered = next(c for c in numbers["engagement"]["counts"] if c["label"] == "unanswered")
    first = client.get("/api/posts", params={"limit": "50"}).json()
    question = client.get("/api/posts", params={"set": "questions", "answered": "yes", "limit": "1"}).json()["posts"][0]
    bucket = f"/posts?category=hostile&start={busiest['t']}&bucket={timeline['bucket'].replace(' ', '+')}"
    return {
        "overview /": "/",
        "hostile share's posts": hostile["k_href"],
        "unanswered questions": unanswered["href"],
        "hostile posts of the busiest bucket": bucket,
        "all the audience's posts": "/posts",
        "second page (keyset)": f"/posts?after={first['next']}",
        "most reposted": "/posts?sort=reposts",
        "text search (index, then ILIKE)": "/posts?q=thank",
        "text search, rare word": "/posts?q=failure",
        "answered after 1 to 2 hours (latency bin)": "/posts?set=questions&answered=yes&latency_from=3600&latency_to=7200",
        "language + coordinated": "/posts?language=en&coordinated=no",
        "a question with its thread": f"/posts/{question['platform']}/{question['id']}",
        "/api/lenses": "/api/lenses",
        "/api/posts hostile": "/api/posts?category=hostile",
    }


def measure(db: Path, runs: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from askscope.web.app import create_app

    started = time.perf_counter()
    with TestClient(create_app([str(db)])) as client:
        handle = next(iter(client.app.state.stores.values()))
        t = time.perf_counter()
        assert client.get("/").status_code == 200
        cold = time.perf_counter() - t
        first_page = time.perf_counter() - started
        # the explorer table is being built in the background: the first posts pages read the store
        t = time.perf_counter()
        assert client.get("/posts").status_code == 200
        explorer = time.perf_counter() - t
        t = time.perf_counter()
        assert client.get("/posts?category=hostile").status_code == 200
        while_indexing = time.perf_counter() - t
        while handle.indexing is not None:
            time.sleep(0.05)
        ready = time.perf_counter() - started
        search = compare_search(handle, runs)
        targets = pages(client)
        results: dict[str, Any] = {}
        every: list[float] = []
        for name, path in targets.items():
            assert client.get(path).status_code == 200, path  # warm
            times, repeats = [], []
            for _ in range(runs):
                # a first view: the app keeps a view's count for the snapshot (its next pages and
                # reloads count nothing), so the counts are forgotten before each timed request
                for key in [k for k in handle.cache if isinstance(k, tuple) and k[0] == "counts"]:
                    del handle.cache[key]
                t = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - t)
                assert response.status_code == 200, path
                t = time.perf_counter()
                assert client.get(path).status_code == 200
                repeats.append(time.perf_counter() - t)
            times.sort()
            repeats.sort()
            every += times
            results[name] = {
                "path": path,
                "median_ms": 1000 * statistics.median(times),
                "p95_ms": 1000 * times[min(len(times) - 1, int(0.95 * len(times)))],
                "repeat_median_ms": 1000 * statistics.median(repeats),
            }
    every.sort()
    return {
        "pages": results,
        "median_of_page_medians_ms": statistics.median(r["median_ms"] for r in results.values()),
        "p95_all_requests_ms": 1000 * every[min(len(every) - 1, int(0.95 * len(every)))],
        "overview_cold_ms": 1000 * cold,
        "first_posts_page_ms": 1000 * explorer,
        "hostile_posts_while_indexing_ms": 1000 * while_indexing,
        "app_start_to_explorer_ready_s": ready,
        "app_start_to_first_overview_ms": 1000 * first_page,
        "search": search,
    }


#: Text searches compared: through the token index (then ILIKE on its candidates) and ILIKE alone.
SEARCHES = ("thank", "thank you", "failure", "fake", "#ask", "zebra", "the")


def compare_search(handle: Any, runs: int) -> dict[str, Any]:
    """Count of each search of :data:`SEARCHES` on the explorer table: through the index, and by
    ILIKE over every row (the same query without the index), median ms of ``runs``; the counts
    must agree."""
    from askscope.web import postquery

    out: dict[str, Any] = {}
    with handle.reading() as r:
        explore = handle.explore(r)
        try:
            for q in SEARCHES:
                f = postquery.parse({"set": "all", "q": q})
                timings: dict[str, list[float]] = {"index": [], "ilike": []}
                counts = {}
                for _ in range(max(3, runs // 2)):
                    for name, index in (("index", explore), ("ilike", None)):
                        sql, params = postquery.source(f, r.tables, explore=True, index=index)
                        t = time.perf_counter()
                        counts[name] = explore.execute("SELECT count(*) " + sql, params).fetchall()[0][0]
                        timings[name].append(time.perf_counter() - t)
                assert counts["index"] == counts["ilike"], (q, counts)
                out[q] = {
                    "posts": counts["index"],
                    "index_ms": 1000 * statistics.median(timings["index"]),
                    "ilike_ms": 1000 * statistics.median(timings["ilike"]),
                }
            sizes = explore.execute(
                "SELECT (SELECT count(*) FROM explore), (SELECT count(*) FROM vocabulary), (SELECT count(*) FROM terms)"
            ).fetchall()[0]
            out["_sizes"] = {"posts": sizes[0], "vocabulary": sizes[1], "postings": sizes[2]}
        finally:
            explore.close()
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def startup(db: Path, runs: int) -> dict[str, Any]:
    """Seconds from starting ``askscope serve DB`` to its first answer (``/api/docs``: the app is
    up) and to the overview served (snapshot taken, charts drawn), median of ``runs``."""
    askscope = Path(sys.executable).with_name("askscope")
    up, overview = [], []
    for _ in range(runs):
        port = free_port()
        t = time.perf_counter()
        proc = subprocess.Popen([str(askscope), "serve", str(db), "--port", str(port)], stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/docs", timeout=5) as r:
                        r.read()
                    break
                except OSError:
                    if proc.poll() is not None or time.perf_counter() - t > 60:
                        raise SystemExit("askscope serve did not start") from None
                    time.sleep(0.01)
            up.append(time.perf_counter() - t)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as r:
                r.read()
            overview.append(time.perf_counter() - t)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"to_first_answer_s": statistics.median(up), "to_overview_s": statistics.median(overview), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, nargs="+", default=[200_000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    parser.add_argument("--demo", type=Path, help="folder of askscope demo's output (its store is measured)")
    parser.add_argument("--startup-only", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    out = ROOT / "bench" / "results" / "web.json"
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    if args.demo is not None:
        demo = next(args.demo.glob("*.duckdb"))
        results["startup_demo"] = startup(demo, 5)
        print(f"startup on the demo store: {results['startup_demo']}", file=sys.stderr)
    if not args.startup_only:
        for posts in args.posts:
            db = build(posts, args.cache, args.data)
            result = measure(db, args.runs)
            result["load_average"] = os.getloadavg()[0]
            results[str(posts)] = result
            print(f"{posts:,} posts (load {result['load_average']:.1f}):", file=sys.stderr)
            print("| page | median (ms) | p95 (ms) | again, count kept (median ms) |\n|---|---:|---:|---:|")
            for name, r in result["pages"].items():
                print(f"| {name} | {r['median_ms']:.0f} | {r['p95_ms']:.0f} | {r['repeat_median_ms']:.0f} |")
            print(
                f"| **median over pages / p95 over requests** | **{result['median_of_page_medians_ms']:.0f}** | "
                f"**{result['p95_all_requests_ms']:.0f}** | |"
            )
            print(f"first overview: {result['overview_cold_ms']:.0f} ms")
            print(
                f"first posts page (explorer table building in the background): {result['first_posts_page_ms']:.0f} ms"
            )
            print(f"hostile posts while indexing: {result['hostile_posts_while_indexing_ms']:.0f} ms")
            print(f"app start to explorer table and index ready: {result['app_start_to_explorer_ready_s']:.1f} s")
            print("| search | posts | index (ms) | ILIKE (ms) |\n|---|---:|---:|---:|")
            for q, r in result["search"].items():
                if not q.startswith("_"):
                    print(f"| `{q}` | {r['posts']:,} | {r['index_ms']:.0f} | {r['ilike_ms']:.0f} |")
            print(f"index size: {result['search']['_sizes']}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
