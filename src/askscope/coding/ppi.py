"""Prediction-powered inference for a share, with stratified samples (numpy only).

Angelopoulos, Bates, Fannjiang, Jordan & Zrnic, "Prediction-powered inference", *Science* 382
(2023), with the power tuning of PPI++ (Angelopoulos, Duchi & Zrnic, arXiv:2311.01453).

For one label, ``Y`` is 1 where the coders gave the label and ``Ŷ`` 1 where the model did. The
model labels every post of the frame (``N`` posts); coders code a sample of ``n``, drawn within
strata ``h`` of sizes ``N_h`` (one stratum for a simple random sample; ``W_h = N_h / N``). The
estimate is

    θ̂(λ) = λ · mean_N(Ŷ) + Σ_h W_h · mean_{n_h}(Y − λŶ)

unbiased for every λ (the rectifier removes the model's bias whatever its errors), with variance
``λ² var_N(Ŷ)/N + Σ_h W_h² var_h(Y − λŶ)/n_h`` and the 95% interval ``θ̂ ± 1.96 se``. λ is chosen
to minimise that variance (clipped to [0, 1]; 0 is the coded-only estimate, 1 plain PPI).

With one stratum every term is computed as ``ppi_py.ppi_mean_ci`` computes it (population
standard deviations, λ from the covariance on the coded posts over the pooled variance of the
predictions), which the tests check; with strata the variance is the stratified one, which is
never larger than the weighted iid formula ppi_py applies to weights (Cauchy–Schwarz), and the
same λ formula with per-stratum terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    """A share with its 95% interval (clipped to [0, 1])."""

    estimate: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def _clip(estimate: float, se: float) -> Interval:
    return Interval(float(estimate), float(max(0.0, estimate - Z95 * se)), float(min(1.0, estimate + Z95 * se)))


def _strata(strata: np.ndarray | None, n: int) -> list[np.ndarray]:
    if strata is None:
        return [np.arange(n)]
    keys = np.asarray(strata)
    return [np.flatnonzero(keys == k) for k in sorted(set(keys.tolist()))]


def ppi_share(
    y: np.ndarray,
    yhat: np.ndarray,
    yhat_all: np.ndarray,
    strata: np.ndarray | None = None,
    stratum_sizes: dict[object, int] | None = None,
    lam: float | None = None,
) -> tuple[Interval, float]:
    """The prediction-powered share and the λ used.

    ``y``, ``yhat``: codes and model predictions (0/1 or probabilities) on the coded posts;
    ``yhat_all``: the model's predictions on every post of the frame; ``strata``: each coded
    post's stratum, with ``stratum_sizes`` the frame's posts per stratum (``None``: a simple random
    sample). ``lam=None`` tunes λ.
    """
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    yhat_all = np.asarray(yhat_all, dtype=float)
    N = len(yhat_all)
    groups = _strata(strata, len(y))
    weights = _weights(strata, stratum_sizes)
    factors = [w * w / len(g) for w, g in zip(weights, groups)]
    if lam is None:
        # λ* = Σ f_h cov_h(Y, Ŷ) / (var(Ŷ)/N + Σ f_h var_h(Ŷ)), as ppi_py's _calc_lam_glm with one stratum
        cov = sum(
            f * float(np.mean((y[g] - y[g].mean()) * (yhat[g] - yhat[g].mean()))) for f, g in zip(factors, groups)
        )
        pooled = (
            [_pooled_var(yhat, yhat_all)]
            if strata is None
            else [float(np.var(yhat[g], ddof=1)) if len(g) > 1 else 0.0 for g in groups]
        )
        imputed = _pooled_var(yhat, yhat_all) / N
        denominator = imputed + sum(f * v for f, v in zip(factors, pooled))
        lam = float(np.clip(cov / denominator, 0.0, 1.0)) if denominator > 0 else 0.0
    estimate = lam * float(yhat_all.mean()) + sum(
        w * float(np.mean(y[g] - lam * yhat[g])) for w, g in zip(weights, groups)
    )
    variance = (lam**2) * float(np.var(yhat_all)) / N + sum(
        f * float(np.var(y[g] - lam * yhat[g])) for f, g in zip(factors, groups)
    )
    return _clip(estimate, float(np.sqrt(variance))), lam


def _weights(strata: np.ndarray | None, stratum_sizes: dict[object, int] | None) -> list[float]:
    """``W_h = N_h / N`` of the strata present among the coded posts, in sorted order."""
    if strata is None:
        return [1.0]
    if stratum_sizes is None:
        raise ValueError("strata need their sizes")
    keys = sorted(set(np.asarray(strata).tolist()))
    if set(keys) != set(stratum_sizes):
        raise ValueError(
            "every stratum needs coded posts: " + ", ".join(sorted(map(str, set(stratum_sizes) - set(keys))))
        )
    total = float(sum(stratum_sizes.values()))
    return [stratum_sizes[k] / total for k in keys]


def _pooled_var(labelled: np.ndarray, unlabelled: np.ndarray) -> float:
    values = np.concatenate([labelled, unlabelled])
    return float(np.var(values, ddof=1)) if len(values) > 1 else 0.0


def coded_share(
    y: np.ndarray, strata: np.ndarray | None = None, stratum_sizes: dict[object, int] | None = None
) -> Interval:
    """The share among the coded posts, design-weighted, with a Wilson interval on the effective
    sample size (Kish's ``n / deff``; ``n`` itself for a simple random sample)."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if n == 0:
        return Interval(float("nan"), 0.0, 1.0)
    groups = _strata(strata, n)
    weights = _weights(strata, stratum_sizes)
    p = sum(w * float(y[g].mean()) for w, g in zip(weights, groups))
    variance = sum(w * w * float(np.var(y[g])) / len(g) for w, g in zip(weights, groups))
    n_eff = p * (1 - p) / variance if variance > 0 and 0 < p < 1 else float(n)
    return wilson(p, n_eff)


def wilson(p: float, n: float) -> Interval:
    """Wilson's score interval for a share ``p`` of ``n`` (Wilson 1927)."""
    if n <= 0:
        return Interval(float("nan"), 0.0, 1.0)
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Interval(float(p), float(max(0.0, centre - half)), float(min(1.0, centre + half)))
