"""The engagement lens's corrected answer rate goes through the share estimator
(askscope.classify.quantify): each expected value is worked out by hand, and the interval is
checked against an independent numpy bootstrap of both sources of error (the posts of each group
and one shared draw of the validation confusion matrix per resample).

The store is a tiny DuckDB database with only what the metric reads: ``posts`` (for the authors
filter) and ``answered_posts``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import duckdb
import numpy as np
import pytest

from askscope.classify.quantify import Validation
from askscope.lenses.common import LensInput
from askscope.lenses.engagement import _corrected_answer_rate

LABELS = ("not-question", "question")


def _store(cells: dict[tuple[bool, bool, bool], int]) -> Any:
    """Posts per (labelled a question, answered, addressed) cell."""
    con = duckdb.connect()
    con.execute("CREATE TABLE posts (platform VARCHAR, id VARCHAR, author_id VARCHAR)")
    con.execute(
        "CREATE TABLE answered_posts (platform VARCHAR, post_id VARCHAR, addressed BOOLEAN, "
        "is_question BOOLEAN, answered BOOLEAN)"
    )
    for (q, a, addressed), count in cells.items():
        prefix = f"{q:d}{a:d}{addressed:d}-"
        con.execute("INSERT INTO posts SELECT 'x', $p || i, 'u' FROM range($n) r(i)", {"p": prefix, "n": count})
        con.execute(
            "INSERT INTO answered_posts SELECT 'x', $p || i, $addressed, $q, $a FROM range($n) r(i)",
            {"p": prefix, "n": count, "addressed": addressed, "q": q, "a": a},
        )
    return SimpleNamespace(con=con)


def _validation(negatives: int, false_positives: int, positives: int, true_positives: int, labels=LABELS) -> Validation:
    """Validation rows with the given confusion matrix (question = class ``labels.index('question')``)."""
    q = labels.index("question")
    gold = [1 - q] * negatives + [q] * positives
    predicted = (
        [1 - q] * (negatives - false_positives)
        + [q] * false_positives
        + [1 - q] * (positives - true_positives)
        + [q] * true_positives
    )
    return Validation("question", labels, np.array(gold), np.array(predicted), data="hand-made rows")


def _rate(cells: dict[tuple[bool, bool, bool], int], validation: Validation | None, seed: int = 7) -> Any:
    inp = LensInput(
        store=_store(cells),
        seed=seed,
        window_start=None,
        window_end=None,
        rates={},
        labeled=True,
        validations={} if validation is None else {"question": validation},
    )
    return _corrected_answer_rate(inp)


# answered (A): 120 labelled questions of 200; unanswered (U): 200 of 800; 5 posts not addressed
LARGE = {(True, True, True): 120, (False, True, True): 80, (True, False, True): 200, (False, False, True): 600}
LARGE_WITH_UNADDRESSED = {**LARGE, (True, True, False): 5}


def _reference(tpr: float, fpr: float, val_n: int, shared: bool, seed: int = 2026, draws: int = 20_000):
    """An independent percentile bootstrap of the rate on LARGE: binomial draws of the labelled
    shares of A (200 posts, 0.6) and U (800, 0.25) and of the validation rates (tpr over val_n
    questions, fpr over val_n non-questions), ACC (q - fpr) / (tpr - fpr) clipped to [0, 1]."""
    rng = np.random.default_rng(seed)

    def rates() -> tuple[np.ndarray, np.ndarray]:
        return rng.binomial(val_n, tpr, draws) / val_n, rng.binomial(val_n, fpr, draws) / val_n

    tp_a, fp_a = rates()
    tp_u, fp_u = (tp_a, fp_a) if shared else rates()
    q_a = rng.binomial(200, 0.6, draws) / 200
    q_u = rng.binomial(800, 0.25, draws) / 800
    with np.errstate(divide="ignore", invalid="ignore"):
        a_t = np.clip((q_a - fp_a) / (tp_a - fp_a), 0, 1) * 200
        u_t = np.clip((q_u - fp_u) / (tp_u - fp_u), 0, 1) * 800
        rate = a_t / (a_t + u_t)
    return np.quantile(rate[np.isfinite(rate)], [0.025, 0.975])


def test_known_confusion_matrix_estimate_by_hand_and_interval_against_numpy():
    # validation: 50 non-questions (5 labelled questions: fpr 0.1), 50 questions (40: tpr 0.8)
    rate = _rate(LARGE_WITH_UNADDRESSED, _validation(50, 5, 50, 40))
    # pi_A = (120/200 - 0.1) / 0.7 = 0.5 / 0.7; A_T = 200 * 0.5 / 0.7 = 142.857...
    # pi_U = (200/800 - 0.1) / 0.7 = 0.15 / 0.7; U_T = 800 * 0.15 / 0.7 = 171.428...
    # rate = 100 / (100 + 120) = 5 / 11 (the 1 / 0.7 cancels); the 5 unaddressed posts are not in E
    assert rate["value"] == round(5 / 11, 6)
    assert rate["n"] == 1000
    assert rate["validation"]["n"] == 100 and rate["validation"]["data"] == "hand-made rows"
    assert rate["method"].startswith("answered true questions / true questions, each estimated by acc")
    low, high = rate["ci"]
    # both sources of error, one validation draw shared by both groups (what the lens claims)
    ref_low, ref_high = _reference(0.8, 0.1, 50, shared=True)  # about 0.372, 0.650
    assert abs(low - ref_low) < 0.015 and abs(high - ref_high) < 0.015
    # not the posts' error alone (about 0.398-0.517), nor independent validation draws per
    # group (about 0.347-0.669)
    posts_only = _reference(0.8, 0.1, 10**9, shared=True)
    assert low < posts_only[0] - 0.015 and high > posts_only[1] + 0.1
    independent = _reference(0.8, 0.1, 50, shared=False)
    assert abs(low - independent[0]) > 0.015


def test_perfect_validation_gives_the_raw_rate_and_the_posts_interval():
    # a validation set without errors: tpr 1, fpr 0 in every resample, so pi_A and pi_U are the
    # labelled shares: the rate is the answered share of labelled questions, 120 / 320 = 0.375
    rate = _rate(LARGE, _validation(60, 0, 40, 40))
    assert rate["value"] == 0.375
    ref_low, ref_high = _reference(1.0, 0.0, 40, shared=True)
    assert abs(rate["ci"][0] - ref_low) < 0.012 and abs(rate["ci"][1] - ref_high) < 0.012


def test_label_order_of_the_validation_does_not_matter():
    forward = _rate(LARGE, _validation(50, 5, 50, 40))
    backward = _rate(LARGE, _validation(50, 5, 50, 40, labels=("question", "not-question")))
    assert backward["value"] == forward["value"] == round(5 / 11, 6)


def test_small_case_by_hand_with_clipping():
    # A: 3 labelled questions of 4; U: 1 of 6. tpr 0.9, fpr 0.1 (10 rows each):
    # pi_A = (0.75 - 0.1) / 0.8 = 0.8125 -> A_T = 3.25; pi_U = (1/6 - 0.1) / 0.8 -> U_T = 0.5
    cells = {(True, True, True): 3, (False, True, True): 1, (True, False, True): 1, (False, False, True): 5}
    assert _rate(cells, _validation(10, 1, 10, 9))["value"] == round(3.25 / 3.75, 6)
    # all of A labelled questions: pi_A = (1 - 0.1) / 0.8 = 1.125 is clipped to 1 -> A_T = 4,
    # U_T = 0.5: 4 / 4.5
    cells = {(True, True, True): 4, (True, False, True): 1, (False, False, True): 5}
    assert _rate(cells, _validation(10, 1, 10, 9))["value"] == round(4 / 4.5, 6)


def test_nothing_answered_gives_zero_and_nothing_unanswered_gives_one():
    # no answered post: A_T = 0 in the estimate and in every draw
    unanswered = {(True, False, True): 5, (False, False, True): 5}
    rate = _rate(unanswered, _validation(10, 1, 10, 9))
    assert rate["value"] == 0.0 and rate["ci"] == [0.0, 0.0] and rate["n"] == 10
    # every post answered: U_T = 0, the rate is 1 wherever there are true questions
    answered = {(True, True, True): 5, (False, True, True): 5}
    rate = _rate(answered, _validation(10, 1, 10, 9))
    assert rate["value"] == 1.0 and rate["ci"] == [1.0, 1.0]


@pytest.mark.parametrize(
    "cells, validation",
    [
        (LARGE, None),  # the question labels have no validation data: not corrected
        ({(True, True, False): 3}, _validation(10, 1, 10, 9)),  # no addressed post
    ],
)
def test_no_estimate_without_validation_data_or_eligible_posts(cells, validation):
    assert _rate(cells, validation) is None


def test_the_interval_is_seeded():
    validation = _validation(50, 5, 50, 40)
    assert _rate(LARGE, validation, seed=3)["ci"] == _rate(LARGE, validation, seed=3)["ci"]
    assert _rate(LARGE, validation, seed=3)["ci"] != _rate(LARGE, validation, seed=4)["ci"]
