"""``training.cascade_probe.thresholds``: the probe's gate, each task's lowest probability above
which the first pass still agrees with the stack on the target share of posts (values worked out
by hand)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from training.cascade_probe import TASKS, thresholds  # noqa: E402


def _one(sure: list[float], agree: list[bool], target: float) -> float:
    sures = {t: np.asarray(sure) for t in TASKS}
    agrees = {t: np.asarray(agree) for t in TASKS}
    return thresholds(sures, agrees, target)[TASKS[0]]


def test_the_largest_prefix_at_the_target_sets_the_threshold() -> None:
    # by falling probability: 0.9 agrees, 0.8 agrees, 0.7 does not, 0.6 agrees
    # running agreement 1, 1, 2/3, 3/4
    sure, agree = [0.7, 0.9, 0.6, 0.8], [False, True, True, True]
    assert _one(sure, agree, 0.75) == 0.6  # all four posts: 3 of 4 agree
    assert _one(sure, agree, 0.9) == 0.8  # the two surest only
    assert _one(sure, agree, 0.7) == 0.6


def test_no_prefix_at_the_target_lets_no_post_skip() -> None:
    assert _one([0.9, 0.8], [False, True], 0.99) == 1.01
