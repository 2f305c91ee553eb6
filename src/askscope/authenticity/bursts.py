"""Bursts and burstiness of the arrival of posts.

Kleinberg (2003), the infinite-state automaton over inter-arrival gaps: state ``i`` emits gaps
at rate ``α_i = s^i · n / T``; moving up ``j − i`` states costs ``(j − i) · γ · ln n``, moving
down is free; the optimal state sequence (Viterbi) is found exactly. A burst of level ``ℓ`` is a
maximal run of gaps in a state ``≥ ℓ``. Burstiness (Goh & Barabási 2008): ``B = (σ − μ)/(σ + μ)``
of the gaps: −1 regular, 0 Poisson, towards 1 bursty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Time resolution (seconds) used for the smallest gap when choosing the number of states.
RESOLUTION = 1.0
#: Gaps are processed in chunks of this many (bounds the cost matrix's memory).
_CHUNK = 65_536


@dataclass(frozen=True)
class Burst:
    level: int
    start: int  # index of the first event in the burst
    end: int  # index of the last event in the burst


def burstiness(times: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """``(μ, σ, B)`` of the inter-arrival gaps of sorted ``times`` (seconds); None when fewer than 2 gaps."""
    if len(times) < 3:
        return None, None, None
    gaps = np.diff(np.asarray(times, dtype=np.float64))
    mu, sigma = float(gaps.mean()), float(gaps.std())
    b = (sigma - mu) / (sigma + mu) if sigma + mu > 0 else 0.0
    return mu, sigma, b


def kleinberg_states(times: np.ndarray, s: float = 2.0, gamma: float = 1.0) -> np.ndarray:
    """The optimal state of each gap between consecutive sorted ``times`` (seconds)."""
    gaps = np.diff(np.asarray(times, dtype=np.float64))
    n = len(gaps)
    if n == 0:
        return np.zeros(0, dtype=np.int16)
    total = float(gaps.sum())
    if total <= 0:
        return np.zeros(n, dtype=np.int16)
    positive = gaps[gaps > 0]
    smallest = max(float(positive.min()) if len(positive) else RESOLUTION, RESOLUTION * 1e-3)
    k = int(math.ceil(1 + math.log(total, s) + math.log(1 / smallest, s)))
    k = max(2, min(k, 64))
    alpha = (n / total) * s ** np.arange(k)
    up = gamma * math.log(n) if n > 1 else gamma
    log_alpha = np.log(alpha)
    # transition[i, j]: cost of moving from state i to state j
    transition = np.maximum(np.arange(k)[None, :] - np.arange(k)[:, None], 0) * up
    columns = np.arange(k)
    back = np.zeros((n, k), dtype=np.int8)
    cost = np.full(k, np.inf)
    cost[0] = 0.0
    for lo in range(0, n, _CHUNK):
        emit = gaps[lo : lo + _CHUNK, None] * alpha[None, :] - log_alpha[None, :]
        for row in range(emit.shape[0]):
            total_cost = cost[:, None] + transition
            arg = total_cost.argmin(axis=0)
            back[lo + row] = arg
            cost = total_cost[arg, columns] + emit[row]
    states = np.empty(n, dtype=np.int16)
    state = int(np.argmin(cost))
    for t in range(n - 1, -1, -1):
        states[t] = state
        state = int(back[t, state])
    return states


def bursts(states: np.ndarray) -> list[Burst]:
    """Maximal runs of gaps in state ≥ ℓ, for every level ℓ ≥ 1; a run of gaps ``a..b`` spans
    events ``a..b+1``."""
    out: list[Burst] = []
    if len(states) == 0:
        return out
    for level in range(1, int(states.max()) + 1):
        on = np.r_[False, states >= level, False]
        edges = np.flatnonzero(on[1:] != on[:-1])
        for start, stop in zip(edges[::2], edges[1::2]):
            out.append(Burst(level, int(start), int(stop)))
    return out
