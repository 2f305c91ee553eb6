"""Reader speed per MB: the Mastodon, Bluesky and Reddit readers against the X v2 reader, same run.

    python bench/readers.py                 # ~8 MB per reader, best of 5
    python bench/readers.py --mb 2 --runs 3

Each reader parses real recorded API responses from ../shared/data/fixtures (X v2: twarc2 search
pages; Mastodon: every status, timeline and context body of the Mastodon.py cassettes; Bluesky:
searchPosts, author feeds, timelines, threads, records; Reddit: thread pages, listings and
morechildren results of the PRAW cassettes), repeated until each corpus reaches the same size.
Each record is parsed from its bytes into a fresh sink, whose deferred accounts and context posts
are then built, which is the work ``ingest`` asks of a reader (the store is not involved). The
X v2 reader is timed on its own reader path (not the vectorised page path of ingest). The readers
take turns, one pass each per round, and each reader's best round counts (the machine is shared).
Prints MB/s, posts/s and the ratio to X v2; writes bench/results/readers.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from cassettes import exchanges  # noqa: E402

from askscope.readers import reader_for  # noqa: E402
from askscope.readers.base import RawRecord, Sink  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data"
CASSETTES = {
    "mastodon": ["mastodon/*.yaml"],
    "bluesky": ["bluesky/f_*.yml", "bluesky/r_listrcd.yml"],
    "reddit": ["reddit/*.json"],
}


def corpus(name: str, data: Path) -> list[bytes]:
    """The real response bodies one reader reads (only those it produces posts from)."""
    fixtures = data / "fixtures"
    if name == "x-v2":
        records = []
        for path in sorted((fixtures / "x-v2").glob("*.jsonl")):
            records.extend(line for line in path.read_bytes().splitlines() if b'"data"' in line)
        return records
    reader = reader_for(name)
    records = []
    for pattern in CASSETTES[name]:
        for path in sorted(fixtures.glob(pattern)):
            try:
                recorded = exchanges(path)
            except (UnicodeDecodeError, ValueError):
                continue  # cassettes with binary uploads
            for exchange in recorded:
                if exchange.status != 200 or not exchange.body.strip():
                    continue
                sink = Sink(source_file="bench")
                reader.parse(RawRecord(1, 0, exchange.body), sink)
                if sink.matches:
                    records.append(exchange.body)
    return records


def repeat_to(records: list[bytes], size: int) -> list[bytes]:
    out: list[bytes] = []
    total = 0
    while total < size:
        for record in records:
            out.append(record)
            total += len(record)
            if total >= size:
                break
    return out


def time_once(name: str, records: list[bytes]) -> tuple[float, int]:
    reader = reader_for(name)
    started = time.perf_counter()
    posts = 0
    for line, raw in enumerate(records, 1):
        sink = Sink(source_file="bench")
        reader.parse(RawRecord(line, 0, raw), sink)
        sink.materialize()
        posts += len(sink.matches) + len(sink.context)
    return time.perf_counter() - started, posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--mb", type=float, default=8.0, help="corpus size per reader, MB")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    names = ("x-v2", "mastodon", "bluesky", "reddit")
    corpora = {}
    for name in names:
        base = corpus(name, args.data)
        corpora[name] = (len(base), repeat_to(base, size))
    # Rounds: every reader once per round, so that a busy moment of the machine hits all alike;
    # the best round of each reader counts.
    best = {name: float("inf") for name in names}
    posts = {}
    for _ in range(args.runs):
        for name in names:
            seconds, posts[name] = time_once(name, corpora[name][1])
            best[name] = min(best[name], seconds)
    results = {}
    for name in names:
        responses, records = corpora[name]
        nbytes = sum(len(r) for r in records)
        results[name] = {
            "responses": responses,
            "mb": round(nbytes / 1e6, 2),
            "seconds": round(best[name], 3),
            "mb_per_s": round(nbytes / 1e6 / best[name], 2),
            "posts_per_s": round(posts[name] / best[name]),
        }
    reference = results["x-v2"]["mb_per_s"]
    print(f"{'reader':<10} {'responses':>9} {'MB':>6} {'MB/s':>7} {'posts/s':>9} {'vs x-v2':>8}")
    for name, r in results.items():
        r["vs_x_v2"] = round(r["mb_per_s"] / reference, 2)
        print(
            f"{name:<10} {r['responses']:>9} {r['mb']:>6} {r['mb_per_s']:>7} {r['posts_per_s']:>9} {r['vs_x_v2']:>7}x"
        )
    out = ROOT / "bench" / "results" / "readers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "mb": args.mb,
                "runs": args.runs,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
