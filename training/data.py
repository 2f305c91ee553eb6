"""Loaders for the training and validation data in the shared data folder.

Every loader returns a :class:`Split` of raw texts and integer labels in the data set's own
label mapping. Texts are normalised later, by the model code, with
``askscope.classify.text.normalise``. Test splits are never read (they are not in the folder).
"""

from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from askscope.classify.text import normalise

_NOISE = re.compile(r"@user|\bhttp\b")

UMSAB_LANGUAGES = ("arabic", "english", "french", "german", "hindi", "italian", "portuguese", "spanish")
SENTIMENT_NAMES = {"negative": 0, "neutral": 1, "positive": 2}
ISARCASM_SEED = 13
ISARCASM_HELDOUT = 0.2


@dataclass
class Split:
    texts: list[str]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.texts)


def text_key(text: str) -> str:
    """A loose identity key: two copies of the same tweet share it.

    Mentions and links are dropped (TweetEval removed links that the SemEval pool keeps), then
    everything but letters and digits; the first 60 characters remain.
    """
    return re.sub(r"\W+", "", _NOISE.sub("", normalise(text)).lower())[:60]


def legacy_text_key(text: str) -> str:
    """The key of askscope 1.0.0's first training run (links kept as ``http``, 100 characters).

    It missed 538 TweetEval sentiment val tweets whose pool copy differs only by a link; the
    shipped encoder was trained with it, so those tweets are excluded when it is evaluated
    (:func:`sentiment_unseen`).
    """
    return re.sub(r"\W+", "", normalise(text).lower())[:100]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def tweeteval(data: Path, task: str, split: str) -> Split:
    """TweetEval ``train``/``val`` of one task (``tweeteval/<task>/<split>_text.txt``)."""
    folder = data / "tweeteval" / task
    texts = _lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in _lines(folder / f"{split}_labels.txt")]
    assert len(texts) == len(labels), folder
    return Split(texts, labels)


def umsab(data: Path, language: str, split: str) -> Split:
    folder = data / "umsab" / language
    texts = _lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in _lines(folder / f"{split}_labels.txt")]
    assert len(texts) == len(labels), folder
    return Split(texts, labels)


def semeval2017(data: Path) -> Split:
    """The SemEval-2017 task 4A training pool, cleaned for validation on TweetEval.

    Duplicate annotations (same tweet id or same text) are collapsed; a tweet whose copies
    disagree is dropped. Every tweet whose text also appears in ``tweeteval/sentiment/val`` or in
    UMSAB English (which is drawn from the same pool) is removed, so both stay clean validation sets.
    """
    held = {text_key(t) for t in tweeteval(data, "sentiment", "val").texts}
    for split in ("train", "val"):
        held |= {text_key(t) for t in umsab(data, "english", split).texts}
    by_key: dict[str, tuple[str, set[int]]] = {}
    for path in sorted((data / "semeval2017-sentiment").glob("twitter-*-A.txt")):
        for line in _lines(path):
            parts = line.split("\t")
            if len(parts) < 3 or parts[1] not in SENTIMENT_NAMES:
                continue
            text = parts[2].replace("\\u002c", ",").replace('\\"', '"')
            key = text_key(text)
            if not key or key in held:
                continue
            entry = by_key.setdefault(key, (text, set()))
            entry[1].add(SENTIMENT_NAMES[parts[1]])
    kept = [(text, labels.pop()) for text, labels in by_key.values() if len(labels) == 1]
    return Split([t for t, _ in kept], [y for _, y in kept])


def keep(split: Split, mask: list[bool]) -> Split:
    """The rows of a split where ``mask`` is true."""
    return Split([t for t, m in zip(split.texts, mask) if m], [y for y, m in zip(split.labels, mask) if m])


def sentiment_val(data: Path, source: str = "tweeteval") -> Split:
    """English sentiment validation without the tweets the shipped encoder trained on.

    ``source``: ``tweeteval`` (1,451 of 2,000 tweets) or ``umsab`` (UMSAB English val, 241 of 323).
    """
    split = tweeteval(data, "sentiment", "val") if source == "tweeteval" else umsab(data, "english", "val")
    return keep(split, sentiment_unseen(data, split.texts))


def sentiment_unseen(data: Path, texts: list[str]) -> list[bool]:
    """Which English sentiment validation tweets no released sentiment model has trained on.

    For ``tweeteval/sentiment/val`` and UMSAB English val (a subset of it). A tweet is unseen
    when the legacy key matched a pool tweet (so that copy was removed from training) or when no
    pool tweet shares its key at all. The others (538 of TweetEval's 2,000) had a pool copy with
    a link that the legacy key did not match.
    """
    legacy, current = set(), set()
    for path in sorted((data / "semeval2017-sentiment").glob("twitter-*-A.txt")):
        for line in _lines(path):
            parts = line.split("\t")
            if len(parts) >= 3:
                text = parts[2].replace("\\u002c", ",").replace('\\"', '"')
                legacy.add(legacy_text_key(text))
                current.add(text_key(text))
    return [legacy_text_key(t) in legacy or text_key(t) not in current for t in texts]


