"""The multi-task set-up: which data trains which head, and which data validates it."""

from __future__ import annotations

import random
from pathlib import Path

from training import data as d

# Head name -> number of classes. One shared encoder, one linear head each.
HEADS: dict[str, int] = {
    "sentiment": 3,
    "irony": 2,
    "sarcasm": 2,
    "offensive": 2,
    "hate": 2,
    "emotion": 4,
    "question": 2,
}

NON_ENGLISH = tuple(lang for lang in d.UMSAB_LANGUAGES if lang != "english")


def training_sets(data: Path) -> dict[str, d.Split]:
    """Training data of every head.

    sentiment: the cleaned SemEval-2017 pool plus UMSAB train of the seven non-English languages
    (UMSAB English train is left out: 1,430 of its 1,839 tweets are in TweetEval sentiment val).
    sarcasm: iSarcasmEval English minus its held-out fifth.
    """
    sentiment = d.semeval2017(data)
    for lang in NON_ENGLISH:
        extra = d.umsab(data, lang, "train")
        sentiment = d.Split(sentiment.texts + extra.texts, sentiment.labels + extra.labels)
    return {
        "sentiment": sentiment,
        "irony": d.tweeteval(data, "irony", "train"),
        "sarcasm": d.isarcasm(data, "fit"),
        "offensive": d.tweeteval(data, "offensive", "train"),
        "hate": d.tweeteval(data, "hate", "train"),
        "emotion": d.tweeteval(data, "emotion", "train"),
        "question": d.rumoureval(data, "train"),
    }


def validation_sets(data: Path) -> dict[str, tuple[str, d.Split]]:
    """Validation set name -> (head that answers it, data)."""
    sets: dict[str, tuple[str, d.Split]] = {
        "sentiment": ("sentiment", d.tweeteval(data, "sentiment", "val")),
        "irony": ("irony", d.tweeteval(data, "irony", "val")),
        "sarcasm": ("sarcasm", d.isarcasm(data, "heldout")),
        "offensive": ("offensive", d.tweeteval(data, "offensive", "val")),
        "hate": ("hate", d.tweeteval(data, "hate", "val")),
        "emotion": ("emotion", d.tweeteval(data, "emotion", "val")),
        "question": ("question", d.rumoureval(data, "dev")),
    }
    for lang in d.UMSAB_LANGUAGES:
        sets[f"umsab-{lang}"] = ("sentiment", d.umsab(data, lang, "val"))
    return sets


def epoch_sample(train: dict[str, d.Split], rng: random.Random) -> dict[str, list[int]]:
    """Indices of the examples each head sees in one epoch.

    Large sets are subsampled (a fresh subsample each epoch), small ones repeated, so that one
    epoch takes about 15 minutes on two CPU cores and no task drowns the others.
    """
    per_epoch = {
        "sentiment": 27_000,
        "irony": 5_700,
        "sarcasm": 2_800,
        "offensive": 8_000,
        "hate": 6_000,
        "emotion": 6_500,
        "question": 4_238,
    }
    chosen: dict[str, list[int]] = {}
    for head, split in train.items():
        n = len(split)
        want = per_epoch[head]
        idx = list(range(n)) * (want // n) + rng.sample(range(n), want % n)
        chosen[head] = idx
    return chosen
