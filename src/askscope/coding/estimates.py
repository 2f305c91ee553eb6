"""Validated estimates: every label's share three ways, side by side.

* ``ppi``: prediction-powered (the model's labels on every post of the frame, rectified by the
  coded sample, design-weighted when stratified; :mod:`askscope.coding.ppi`). Valid whatever the
  model's errors, as long as the coded posts are a probability sample of the frame.
* ``coded_only``: the share among the coded posts alone (design-weighted, Wilson interval).
* ``model_only``: classify-and-count over the frame (Wilson interval over its posts): the interval
  covers the sampling of posts only, not the model's errors, so it can be narrow and wrong.

The model's prediction for PPI is its class probability where the classify stage stored one
(``labels.probabilities``), otherwise its label (1 for the chosen label, 0 for the others).

The code of a post is the share of its coders who gave each label, or the adjudicator's code
(:func:`askscope.coding.reliability.code_fractions`): a post two coders split on counts ½ for each
label until it is adjudicated, so the estimate is that of the average coder. Which sample: the one given, or the task's sample with the most coded
posts (ties: the latest drawn). Posts of the sample left uncoded are treated as missing at random
within their stratum, so code the sample in its file order (a random order) and code it whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from askscope.coding.codebook import get_task
from askscope.coding.ppi import Interval, coded_share, ppi_share, wilson
from askscope.coding.reliability import code_fractions, consensus, read_codes
from askscope.coding.tables import CodingError, frame_labels, table_names
from askscope.store.core import Store


@dataclass
class Estimates:
    """The three estimates of every label (and of any label groups asked for)."""

    task: str
    sample_id: str
    stratify_by: str | None
    n_coded: int
    n_total: int
    n_ties: int
    coders: list[str]
    shares: dict[str, dict[str, Interval]]
    lam: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The JSON of ``askscope code estimate --json`` (the shape issue 11 fixed)."""
        return {
            "task": self.task,
            "n_coded": self.n_coded,
            "n_total": self.n_total,
            "shares": {label: {kind: _rounded(i) for kind, i in kinds.items()} for label, kinds in self.shares.items()},
        }


def _rounded(interval: Interval) -> dict[str, float | None]:
    return {k: (None if not np.isfinite(v) else round(float(v), 6)) for k, v in interval.as_dict().items()}


def _predictions(
    frame: Sequence[tuple[str, str, str | None, Sequence[float] | None]], labels: Sequence[str]
) -> np.ndarray:
    """The model's prediction of every label for every post of the frame, an (N, k) array: the
    class probabilities where the store has them, else 1 for the chosen label (0 everywhere for
    a post without a label). Either is a fixed function of the post, which is all PPI needs; the
    probabilities usually track the codes more closely and give narrower intervals."""
    index = {label: j for j, label in enumerate(labels)}
    out = np.zeros((len(frame), len(labels)))
    for row, (_, _, label, probabilities) in enumerate(frame):
        if (
            probabilities is not None
            and len(probabilities) == len(labels)
            and all(p is not None and np.isfinite(p) for p in probabilities)
        ):
            out[row] = probabilities
        elif label in index:
            out[row, index[label]] = 1.0
    return out


def choose_sample(store: Store, task: str, sample_id: str | None = None) -> tuple[str, str | None]:
    """The sample the estimates rest on, and what it was stratified by."""
    if "code_samples" not in table_names(store) or "codes" not in table_names(store):
        raise CodingError(
            f"{store.path} has no coded sample",
            f"draw a sample (askscope code sample {store.path} --task {task} -o s.csv), code it, "
            "and import it (askscope code import)",
        )
    rows = store.con.execute(
        """
        SELECT s.sample_id, any_value(s.stratify_by), max(s.drawn_at),
               count(DISTINCT c.platform || ':' || c.post_id) FILTER (WHERE c.code IS NOT NULL) AS coded
        FROM code_samples s LEFT JOIN codes c ON c.sample_id = s.sample_id AND c.platform = s.platform
             AND c.post_id = s.post_id AND c.task = s.task
        WHERE s.task = ? GROUP BY s.sample_id ORDER BY coded DESC, 3 DESC, 1
        """,
        [task],
    ).fetchall()
    if sample_id is not None:
        rows = [r for r in rows if r[0] == sample_id]
        if not rows:
            raise CodingError(
                f"no {task} sample {sample_id} in {store.path}",
                f'list them: askscope sql {store.path} "SELECT DISTINCT sample_id, task FROM code_samples"',
            )
    if not rows or rows[0][3] == 0:
        raise CodingError(
            f"no {task} codes in {store.path}" + (f" for sample {sample_id}" if sample_id else ""),
            f"import a coder's file: askscope code import {store.path} FILE.csv --coder NAME",
        )
    return rows[0][0], rows[0][1]


