"""Agreement between coders, the coders' consensus, and the model against it.

* Krippendorff's α (nominal) over every coder's codes of the task (Krippendorff 2004, computed by
  the ``krippendorff`` package), with a 95% bootstrap interval: posts resampled with replacement
  (1,000 seeded draws), the 2.5th and 97.5th percentiles of α.
* Per label: α of the label against all others (the codes binarised), and the specific agreement
  ``o_kk / n_k`` from the coincidence matrix (of the pairable values coded ``k``, the share whose
  partner value is also ``k``).
* Per pair of coders: the posts both coded, their raw agreement, Cohen's κ and the confusion
  matrix (rows: the first coder, columns: the second).
* The consensus of a post: the ``adjudication`` coder's code where there is one, otherwise the
  code most coders gave; a tie leaves the post without consensus (listed for adjudication).
* The model against the consensus: confusion matrix (rows: consensus, columns: model), and per
  label precision, recall and F1.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from askscope.coding.codebook import get_task
from askscope.coding.tables import ADJUDICATION, CodingError, table_names
from askscope.store.core import Store

BOOTSTRAP = 1000

Key = tuple[str, str]  # (platform, post_id)


def read_codes(store: Store, task: str, sample_id: str | None = None) -> dict[Key, dict[str, str]]:
    """``{(platform, post_id): {coder: code}}`` of the task (one sample, or all)."""
    get_task(task)
    if "codes" not in table_names(store):
        raise CodingError(
            f"{store.path} has no codes yet",
            f"import a coder's file: askscope code import {store.path} FILE.csv --coder NAME",
        )
    where, params = "task = ?", [task]
    if sample_id is not None:
        where, params = where + " AND sample_id = ?", params + [sample_id]
    out: dict[Key, dict[str, str]] = {}
    for platform, post_id, coder, code in store.con.execute(
        f"SELECT platform, post_id, coder, code FROM codes WHERE {where} ORDER BY platform, post_id, coder", params
    ).fetchall():
        out.setdefault((platform, post_id), {})[coder] = code
    return out


def consensus(codes: dict[Key, dict[str, str]]) -> tuple[dict[Key, str], list[Key]]:
    """Each post's consensus code, and the posts whose coders tie (no consensus)."""
    agreed: dict[Key, str] = {}
    ties: list[Key] = []
    for key, by_coder in sorted(codes.items()):
        if ADJUDICATION in by_coder:
            agreed[key] = by_coder[ADJUDICATION]
            continue
        counts = Counter(by_coder.values()).most_common()
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            ties.append(key)
        else:
            agreed[key] = counts[0][0]
    return agreed, ties


def code_fractions(codes: dict[Key, dict[str, str]]) -> dict[Key, dict[str, float]]:
    """Each post's codes as fractions: the ``adjudication`` coder's code counts 1 where there is
    one, otherwise each label gets the share of the coders who gave it (a 1–1 tie is ½ each). The
    estimates use these, so that posts the coders disagree on are not dropped (dropping them
    would leave out the hardest posts and bias the shares)."""
    out: dict[Key, dict[str, float]] = {}
    for key, by_coder in sorted(codes.items()):
        if ADJUDICATION in by_coder:
            out[key] = {by_coder[ADJUDICATION]: 1.0}
            continue
        counts = Counter(by_coder.values())
        out[key] = {label: count / len(by_coder) for label, count in sorted(counts.items())}
    return out


