"""What the v2.0.0 irony and question heads add to the classification stack, per post.

Usage: python bench/heads_overhead.py [DATA_DIR] [--n 4000]

The heads run numpy over outputs the encoder computes anyway, plus regular expressions (question
rules, irony cues), so their cost is measured apart from the encoder pass, in CPU time per post
(user + system, all threads), which a shared machine's load changes far less than wall time. Posts:
every fifth of ``bench/classify.py``'s 20,000 (SemEval pool, OffensEval, 8 UMSAB languages).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="?", default=ROOT.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=4000)
    args = parser.parse_args()
    os.environ.setdefault("ASKSCOPE_THREADS", "2")
    from classify import load_posts  # bench/classify.py

    from askscope.classify import models, questions
    from askscope.classify.predict import source_scores

    posts = load_posts(args.data, 20_000)[::5][: args.n]
    models.encoder().run(posts[:64])
    started = cpu_seconds()
    encoded, pooled = models.encoder().run(posts)
    encoder_ms = 1000 * (cpu_seconds() - started) / len(posts)
    for task in ("irony", "question"):  # load the head files before timing
        for source in models.card(task)["sources"]:
            source_scores(source, posts[:8], *models.encoder().run(posts[:8]))
    questions._row.cache_clear()
    started = cpu_seconds()
    for task in ("irony", "question"):
        for source in models.card(task)["sources"]:
            source_scores(source, posts, encoded, pooled)
    questions.rule_floor(posts, models.card("question")["decision"]["rule_floor"], None)
    heads_ms = 1000 * (cpu_seconds() - started) / len(posts)
    print(
        f"{len(posts)} posts, load average {os.getloadavg()[0]:.1f}: encoder pass {encoder_ms:.2f} ms CPU/post; "
        f"irony + question heads, rules and rule floor {heads_ms:.3f} ms CPU/post "
        f"({100 * heads_ms / encoder_ms:.1f}% of the encoder)"
    )


if __name__ == "__main__":
    main()