def estimate(
    store: Store, task: str, sample_id: str | None = None, groups: Mapping[str, Sequence[str]] | None = None
) -> Estimates:
    """The ``ppi``, ``coded_only`` and ``model_only`` share of every label of ``task`` (and of
    each group of labels in ``groups``, e.g. ``{"hostile": HOSTILE}``)."""
    labels = get_task(task).label_names
    sample_id, stratify_by = choose_sample(store, task, sample_id)
    codes = read_codes(store, task, sample_id)
    fractions = code_fractions(codes)
    _, ties = consensus(codes)
    design = {
        (p, i): (stratum, size)
        for p, i, stratum, size in store.con.execute(
            "SELECT platform, post_id, stratum, stratum_size FROM code_samples WHERE sample_id = ?", [sample_id]
        ).fetchall()
    }
    sizes = {stratum: int(size) for stratum, size in design.values()}
    frame = frame_labels(store, task)
    {(p, i): label for p, i, label, _ in frame}
    predictions = _predictions(frame, labels)
    row_of = {(p, i): n for n, (p, i, _, _) in enumerate(frame)}
    coded = sorted(fractions)
    notes = []
    if not frame:
        raise CodingError(
            f"the {task} frame of {store.path} is empty (no campaign posts)",
            f"run: askscope analyze {store.path} --campaign CAMPAIGN.toml",
        )
    strata = np.array([design[k][0] for k in coded]) if stratify_by else None
    if strata is not None:
        missing = sorted(set(sizes) - set(strata.tolist()))
        if missing:
            raise CodingError(
                f"sample {sample_id} has strata without coded posts: {', '.join(missing)}",
                "code at least two posts of every stratum (the file lists each post's stratum)",
            )
        thin = sorted(s for s in sizes if int((strata == s).sum()) < 2)
        if thin:
            notes.append("strata with one coded post add no variance (intervals too narrow): " + ", ".join(thin))
    frame_size = sum(sizes.values())
    if frame_size != len(frame):
        notes.append(
            f"the frame has {len(frame)} posts, the sample was drawn from {frame_size}: "
            "the campaign changed since; draw a new sample"
        )
    targets: dict[str, tuple[str, ...]] = {label: (label,) for label in labels}
    for name, members in (groups or {}).items():
        unknown = [m for m in members if m not in labels]
        if unknown:
            raise CodingError(
                f"group {name} names labels {task} does not have: {', '.join(unknown)}", "labels: " + ", ".join(labels)
            )
        targets[name] = tuple(members)
    shares: dict[str, dict[str, Interval]] = {}
    lams: dict[str, float] = {}
    all_labels = [label for _, _, label, _ in frame]
    index = {label: j for j, label in enumerate(labels)}
    for name, members in targets.items():
        y = np.array([sum(fractions[k].get(m, 0.0) for m in members) for k in coded], dtype=float)
        yhat_all = predictions[:, [index[m] for m in members]].sum(axis=1)
        # a coded post no longer in the frame (the campaign changed) counts as predicted 0
        yhat = np.array([yhat_all[row_of[k]] if k in row_of else 0.0 for k in coded], dtype=float)
        counted = np.array([label in members for label in all_labels], dtype=float)
        ppi, lam = ppi_share(y, yhat, yhat_all, strata, sizes if stratify_by else None)
        lams[name] = lam
        shares[name] = {
            "ppi": ppi,
            "coded_only": coded_share(y, strata, sizes if stratify_by else None),
            "model_only": wilson(float(counted.mean()), len(counted)),
        }
    coders = sorted({c for by in codes.values() for c in by})
    return Estimates(task, sample_id, stratify_by, len(coded), len(frame), len(ties), coders, shares, lams, notes)
