"""askscope.classify on real posts from the shared data folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from askscope.classify import (
    DISCOURSE_CATEGORIES,
    TASKS,
    UnknownTaskError,
    classify,
    discourse_categories,
    error_rates,
    model_info,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def lines(relative: str, n: int) -> list[str]:
    return (DATA / relative).read_text(encoding="utf-8").split("\n")[:n]


def labels(relative: str, n: int) -> list[int]:
    return [int(x) for x in lines(relative, n)]


@pytest.fixture(scope="module")
def sentiment_val() -> tuple[list[str], list[int]]:
    return lines("tweeteval/sentiment/val_text.txt", 300), labels("tweeteval/sentiment/val_labels.txt", 300)


def test_every_task_returns_one_row_per_post(sentiment_val) -> None:
    texts = sentiment_val[0][:40]
    out = classify(texts)
    assert list(out) == list(TASKS)
    for _task, result in out.items():
        assert len(result.labels) == len(result.names) == len(result.distributions) == len(texts)
        if result.probabilities is not None:
            assert result.probabilities.shape == (len(texts), len(result.classes))
            assert np.allclose(result.probabilities.sum(1), 1.0, atol=1e-6)
            assert [result.classes[i] for i in result.labels] == result.names
    assert set(out["discourse"].names) <= set(DISCOURSE_CATEGORIES)


def test_sentiment_beats_chance_on_real_validation_posts(sentiment_val) -> None:
    texts, gold = sentiment_val
    pred = np.array(classify(texts, "sentiment")["sentiment"].labels)
    recall = [np.mean(pred[np.array(gold) == k] == k) for k in range(3)]
    assert np.mean(recall) > 0.55  # the full validation figure is in the model card


@pytest.mark.parametrize(
    ("task", "text_file", "label_file", "floor"),
    [
        ("offensive", "tweeteval/offensive/val_text.txt", "tweeteval/offensive/val_labels.txt", 0.65),
        ("emotion", "tweeteval/emotion/val_text.txt", "tweeteval/emotion/val_labels.txt", 0.6),
        ("irony", "tweeteval/irony/val_text.txt", "tweeteval/irony/val_labels.txt", 0.6),
    ],
)
def test_task_accuracy_on_real_posts(task: str, text_file: str, label_file: str, floor: float) -> None:
    texts, gold = lines(text_file, 200), labels(label_file, 200)
    pred = classify(texts, task)[task].labels
    assert np.mean(np.array(pred) == np.array(gold)) > floor


def test_multilingual_sentiment_reads_arabic_script() -> None:
    texts, gold = lines("umsab/arabic/val_text.txt", 150), labels("umsab/arabic/val_labels.txt", 150)
    pred = np.array(classify(texts, "sentiment")["sentiment"].labels)
    assert np.mean(pred == np.array(gold)) > 0.45  # three balanced classes: chance is 0.33


def test_questions_are_found() -> None:
    out = classify(
        [
            "@user can you confirm the reports that the suspects were killed?",
            "@user is that confirmed?",
            "Lovely sunset over the bay tonight.",
        ],
        "question",
    )["question"]
    assert out.labels == [1, 1, 0]


def test_rhetorical_question_is_a_question_by_rule() -> None:
    """A mocking rhetorical question is a question for askscope (classify/questions.py), and the
    rule says so. The model may not: RumourEval's annotators, whose ``query`` label trains and
    calibrates the head, mostly label such replies ``comment`` or ``deny`` (of the 19 dev replies
    that open with an interrogative and end with "?", 10 are queries); this one scores 0.28 against
    the threshold 0.37 (docs/models/question.md, "What the model misses")."""
    from askscope.classify import questions

    assert questions.rule(["@user what happens if he sneezes?", "Lovely sunset over the bay tonight."]).tolist() == [
        True,
        False,
    ]


def test_language_of_real_posts() -> None:
    posts = {"fr": lines("umsab/french/val_text.txt", 30), "es": lines("umsab/spanish/val_text.txt", 30)}
    for code, texts in posts.items():
        found = classify(texts, "language")["language"].labels
        assert sum(f == code for f in found) >= 25
    assert classify(["@user http 🙂"], "language")["language"].labels == ["und"]


def test_deterministic_and_order_independent(sentiment_val) -> None:
    texts = sentiment_val[0][:120]
    first = classify(texts, ["sentiment", "hate"])
    again = classify(texts, ["sentiment", "hate"])
    flipped = classify(texts[::-1], ["sentiment", "hate"])
    for task in ("sentiment", "hate"):
        assert np.array_equal(first[task].probabilities, again[task].probabilities)
        assert np.array_equal(first[task].probabilities, flipped[task].probabilities[::-1])


def test_empty_input() -> None:
    out = classify([], "all")
    assert all(len(r.labels) == 0 for r in out.values())


def test_unknown_task() -> None:
    with pytest.raises(UnknownTaskError, match="known tasks"):
        classify(["hello"], ["toxicity"])
    with pytest.raises(UnknownTaskError):
        model_info("toxicity")


@pytest.mark.parametrize("task", ["sentiment", "irony", "offensive", "hate", "emotion", "question"])
def test_model_info_has_error_rates(task: str) -> None:
    info = model_info(task)
    for key in ("version", "labels", "model", "training_data", "calibration", "decision", "validation"):
        assert key in info
    k = len(info["labels"])
    matrix = np.array(info["validation"]["confusion"])
    assert matrix.shape == (k, k) and matrix.sum() == info["validation"]["n"]
    rates = error_rates(task)
    assert set(rates) == set(info["labels"])
    assert all(0.0 <= r["tpr"] <= 1.0 and 0.0 <= r["fpr"] <= 1.0 for r in rates.values())


def test_discourse_info_names_the_rule() -> None:
    # the card names the shipped scorer (a validated head or the rule) and always carries the rule
    info = model_info("discourse")
    assert info["model"]["kind"] in ("head", "rule") and "abuse" in info["model"]["rule"]
    assert info["validation"]["basis"] and np.array(info["validation"]["confusion"]).shape == (6, 6)


def test_discourse_categories_helper() -> None:
    assert discourse_categories(["@user what happens if he sneezes?"])[0] in DISCOURSE_CATEGORIES
