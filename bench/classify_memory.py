"""The classify stage's own memory, without the models' time: on a copy of an analysed store, the
stage runs with the bundled labeler's tasks but a label map that answers every chunk at once
(a constant label), and samples DuckDB's memory each time it hands a chunk out, i.e. while the
stage's temporary tables (which DuckDB keeps in memory) are all there. It prints the stage's
seconds, DuckDB's largest memory, the labels written (a checksum, to compare trees) and the
process's peak RSS.

    python bench/lenses.py --posts 300000 --rounds 0          # builds the 300k-post store once
    PYTHONPATH=OLD_CHECKOUT/src python bench/classify_memory.py
    python bench/classify_memory.py
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from askscope.campaign import parse_campaign
from askscope.stages.base import Context, run_stages
from askscope.store.core import open_store
from askscope.synthetic.campaign import SimulationSpec, campaign_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=300_000, help="the lens bench's store of this size")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    args = parser.parse_args()
    source = args.cache / f"lenses-{args.posts}.duckdb"
    if not source.exists():
        raise SystemExit(f"no {source}: build it with python bench/lenses.py --posts {args.posts} --rounds 0")
    work = Path(tempfile.mkdtemp())
    copy = work / "store.duckdb"
    shutil.copy(source, copy)
    peak = 0
    with open_store(copy) as store:

        def label_map(labeler: Any, requests: Iterable[tuple[list[str], Any]]) -> Iterator[dict[str, Any]]:
            nonlocal peak
            for texts, _ in requests:
                used = store.con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()[0][0]
                peak = max(peak, int(used))
                yield {task: (["x"] * len(texts), np.zeros(len(texts))) for task in labeler.versions()}

        store.con.execute("DELETE FROM labels")
        campaign = parse_campaign(campaign_file(SimulationSpec(seed=1, posts=args.posts)))
        settings = {"seed": 0, "labeler": "bundled", "label_map": label_map}
        started = time.perf_counter()
        run_stages(Context(store=store, campaign=campaign, settings=settings), only=["classify"])
        seconds = time.perf_counter() - started
        rows, posts, checksum = store.con.execute(
            "SELECT count(*), count(DISTINCT post_id), sum(hash(post_id, task, label, text_hash))::VARCHAR FROM labels"
        ).fetchall()[0]
    shutil.rmtree(work, ignore_errors=True)
    print(
        f"classify stage {seconds:.1f} s; DuckDB memory while labelling {peak / 2**20:.0f} MiB; "
        f"labels {rows:,} rows of {posts:,} posts (checksum {checksum}); "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB"
    )


if __name__ == "__main__":
    main()
