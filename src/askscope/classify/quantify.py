"""Shares, not labels: estimating how many posts belong to each class (quantification).

A share counted from a classifier's labels is biased by the classifier's errors, and the bias
moves with the prior: a model tuned for F1 where 40% of posts are ironic labels far more than
14% of a real reply stream ironic. The quantification literature estimates the share directly,
using error rates measured on validation data:

``cc``
    classify and count: the share of posts given each label (biased; a baseline).
``acc``
    adjusted classify and count (Forman 2005): solve ``q = M^T pi`` for the true shares ``pi``,
    ``q`` the labels' shares, ``M[i, j] = P(label j | true class i)`` from the validation
    confusion matrix; constrained to the simplex (least squares over ``pi >= 0, sum pi = 1``,
    solved exactly by enumerating supports). Binary: ``(q - fpr) / (tpr - fpr)`` clipped.
``pacc``
    probabilistic ACC (Bella et al. 2010): the same with mean calibrated probabilities instead
    of label counts (``M[i, j]`` = mean probability of class j over validation posts of class i).
``em``
    EM prior re-estimation (Saerens, Latinne & Decaestecker 2002, "SLD") on the model's
    probabilities after a temperature and class-bias recalibration fitted on the validation set
    (bias-corrected temperature scaling, Alexandari, Kundaje & Shrikumar 2020), the validation
    prior as training prior.

Intervals carry both sources of error (percentile 95%, seeded bootstrap): the campaign's posts
are resampled, and the validation set is resampled within each gold class with every rate (the
confusion matrix, the probability matrix, the recalibration) recomputed per draw. The posts are
resampled through their predicted labels (``cc``/``acc``: exact) or through bins of nearly equal
probability vectors (``pacc``/``em``: every bin stands for its members' mean), which keeps a
100,000-post campaign fast.

Validation data ships with the package: ``models/validation/<task>.npz`` (``gold``,
``probabilities``, ``predicted``, ``source``) and ``<task>.json`` (labels, data, the method
chosen by ``bench/shares.py``); ``training/quantify_data.py`` writes them.

Numpy only at run time; QuaPy (Moreo, Esuli & Sebastiani 2021) is the reference in the tests.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import numpy as np

VALIDATION_DIR = Path(__file__).parent / "models" / "validation"
METHODS = ("cc", "acc", "pacc", "em")
METHOD_NAMES = {
    "cc": "classify and count",
    "acc": "adjusted classify and count (Forman 2005)",
    "pacc": "probabilistic adjusted classify and count (Bella et al. 2010)",
    "em": "EM prior re-estimation (Saerens et al. 2002) after bias-corrected calibration",
}
RESAMPLES = 1000
CONFIDENCE = 0.95
EM_TOLERANCE = 1e-6
EM_MAX_ITER = 500


class QuantifyError(ValueError):
    """Shares cannot be estimated as asked (no validation data, a method that needs probabilities)."""


@dataclass(frozen=True)
class Validation:
    """A task's validation set: gold labels, the model's decisions and probabilities on them.

    ``probabilities`` may be ``None`` (a labeler that gives decisions only: ``cc``/``acc``).
    ``method`` is the quantification method chosen for the task; ``data`` says where the rows
    come from (shown beside every corrected share).
    """

    task: str
    labels: tuple[str, ...]
    gold: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray | None = None
    source: np.ndarray | None = None
    method: str = "acc"
    data: str = ""
    meta: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        k = len(self.labels)
        counts = np.bincount(np.asarray(self.gold), minlength=k)
        if len(counts) != k or (counts == 0).any():
            missing = [self.labels[i] for i in range(k) if i >= len(counts) or counts[i] == 0]
            raise QuantifyError(f"validation data of {self.task!r} has no posts of class(es) {missing}")

    @property
    def k(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray) -> Validation:
        """The validation rows selected by a boolean mask or index array."""
        return Validation(
            self.task,
            self.labels,
            self.gold[rows],
            self.predicted[rows],
            None if self.probabilities is None else self.probabilities[rows],
            None if self.source is None else self.source[rows],
            self.method,
            self.data,
            self.meta,
        )

    def describe(self) -> dict[str, Any]:
        """What a report says about the validation data a share rests on."""
        counts = np.bincount(self.gold, minlength=self.k)
        return {
            "data": self.data,
            "n": int(len(self.gold)),
            "per_class": {label: int(c) for label, c in zip(self.labels, counts)},
        }


@cache
def _load(task: str, folder: Path = VALIDATION_DIR) -> Validation | None:
    npz, card = folder / f"{task}.npz", folder / f"{task}.json"
    if not npz.exists() or not card.exists():
        return None
    meta = json.loads(card.read_text(encoding="utf-8"))
    with np.load(npz, allow_pickle=False) as arrays:
        return Validation(
            task=task,
            labels=tuple(meta["labels"]),
            gold=arrays["gold"].astype(np.int64),
            predicted=arrays["predicted"].astype(np.int64),
            probabilities=arrays["probabilities"].astype(np.float64) if "probabilities" in arrays else None,
            source=arrays["source"].astype(str) if "source" in arrays else None,
            method=meta.get("method", "acc"),
            data=meta.get("data", ""),
            meta=meta,
        )


def model_digest(task: str, models_dir: Path | None = None) -> str:
    """A digest of the model a task's labels come from: its card and the files its sources name
    (the encoder is shared and versioned by the cards). A validation set whose recorded digest
    differs was made with another model and must be written again (training/quantify_data.py)."""
    import hashlib

    models_dir = models_dir or VALIDATION_DIR.parent
    card_path = models_dir / f"{task}.json"
    digest = hashlib.sha256(card_path.read_bytes())
    for source in json.loads(card_path.read_text(encoding="utf-8")).get("sources", []):
        if "file" in source:
            own = models_dir / source["file"]
            # a model set's folder holds the files that differ from the default set's
            digest.update((own if own.exists() else VALIDATION_DIR.parent / source["file"]).read_bytes())
    return digest.hexdigest()


def load_validation(task: str) -> Validation | None:
    """The shipped validation set of a task in the active model set
    (``askscope.classify.models.use``), or ``None`` when the package has none."""
    from askscope.classify import models

    return _load(task, models.SETS[models.active()] / "validation")


def validation_rates(validation: Validation) -> dict[str, Any]:
    """Per class one-vs-rest ``tpr``/``fpr`` with their ``support``/``negatives``, and the
    confusion matrix (rows = gold, columns = predicted), of a validation set's decisions."""
    k = validation.k
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (validation.gold, validation.predicted), 1)
    total = int(matrix.sum())
    classes = {}
    for i, label in enumerate(validation.labels):
        positives = int(matrix[i].sum())
        negatives = total - positives
        classes[label] = {
            "tpr": float(matrix[i, i] / positives),
            "fpr": float((matrix[:, i].sum() - matrix[i, i]) / negatives) if negatives else 0.0,
            "support": positives,
            "negatives": negatives,
        }
    return {"classes": classes, "confusion": {"labels": list(validation.labels), "matrix": matrix.tolist()}}