def coincidence(matrix: np.ndarray, k: int) -> np.ndarray:
    """Krippendorff's coincidence matrix ``o`` of a coders × units matrix of label indices (NaN =
    not coded): each unit with ``m ≥ 2`` values adds ``1/(m−1)`` for every ordered pair of its values."""
    o = np.zeros((k, k))
    for unit in matrix.T:
        values = unit[~np.isnan(unit)].astype(int)
        m = len(values)
        if m < 2:
            continue
        counts = np.bincount(values, minlength=k).astype(float)
        o += (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
    return o


def _alpha(matrix: np.ndarray, k: int) -> float | None:
    import krippendorff

    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    if pairable.shape[1] == 0 or len(set(pairable[~np.isnan(pairable)].tolist())) < 2:
        return None  # no pairs, or one value only: α is undefined
    return float(
        krippendorff.alpha(reliability_data=pairable, level_of_measurement="nominal", value_domain=list(range(k)))
    )


@dataclass
class Agreement:
    """Agreement figures of a task (see the module docstring); ``as_dict`` is the JSON."""

    task: str
    labels: tuple[str, ...]
    coders: list[str]
    posts: int
    pairable: int
    alpha: float | None
    alpha_interval: tuple[float, float] | None
    per_label: dict[str, dict[str, float | None]]
    pairs: list[dict[str, Any]]
    model: dict[str, Any]
    disagreements: list[Key] = field(default_factory=list)
    ties: list[Key] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "labels": list(self.labels),
            "coders": self.coders,
            "posts": self.posts,
            "pairable_posts": self.pairable,
            "alpha": _round(self.alpha),
            "alpha_interval": [_round(x) for x in self.alpha_interval] if self.alpha_interval else None,
            "per_label": {k: {m: _round(v) for m, v in d.items()} for k, d in self.per_label.items()},
            "pairs": self.pairs,
            "model": self.model,
            "disagreements": len(self.disagreements),
            "ties": len(self.ties),
        }


def _round(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 4)


def agreement(
    store: Store, task: str, sample_id: str | None = None, seed: int = 0, bootstrap: int = BOOTSTRAP
) -> Agreement:
    """α with its bootstrap interval, per-label and per-pair agreement, and the model against
    the consensus, over the task's codes (one sample, or all)."""
    labels = get_task(task).label_names
    index = {name: i for i, name in enumerate(labels)}
    codes = read_codes(store, task, sample_id)
    if not codes:
        raise CodingError(
            f"no {task} codes in {store.path}" + (f" for sample {sample_id}" if sample_id else ""),
            f"import a coder's file: askscope code import {store.path} FILE.csv --coder NAME",
        )
    keys = sorted(codes)
    coders = sorted({c for by in codes.values() for c in by if c != ADJUDICATION})
    matrix = np.full((len(coders), len(keys)), np.nan)
    for j, key in enumerate(keys):
        for i, coder in enumerate(coders):
            if coder in codes[key]:
                matrix[i, j] = index[codes[key][coder]]
    pairable = (~np.isnan(matrix)).sum(axis=0) >= 2
    alpha = _alpha(matrix, len(labels)) if len(coders) >= 2 else None
    interval = None
    if alpha is not None and bootstrap > 0:
        rng = np.random.default_rng(seed)
        columns = np.flatnonzero(pairable)
        draws = [
            _alpha(matrix[:, rng.choice(columns, size=len(columns), replace=True)], len(labels))
            for _ in range(bootstrap)
        ]
        finite = [d for d in draws if d is not None and np.isfinite(d)]
        if finite:
            interval = (float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5)))
    per_label: dict[str, dict[str, float | None]] = {}
    o = coincidence(matrix, len(labels)) if len(coders) >= 2 else np.zeros((len(labels), len(labels)))
    for name, k in index.items():
        binary = np.where(np.isnan(matrix), np.nan, (matrix == k).astype(float))
        n_k = float(o[k].sum())
        per_label[name] = {
            "alpha": _alpha(binary, 2) if len(coders) >= 2 else None,
            "specific_agreement": float(o[k, k] / n_k) if n_k > 0 else None,
            "pairable_values": n_k,
        }
    pairs = [_pair(codes, a, b, labels) for ai, a in enumerate(coders) for b in coders[ai + 1 :]]
    agreed, ties = consensus(codes)
    disagreements = [key for key in keys if len({c for coder, c in codes[key].items() if coder != ADJUDICATION}) > 1]
    model = _model_vs_consensus(store, task, labels, agreed)
    return Agreement(
        task,
        labels,
        coders,
        len(keys),
        int(pairable.sum()),
        alpha,
        interval,
        per_label,
        pairs,
        model,
        disagreements,
        ties,
    )


