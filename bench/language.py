"""The language-id confidence threshold (askscope.classify.language.MIN_CONFIDENCE), chosen on
UMSAB *train* tweets (8 languages, first 600 of each) and reported on the validation tweets.

For each threshold: the share of posts that keep a language (the rest are ``und``), the share of
kept languages that are right, and the same on short posts (8 words or fewer), where py3langid
alone names short English tweets Afrikaans, Somali or Pidgin.

    python bench/language.py ../shared/data
"""

from __future__ import annotations

import sys
from pathlib import Path

from askscope.classify.language import MIN_CONFIDENCE, identify

CODES = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)


def rows(data: Path, split: str, limit: int | None) -> list[tuple[str, str, float, int]]:
    """(true code, predicted code, probability, words) per tweet of ``split``."""
    out = []
    for folder, code in CODES.items():
        texts = (data / "umsab" / folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()[:limit]
        for text, ranked in zip(texts, identify(texts)):
            out.append((code, ranked[0][0], ranked[0][1], len(text.split())))
    return out


def table(found: list[tuple[str, str, float, int]]) -> None:
    print(f"{'threshold':>9} {'kept':>6} {'right':>6} {'short kept':>10} {'short right':>11}")
    for threshold in THRESHOLDS:
        kept = [r for r in found if r[2] >= threshold]
        short_all = [r for r in found if r[3] <= 8]
        short = [r for r in kept if r[3] <= 8]
        right = sum(r[0] == r[1] for r in kept) / max(len(kept), 1)
        short_right = sum(r[0] == r[1] for r in short) / max(len(short), 1)
        mark = "  <- MIN_CONFIDENCE" if threshold == MIN_CONFIDENCE else ""
        print(
            f"{threshold:>9.2f} {len(kept) / len(found):>6.1%} {right:>6.1%} "
            f"{len(short) / max(len(short_all), 1):>10.1%} {short_right:>11.1%}{mark}"
        )


def main() -> None:
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    train = rows(data, "train", 600)
    print(f"UMSAB train (choose): {len(train)} tweets")
    table(train)
    val = rows(data, "val", None)
    print(f"\nUMSAB val (report): {len(val)} tweets")
    table(val)


if __name__ == "__main__":
    main()