def validation_from_record(task: str, record: dict[str, Any]) -> Validation | None:
    """A :class:`Validation` from what ``label_models.validation`` stored: the package's file
    (``package``) or the rows themselves. ``None`` when the package file is gone or changed labels."""
    if "package" in record:
        from askscope.classify import models

        model_set = record.get("model_set", "default")
        if model_set not in models.SETS:
            return None
        with models.use(model_set):
            data = load_validation(task)
        if data is None or list(data.labels) != list(record["labels"]):
            return None
        return data
    probabilities = record.get("probabilities")
    return Validation(
        task,
        tuple(record["labels"]),
        np.asarray(record["gold"], dtype=np.int64),
        np.asarray(record["predicted"], dtype=np.int64),
        None if probabilities is None else np.asarray(probabilities, dtype=np.float64),
        None,
        record.get("method", "acc"),
        record.get("data", ""),
    )


# --- the estimators, vectorised over draws ---------------------------------------------------


def _simplex_lstsq(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per draw b: argmin ||a[b] @ x - q[b]||^2 over the simplex (x >= 0, sum x = 1).

    ``a``: (B, k, k) with columns = true classes; ``q``: (B, k). The problem is convex, so its
    solution is the best of the equality-constrained solutions on each support that are
    non-negative; with k <= 8 every support is tried (binary: the clipped closed form).
    """
    draws, k = q.shape
    best = np.full((draws, k), np.nan)
    best_loss = np.full(draws, np.inf)
    for size in range(1, k + 1):
        for support in itertools.combinations(range(k), size):
            s = list(support)
            a_s = a[:, :, s]  # (B, k, m)
            m = len(s)
            kkt = np.zeros((draws, m + 1, m + 1))
            kkt[:, :m, :m] = 2 * np.einsum("bij,bik->bjk", a_s, a_s) + 1e-12 * np.eye(m)
            kkt[:, :m, m] = 1.0
            kkt[:, m, :m] = 1.0
            rhs = np.zeros((draws, m + 1))
            rhs[:, :m] = 2 * np.einsum("bij,bi->bj", a_s, q)
            rhs[:, m] = 1.0
            try:
                solution = np.linalg.solve(kkt, rhs[..., None])[..., 0]
            except np.linalg.LinAlgError:
                solution = np.einsum("bij,bj->bi", np.linalg.pinv(kkt), rhs)
            x = solution[:, :m]
            feasible = (x >= -1e-10).all(axis=1) & np.isfinite(x).all(axis=1)
            full = np.zeros((draws, k))
            full[:, s] = np.clip(x, 0.0, None)
            residual = np.einsum("bij,bj->bi", a, full) - q
            loss = np.where(feasible, (residual**2).sum(axis=1), np.inf)
            better = loss < best_loss - 1e-15
            best[better] = full[better]
            best_loss[better] = loss[better]
    best /= best.sum(axis=1, keepdims=True)
    return best


def adjust(observed: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """The ACC/PACC adjustment: true shares from observed shares (B, k) and class-conditional
    rates (B, k, k) with ``rates[b, i, j] = P(label j | true class i)``, on the simplex."""
    observed = np.atleast_2d(np.asarray(observed, dtype=np.float64))
    rates = np.asarray(rates, dtype=np.float64)
    if rates.ndim == 2:
        rates = np.broadcast_to(rates, (len(observed), *rates.shape))
    return _simplex_lstsq(np.transpose(rates, (0, 2, 1)), observed)


def sld(
    posteriors: np.ndarray,
    train_prior: np.ndarray,
    weights: np.ndarray | None = None,
    tolerance: float = EM_TOLERANCE,
    max_iter: int = EM_MAX_ITER,
) -> np.ndarray:
    """EM prior re-estimation (Saerens et al. 2002) for one or many draws.

    ``posteriors``: (n, k) calibrated probabilities, or (B, n, k); ``train_prior``: (k,) or (B, k),
    the prior the probabilities are calibrated for; ``weights``: (B, n) counts of each row per draw
    (a bootstrap), or ``None`` (every row once). Returns the shares, (k,) or (B, k).
    """
    p = np.asarray(posteriors, dtype=np.float64)
    single = p.ndim == 2 and (weights is None or np.ndim(weights) == 1) and np.ndim(train_prior) == 1
    prior = np.atleast_2d(np.asarray(train_prior, dtype=np.float64))
    if weights is None:
        w = np.ones((prior.shape[0], p.shape[-2]))
    else:
        w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    draws = max(w.shape[0], prior.shape[0], p.shape[0] if p.ndim == 3 else 1)
    w = np.broadcast_to(w, (draws, w.shape[1]))
    prior = np.broadcast_to(prior, (draws, prior.shape[1]))
    prior = (prior + 1e-12) / (prior + 1e-12).sum(axis=1, keepdims=True)
    total = w.sum(axis=1, keepdims=True)

    def step(q: np.ndarray) -> np.ndarray:
        ratio = q / prior  # (B, k)
        unnorm = p * ratio[:, None, :] if p.ndim == 3 else p[None, :, :] * ratio[:, None, :]
        post = unnorm / unnorm.sum(axis=2, keepdims=True)
        return np.asarray(np.einsum("bn,bnk->bk", w, post) / total)

    # EM steps accelerated by squared extrapolation (SQUAREM, Varadhan & Roland 2008): the same
    # fixed point in far fewer passes when the classes overlap; a step that would leave the
    # simplex or lower the likelihood's progress falls back to the plain EM step.
    q = prior.copy()
    for _ in range(max_iter):
        q1 = step(q)
        q2 = step(q1)
        r = q1 - q
        v = q2 - q1 - r
        norm_v = np.sqrt((v**2).sum(axis=1, keepdims=True))
        alpha = -np.sqrt((r**2).sum(axis=1, keepdims=True)) / np.where(norm_v > 0, norm_v, 1.0)
        alpha = np.minimum(alpha, -1.0)
        jump = q - 2 * alpha * r + alpha**2 * v
        jump = np.where((jump > 0).all(axis=1, keepdims=True) & (norm_v > 0), jump, q2)
        new = step(jump / jump.sum(axis=1, keepdims=True))
        done = np.abs(new - q).max() < tolerance
        q = new
        if done:
            break
    return cast(np.ndarray, q[0] if single else q)


def fit_calibration(
    log_p: np.ndarray, onehot: np.ndarray, weights: np.ndarray, iterations: int = 30, start: np.ndarray | None = None
) -> np.ndarray:
    """Per draw, a temperature and class bias ``(a, b)`` maximising the weighted likelihood of
    ``softmax(a * log_p + b)`` on validation rows (Newton's method, ``b[0] = 0``): bias-corrected
    temperature scaling (Alexandari et al. 2020). Shapes: (n, k), (n, k), (B, n) -> (B, k) with
    column 0 = ``a`` and columns 1.. = ``b[1:]``."""
    draws, k = weights.shape[0], log_p.shape[1]
    theta = np.zeros((draws, k))
    theta[:, 0] = 1.0
    if start is not None:
        theta[:] = start
    # d z_j / d theta: [log_p_j, e_j for j >= 1]
    jac = np.zeros((log_p.shape[0], k, k))
    jac[:, :, 0] = log_p
    jac[:, np.arange(1, k), np.arange(1, k)] = 1.0
    n = log_p.shape[0]
    jac_flat = jac.reshape(n * k, k)
    outer = (jac[:, :, :, None] * jac[:, :, None, :]).reshape(n * k, k * k)
    for _ in range(iterations):
        z = _apply(log_p, theta)
        s = np.exp(z - z.max(axis=2, keepdims=True))
        s /= s.sum(axis=2, keepdims=True)  # (B, n, k)
        ws = weights[:, :, None] * s
        grad = (ws - weights[:, :, None] * onehot[None]).reshape(draws, n * k) @ jac_flat
        sj = s.copy()  # (B, n, p): s^T J per row (J's first column is log_p, the rest the identity)
        sj[:, :, 0] = (s * log_p[None]).sum(axis=2)
        hess = (ws.reshape(draws, n * k) @ outer).reshape(draws, k, k)
        hess -= np.matmul((weights[:, :, None] * sj).transpose(0, 2, 1), sj)
        hess += 1e-9 * np.eye(k)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        # damped: a Newton step never flips the temperature's sign
        theta -= np.clip(step, -2.0, 2.0)
        theta[:, 0] = np.maximum(theta[:, 0], 1e-3)
        if np.abs(step).max() < 1e-6:
            break
    return theta


def _apply(log_p: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``a * log_p + b`` for (U, k) rows and (B, k) parameters -> (B, U, k) logits."""
    bias = theta.copy()
    bias[:, 0] = 0.0
    return cast(np.ndarray, theta[:, 0, None, None] * log_p[None, :, :] + bias[:, None, :])


def _mle_binary(p: np.ndarray, prior: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The fixed point of SLD for two classes, by bisection on the likelihood's derivative in
    ``pi_1`` (concave, so the root is unique; a boundary when the derivative keeps its sign).
    ``p``: (B, U, 2), ``prior``: (B, 2), ``weights``: (B, U) -> (B, 2)."""
    r0 = p[:, :, 0] / prior[:, None, 0]
    r1 = p[:, :, 1] / prior[:, None, 1]
    lo = np.zeros(len(p))
    hi = np.ones(len(p))
    for _ in range(50):
        mid = (lo + hi) / 2
        slope = (weights * (r1 - r0) / (mid[:, None] * r1 + (1 - mid[:, None]) * r0)).sum(axis=1)
        up = slope > 0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    pi1 = (lo + hi) / 2
    return np.stack([1 - pi1, pi1], axis=1)


def _log(p: np.ndarray) -> np.ndarray:
    return cast(np.ndarray, np.log(np.clip(p, 1e-12, 1.0)))


def _recalibrated(log_p: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``softmax(a * log_p + b)`` for (U, k) rows and (B, k) parameters -> (B, U, k)."""
    z = _apply(log_p, theta)
    z -= z.max(axis=2, keepdims=True)
    s = np.exp(z)
    return cast(np.ndarray, s / s.sum(axis=2, keepdims=True))


# --- the campaign side: posts, bins and their bootstrap ---------------------------------------


def _grid(k: int, coarse: bool) -> int:
    return {2: 500, 3: 40, 4: 16}.get(k, 8) if not coarse else {2: 100, 3: 20, 4: 10}.get(k, 6)


def _bin_sums(probabilities: np.ndarray, coarse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bins of :func:`_bins` before their means: (keys (U,), counts (U,), sums (U, k)), keys ascending."""
    k = probabilities.shape[1]
    grid = _grid(k, coarse)
    keys = np.round(probabilities * grid).astype(np.int64) @ ((grid + 1) ** np.arange(k, dtype=np.int64))
    distinct, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    sums = np.zeros((len(counts), k))
    np.add.at(sums, inverse, probabilities)
    return distinct, counts, sums


def _bins(probabilities: np.ndarray, coarse: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Posts grouped by nearly equal probability vectors: (representatives (U, k), counts (U,)).

    The grid is fine enough that a bin's spread is negligible next to the sampling spread (binary:
    1/500; more classes: coarser, so that a draw's EM stays fast); each representative is the
    mean of its members, so any linear statistic over the bins equals the one over the posts.
    """
    _, counts, sums = _bin_sums(probabilities, coarse)
    return sums / counts[:, None], counts


@dataclass(frozen=True)
class Binned:
    """What :func:`quantify` needs of a group of posts' probability vectors, in a form that adds
    up over groups (the lenses' audience read in parts, each part summarised where it is read):
    their sum, and their coarse and fine bins (:func:`_bins`) as key, count and sum of members.
    ``Binned.of(matrix)`` gives :func:`quantify` exactly what the matrix gives it; a merge of
    parts gives the same counts and sums up to the order of floating-point additions."""

    total: np.ndarray  # (k,)
    coarse: tuple[np.ndarray, np.ndarray, np.ndarray]
    #: None when not asked for (only ``em`` reads them)
    fine: tuple[np.ndarray, np.ndarray, np.ndarray] | None

    @classmethod
    def of(cls, probabilities: np.ndarray, fine: bool = True) -> Binned:
        probabilities = np.asarray(probabilities, dtype=np.float64)
        return cls(
            probabilities.sum(axis=0),
            _bin_sums(probabilities, True),
            _bin_sums(probabilities, False) if fine else None,
        )

    @staticmethod
    def merge(parts: Sequence[Binned]) -> Binned:
        """The bins of the posts of every part (in the parts' order)."""
        if len(parts) == 1:
            return parts[0]

        def join(bins: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            keys = np.concatenate([b[0] for b in bins])
            distinct, inverse = np.unique(keys, return_inverse=True)
            inverse = inverse.reshape(-1)
            counts = np.zeros(len(distinct), dtype=np.int64)
            np.add.at(counts, inverse, np.concatenate([b[1] for b in bins]))
            sums = np.zeros((len(distinct), bins[0][2].shape[1]))
            np.add.at(sums, inverse, np.concatenate([b[2] for b in bins]))
            return distinct, counts, sums

        total = parts[0].total.copy()
        for part in parts[1:]:
            total = total + part.total
        fines = [p.fine for p in parts]
        return Binned(
            total,
            join([p.coarse for p in parts]),
            None if any(f is None for f in fines) else join([f for f in fines if f is not None]),
        )

    def bins(self, coarse: bool) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_bins` of the posts: (representatives, counts)."""
        chosen = self.coarse if coarse else self.fine
        if chosen is None:
            raise QuantifyError("these bins were reduced without their fine bins (needed by 'em')")
        _, counts, sums = chosen
        return sums / counts[:, None], counts


def _em(p: np.ndarray, prior: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """SLD's fixed point per draw: bisection for two classes, EM iterations otherwise."""
    prior = np.broadcast_to(prior, (len(p), p.shape[2]))
    if p.shape[2] == 2:
        return _mle_binary(p, prior, weights)
    return sld(p, prior, weights)


@dataclass(frozen=True)
class Shares:
    """Estimated shares of a task's classes with their bootstrap draws.

    ``estimate``, ``low``, ``high``: (k,) arrays in ``labels`` order; ``draws``: (B, k).
    """

    task: str
    labels: tuple[str, ...]
    n: int
    method: str
    estimate: np.ndarray
    draws: np.ndarray
    validation: dict[str, Any] = field(default_factory=dict)
    counted: np.ndarray | None = None

    @property
    def low(self) -> np.ndarray:
        return cast(np.ndarray, np.quantile(self.draws, (1 - CONFIDENCE) / 2, axis=0))

    @property
    def high(self) -> np.ndarray:
        return cast(np.ndarray, np.quantile(self.draws, 1 - (1 - CONFIDENCE) / 2, axis=0))

    def combined(self, labels: Sequence[str]) -> tuple[float, float, float]:
        """The share of a union of classes (e.g. the hostile categories): estimate, low, high."""
        idx = [self.labels.index(label) for label in labels]
        draws = self.draws[:, idx].sum(axis=1)
        low, high = np.quantile(draws, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
        return float(self.estimate[idx].sum()), float(low), float(high)

    def as_dict(self, digits: int = 4) -> dict[str, Any]:
        """``{"task", "n", "method", "shares": {label: {"estimate", "low", "high"}}}`` (the
        ``askscope classify --shares --json`` output)."""
        low, high = self.low, self.high
        return {
            "task": self.task,
            "n": self.n,
            "method": self.method,
            "shares": {
                label: {
                    "estimate": round(float(self.estimate[i]), digits),
                    "low": round(float(low[i]), digits),
                    "high": round(float(high[i]), digits),
                }
                for i, label in enumerate(self.labels)
            },
        }


def _validation_draws(validation: Validation, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(B, n) counts: the validation set resampled within each gold class (class sizes fixed)."""
    n = len(validation.gold)
    weights = np.zeros((resamples, n))
    for c in range(validation.k):
        rows = np.flatnonzero(validation.gold == c)
        weights[:, rows] = rng.multinomial(len(rows), np.full(len(rows), 1 / len(rows)), size=resamples)
    return weights


def _validation_bins(
    validation: Validation, resamples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The validation rows binned within each gold class (see :func:`_bins`) and (B, U) counts of
    each bin per draw, resampled within gold class: representatives, their gold class, counts."""
    assert validation.probabilities is not None
    reps, golds, weights = [], [], []
    for c in range(validation.k):
        rows = validation.probabilities[validation.gold == c]
        r, counts = _bins(rows, coarse=True)
        reps.append(r)
        golds.append(np.full(len(r), c))
        weights.append(rng.multinomial(len(rows), counts / len(rows), size=resamples))
    return np.concatenate(reps), np.concatenate(golds), np.concatenate(weights, axis=1).astype(np.float64)


def _class_rates(validation: Validation, weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(B, k, k): per draw, the weighted mean of ``values`` (n, k) over each gold class's rows."""
    k = validation.k
    onehot = np.eye(k)[validation.gold]  # (n, k)
    outer = (onehot[:, :, None] * values[:, None, :]).reshape(len(onehot), k * k)
    sums = (weights @ outer).reshape(len(weights), k, k)
    return cast(np.ndarray, sums / (weights @ onehot)[:, :, None])


def quantify(
    validation: Validation,
    *,
    predicted: np.ndarray | None = None,
    probabilities: np.ndarray | None = None,
    method: str | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
    validation_seed: int | None = None,
) -> Shares:
    """Estimate the class shares of a set of posts from their labels and/or probabilities.

    ``predicted``: each post's label id (from the same decision rule as ``validation.predicted``);
    ``probabilities``: (n, k) calibrated probabilities (needed by ``pacc`` and ``em``). ``method``
    defaults to the validation set's chosen method. Deterministic for a given ``seed``.
    ``validation_seed``: when given, the validation set's resamples come from their own generator
    seeded with it, so that calls on disjoint groups of posts share the same draws of the
    validation data (a ratio of their shares then carries the validation error once, not twice).
    """
    method = method or validation.method
    if method not in METHODS:
        raise QuantifyError(f"unknown quantification method {method!r}; known: {', '.join(METHODS)}")
    k = validation.k
    if predicted is None and probabilities is None:
        raise QuantifyError("give the posts' labels or their probabilities")
    if method in ("pacc", "em") and (probabilities is None or validation.probabilities is None):
        raise QuantifyError(
            f"method {method!r} needs probabilities for the posts and the validation set; use 'acc' with labels only"
        )
    if probabilities is not None:
        probabilities = np.asarray(probabilities, dtype=np.float64)
        if probabilities.ndim != 2 or probabilities.shape[1] != k:
            raise QuantifyError(f"probabilities must have {k} columns ({', '.join(validation.labels)})")
    if predicted is None:
        assert probabilities is not None
        raise QuantifyError("give each post's label as well as its probabilities")
    predicted = np.asarray(predicted, dtype=np.int64)
    if not len(predicted):
        raise QuantifyError("no posts to estimate shares of")
    return quantify_counts(
        validation,
        counts=np.bincount(predicted, minlength=k)[:k],
        binned=None if probabilities is None else Binned.of(probabilities, fine=method == "em"),
        method=method,
        resamples=resamples,
        seed=seed,
        validation_seed=validation_seed,
    )


def quantify_counts(
    validation: Validation,
    *,
    counts: np.ndarray,
    binned: Binned | None = None,
    method: str | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
    validation_seed: int | None = None,
) -> Shares:
    """:func:`quantify` from what it reads of the posts: ``counts``, how many posts have each
    label id (``k`` values), and ``binned``, their probability vectors reduced to sums and bins
    (:class:`Binned`, needed by ``pacc`` and ``em``). The same shares and draws as
    :func:`quantify` on the posts themselves."""
    method = method or validation.method
    if method not in METHODS:
        raise QuantifyError(f"unknown quantification method {method!r}; known: {', '.join(METHODS)}")
    k = validation.k
    if method in ("pacc", "em") and (binned is None or validation.probabilities is None):
        raise QuantifyError(
            f"method {method!r} needs probabilities for the posts and the validation set; use 'acc' with labels only"
        )
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) != k:
        raise QuantifyError(f"counts must have {k} values ({', '.join(validation.labels)})")
    n = int(counts.sum())
    if n == 0:
        raise QuantifyError("no posts to estimate shares of")
    rng = np.random.default_rng([seed, k, n])
    validation_rng = rng if validation_seed is None else np.random.default_rng([validation_seed, k])
    counted = counts / n
    val_weights = _validation_draws(validation, resamples, validation_rng) if method in ("acc", "pacc") else None
    full_weights = np.ones((1, len(validation.gold)))
    if method == "cc":
        estimate = counted.copy()
        draws = rng.multinomial(n, counted, size=resamples) / n
    elif method == "acc":
        onehot_pred = np.eye(k)[validation.predicted]
        estimate = adjust(counted, _class_rates(validation, full_weights, onehot_pred))[0]
        observed = rng.multinomial(n, counted, size=resamples) / n
        assert val_weights is not None
        draws = adjust(observed, _class_rates(validation, val_weights, onehot_pred))
    else:
        assert binned is not None and validation.probabilities is not None
        # the draws resample the posts through coarse bins; EM's point estimate uses fine ones
        reps, bin_counts = binned.bins(coarse=True)
        post_weights = rng.multinomial(n, bin_counts / n, size=resamples)  # (B, U)
        if method == "pacc":
            rates_point = _class_rates(validation, full_weights, validation.probabilities)
            estimate = adjust(binned.total / n, rates_point)[0]
            observed = post_weights @ reps / n
            assert val_weights is not None
            draws = adjust(observed, _class_rates(validation, val_weights, validation.probabilities))
        else:
            log_val = _log(validation.probabilities)
            onehot = np.eye(k)[validation.gold]
            prior = np.bincount(validation.gold, minlength=k) / len(validation.gold)
            theta = fit_calibration(log_val, onehot, full_weights)
            # the point estimate on fine bins: each bin's posts share its mean probability vector
            fine, fine_counts = binned.bins(coarse=False)
            estimate = _em(_recalibrated(_log(fine), theta), prior[None, :], fine_counts[None, :].astype(np.float64))[0]
            draws = np.empty((resamples, k))
            chunk = max(1, 2_000_000 // max(len(reps) * k, 1))
            # the validation draws, on bins of the validation rows (per gold class) for speed
            bin_probs, bin_gold, bin_weights = _validation_bins(validation, resamples, validation_rng)
            thetas = fit_calibration(_log(bin_probs), np.eye(k)[bin_gold], bin_weights, iterations=4, start=theta)
            log_reps = _log(reps)
            for start in range(0, resamples, chunk):
                part = slice(start, start + chunk)
                draws[part] = _em(_recalibrated(log_reps, thetas[part]), prior[None, :], post_weights[part])
    return Shares(
        task=validation.task,
        labels=validation.labels,
        n=n,
        method=method,
        estimate=np.asarray(estimate, dtype=np.float64),
        draws=np.asarray(draws, dtype=np.float64),
        validation=validation.describe(),
        counted=counted,
    )


def estimate_shares(
    texts: Sequence[str] | None = None,
    *,
    task: str,
    probabilities: np.ndarray | None = None,
    predicted: Sequence[int] | np.ndarray | None = None,
    method: str | None = None,
    validation: Validation | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Shares:
    """Estimated shares of a task's classes among posts, with 95% intervals.

    Either ``texts`` (classified here with the bundled model) or stored ``probabilities`` and/or
    ``predicted`` label ids. ``validation`` defaults to the task's shipped validation set and
    ``method`` to the one chosen for the task by measurement (``bench/shares.py``).

    >>> shares = estimate_shares(["so glad my train is late again", "lunch at noon"], task="irony")
    >>> shares.as_dict()["method"] in METHODS
    True
    """
    validation = validation or load_validation(task)
    if validation is None:
        raise QuantifyError(f"no validation data for task {task!r}: its shares cannot be corrected")
    if texts is not None:
        from askscope.classify.predict import classify

        result = classify(list(texts), [task])[task]
        probabilities = result.probabilities
        predicted = np.asarray(result.labels, dtype=np.int64)
    elif predicted is None and probabilities is not None:
        from askscope.classify import calibration, models

        card = models.card(task)
        if "routes" in card["decision"]:
            raise QuantifyError(f"the {task!r} decision depends on each post's language: give the labels too")
        predicted = calibration.decide(np.asarray(probabilities, dtype=np.float64), card["decision"])
    return quantify(
        validation,
        predicted=None if predicted is None else np.asarray(predicted),
        probabilities=probabilities,
        method=method,
        resamples=resamples,
        seed=seed,
    )
