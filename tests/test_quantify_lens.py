"""Corrected shares in the lenses: the backfire lens's category and hostile shares come from the
quantification estimator, and the one ``adjusted_share`` (askscope.lenses.stats)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from lens_campaign import audience_rows

from askscope.classify.quantify import Validation
from askscope.lenses import stats
from askscope.lenses.audience import Spec, summarise
from askscope.lenses.backfire import NOT_CORRECTED, _category_shares, _hostile
from askscope.lenses.common import LensInput
from askscope.vocabulary import CATEGORIES


def test_adjusted_share_hand_worked() -> None:
    # tpr 0.8, fpr 0.1, 31% flagged: (0.31 - 0.1) / (0.8 - 0.1) = 0.3
    assert stats.adjusted_share(0.31, 0.8, 0.1) == pytest.approx(0.3)
    assert stats.adjusted_share(0.05, 0.8, 0.1) == 0.0  # below fpr: clipped to 0
    assert stats.adjusted_share(0.95, 0.8, 0.1) == 1.0  # above tpr: clipped to 1
    assert math.isnan(stats.adjusted_share(0.4, 0.2, 0.3))  # no better than chance: undefined


def lens_input(validation: Validation | None) -> LensInput:
    return LensInput(
        store=None,
        seed=3,
        window_start=None,
        window_end=None,
        rates={},
        labeled=True,  # type: ignore[arg-type]
        validations={"discourse": validation} if validation else {},
    )


def discourse_validation(mockery_as_abuse: int) -> Validation:
    """10 validation posts per category, all labelled right except ``mockery_as_abuse`` of the
    mockery posts, labelled abuse."""
    gold, predicted = [], []
    for i, _category in enumerate(CATEGORIES):
        gold += [i] * 10
        predicted += [i] * 10
    mockery, abuse = CATEGORIES.index("mockery"), CATEGORIES.index("abuse")
    start = 10 * mockery
    predicted[start : start + mockery_as_abuse] = [abuse] * mockery_as_abuse
    return Validation("discourse", CATEGORIES, np.asarray(gold), np.asarray(predicted), method="acc", data="hand-made")


def campaign() -> list[str | None]:
    # 100 labelled posts: 8 mockery, 12 abuse, 10 critical questions, 30 support, 40 other; and 5
    # posts without a label (left out of every share)
    return (
        ["mockery"] * 8 + ["abuse"] * 12 + ["question_critical"] * 10 + ["support"] * 30 + ["other"] * 40 + [None] * 5
    )


def test_category_shares_corrected_by_the_confusion_matrix() -> None:
    inp = lens_input(discourse_validation(2))
    categories = campaign()
    estimated = inp.shares("discourse", categories, name="category_shares")
    assert estimated is not None and estimated.n == 100
    shares = _category_shares(inp, summarise(audience_rows(categories), Spec()), estimated)
    # 2 of 10 mockery posts are labelled abuse: q_mockery = 0.8 pi_mockery, so pi_mockery =
    # 0.08 / 0.8 = 0.10; q_abuse = pi_abuse + 0.2 pi_mockery, so pi_abuse = 0.12 - 0.02 = 0.10
    assert shares["mockery"]["corrected"]["value"] == pytest.approx(0.10, abs=1e-6)
    assert shares["abuse"]["corrected"]["value"] == pytest.approx(0.10, abs=1e-6)
    assert shares["support"]["corrected"]["value"] == pytest.approx(0.30, abs=1e-6)
    # the counted shares are over all 105 posts of the audience, unlabelled ones included
    assert (shares["mockery"]["k"], shares["mockery"]["n"]) == (8, 105)
    for share in shares.values():
        low, high = share["corrected"]["ci"]
        assert low <= share["corrected"]["value"] <= high
        assert share["corrected"]["validation"]["data"] == "hand-made"
    # hostile = critical + mockery + abuse = 0.10 + 0.10 + 0.10
    hostile = _hostile(inp, summarise(audience_rows(categories), Spec()), estimated)
    assert hostile["corrected"]["value"] == pytest.approx(0.30, abs=1e-6)
    # the union's interval comes from the sum in each draw: narrower than adding the parts' widths
    parts = sum(
        shares[c]["corrected"]["ci"][1] - shares[c]["corrected"]["ci"][0]
        for c in ("question_critical", "mockery", "abuse")
    )
    assert hostile["corrected"]["ci"][1] - hostile["corrected"]["ci"][0] < parts


def test_perfect_validation_gives_the_counted_share() -> None:
    inp = lens_input(discourse_validation(0))
    categories = campaign()
    hostile = _hostile(inp, summarise(audience_rows(categories), Spec()), inp.shares("discourse", categories, name="h"))
    assert hostile["corrected"]["value"] == pytest.approx(30 / 100)


def test_no_validation_data_is_said_never_hidden() -> None:
    inp = lens_input(None)
    categories = campaign()
    estimated = inp.shares("discourse", categories, name="category_shares")
    assert estimated is None
    shares = _category_shares(inp, summarise(audience_rows(categories), Spec()), estimated)
    hostile = _hostile(inp, summarise(audience_rows(categories), Spec()), estimated)
    for share in [hostile, *shares.values()]:
        assert share["corrected"] is None
        assert share["correction"] == NOT_CORRECTED


def test_probabilities_are_used_when_the_method_needs_them() -> None:
    # a validation set with probabilities and method pacc: posts with probability vectors are
    # estimated with pacc, posts with labels only fall back to acc (said in the method)
    validation = discourse_validation(0)
    probabilities = np.eye(len(CATEGORIES))[validation.gold] * 0.9 + 0.1 / len(CATEGORIES)
    pacc = Validation("discourse", CATEGORIES, validation.gold, validation.predicted, probabilities, method="pacc")
    inp = lens_input(pacc)
    categories = campaign()[:100]
    rows = [list(np.eye(len(CATEGORIES))[CATEGORIES.index(c)] * 0.9 + 0.1 / len(CATEGORIES)) for c in categories]
    with_probabilities = inp.shares("discourse", categories, rows, name="x")
    without = inp.shares("discourse", categories, None, name="x")
    assert with_probabilities is not None and with_probabilities.method == "pacc"
    assert without is not None and without.method == "acc"
    # the posts' probability vectors are those of their gold class in validation: pacc is exact
    assert with_probabilities.estimate[CATEGORIES.index("support")] == pytest.approx(0.30, abs=1e-6)


def test_capture_corrected_through_the_estimator() -> None:

    from askscope.lenses.backfire import _capture, spec

    class Store:
        class con:  # noqa: N801 - a stand-in for the DuckDB connection
            @staticmethod
            def execute(sql: str):  # the host's share of the hashtag: not under test here
                return type("R", (), {"fetchall": staticmethod(lambda: [(10, 1)])})()

    # 20 posts: 10 hashtag_only (4 labelled support, 6 other), 10 direct replies (support)
    categories = ["support"] * 4 + ["other"] * 6 + ["support"] * 10
    relations = ["hashtag_only"] * 10 + ["direct_reply"] * 10
    inp = lens_input(discourse_validation(0))
    inp.store = Store()  # type: ignore[assignment]
    table = summarise(audience_rows(categories, relation=relations), spec(inp))
    capture = _capture(inp, table)["hashtag_only_not_supportive"]
    # counted: 6 of 20; corrected with a perfect validation set: 10/20 x (1 - 4/10) = 0.3
    assert (capture["k"], capture["n"]) == (6, 20)
    assert capture["corrected"]["value"] == pytest.approx(0.3)
    inp_none = lens_input(None)
    inp_none.store = Store()  # type: ignore[assignment]
    table = summarise(audience_rows(categories, relation=relations), spec(inp_none))
    assert _capture(inp_none, table)["hashtag_only_not_supportive"]["correction"] == NOT_CORRECTED
    # no hashtag_only post at all: 0, whatever the labels' errors (not "no validation data")
    replies = summarise(audience_rows(categories, relation=["direct_reply"] * 20), spec(inp_none))
    none_tagged = _capture(inp_none, replies)["hashtag_only_not_supportive"]
    assert none_tagged["corrected"]["value"] == 0.0 and "correction" not in none_tagged


def test_shares_from_arrow_columns_are_those_from_lists() -> None:
    # the backfire lens hands its table's columns (labels, FLOAT[] probabilities) to shares(): the
    # same estimate and draws as the lists, the same fall-back to acc when a labelled post has no
    # probability vector or one of the wrong length; an unlabelled post's missing vector is no matter
    import pyarrow as pa

    validation = discourse_validation(2)
    k = len(CATEGORIES)
    probabilities = np.eye(k)[validation.gold] * 0.7 + 0.3 / k
    pacc = Validation("discourse", CATEGORIES, validation.gold, validation.predicted, probabilities, method="pacc")
    inp = lens_input(pacc)
    categories = campaign()  # 100 labelled posts, then 5 without a label
    rng = np.random.default_rng(5)
    rows: list[list[float] | None] = [list(rng.dirichlet(np.ones(k)).astype(np.float32)) for _ in categories[:100]]
    rows += [None] * 5
    as_columns = (pa.array(categories, pa.string()), pa.chunked_array([pa.array(rows, pa.list_(pa.float32()))]))
    listed = inp.shares("discourse", categories, rows, name="x")
    columns = inp.shares("discourse", *as_columns, name="x")
    assert listed is not None and columns is not None and listed.method == columns.method == "pacc"
    assert listed.n == columns.n == 100
    assert np.array_equal(listed.estimate, columns.estimate) and np.array_equal(listed.draws, columns.draws)
    # the estimate is pacc's: the mean probability vector adjusted, not the counted shares
    assert not np.allclose(columns.estimate, columns.counted)
    for broken in (None, [0.5, 0.5]):  # a labelled post without a vector, or with 2 values of 5
        changed = [*rows[:7], broken, *rows[8:]]
        listed = inp.shares("discourse", categories, changed, name="x")
        column = pa.array(changed, pa.list_(pa.float32()))
        columns = inp.shares("discourse", as_columns[0], column, name="x")
        assert listed is not None and columns is not None and listed.method == columns.method == "acc"
        assert np.array_equal(listed.draws, columns.draws)
    labels_only = inp.shares("discourse", as_columns[0], None, name="x")
    assert labels_only is not None and labels_only.method == "acc"
    assert inp.shares("discourse", pa.array([None, None], pa.string()), name="x") is None
