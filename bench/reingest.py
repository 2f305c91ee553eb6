"""Re-ingest benchmark: what counting ``unchanged`` records costs (issue 16).

    python bench/reingest.py                   # 200k posts (default)
    python bench/reingest.py --posts 1000000

Ingests a SYNTHETIC twarc2 JSONL of N posts (the same cached file as bench/ingest.py) into a fresh
store, then ingests it again twice: once as askscope does it (each stored record compared with
what the merge would make of it, to count ``updated`` and ``unchanged`` apart), once with that
comparison switched off (the merge alone, as before the count existed). Each run is a separate
process on a copy of the same store; prints seconds and the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import DEFAULT_DATA, build_file  # noqa: E402

RUN = """
import sys, time
import askscope
from askscope.store import write
if sys.argv[3] == "off":
    original = write._upsert
    write._upsert = lambda *a: original(*a[:-1], False)
started = time.perf_counter()
result = askscope.ingest(sys.argv[1], [sys.argv[2]])
print("RESULT", time.perf_counter() - started, result.totals.updated, result.totals.unchanged)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    source = build_file(args.posts, 1, args.data, args.cache)
    work = Path(tempfile.mkdtemp(prefix="askscope-reingest-"))
    try:
        base = work / "base.duckdb"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", RUN, str(base), str(source), "on"], check=True, capture_output=True)
        first = time.perf_counter() - started
        print(f"first ingest of {args.posts:,} posts: {first:.1f} s (process wall time)")
        times = {}
        for mode in ("on", "off"):
            copy = work / f"{mode}.duckdb"
            shutil.copyfile(base, copy)
            lines = subprocess.run(
                [sys.executable, "-c", RUN, str(copy), str(source), mode], check=True, capture_output=True, text=True
            ).stdout.splitlines()
            out = next(line for line in lines if line.startswith("RESULT")).split()[1:]
            times[mode] = float(out[0])
            print(f"re-ingest, unchanged counted {mode:>3}: {times[mode]:.1f} s (updated {out[1]}, unchanged {out[2]})")
        print(f"ratio (counted / not counted): {times['on'] / times['off']:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
