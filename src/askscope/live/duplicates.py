"""Near-duplicate questions: normalised text and character shingles.

Twenty people asking the host the same thing are one question with a count. Two questions are
near-duplicates when the Jaccard similarity of their character 4-shingles, taken on the
normalised text (lower case, without mentions, links, the ``#`` of hashtags, punctuation and
repeated spaces), is at least :data:`THRESHOLD`. Texts whose normalised form is shorter than
:data:`MIN_CHARS` (``@host ?``) are never collapsed: there is nothing to compare.

The threshold was chosen on real questions with planted paraphrases (``bench/live.py
--duplicates``; docs/benchmarks.md "Live console"): precision first (an item must not swallow a
different question), recall reported.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable

SHINGLE = 4
THRESHOLD = 0.35
MIN_CHARS = 12
#: shingles shared by more than this many indexed texts are not used to find candidates (too common)
MAX_POSTING = 2000

_MENTION = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The text as compared: lower case, no mentions, links, punctuation or extra spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = text.replace("#", " ")
    text = _NOT_WORD.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def shingles(normalised: str, size: int = SHINGLE) -> frozenset[str]:
    """The character ``size``-grams of a normalised text (the whole text when shorter)."""
    if len(normalised) <= size:
        return frozenset([normalised]) if normalised else frozenset()
    return frozenset(normalised[i : i + size] for i in range(len(normalised) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


class DuplicateIndex:
    """Texts under keys (an item each); :meth:`best` finds the most similar key to a new text."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.sets: dict[str, list[frozenset[str]]] = {}
        self.postings: dict[str, set[str]] = {}

    def add(self, key: str, text: str) -> None:
        """Index ``text`` under ``key`` (an item may hold several texts)."""
        found = shingles(normalise(text))
        if len(normalise(text)) < MIN_CHARS:
            return
        self.sets.setdefault(key, []).append(found)
        for s in found:
            self.postings.setdefault(s, set()).add(key)

    def remove(self, key: str) -> None:
        for found in self.sets.pop(key, []):
            for s in found:
                posting = self.postings.get(s)
                if posting is not None:
                    posting.discard(key)

    def best(self, text: str, accept: Callable[[str], bool] | None = None) -> tuple[str | None, float]:
        """The indexed key most similar to ``text`` at or above the threshold (among the keys
        ``accept`` takes), and the similarity; ``(None, 0.0)`` when none is."""
        normalised = normalise(text)
        if len(normalised) < MIN_CHARS:
            return None, 0.0
        found = shingles(normalised)
        counts: Counter[str] = Counter()
        skipped = 0
        for s in found:
            posting = self.postings.get(s)
            if posting and len(posting) > MAX_POSTING:
                skipped += 1  # too common to look up: counted as shared in the bound below
            elif posting:
                counts.update(posting)
        best: str | None = None
        best_score = 0.0
        for key, shared in counts.items():
            if accept is not None and not accept(key):
                continue
            # an upper bound from the shared count alone: skip keys that cannot reach the threshold
            if shared + skipped < self.threshold * len(found):
                continue
            score = max(jaccard(found, other) for other in self.sets[key])
            if score >= self.threshold and (
                score > best_score or (score == best_score and (best is None or key < best))
            ):
                best, best_score = key, score
        return best, best_score
