"""The live console's page (/live) during a replayed session: from a question's arrival to its
item on the page of a team member's browser, and the server time of the live JSON at the end.

    python bench/live_web.py --posts 10000 --hours 2 --speed 20

A SYNTHETIC campaign (the one of ``bench/live.py latency``: real texts from ../shared/data
arranged by a Hawkes simulation, a host answering questions) is replayed at ``--speed`` times
its pace through the real console and served by the real app (uvicorn on loopback). Debian's
Chromium (Playwright) holds ``/live?status=all&abuse=true&limit=100000`` open before the replay
starts, so every item is drawn, the worst case for the page (the default page draws the 200
highest ranked); a MutationObserver notes when each item first shows. An item's latency is that
moment minus the arrival of its first question (when the replay emits it): the server-sent
event, the page's fetch of the queue, pulse and alerts, and the drawing all included; beside it,
in the same run, what ``bench/live.py`` measures (the item first in ``console.queue()``, read at
every new version) and the page's own share (page minus console, per item). After the
replay, each JSON endpoint is timed (median of 20 requests, on the served app) with its size.
Prints the figures, the load average while it ran, and writes bench/results/live_web.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

OBSERVER = """() => {
  window.__seen = {};
  const note = () => {
    const now = performance.timeOrigin + performance.now();
    document.querySelectorAll('#queue > li.item').forEach(li => {
      const id = li.getAttribute('data-item');
      if (!(id in window.__seen)) window.__seen[id] = now;
    });
  };
  new MutationObserver(note).observe(document.getElementById('queue'), {childList: true});
  note();
}"""


def summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "median": round(statistics.median(values), 3),
        "p95": round(values[int(0.95 * (len(values) - 1))], 3),
        "max": round(values[-1], 3),
        "under_2s": round(sum(x < 2 for x in values) / len(values), 3),
    }


def timed(client: Any, path: str, n: int = 20) -> dict[str, Any]:
    times, size = [], 0
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
        size = len(response.content)
    return {
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "bytes": size,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    from live import write_replay  # bench/live.py
    from web_server import chromium, free_port  # tests/web_server.py

    from askscope.live.console import LiveConsole
    from askscope.live.intake import ReplayIntake
    from askscope.web.app import create_app
    from askscope.web.routes.live import stop_streams

    folder = Path(tempfile.mkdtemp(prefix="askscope-live-web-bench-"))
    data = folder / "campaign.jsonl"
    campaign, written = write_replay(data, args.posts, args.hours, args.seed)
    console = LiveConsole.open(folder / "live.duckdb", str(campaign))
    console.labeler()  # loaded once before the clock starts, as askscope live does
    intake = ReplayIntake(str(data), args.speed)
    app = create_app([str(folder / "live.duckdb")], snapshot_dir=folder / "snaps", live=console)
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    loads: list[float] = []
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            loads.append(os.getloadavg()[0])
            stop.wait(5)

    # what bench/live.py measures, in the same run: when the console's queue first holds the item
    in_console: dict[str, float] = {}

    def viewer() -> None:
        version = 0
        while not stop.is_set():
            version = console.wait(version, 1.0)
            now = time.time()
            for item in console.queue(status="all", show_abuse=True):
                in_console.setdefault(item["item"], now)

    sampling = threading.Thread(target=sampler, daemon=True)
    sampling.start()
    viewing = threading.Thread(target=viewer, daemon=True)
    viewing.start()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(base + "/live?status=all&abuse=true&limit=100000")
        page.wait_for_selector("#connection:has-text('updates: live')")
        page.evaluate(OBSERVER)
        # wall clock <-> monotonic, to put the replay's due times on the browser's clock
        epoch0, mono0 = time.time(), time.monotonic()
        started = time.perf_counter()
        intake.run(console, threading.Event())
        wall = time.perf_counter() - started
        expected = {item["item"] for item in console.queue(status="all", show_abuse=True)}
        deadline = time.monotonic() + 120
        seen: dict[str, float] = {}
        while time.monotonic() < deadline:
            seen = page.evaluate("() => window.__seen")
            if expected <= set(seen):
                break
            time.sleep(1)
        stop.set()
        latencies, engine, page_after_console = [], [], []
        for item_id in expected & set(seen):
            found = console.item(item_id)
            assert found is not None
            post = console.model.posts[(found["post"]["platform"], found["post"]["id"])]
            at = post.created_at if post.created_at.tzinfo else post.created_at.replace(tzinfo=UTC)
            arrival = epoch0 + (intake.due_wall(at) - mono0)
            latencies.append(seen[item_id] / 1000 - arrival)
            if item_id in in_console:
                engine.append(in_console[item_id] - arrival)
                page_after_console.append(seen[item_id] / 1000 - in_console[item_id])
    with httpx.Client(base_url=base, timeout=60) as client:
        endpoints = {
            "/live (page, 200 items)": timed(client, "/live"),
            "/api/live/queue (open, 200 items)": timed(client, "/api/live/queue?limit=200"),
            "/api/live/queue (open, 200 items, brief: the page's fetch)": timed(
                client, "/api/live/queue?limit=200&brief=true"
            ),
            "/api/live/queue (all items)": timed(client, "/api/live/queue?status=all&abuse=true"),
            "/api/live/pulse": timed(client, "/api/live/pulse"),
            "/api/live/alerts": timed(client, "/api/live/alerts"),
        }
    stop_streams(app)
    server.should_exit = True
    serving.join(timeout=30)
    pulse = console.pulse()
    items = len(expected)
    console.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "posts_replayed": written,
        "speed": args.speed,
        "wall_s": round(wall, 1),
        "items": items,
        "items_seen_on_page": len(latencies),
        "latency_s": summary(latencies),
        "in_console_queue_s": summary(engine),
        "page_after_console_s": summary(page_after_console),
        "endpoints": endpoints,
        "load_average": {"mean": round(statistics.mean(loads), 2), "max": round(max(loads), 2)},
        "cpus": os.cpu_count(),
        "pulse": {k: pulse[k] for k in ("posts", "questions", "answered", "waiting")},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "live_web.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
