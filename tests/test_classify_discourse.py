"""The discourse category on real posts of each kind, taken from the shared data folder.

Each example is a real post quoted from a data set (the file is named beside it), chosen as a
clear instance of its category by its own data set's labels.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from askscope.classify import classify

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def airline(tweet_id: str) -> str:
    with (DATA / "airline" / "Tweets.csv").open(encoding="utf-8", newline="") as handle:
        return next(row["text"] for row in csv.DictReader(handle) if row["tweet_id"] == tweet_id)


def line(relative: str, number: int) -> str:
    return (DATA / relative).read_text(encoding="utf-8").split("\n")[number - 1]


EXAMPLES = [
    # category, post, where it comes from and why it belongs there
    ("support", lambda: airline("569675144353828864"), "airline, labelled positive: praise of the host"),
    ("support", lambda: airline("569714127792254976"), "airline, labelled positive: thanks to the host's crew"),
    ("question_genuine", lambda: "@HuffingtonPost Can you confirm the reports that those suspects were killed by "
                                 "French police?", "rumoureval train, labelled query: an information request"),
    ("question_critical", lambda: airline("570265883513384960"), "airline, labelled negative: why are your fares ...???"),
    ("abuse", lambda: line("tweeteval/hate/train_text.txt", 3), "tweeteval hate train, labelled hate"),
    ("other", lambda: line("tweeteval/sentiment/val_text.txt", 1), "tweeteval sentiment val, a neutral news line"),
]


@pytest.mark.parametrize(("category", "post", "why"), EXAMPLES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(EXAMPLES)])
def test_real_post_category(category: str, post, why: str) -> None:
    text = post()
    assert classify([text], ["discourse"])["discourse"].names == [category], f"{why}: {text}"