def isarcasm(data: Path, part: str) -> Split:
    """iSarcasmEval English train, split once (seeded, stratified) into ``fit`` and ``heldout``.

    The held-out fifth is never trained on: it is where the sarcasm F1 of the ``irony`` task is
    measured.
    """
    with (data / "isarcasmeval" / "train.En.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r["tweet"], int(r["sarcastic"])) for r in csv.DictReader(handle) if r["tweet"]]
    rng = random.Random(ISARCASM_SEED)
    chosen: list[tuple[str, int]] = []
    for label in (0, 1):
        group = [r for r in rows if r[1] == label]
        rng.shuffle(group)
        cut = int(round(len(group) * ISARCASM_HELDOUT))
        chosen += group[:cut] if part == "heldout" else group[cut:]
    return Split([t for t, _ in chosen], [y for _, y in chosen])


def rumoureval(data: Path, split: str) -> Split:
    """RumourEval 2017 subtask A: every annotated tweet, label 1 = ``query`` (a question)."""
    annotations = json.loads((data / "rumoureval" / f"{split}-annotations" / "subtaskA.json").read_text())
    texts, labels = [], []
    for path in sorted((data / "rumoureval" / split).glob("*/*/*/*.json")):
        tweet_id = path.stem
        if path.parent.name not in ("replies", "source-tweet") or tweet_id not in annotations:
            continue
        texts.append(json.loads(path.read_text(encoding="utf-8"))["text"])
        labels.append(int(annotations[tweet_id] == "query"))
    return Split(texts, labels)


def stance(data: Path, target: str, split: str) -> Split:
    """SemEval-2016 stance (TweetEval), one target: 0 none, 1 against, 2 favor.

    The tweets end in the collection tag ``#SemST``; it is stripped here (it is an artefact of
    the data set, not of the posts).
    """
    folder = data / "tweeteval" / "stance" / target
    texts = [t.replace("#SemST", "").rstrip() for t in _lines(folder / f"{split}_text.txt")]
    labels = [int(x) for x in _lines(folder / f"{split}_labels.txt")]
    assert len(texts) == len(labels), folder
    return Split(texts, labels)


STANCE_TARGETS = ("abortion", "atheism", "climate", "feminist", "hillary")
AIRLINE_SENTIMENT = {"negative": 0, "neutral": 1, "positive": 2}


def airline(data: Path) -> Split:
    """Twitter US Airline Sentiment: tweets to six airlines, label 0 negative, 1 neutral, 2 positive."""
    with (data / "airline" / "Tweets.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], AIRLINE_SENTIMENT[r["airline_sentiment"]]) for r in csv.DictReader(handle) if r["text"]]
    return Split([t for t, _ in rows], [y for _, y in rows])


def complaints(data: Path) -> Split:
    """Tweets addressed to companies (Preotiuc-Pietro et al. 2019), label 1 = complaint.

    The CSV has no header: ``id, text, label, domain``.
    """
    with (data / "complaints" / "complaints-data.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r[1], int(r[2])) for r in csv.reader(handle) if len(r) >= 3 and r[1]]
    return Split([t for t, _ in rows], [y for _, y in rows])


def isarcasm_arabic(data: Path) -> Split:
    """iSarcasmEval Arabic train (author-labelled sarcasm, label 1 = sarcastic); never trained on."""
    with (data / "isarcasmeval" / "train.Ar.csv").open(encoding="utf-8", newline="") as handle:
        rows = [(r["text"], int(r["sarcastic"])) for r in csv.DictReader(handle) if r["text"]]
    return Split([t for t, _ in rows], [y for _, y in rows])


ORDINARY_SEED = 11
_LEADING_MENTIONS = re.compile(r"^(?:\.?@\w+[:,]?\s+)+")


def ordinary_halves(n: int, name: str) -> np.ndarray:
    """Seeded split of an ordinary set (stance, airline, complaints, sentiment val) of ``n`` rows,
    named as in ``training.embed_cache.SPLITS``: True = the *fit* half (trains the irony head),
    False = the *check* half (never trained on; checks that ordinary posts are rarely ironic)."""
    rng = np.random.default_rng([ORDINARY_SEED, sum(map(ord, name))])
    return rng.permutation(n) % 2 == 0


def unaddressed(texts: list[str]) -> list[str]:
    """The posts without their leading @mentions: every airline and complaint tweet opens with
    the company's handle, the ironic training tweets mostly do not, so without these copies the
    irony head learns 'addressed to a company = sincere' and reads unaddressed thanks as irony."""
    return [_LEADING_MENTIONS.sub("", t) for t in texts]
