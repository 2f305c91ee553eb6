"""Validated shares for the lenses: what a hand-coded sample says about the classifier's shares.

:func:`validated_shares` gives, for a task (``discourse`` by default), every label's
prediction-powered share beside the coded-only and model-only ones (askscope.coding.estimates),
the hostile share (question_critical + mockery + abuse) estimated the same way, the coders'
agreement and a one-line basis for the report ("validated against 300 coded posts (2 coders),
α = 0.81"). ``None`` when the store has no coded sample of the task, so a lens can fall back to
the corrected shares.
"""

from __future__ import annotations

from typing import Any

from askscope.coding.estimates import estimate
from askscope.coding.reliability import agreement
from askscope.coding.tables import CodingError, table_names
from askscope.store.core import Store
from askscope.vocabulary import HOSTILE


def has_codes(store: Store, task: str) -> bool:
    """Whether the store holds codes of ``task`` from a sample."""
    if not {"codes", "code_samples"} <= table_names(store):
        return False
    return bool(store.con.execute("SELECT count(*) FROM codes WHERE task = ?", [task]).fetchall()[0][0])


def validated_shares(store: Store, task: str = "discourse", seed: int = 0) -> dict[str, Any] | None:
    """The validated shares of ``task`` (see the module docstring), or ``None`` without codes.

    A coded sample that cannot give estimates yet (a stratum without codes, say) gives
    ``{"task", "error", "hint"}`` so that the report can say why."""
    if not has_codes(store, task):
        return None
    groups = {"hostile": HOSTILE} if task == "discourse" else None
    try:
        result = estimate(store, task, groups=groups)
        agreed = agreement(store, task, result.sample_id, seed=seed)
    except CodingError as exc:
        return {"task": task, "error": exc.message, "hint": exc.hint}
    shares = result.as_json()["shares"]
    coders = [c for c in result.coders if c != "adjudication"]
    basis = f"validated against {result.n_coded:,} hand-coded posts"
    basis += (
        f" ({len(coders)} coders), α = {agreed.alpha:.2f}" if agreed.alpha is not None else f" ({len(coders)} coder)"
    )
    return {
        "task": task,
        "sample_id": result.sample_id,
        "stratify_by": result.stratify_by,
        "n_coded": result.n_coded,
        "n_total": result.n_total,
        "coders": coders,
        "alpha": None if agreed.alpha is None else round(agreed.alpha, 4),
        "alpha_interval": None if agreed.alpha_interval is None else [round(x, 4) for x in agreed.alpha_interval],
        "method": "prediction-powered inference (Angelopoulos et al. 2023, power-tuned as PPI++), 95% intervals",
        "basis": basis,
        "shares": shares,
        "notes": result.notes,
    }
