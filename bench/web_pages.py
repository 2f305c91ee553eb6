"""Server time of the comparison, coding, account, network and export pages on an analysed
SYNTHETIC campaign (the store bench/web.py builds and caches), through Starlette's TestClient.

    python bench/web.py --posts 200000            # builds /tmp/askscope-bench/web-campaign-200000.duckdb
    python bench/web_pages.py --posts 200000 --runs 5

The store is copied first (the coding pages draw a 300-post sample and write codes into the copy).
Each page is requested once to warm it (snapshot, per-snapshot caches), then ``--runs`` times;
the median and maximum per page are printed and written to bench/results/web_pages.json. The
coding writes are timed as POSTs (each one a new snapshot of the store: the copy of the file is
part of the time). Exports are timed to their last byte.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--folder", default=str(Path(tempfile.gettempdir()) / "askscope-bench"))
    args = parser.parse_args()
    source = Path(args.folder) / f"web-campaign-{args.posts}.duckdb"
    if not source.exists():
        sys.exit(f"{source} is missing: run python bench/web.py --posts {args.posts} first")
    from fastapi.testclient import TestClient

    import askscope
    from askscope.coding import draw_sample
    from askscope.web.app import create_app

    work = Path(tempfile.mkdtemp(prefix="askscope-web-pages-"))
    db = work / "campaign.duckdb"
    shutil.copyfile(source, db)
    with askscope.open_store(str(db)) as store:
        sample = draw_sample(store, "discourse", n=300, seed=1)
        top = store.con.execute(
            "SELECT p.author_id FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
            "WHERE r.in_campaign AND r.relation <> 'host' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
        labels = dict(
            store.con.execute(
                "SELECT s.row_number, l.label FROM code_samples s JOIN labels l ON l.platform = s.platform "
                "AND l.post_id = s.post_id AND l.task = 'discourse' WHERE s.sample_id = ?",
                [sample.sample_id],
            ).fetchall()
        )
    sid = sample.sample_id
    results: dict[str, Any] = {"posts": args.posts, "runs": args.runs, "pages": {}}
    with TestClient(create_app([str(db)], snapshot_dir=work / "snaps")) as client:
        token = client.get("/coding").cookies["askscope_csrf"]
        headers = {"origin": "http://testserver", "x-csrf-token": token}
        # code 60 posts as two coders, timing each POST (a write, then a new snapshot on the next read)
        posts: list[float] = []
        for row in range(1, 61):
            for coder in ("ana", "bo"):
                start = time.perf_counter()
                response = client.post(
                    f"/api/coding/{sid}/{row}", json={"coder": coder, "code": labels.get(row, "other")}, headers=headers
                )
                client.get(f"/api/coding/{sid}/{row + 1}?coder={coder}")  # the next page: a fresh snapshot
                posts.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
        results["coding_post_and_next_s"] = {"median": statistics.median(posts), "max": max(posts), "n": len(posts)}
        pages = {
            "/compare": "/compare",
            "/api/compare": "/api/compare",
            "account page (most active account)": f"/accounts/x/{top}",
            "/networks": "/networks",
            "/api/networks": "/api/networks",
            "/coding": "/coding",
            "coding item": f"/coding/{sid}/61?coder=ana",
            "agreement (cached per snapshot)": f"/coding/{sid}/agreement",
            "estimate (cached per snapshot)": f"/coding/{sid}/estimate",
            "export CSV, hostile posts": "/export/posts.csv?category=hostile",
            "export Parquet, every campaign post": "/export/posts.parquet?set=campaign",
            "export JSON, questions": "/export/posts.json?set=questions",
        }
        first: dict[str, float] = {}
        for name, path in pages.items():
            start = time.perf_counter()
            response = client.get(path)
            first[name] = time.perf_counter() - start
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
        for name, path in pages.items():
            times = []
            size = 0
            for _ in range(args.runs):
                start = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - start)
                size = len(response.content)
            results["pages"][name] = {
                "first_s": round(first[name], 4),
                "median_s": round(statistics.median(times), 4),
                "max_s": round(max(times), 4),
                "bytes": size,
            }
            print(
                f"{name:40s} first {first[name] * 1000:8.1f} ms  median {statistics.median(times) * 1000:8.1f} ms  "
                f"max {max(times) * 1000:8.1f} ms  {size:,} bytes"
            )
    c = results["coding_post_and_next_s"]
    print(
        f"{'coding POST + next item':40s} median {c['median'] * 1000:8.1f} ms  max {c['max'] * 1000:8.1f} ms  n={c['n']}"
    )
    out = ROOT / "bench" / "results" / "web_pages.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
