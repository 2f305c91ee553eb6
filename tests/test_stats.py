"""metrics/stats.py against reference implementations: statsmodels' Wilson interval, scipy's
entropy and binomial distribution, an independent Gini formula and a direct numpy percentile
bootstrap seeded the same way.

(The corrected-share functions are tested with the quantification estimator that replaces them.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from statsmodels.stats.proportion import proportion_confint

from askscope.lenses import stats


def _generator(seed: int, name: str) -> np.random.Generator:
    """The seeding stats.rng_for documents: a generator per metric name, written out again here."""
    digest = 0
    for position, byte in enumerate(name.encode("utf-8"), start=1):
        digest += position * byte
    return np.random.default_rng([seed, digest])


def _percentile_interval(draws: np.ndarray) -> list[float]:
    low, high = np.percentile(draws, [2.5, 97.5])
    return [round(float(low), 6), round(float(high), 6)]


@pytest.mark.parametrize(
    "k, n",
    [(0, 1), (1, 1), (0, 10), (3, 10), (5, 10), (10, 10), (1, 300), (156, 300), (274, 300), (7, 19), (49_999, 100_000)],
)
def test_wilson_matches_statsmodels(k, n):
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    result = stats.wilson(k, n)
    assert result["value"] == pytest.approx(k / n, abs=1e-6)
    assert result["ci"][0] == pytest.approx(max(0.0, low), abs=1e-6)
    assert result["ci"][1] == pytest.approx(min(1.0, high), abs=1e-6)
    assert (result["k"], result["n"], result["method"]) == (k, n, "wilson")


def test_wilson_by_hand_and_empty():
    # k = 1, n = 4, z = 1.959964 (z^2 = 3.841459): p = 0.25, denominator 1 + z^2/4 = 1.960365,
    # centre (0.25 + z^2/8) / 1.960365 = 0.730182 / 1.960365 = 0.372473,
    # half z sqrt(0.25 * 0.75 / 4 + z^2 / 64) / 1.960365 = 1.959964 * sqrt(0.046875 + 0.060023) / 1.960365
    #      = 1.959964 * 0.326953 / 1.960365 = 0.326886
    result = stats.wilson(1, 4)
    assert result["ci"] == pytest.approx([0.372473 - 0.326886, 0.372473 + 0.326886], abs=2e-6)
    assert stats.wilson(0, 0) == {"value": None, "ci": [None, None], "k": 0, "n": 0, "method": "wilson"}


def test_rng_for_is_seeded_per_metric_name():
    # "ab": digest 1 * 97 + 2 * 98 = 293
    assert stats.rng_for(3, "ab").random() == np.random.default_rng([3, 293]).random()
    assert stats.rng_for(3, "ab").random() != stats.rng_for(4, "ab").random()
    assert stats.rng_for(3, "ab").random() != stats.rng_for(3, "ba").random()


def test_mean_matches_a_direct_percentile_bootstrap():
    data = np.random.default_rng(1).exponential(5.0, size=60)
    result = stats.mean(data, seed=11, name="reposts:hostile")
    # 2000 resamples of 60 drawn in one block (60 * 2000 values fit the 4M-value chunk)
    draws = data[_generator(11, "reposts:hostile").integers(0, 60, size=(2000, 60))].mean(axis=1)
    assert result["value"] == round(float(data.mean()), 6)
    assert result["ci"] == _percentile_interval(draws)
    assert result["n"] == 60
    # and close to scipy's percentile bootstrap (different draws, same method)
    reference = scipy.stats.bootstrap(
        (data,), np.mean, n_resamples=2000, method="percentile", random_state=np.random.default_rng(5)
    ).confidence_interval
    width = reference.high - reference.low
    assert abs(result["ci"][0] - reference.low) < 0.15 * width
    assert abs(result["ci"][1] - reference.high) < 0.15 * width


def test_mean_of_nothing_and_of_one():
    assert stats.mean([], seed=0, name="x") == {"value": None, "ci": [None, None], "n": 0, "method": "mean, bootstrap"}
    assert stats.mean([4.0], seed=0, name="x")["ci"] == [4.0, 4.0]


def test_bootstrap_resamples_shrink_for_large_samples():
    # 2000 resamples up to 100,000 values; then 200,000,000 / n, never under 200
    assert len(stats.bootstrap_means(np.ones(10), seed=0, name="a")) == 2000
    assert [stats._resamples(n) for n in (0, 1, 100_000, 100_001, 400_000, 1_000_000, 2_000_000)] == [
        2000,
        2000,
        2000,
        1999,
        500,
        200,
        200,
    ]


def test_bootstrap_in_chunks_draws_the_same_resamples():
    # n = 5000: 800 resamples per chunk (4,000,000 / 5000), so 2000 come in three chunks
    data = np.arange(5000, dtype=float)
    draws = stats.bootstrap_means(data, seed=2, name="chunks")
    rng = _generator(2, "chunks")
    expected = np.concatenate([data[rng.integers(0, 5000, size=(size, 5000))].mean(axis=1) for size in (800, 800, 400)])
    np.testing.assert_allclose(draws, expected)


def test_ratio_of_means_matches_a_direct_bootstrap():
    a = np.array([4, 2, 6, 0, 9, 1, 3], dtype=float)
    b = np.array([1, 3, 2, 0, 2], dtype=float)
    result = stats.ratio_of_means(a, b, seed=7, name="virality_gap")
    draws_a = a[_generator(7, "virality_gap:a").integers(0, 7, size=(2000, 7))].mean(axis=1)
    draws_b = b[_generator(7, "virality_gap:b").integers(0, 5, size=(2000, 5))].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = draws_a / draws_b
    # mean(a) = 25/7, mean(b) = 8/5: ratio 125/56
    assert result["value"] == round(125 / 56, 6)
    assert result["ci"] == _percentile_interval(ratios[np.isfinite(ratios)])
    assert result["n"] == [7, 5]


@pytest.mark.parametrize("a, b", [([], [1.0]), ([1.0], []), ([1.0, 2.0], [0.0, 0.0])])
def test_ratio_of_means_not_measurable(a, b):
    assert stats.ratio_of_means(a, b, seed=0, name="r")["value"] is None


def test_weighted_share_matches_a_direct_bootstrap():
    weights = np.array([5, 1, 3, 1, 7, 1, 4, 1, 1, 1, 1], dtype=float)
    inside = weights * np.array([1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0])
    result = stats.weighted_share(inside, weights, seed=3, name="repost_weighted_hostile")
    idx = _generator(3, "repost_weighted_hostile").integers(0, 11, size=(2000, 11))
    # 5 + 3 + 7 + 1 = 16 of 26
    assert result["value"] == round(16 / 26, 6)
    assert result["ci"] == _percentile_interval(inside[idx].sum(axis=1) / weights[idx].sum(axis=1))
    assert stats.weighted_share([], [], seed=0, name="w")["value"] is None
    assert stats.weighted_share([0, 0], [0, 0], seed=0, name="w")["value"] is None


def test_quantile_by_hand():
    # 1..10, median 5.5; n q = 5, half-width 1.959964 * sqrt(10 * 0.25) = 3.099; ranks
    # floor(5 - 3.099) = 1 and ceil(5 + 3.099) + 1 = 10: the interval [x(1), x(10)] = [1, 10]
    result = stats.quantile(list(range(10, 0, -1)), 0.5)
    assert (result["value"], result["ci"], result["n"]) == (5.5, [1.0, 10.0], 10)
    # 1..100, q = 0.9: value 90.1 (linear, position 89.1); n q = 90, half 1.959964 * 3 = 5.88;
    # ranks floor(84.12) = 84 and ceil(95.88) + 1 = 97
    result = stats.quantile(list(range(1, 101)), 0.9)
    assert (result["value"], result["ci"]) == (90.1, [84.0, 97.0])
    assert stats.quantile([], 0.5)["value"] is None
    # one value: ranks floor(0.5 - 0.98) = -1 and ceil(1.48) + 1 = 3 lie outside the sample
    assert stats.quantile([7.0], 0.5) == {
        "value": 7.0,
        "ci": [None, None],
        "n": 1,
        "method": "quantile 0.5, order-statistic interval",
    }
    # the 90th percentile of 1..20: n q = 18, half 1.959964 * sqrt(1.8) = 2.6296; lower rank
    # floor(15.37) = 15; upper rank ceil(20.63) + 1 = 22 > 20: no upper bound (the sample's
    # maximum is below the 90th percentile with probability 0.9^20 = 12%)
    assert stats.quantile(list(range(1, 21)), 0.9)["ci"] == [15.0, None]
    # three latencies (the lens test's): no 95% interval for their median at all
    assert stats.quantile([2700.0, 3600.0, 4200.0], 0.5)["ci"] == [None, None]


def test_quantile_with_infinite_values_by_hand():
    # host ratios (replies / endorsements) are infinite for a post with replies and no
    # endorsements; numpy's quantile interpolated into them even at an exact position and gave
    # NaN (reported as no value) for the median of (1, 2, inf), which is 2
    inf = float("inf")
    assert stats.quantile([inf, 1.0, 2.0], 0.5)["value"] == 2.0
    # (1, 2, 3, inf): position 1.5, halfway between 2 and 3
    assert stats.quantile([1.0, 2.0, 3.0, inf], 0.5)["value"] == 2.5
    # q = 0.25: position 0.75, 1 + 0.75 * (2 - 1)
    assert stats.quantile([1.0, 2.0, 3.0, inf], 0.25)["value"] == 1.75
    # between 2 and inf, or at inf: an infinite median, which JSON cannot hold: no value
    assert stats.quantile([1.0, 2.0, inf, inf], 0.5)["value"] is None
    assert stats.quantile([1.0, inf, inf], 0.5)["value"] is None
    # the interval's bounds are order statistics: x(1) = 1, and the upper one infinite, so none
    result = stats.quantile([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, inf, inf], 0.5)
    assert result["value"] == 3.5 and result["ci"] == [1.0, None]
    # finite data: numpy's own value to the bit
    rng = np.random.default_rng(3)
    for _ in range(50):
        data = rng.lognormal(size=int(rng.integers(1, 40)))
        q = float(rng.random())
        assert stats.quantile(data, q)["value"] == round(float(np.quantile(data, q)), 6)


@pytest.mark.parametrize("n", [3, 8, 20, 50, 101, 500])
@pytest.mark.parametrize("q", [0.5, 0.9, 0.1])
def test_quantile_interval_covers_at_least_95_percent(n, q):
    # the interval [x(r), x(s)] holds the true q-quantile with probability P(r <= B <= s - 1),
    # B ~ Binomial(n, q) (the order-statistic formula); the ranks are recovered from the interval,
    # a missing bound being rank 0 (below) or n + 1 (above)
    data = np.arange(1, n + 1, dtype=float)
    low, high = stats.quantile(data, q)["ci"]
    r = 0 if low is None else int(low)
    s = n + 1 if high is None else int(high)
    coverage = scipy.stats.binom.cdf(s - 1, n, q) - scipy.stats.binom.cdf(r - 1, n, q)
    assert coverage >= 0.95
    # and the interval is not wider than it needs to be by more than a rank at each end
    assert scipy.stats.binom.cdf(s - 3, n, q) - scipy.stats.binom.cdf(r + 1, n, q) < 0.95 or (r, s) == (0, n + 1)


def _gini_mean_difference(values: list[float]) -> float:
    x = np.asarray(values, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean()))


@pytest.mark.parametrize(
    "values",
    [
        [3, 3, 1, 1, 1, 1, 1],  # by hand: 40 / 154
        [0, 0, 0, 1],  # one has everything: (n - 1) / n = 0.75
        [2, 2, 2],  # equality: 0
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        list(np.random.default_rng(4).pareto(1.5, size=200) + 1),
    ],
)
def test_gini_matches_the_mean_difference_formula(values):
    assert stats.gini(values) == pytest.approx(_gini_mean_difference(values), abs=1e-12)


def test_gini_hand_values_and_empty():
    assert stats.gini([3, 1, 3, 1, 1, 1, 1]) == pytest.approx(40 / 154)
    assert stats.gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert stats.gini([]) is None and stats.gini([0, 0]) is None


@pytest.mark.parametrize(
    "counts", [[5, 1, 1], [2, 1], [1, 1, 1, 1], [10, 0, 3, 0, 7], [1, 2, 3, 4, 5, 6, 7, 8], [99, 1]]
)
def test_entropy_matches_scipy(counts):
    present = [c for c in counts if c > 0]
    expected = scipy.stats.entropy(present) / math.log(len(present))
    result = stats.entropy(counts)
    assert result["value"] == pytest.approx(expected, abs=1e-6)
    assert (result["categories"], result["n"]) == (len(present), sum(counts))


def test_entropy_edge_cases():
    assert stats.entropy([]) == {"value": None, "categories": 0, "n": 0}
    assert stats.entropy([0, 0]) == {"value": None, "categories": 0, "n": 0}
    assert stats.entropy([0, 4]) == {"value": 0.0, "categories": 1, "n": 4}
    # two equal categories: ln 2 / ln 2 = 1
    assert stats.entropy([3, 3])["value"] == 1.0


def test_interval_keeps_infinite_draws_in_order_and_drops_undefined_ones():
    assert stats._interval(np.array([np.inf, np.nan])) == [None, None]
    assert stats._interval(np.array([np.nan, np.nan])) == [None, None]
    # 0..100 with -inf and inf (the NaN left out): 103 ordered values -inf, 0, ..., 100, inf;
    # position 102 * 0.025 = 2.55 between 1 and 2 -> 1.55; 102 * 0.975 = 99.45 between 98 and
    # 99 -> 98.45 (leaving the infinities out gave 2.5 and 97.5, an interval too narrow)
    draws = np.concatenate([np.arange(101, dtype=float), [np.inf, -np.inf, np.nan]])
    assert stats._interval(draws) == [1.55, 98.45]
    # 0..9 and one inf: position 10 * 0.975 = 9.75 between 9 and inf: no upper bound;
    # 10 * 0.025 = 0.25 -> 0.25
    assert stats._interval(np.concatenate([np.arange(10, dtype=float), [np.inf]])) == [0.25, None]
    # finite draws: numpy's percentile interval to the bit
    finite = np.random.default_rng(1).normal(size=999)
    assert stats._interval(finite) == [stats._round(v) for v in np.quantile(finite, [0.025, 0.975])]


def test_a_ratio_whose_denominator_often_resamples_to_zero_has_no_upper_bound():
    # supportive posts' reposts (0, 0, 0, 1): a resample of four has none reposted with
    # probability (3/4)^4 = 32%, far above 2.5%: those draws are infinite ratios, and the
    # interval has no upper bound (it was the largest finite draw before)
    result = stats.ratio_of_means([2.0, 1.0, 3.0, 2.0, 0.0], [0.0, 0.0, 0.0, 1.0], seed=7, name="gap")
    assert result["value"] == 6.4  # (8 / 5) / (1 / 4)
    low, high = result["ci"]
    assert high is None and low is not None and 0 < low < 6.4


def test_round_drops_what_is_not_a_number():
    assert stats._round(None) is None and stats._round(float("nan")) is None and stats._round(float("inf")) is None
    assert stats._round(1 / 3) == 0.333333 and stats._round(2 / 3, 2) == 0.67


@pytest.mark.parametrize(
    "p, tpr, fpr, expected",
    [
        (0.5, 0.9, 0.1, 0.5),  # (0.5 - 0.1) / 0.8
        (0.3, 0.8, 0.1, 2 / 7),  # (0.3 - 0.1) / 0.7
        (0.05, 0.9, 0.1, 0.0),  # below the false-positive rate: clipped to 0
        (0.95, 0.9, 0.1, 1.0),  # above the true-positive rate: clipped to 1
        (0.1, 0.9, 0.1, 0.0),
        (0.9, 0.9, 0.1, 1.0),
    ],
)
def test_adjusted_share(p, tpr, fpr, expected):
    assert stats.adjusted_share(p, tpr, fpr) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("tpr, fpr", [(0.5, 0.5), (0.4, 0.6), (0.5 + 1e-10, 0.5)])
def test_adjusted_share_of_a_chance_classifier_is_not_a_number(tpr, fpr):
    assert math.isnan(stats.adjusted_share(0.5, tpr, fpr))


def test_results_without_data_keep_their_shape():
    assert stats.quantile([], 0.9) == {
        "value": None,
        "ci": [None, None],
        "n": 0,
        "method": "quantile 0.9, order-statistic interval",
    }
    assert stats.ratio_of_means([1.0], [0.0], seed=0, name="r") == {
        "value": None,
        "ci": [None, None],
        "n": [1, 1],
        "method": "ratio of means, bootstrap",
    }
    assert stats.weighted_share([0.0], [0.0], seed=0, name="w") == {
        "value": None,
        "ci": [None, None],
        "n": 1,
        "method": "weighted share, bootstrap",
    }


def test_ratio_of_means_when_the_denominator_mean_is_one():
    # mean(a) = 3, mean(b) = 1: 3; b never varies, so the interval is a's over 1
    result = stats.ratio_of_means([2.0, 4.0], [1.0, 1.0], seed=0, name="r")
    assert result["value"] == 3.0 and 2.0 <= result["ci"][0] <= result["ci"][1] <= 4.0


# --- large samples whose values repeat: resampled through their value counts ------------------------


def test_a_large_sample_of_repeated_values_is_resampled_through_its_counts():
    # 150,000 values in {0, 1, 2, 7}: the counts path, 2000 resamples (the index path would give
    # 200,000,000 // 150,000 = 1333); each resample = how often each value is picked, one
    # multinomial draw with the observed frequencies, written out here with the same generator
    rng = np.random.default_rng(4)
    data = rng.choice([0.0, 1.0, 2.0, 7.0], size=150_000, p=[0.6, 0.25, 0.1, 0.05])
    draws = stats.bootstrap_means(data, seed=9, name="reposts:hostile")
    levels, counts = np.unique(data, return_counts=True)
    expected = _generator(9, "reposts:hostile").multinomial(150_000, counts / 150_000, size=2000) @ levels / 150_000
    np.testing.assert_allclose(draws, expected)
    assert len(draws) == 2000
    # the same distribution as resampling the values one by one: the mean's standard error
    # sqrt(var / n), and the index bootstrap's interval, within Monte Carlo error
    se = data.std() / math.sqrt(len(data))
    assert draws.std() == pytest.approx(se, rel=0.08)
    direct = data[_generator(1, "direct").integers(0, len(data), size=(300, len(data)))].mean(axis=1)
    assert draws.mean() == pytest.approx(direct.mean(), abs=0.3 * se)
    assert draws.std() == pytest.approx(direct.std(), rel=0.2)


def test_large_samples_of_distinct_values_and_small_samples_keep_the_index_bootstrap():
    # more than MAX_DISTINCT (20,000) distinct values: one by one, 200,000,000 // n resamples
    data = np.arange(300_000, dtype=float) % 25_000
    assert stats._distinct(data) is None
    assert len(stats.bootstrap_means(data, seed=0, name="x")) == stats._resamples(300_000) == 666
    # more than one distinct value per 10: one by one (6,000 values, 601 distinct), at most 600: counts
    assert stats._distinct(np.arange(6_000, dtype=float) % 601) is None
    assert len(stats._distinct(np.arange(6_000, dtype=float) % 600)[0]) == 600
    # at most COUNTS_FROM (5,000) values: one by one even when they repeat
    assert stats._distinct(np.zeros(5_000)) is None
    levels, counts = stats._distinct(np.zeros(5_001))
    assert levels.tolist() == [0.0] and counts.tolist() == [5_001]


def test_weighted_share_of_a_large_sample_resamples_its_weight_pairs():
    # 200,000 items: weight 1 + reposts (0..3), in the subset with probability 0.3; the pairs
    # (weight in, weight) take at most 8 values: resampled through their counts
    rng = np.random.default_rng(2)
    weights = 1.0 + rng.integers(0, 4, size=200_000)
    inside = weights * (rng.random(200_000) < 0.3)
    result = stats.weighted_share(inside, weights, seed=3, name="repost_weighted_hostile")
    pairs, counts = np.unique(inside + 1j * weights, return_counts=True)
    picked = _generator(3, "repost_weighted_hostile").multinomial(200_000, counts / 200_000, size=2000)
    assert result["value"] == round(float(inside.sum() / weights.sum()), 6)
    assert result["ci"] == _percentile_interval((picked @ pairs.real) / (picked @ pairs.imag))
    # and the interval is the ratio estimator's: the delta method's standard error
    share = inside.sum() / weights.sum()
    se = math.sqrt(((inside - share * weights) ** 2).sum()) / weights.sum()
    assert result["ci"][0] == pytest.approx(share - Z * se, abs=0.15 * Z * se)
    assert result["ci"][1] == pytest.approx(share + Z * se, abs=0.15 * Z * se)


Z = 1.959963984540054


def test_a_sample_given_by_its_counts_gives_what_its_values_give():
    # the backfire lens sums value counts over the parts of the audience (stats.Counted): when the
    # bootstrap goes through counts anyway, the same value and interval to the bit as the values
    rng = np.random.default_rng(7)
    reposts = rng.choice([0, 1, 2, 3, 9, 40], size=60_000, p=[0.55, 0.2, 0.1, 0.08, 0.05, 0.02]).astype(float)
    hostile = rng.random(60_000) < 0.3
    levels, counts = np.unique(reposts[hostile], return_counts=True)
    x = stats.Counted(levels, counts)
    others, other_counts = np.unique(reposts[~hostile], return_counts=True)
    y = stats.Counted(others, other_counts)
    assert x.by_counts and len(x) == hostile.sum()
    assert stats.mean(x, seed=2, name="m") == stats.mean(reposts[hostile], seed=2, name="m")
    assert stats.ratio_of_means(x, y, seed=2, name="r") == stats.ratio_of_means(
        reposts[hostile], reposts[~hostile], seed=2, name="r"
    )
    inside, weights = np.where(hostile, 1 + reposts, 0), 1 + reposts
    pairs, pair_counts = np.unique(inside + 1j * weights, return_counts=True)
    assert stats.weighted_share_counted(stats.Counted(pairs, pair_counts), seed=2, name="w") == stats.weighted_share(
        inside, weights, seed=2, name="w"
    )
    # a small sample (or one whose values rarely repeat) is resampled value by value: its counts
    # cannot stand for it, and the functions say so instead of drawing something else
    small = stats.Counted(np.array([0.0, 1.0]), np.array([10, 20]))
    assert not small.by_counts
    with pytest.raises(ValueError, match="value by value"):
        stats.mean(small, seed=2, name="m")
    # no items: the empty shape, nothing drawn
    empty = stats.Counted(np.array([], dtype=complex), np.array([], dtype=np.int64))
    assert stats.weighted_share_counted(empty, seed=2, name="w")["value"] is None
