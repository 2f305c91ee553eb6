"""Re-ingest benchmark: what counting ``unchanged`` records costs (issue 16).

    python bench/reingest.py                   # 200k posts (default)
    python bench/reingest.py --posts 20000 --rounds 3

Ingests a SYNTHETIC twarc2 JSONL of N posts (the same cached file as bench/ingest.py) into a
fresh store, then ingests the same file again into copies of that store, alternating two modes
round by round in one process: as askscope does it (each batch's stored records compared with what
the merge makes of them, to count ``updated`` and ``unchanged`` apart) and with that comparison
switched off (the merge alone, as before the count existed). Prints the median seconds of each
mode and their ratio. The first ingest of new posts never runs the comparison (a batch holding no
stored record skips it), so only re-ingests can pay for it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import DEFAULT_DATA, build_file  # noqa: E402

import askscope  # noqa: E402
from askscope.store import write  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    source = str(build_file(args.posts, 1, args.data, args.cache))
    work = Path(tempfile.mkdtemp(prefix="askscope-reingest-"))
    counted = write._upsert

    def not_counted(*a: object) -> tuple[int, int, int]:
        return counted(*a[:-1], False)  # type: ignore[arg-type]

    try:
        base = str(work / "base.duckdb")
        started = time.perf_counter()
        askscope.ingest(base, [source])
        print(f"first ingest of {args.posts:,} posts: {time.perf_counter() - started:.1f} s")
        times: dict[str, list[float]] = {"counted": [], "not counted": []}
        for _ in range(args.rounds):
            for mode, upsert in (("counted", counted), ("not counted", not_counted)):
                copy = str(work / "copy.duckdb")
                shutil.copyfile(base, copy)
                write._upsert = upsert  # type: ignore[assignment]
                started = time.perf_counter()
                totals = askscope.ingest(copy, [source]).totals
                times[mode].append(time.perf_counter() - started)
                write._upsert = counted  # type: ignore[assignment]
                assert totals.new == 0 and totals.unchanged == totals.read - totals.rejected
        for mode, values in times.items():
            print(f"re-ingest, unchanged {mode:>11}: median {statistics.median(values):.1f} s of {values}")
        ratio = statistics.median(times["counted"]) / statistics.median(times["not counted"])
        print(f"ratio (counted / not counted): {ratio:.2f}x")
    finally:
        write._upsert = counted  # type: ignore[assignment]
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