def _kappa(table: np.ndarray) -> float | None:
    n = table.sum()
    if n == 0:
        return None
    observed = np.trace(table) / n
    expected = float((table.sum(axis=1) * table.sum(axis=0)).sum() / (n * n))
    return None if expected >= 1 else float((observed - expected) / (1 - expected))


def _pair(codes: dict[Key, dict[str, str]], a: str, b: str, labels: tuple[str, ...]) -> dict[str, Any]:
    index = {name: i for i, name in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)), dtype=int)
    for by in codes.values():
        if a in by and b in by:
            table[index[by[a]], index[by[b]]] += 1
    n = int(table.sum())
    return {
        "coders": [a, b],
        "posts": n,
        "agreement": _round(np.trace(table) / n) if n else None,
        "kappa": _round(_kappa(table)),
        "confusion": {"rows": a, "columns": b, "labels": list(labels), "matrix": table.tolist()},
    }


def _model_vs_consensus(store: Store, task: str, labels: tuple[str, ...], agreed: dict[Key, str]) -> dict[str, Any]:
    model_labels = {}
    if "labels" in table_names(store):
        model_labels = {
            (p, i): label
            for p, i, label in store.con.execute(
                "SELECT platform, post_id, label FROM labels WHERE task = ?", [task]
            ).fetchall()
        }
    index = {name: i for i, name in enumerate(labels)}
    columns = list(labels) + ["(no label)"]
    table = np.zeros((len(labels), len(columns)), dtype=int)
    for key, code in agreed.items():
        table[index[code], index.get(model_labels.get(key, ""), len(labels))] += 1
    n = int(table.sum())
    per_label = {}
    for name, k in index.items():
        tp, predicted, actual = int(table[k, k]), int(table[:, k].sum()), int(table[k].sum())
        precision = tp / predicted if predicted else None
        recall = tp / actual if actual else None
        f1 = (
            (2 * precision * recall / (precision + recall))
            if precision and recall
            else (0.0 if predicted and actual else None)
        )
        per_label[name] = {
            "precision": _round(precision),
            "recall": _round(recall),
            "f1": _round(f1),
            "support": actual,
            "predicted": predicted,
        }
    if not table[:, -1].any():
        columns, table = columns[:-1], table[:, :-1]
    return {
        "posts": n,
        "accuracy": _round(np.trace(table[:, : len(labels)]) / n) if n else None,
        "per_label": per_label,
        "confusion": {
            "rows": "consensus",
            "columns": "model",
            "labels": list(labels),
            "model_labels": columns,
            "matrix": table.tolist(),
        },
    }


def write_disagreements(store: Store, result: Agreement, path: str | Path) -> int:
    """Write the posts the coders disagree on (and ties) as a sample-like file for adjudication:
    each coder's code in ``code_<coder>``, an empty ``code`` for the adjudicator. Returns the rows."""
    from askscope.coding.sampling import SAMPLE_COLUMNS, csv_bytes, post_details

    codes = read_codes(store, result.task)
    wanted = sorted(set(result.disagreements) | set(result.ties))
    details = post_details(store, wanted)
    header = list(SAMPLE_COLUMNS) + [f"code_{c}" for c in result.coders]
    rows: list[list[Any]] = [header]
    for key in wanted:
        row = details[key]
        row["code"] = codes[key].get(ADJUDICATION, "")
        rows.append([row.get(c, "") for c in SAMPLE_COLUMNS] + [codes[key].get(c, "") for c in result.coders])
    Path(path).write_bytes(csv_bytes(rows))
    return len(wanted)
