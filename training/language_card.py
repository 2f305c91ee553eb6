"""Measure the bundled language identifier on short posts and write ``MODELS_DIR/language.json``.

Usage: python -m training.language_card DATA_DIR MODELS_DIR

Nothing is trained: the ``language`` task uses py3langid's own model. Its accuracy is measured
on the UMSAB validation tweets, whose language is known from the folder they come from.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from importlib.metadata import version
from pathlib import Path

from askscope.classify.language import identify
from training import data as d

ISO = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
# Arabic varieties the identifier may name; counted as Arabic.
ARABIC = {"ar", "arz", "ary", "apc", "acm", "ajp", "aeb", "ars", "arq", "afb"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("models", type=Path)
    args = parser.parse_args()
    identify(["warm up"])
    per_language, total, correct, seconds = {}, 0, 0, 0.0
    for language, code in ISO.items():
        texts = d.umsab(args.data, language, "val").texts
        started = time.perf_counter()
        top = [r[0][0] for r in identify(texts)]
        seconds += time.perf_counter() - started
        hits = sum(t == code or (code == "ar" and t in ARABIC) for t in top)
        per_language[language] = {
            "n": len(texts),
            "accuracy": round(hits / len(texts), 4),
            "most_common": Counter(top).most_common(3),
        }
        total += len(texts)
        correct += hits
    card = {
        "task": "language",
        "version": "1.1.0",  # 1.1: und under MIN_CONFIDENCE (labels of 1.0 are relabelled)
        "labels": "ISO 639-1 / 639-3 codes of py3langid's model; 'und' when a post has no letters",
        "model": {
            "kind": "py3langid naive Bayes over byte n-grams (langid.py, Lui & Baldwin 2012)",
            "library": f"py3langid {version('py3langid')}",
            "files": "shipped inside py3langid",
        },
        "training_data": ["none here: the library's own model"],
        "validation": {
            "data": "umsab/*/val (language known from the folder)",
            "metric": "accuracy of the top language (Arabic varieties count as Arabic)",
            "per_language": per_language,
            "accuracy_all": round(correct / total, 4),
            "posts_per_second_one_core": round(total / seconds),
        },
        "known_failures": "UMSAB 'hindi' is romanised Hindi-English (Hinglish) and is never labelled 'hi'; "
        "Arabic dialects come out as arz/ary/...",
    }
    (args.models / "language.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(card["validation"], ensure_ascii=False))


if __name__ == "__main__":
    main()
