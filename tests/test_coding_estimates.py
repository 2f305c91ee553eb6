"""The prediction-powered estimator against the reference implementation (ppi-python), a
hand-worked stratified case, Wilson against statsmodels, and coverage over seeded simulations."""

from __future__ import annotations

import numpy as np
import pytest
from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
from statsmodels.stats.proportion import proportion_confint

from askscope.coding.ppi import coded_share, ppi_share, wilson
from askscope.coding.reliability import code_fractions, consensus


def _population(seed: int, N: int = 20_000, share: float = 0.3, accuracy: float = 0.8):
    """A frame with a true 0/1 label and a model that is right with probability ``accuracy``,
    otherwise guesses at a 50% rate (so the model-only share is biased)."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(N) < share).astype(float)
    guess = (rng.random(N) < 0.5).astype(float)
    model = np.where(rng.random(N) < accuracy, truth, guess)
    return rng, truth, model


@pytest.mark.parametrize("lam", [None, 1.0, 0.0, 0.4])
def test_simple_random_sample_equals_ppi_python(lam):
    for seed in range(5):
        rng, truth, model = _population(seed)
        idx = rng.choice(len(truth), 300, replace=False)
        interval, used = ppi_share(truth[idx], model[idx], model, lam=lam)
        low, high = ppi_mean_ci(truth[idx], model[idx], model, alpha=0.05, lam=lam)
        point = ppi_mean_pointestimate(truth[idx], model[idx], model, lam=lam)
        assert interval.estimate == pytest.approx(float(np.squeeze(point)), abs=1e-12)
        assert (interval.low, interval.high) == pytest.approx((float(low[0]), float(high[0])), abs=1e-12)
        if lam is not None:
            assert used == lam
        else:
            assert 0 < used <= 1  # a useful model gets weight


def test_stratified_hand_worked():
    # Frame of 10: stratum A (6 posts, model says 1 for 3), B (4 posts, model 1 for 1).
    # Coded: A: y = 1, 0 with ŷ = 1, 1; B: y = 1, 1 with ŷ = 1, 0. λ = 1:
    # θ = mean(ŷ_all) + W_A·mean_A(y−ŷ) + W_B·mean_B(y−ŷ) = 0.4 + 0.6·(−0.5) + 0.4·0.5 = 0.3
    # var = 0.24/10 + 0.6²·0.25/2 + 0.4²·0.25/2 = 0.024 + 0.045 + 0.02 = 0.089, se = 0.298329
    # 95%: 0.3 ± 1.959964·0.298329 = 0.3 ± 0.584714 -> [0 (clipped), 0.884714]
    yhat_all = np.array([1, 1, 1, 0, 0, 0, 1, 0, 0, 0], dtype=float)
    strata = np.array(["A", "A", "B", "B"])
    interval, lam = ppi_share(
        np.array([1, 0, 1, 1.0]), np.array([1, 1, 1, 0.0]), yhat_all, strata, {"A": 6, "B": 4}, lam=1.0
    )
    assert lam == 1.0
    assert interval.estimate == pytest.approx(0.3)
    assert interval.low == 0.0 and interval.high == pytest.approx(0.884714, abs=1e-6)


def test_stratified_point_estimate_equals_weighted_ppi_python_and_is_not_wider():
    for seed in range(5):
        rng, truth, model = _population(seed, accuracy=0.7)
        strata_all = np.where(model == 1, "pos", "neg")  # stratified by the model's label
        sizes = {s: int((strata_all == s).sum()) for s in ("neg", "pos")}
        drawn = {"neg": 100, "pos": 100}  # disproportionate: the rarer label oversampled
        idx = np.concatenate(
            [rng.choice(np.flatnonzero(strata_all == s), drawn[s], replace=False) for s in ("neg", "pos")]
        )
        weights = np.array([sizes[s] / drawn[s] for s in strata_all[idx]])
        interval, _ = ppi_share(truth[idx], model[idx], model, strata_all[idx], sizes, lam=1.0)
        point = ppi_mean_pointestimate(truth[idx], model[idx], model, lam=1, w=weights)
        low, high = ppi_mean_ci(truth[idx], model[idx], model, alpha=0.05, lam=1, w=weights)
        assert interval.estimate == pytest.approx(float(np.squeeze(point)), abs=1e-12)
        assert interval.high - interval.low <= float(high[0] - low[0]) + 1e-12


def test_wilson_equals_statsmodels():
    for k, n in ((0, 50), (7, 50), (25, 50), (50, 50), (1, 3)):
        ours = wilson(k / n, n)
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (ours.low, ours.high) == pytest.approx((low, high), abs=1e-12)
    # a simple random sample's coded-only interval is Wilson's on n
    y = np.array([1.0] * 12 + [0.0] * 28)
    assert coded_share(y) == wilson(0.3, 40)


def test_coverage_and_width_over_seeded_simulations():
    # 200 seeded campaigns (srs of 300 of 20,000; a model 80% right): the PPI interval must cover
    # the true share about 95% of the time and be narrower than the coded-only one.
    covered = covered_strat = 0
    ratios = []
    seeds = range(200)
    for seed in seeds:
        rng, truth, model = _population(seed)
        true_share = truth.mean()
        idx = rng.choice(len(truth), 300, replace=False)
        ppi, _ = ppi_share(truth[idx], model[idx], model)
        coded = coded_share(truth[idx])
        covered += ppi.low <= true_share <= ppi.high
        ratios.append((ppi.high - ppi.low) / (coded.high - coded.low))
        strata_all = np.where(model == 1, "pos", "neg")
        sizes = {s: int((strata_all == s).sum()) for s in ("neg", "pos")}
        sidx = np.concatenate([rng.choice(np.flatnonzero(strata_all == s), 150, replace=False) for s in ("neg", "pos")])
        strat, _ = ppi_share(truth[sidx], model[sidx], model, strata_all[sidx], sizes)
        covered_strat += strat.low <= true_share <= strat.high
    assert covered / len(seeds) >= 0.93 and covered_strat / len(seeds) >= 0.93
    assert 0.5 < float(np.mean(ratios)) < 0.9


def test_a_stratum_without_codes_is_refused():
    with pytest.raises(ValueError, match="every stratum needs coded posts: B"):
        ppi_share(np.ones(3), np.ones(3), np.ones(10), np.array(["A"] * 3), {"A": 6, "B": 4})


def test_consensus_and_fractions():
    codes = {
        ("x", "1"): {"ana": "mockery", "bo": "mockery", "cy": "abuse"},  # 2 of 3: mockery
        ("x", "2"): {"ana": "mockery", "bo": "abuse"},  # a tie: no consensus
        ("x", "3"): {"ana": "mockery", "bo": "mockery", "adjudication": "abuse"},
    }  # adjudicated
    agreed, ties = consensus(codes)
    assert agreed == {("x", "1"): "mockery", ("x", "3"): "abuse"} and ties == [("x", "2")]
    fractions = code_fractions(codes)
    assert fractions[("x", "1")] == pytest.approx({"abuse": 1 / 3, "mockery": 2 / 3})
    assert fractions[("x", "2")] == {"abuse": 0.5, "mockery": 0.5} and fractions[("x", "3")] == {"abuse": 1.0}
