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


def complaint(tweet_id: str) -> str:
    with (DATA / "complaints" / "complaints-data.csv").open(encoding="utf-8", newline="") as handle:
        return next(row[1] for row in csv.reader(handle) if row[0] == tweet_id)


def line(relative: str, number: int) -> str:
    return (DATA / relative).read_text(encoding="utf-8").split("\n")[number - 1]


EXAMPLES = [
    # category, post, where it comes from and why it belongs there
    ("support", lambda: airline("569675144353828864"), "airline, labelled positive: praise of the host"),
    ("support", lambda: airline("570285904809598977"), "airline, labelled positive: @VirginAmerica Thanks!"),
    ("question_genuine", lambda: complaint("88678936799756288"), "complaints, not a complaint: can I exchange ...?"),
    ("question_genuine", lambda: complaint("49340019671973888"), "complaints, not a complaint: a product question"),
    ("question_critical", lambda: airline("570265883513384960"), "airline, labelled negative: why are your fares ...???"),
    ("abuse", lambda: line("tweeteval/hate/train_text.txt", 3), "tweeteval hate train, labelled hate"),
    ("mockery", lambda: line("tweeteval/irony/val_text.txt", 114), "tweeteval irony val, labelled irony"),
    ("mockery", lambda: line("tweeteval/irony/val_text.txt", 84), "tweeteval irony val, labelled irony"),
    ("other", lambda: line("tweeteval/sentiment/val_text.txt", 1), "tweeteval sentiment val, a neutral news line"),
]


@pytest.mark.parametrize(("category", "post", "why"), EXAMPLES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(EXAMPLES)])
def test_real_post_category(category: str, post, why: str) -> None:
    text = post()
    assert classify([text], ["discourse"])["discourse"].names == [category], f"{why}: {text}"
