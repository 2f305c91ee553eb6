"""The transparent parts of askscope.classify: normalisation, calibration maths, the discourse rule."""

from __future__ import annotations

import numpy as np
import pytest

from askscope.classify.calibration import combine, decide, error_rates
from askscope.classify.discourse import categories, soft_scores
from askscope.classify.tasks import DISCOURSE_CATEGORIES, UnknownTaskError, resolve
from askscope.classify.text import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # TweetEval / UMSAB files keep unicode escapes as text, emoji as escaped surrogate pairs.
        (r"okay i\u2019m sorry \ud83d\ude02", "okay i’m sorry 😂"),
        # Raw API text: handles and links become the TweetEval placeholders.
        ("@Foo_bar see https://t.co/abc  now", "@user see http now"),
        ("Q&amp;A with @AskHamas", "Q&A with @user"),
        ("  spaced\tout \n", "spaced out"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_combine_is_temperature_scaling_with_one_source() -> None:
    logits = np.array([[2.0, 0.0], [0.0, 1.0]])
    probabilities = combine([logits], [0.5], [0.0, 0.0])
    expected = np.exp(logits * 0.5) / np.exp(logits * 0.5).sum(1, keepdims=True)
    assert np.allclose(probabilities, expected)
    assert np.allclose(probabilities.sum(1), 1.0)


def test_decide_threshold_and_class_weights() -> None:
    p = np.array([[0.7, 0.3], [0.4, 0.6]])
    assert decide(p, {"kind": "threshold", "threshold": 0.35}).tolist() == [0, 1]
    p3 = np.array([[0.45, 0.5, 0.05]])
    assert decide(p3, {"kind": "argmax", "class_weights": [1.0, 1.0, 1.0]}).tolist() == [1]
    assert decide(p3, {"kind": "argmax", "class_weights": [1.2, 1.0, 1.0]}).tolist() == [0]


def test_error_rates() -> None:
    # 100 gold negatives (10 predicted positive), 50 gold positives (40 found).
    rates = error_rates([[90, 10], [10, 40]], ["no", "yes"])
    assert rates["yes"] == {"tpr": 0.8, "fpr": 0.1, "precision": 0.8, "support": 50}
    # the one adjusted_share lives in askscope.lenses.stats (tests/test_quantify_stats.py)


# One row per scenario: the most likely label of each task, and the category the rule must give.
RULE_TABLE = [
    # sentiment, irony, offensive, hate, emotion, question -> category   (why)
    ((0, 0, 0, 1, 0, 0), "abuse"),  # hateful, whatever else
    ((0, 1, 1, 0, 0, 1), "abuse"),  # offensive and not positive beats mockery
    ((2, 0, 1, 0, 1, 0), "support"),  # profanity in praise is not abuse
    ((1, 1, 0, 0, 1, 1), "mockery"),  # a mocking question is mockery
    ((0, 0, 0, 0, 3, 1), "question_critical"),  # negative question
    ((1, 0, 0, 0, 0, 1), "question_critical"),  # angry question
    ((1, 0, 0, 0, 1, 1), "question_genuine"),  # neutral question
    ((2, 0, 0, 0, 2, 1), "question_genuine"),  # friendly question
    ((2, 1, 0, 0, 1, 0), "mockery"),  # ironic praise (irony probability 0.8 >= 0.75)
    ((2, 0, 0, 0, 1, 0), "support"),
    ((1, 0, 0, 0, 1, 0), "other"),
    ((0, 0, 0, 0, 3, 0), "other"),  # negative but neither abusive nor mocking nor a question
]


def one_hot(ids: list[int], k: int, p: float = 0.8) -> np.ndarray:
    """Probabilities putting p on the given class and the rest evenly on the others."""
    out = np.full((len(ids), k), (1 - p) / (k - 1))
    out[np.arange(len(ids)), ids] = p
    return out


def test_discourse_rule_table() -> None:
    sizes = {"sentiment": 3, "irony": 2, "offensive": 2, "hate": 2, "emotion": 4, "question": 2}
    probs = {n: one_hot([row[0][i] for row in RULE_TABLE], k) for i, (n, k) in enumerate(sizes.items())}
    got = [DISCOURSE_CATEGORIES[i] for i in categories(probs)]
    assert got == [row[1] for row in RULE_TABLE]


def test_praise_needs_a_strong_irony_signal_to_be_mockery() -> None:
    positive = {
        "sentiment": one_hot([2, 2], 3),
        "offensive": one_hot([0, 0], 2),
        "hate": one_hot([0, 0], 2),
        "emotion": one_hot([1, 1], 4),
        "question": one_hot([0, 0], 2),
        "irony": np.array([[0.4, 0.6], [0.2, 0.8]]),
    }
    assert [DISCOURSE_CATEGORIES[i] for i in categories(positive)] == ["support", "mockery"]


def test_discourse_soft_scores_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    probs = {
        t: rng.dirichlet(np.ones(k), size=50)
        for t, k in [("sentiment", 3), ("irony", 2), ("offensive", 2), ("hate", 2), ("emotion", 4), ("question", 2)]
    }
    soft = soft_scores(probs)
    assert soft.shape == (50, 6)
    assert np.allclose(soft.sum(1), 1.0)
    assert (soft >= -1e-12).all()


def test_resolve_tasks() -> None:
    assert resolve("all")[-1] == "discourse"
    assert resolve(["hate", "sentiment"]) == ("sentiment", "hate")
    with pytest.raises(UnknownTaskError, match="known tasks"):
        resolve("toxicity")


def test_ngram_features_follow_char_wb_and_words() -> None:
    from askscope.classify.ngrams import features

    rows, buckets, counts = features(["Hi there!", "", "ab  c"])
    per_row = np.bincount(rows, weights=counts, minlength=3)
    # "hi there!": " hi " gives 3+2+1 char n-grams, " there! " 7+6+5+4; words hi, there, ! and 2 bigrams.
    assert per_row.tolist() == [6 + 22 + 5, 0, 6 + 3 + 3]
    again = features(["ab c"])  # whitespace is normalised first
    assert sorted(again[1].tolist()) == sorted(buckets[rows == 2].tolist())
