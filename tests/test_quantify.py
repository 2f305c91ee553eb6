"""The share estimator (askscope.classify.quantify): hand-worked cases and QuaPy as the reference."""

from __future__ import annotations

import numpy as np
import pytest

from askscope.classify.quantify import (
    METHODS,
    QuantifyError,
    Validation,
    _mle_binary,  # noqa: PLC2701 - the binary SLD solver
    adjust,
    fit_calibration,
    load_validation,
    quantify,
    sld,
)


def binary_validation(neg: int = 100, neg_flagged: int = 10, pos: int = 50, pos_found: int = 40) -> Validation:
    """Gold negatives (some flagged) and gold positives (some found): tpr = pos_found / pos."""
    gold = np.array([0] * neg + [1] * pos)
    predicted = np.array([1] * neg_flagged + [0] * (neg - neg_flagged) + [1] * pos_found + [0] * (pos - pos_found))
    return Validation("t", ("no", "yes"), gold, predicted)


def test_acc_binary_hand_worked() -> None:
    # tpr = 40/50 = 0.8, fpr = 10/100 = 0.1; 31 of 100 posts flagged:
    # (0.31 - 0.1) / (0.8 - 0.1) = 0.21 / 0.7 = 0.3
    shares = quantify(binary_validation(), predicted=np.array([1] * 31 + [0] * 69), method="acc")
    assert shares.estimate[1] == pytest.approx(0.3)
    assert shares.estimate[0] == pytest.approx(0.7)
    # classify and count is just the flagged share
    assert quantify(binary_validation(), predicted=np.array([1] * 31 + [0] * 69), method="cc").estimate[1] == 0.31
    # 5 of 100 flagged is below the false positive rate: the share is clipped to 0
    assert quantify(binary_validation(), predicted=np.array([1] * 5 + [0] * 95), method="acc").estimate[1] == 0.0


def test_adjust_inverts_a_three_class_confusion_matrix() -> None:
    # rows = true class, columns = label given
    m = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
    # true shares (0.5, 0.3, 0.2) give label shares q_j = sum_i pi_i m_ij:
    # q0 = .4 + .06 + .02 = .48; q1 = .05 + .21 + .04 = .30; q2 = .05 + .03 + .14 = .22
    q = np.array([0.48, 0.30, 0.22])
    assert adjust(q, m)[0] == pytest.approx([0.5, 0.3, 0.2])


def test_adjust_stays_on_the_simplex_and_matches_scipy() -> None:
    from scipy.optimize import minimize

    m = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]])
    q = np.array([0.05, 0.15, 0.80])  # no true shares on the simplex give these label shares
    ours = adjust(q, m)[0]
    assert ours.min() >= 0 and ours.sum() == pytest.approx(1.0)
    reference = minimize(
        lambda x: np.sum((m.T @ x - q) ** 2),
        np.full(3, 1 / 3),
        method="SLSQP",
        bounds=[(0, 1)] * 3,
        constraints={"type": "eq", "fun": lambda x: x.sum() - 1},
        options={"ftol": 1e-14},
    ).x
    assert ours == pytest.approx(reference, abs=1e-5)
    assert ours[0] == 0.0  # the solution lies on the face pi_0 = 0


def random_case(k: int, seed: int) -> tuple[Validation, np.ndarray, np.ndarray]:
    """A validation set and a shifted campaign from Dirichlet posteriors (k classes)."""
    rng = np.random.default_rng(seed)

    def draw(n: int, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gold = rng.choice(k, size=n, p=prior)
        alpha = np.ones((n, k)) + 3.0 * np.eye(k)[gold]
        return gold, np.array([rng.dirichlet(a) for a in alpha])

    gold, probabilities = draw(600, np.full(k, 1 / k))
    target = rng.dirichlet(np.ones(k))
    _, campaign = draw(800, target)
    validation = Validation("t", tuple(f"c{i}" for i in range(k)), gold, probabilities.argmax(1), probabilities)
    return validation, campaign, campaign.argmax(1)


@pytest.mark.parametrize(("k", "seed"), [(2, 1), (3, 2), (4, 3)])
def test_acc_and_pacc_match_quapy(k: int, seed: int) -> None:
    from quapy.method.aggregative import ACC

    validation, campaign, predicted = random_case(k, seed)
    onehot = np.eye(k)
    # QuaPy's class-conditional rates: entry (i, j) = P(label i | true class j)
    hard = np.stack([onehot[validation.predicted[validation.gold == j]].mean(0) for j in range(k)], axis=1)
    soft = np.stack([validation.probabilities[validation.gold == j].mean(0) for j in range(k)], axis=1)
    expected_acc = ACC.solve_adjustment(hard, onehot[predicted].mean(0), method="inversion", solver="minimize")
    expected_pacc = ACC.solve_adjustment(soft, campaign.mean(0), method="inversion", solver="minimize")
    ours_acc = quantify(validation, predicted=predicted, probabilities=campaign, method="acc", resamples=20)
    ours_pacc = quantify(validation, predicted=predicted, probabilities=campaign, method="pacc", resamples=20)
    assert ours_acc.estimate == pytest.approx(expected_acc / expected_acc.sum(), abs=2e-3)
    assert ours_pacc.estimate == pytest.approx(expected_pacc / expected_pacc.sum(), abs=2e-3)


@pytest.mark.parametrize(("k", "seed"), [(2, 4), (3, 5), (4, 6)])
def test_sld_matches_quapy_emq(k: int, seed: int) -> None:
    from quapy.method.aggregative import EMQ

    validation, campaign, _ = random_case(k, seed)
    prior = np.bincount(validation.gold, minlength=k) / len(validation.gold)
    expected, _ = EMQ.EM(prior, campaign, epsilon=1e-8)
    assert sld(campaign, prior, tolerance=1e-10) == pytest.approx(expected, abs=1e-4)
    if k == 2:
        # the bisection solver of the binary case finds the same fixed point
        ours = _mle_binary(campaign[None], prior[None], np.ones((1, len(campaign))))[0]
        assert ours == pytest.approx(expected, abs=1e-4)


def test_calibration_fit_recovers_a_known_temperature_and_bias() -> None:
    # Labels drawn from softmax(2 * log p + (0, 0.5)): the fit should find a = 2, b1 = 0.5.
    rng = np.random.default_rng(0)
    p = rng.dirichlet([1, 1], size=20_000)
    z = 2 * np.log(p) + np.array([0.0, 0.5])
    truth = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    gold = (rng.random(len(p)) < truth[:, 1]).astype(int)
    theta = fit_calibration(np.log(p), np.eye(2)[gold], np.ones((1, len(p))))[0]
    assert theta == pytest.approx([2.0, 0.5], abs=0.1)


def test_every_method_recovers_a_shifted_prior() -> None:
    # Validation at a 50% prior, a campaign at 10%. With Dirichlet(4, 1) posteriors the argmax is
    # right with probability 1 - 0.5**4 = 0.9375, so cc counts 0.1 * 0.9375 + 0.9 * 0.0625 = 0.15:
    # 5 points too many. The others correct it.
    validation, _, _ = random_case(2, 7)
    rng = np.random.default_rng(8)
    gold = (rng.random(4000) < 0.1).astype(int)
    campaign = np.array([rng.dirichlet([1 + 3 * (g == 0), 1 + 3 * (g == 1)]) for g in gold])
    truth = gold.mean()
    for method in METHODS:
        shares = quantify(
            validation, predicted=campaign.argmax(1), probabilities=campaign, method=method, resamples=200, seed=1
        )
        error = abs(shares.estimate[1] - truth)
        if method == "cc":
            assert error > 0.035, method
        else:
            assert error < 0.02, method
            assert shares.low[1] <= truth <= shares.high[1], method


def test_interval_carries_the_validation_uncertainty() -> None:
    # Same rates (tpr 0.8, fpr 0.1), same campaign, a validation set 10 times smaller: the posts'
    # sampling error is unchanged, so only the validation resampling can widen the interval.
    campaign = np.array([1] * 310 + [0] * 690)
    large = quantify(binary_validation(1000, 100, 500, 400), predicted=campaign, method="acc", resamples=1000)
    small = quantify(binary_validation(100, 10, 50, 40), predicted=campaign, method="acc", resamples=1000)
    assert large.estimate[1] == pytest.approx(small.estimate[1])
    assert (small.high[1] - small.low[1]) > 1.5 * (large.high[1] - large.low[1])


def test_deterministic_and_seeded() -> None:
    validation, campaign, predicted = random_case(3, 9)
    a = quantify(validation, predicted=predicted, probabilities=campaign, method="em", resamples=100, seed=3)
    b = quantify(validation, predicted=predicted, probabilities=campaign, method="em", resamples=100, seed=3)
    assert np.array_equal(a.draws, b.draws)
    assert a.as_dict() == b.as_dict()


def test_user_errors() -> None:
    with pytest.raises(QuantifyError, match="needs probabilities"):
        quantify(binary_validation(), predicted=np.array([0, 1]), method="pacc")
    with pytest.raises(QuantifyError, match="unknown quantification method"):
        quantify(binary_validation(), predicted=np.array([0, 1]), method="magic")
    with pytest.raises(QuantifyError, match="no posts of class"):
        Validation("t", ("no", "yes"), np.array([0, 0]), np.array([0, 1]))


@pytest.mark.parametrize("task", ["sentiment", "irony", "offensive", "hate", "emotion", "question"])
def test_shipped_validation_data(task: str) -> None:
    from askscope.classify import model_info

    validation = load_validation(task)
    assert validation is not None
    assert validation.labels == tuple(model_info(task)["labels"])
    assert validation.probabilities is not None
    assert validation.probabilities.shape == (len(validation.gold), validation.k)
    assert np.allclose(validation.probabilities.sum(1), 1.0, atol=5e-3)  # float16 rows
    assert validation.method in METHODS
    # made with the shipped model: after retraining, run training/quantify_data.py again
    from askscope.classify.quantify import model_digest

    assert validation.meta.get("model_sha256") == model_digest(task), (
        f"models/validation/{task}.npz was written for another {task} model: "
        f"python -m training.quantify_data ../shared/data {task}"
    )


@pytest.mark.parametrize(("k", "seed", "method"), [(2, 1, "pacc"), (3, 2, "pacc"), (4, 3, "em"), (5, 4, "em")])
def test_the_estimator_from_counts_and_bins_is_the_estimator_from_posts(k: int, seed: int, method: str) -> None:
    # the lenses read the audience in parts and hand the estimator label counts and probability
    # bins summed over the parts (Binned): from one part, the same shares and draws to the bit;
    # from three parts merged, the same bins (keys and counts exactly, sums to rounding) and the
    # same shares to floating-point tolerance
    from askscope.classify.quantify import Binned, quantify_counts

    validation, campaign, predicted = random_case(k, seed)
    expected = quantify(validation, predicted=predicted, probabilities=campaign, method=method, resamples=200, seed=5)
    counts = np.bincount(predicted, minlength=k)
    whole = Binned.of(campaign)
    one = quantify_counts(validation, counts=counts, binned=whole, method=method, resamples=200, seed=5)
    assert np.array_equal(one.estimate, expected.estimate) and np.array_equal(one.draws, expected.draws)
    cuts = [0, 250, 251, 800]  # a part of one post
    merged = Binned.merge([Binned.of(campaign[a:b]) for a, b in zip(cuts, cuts[1:])])
    for mine, theirs in ((merged.coarse, whole.coarse), (merged.fine, whole.fine)):
        assert mine is not None and theirs is not None
        assert np.array_equal(mine[0], theirs[0]) and np.array_equal(mine[1], theirs[1])
        np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-12)
    # the bins' keys: every post in the bin of its rounded vector, the bins' members add up
    assert merged.coarse[1].sum() == len(campaign) and merged.fine is not None and merged.fine[1].sum() == len(campaign)
    np.testing.assert_allclose(merged.total, campaign.sum(axis=0), rtol=1e-12)
    parted = quantify_counts(validation, counts=counts, binned=merged, method=method, resamples=200, seed=5)
    np.testing.assert_allclose(parted.estimate, expected.estimate, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(parted.draws, expected.draws, rtol=1e-9, atol=1e-12)
    # bins reduced without their fine part cannot serve EM's point estimate, and say so
    coarse_only = Binned.of(campaign, fine=False)
    if method == "em":
        with pytest.raises(QuantifyError, match="fine bins"):
            quantify_counts(validation, counts=counts, binned=coarse_only, method=method)
    with pytest.raises(QuantifyError, match="no posts"):
        quantify_counts(validation, counts=np.zeros(k, dtype=np.int64), binned=whole, method=method)
