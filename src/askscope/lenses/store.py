"""What the store holds and how complete it is: the campaign's window and hosts as analysed, the
posts and rejects, API errors, whether the data are simulated, and the classifiers behind the
labels with their validation error rates.

A lens like the others (stored in ``lens_results``), so the report shows these figures without
querying the store; the report document lifts them to its top-level ``synthetic``, ``window``,
``hosts``, ``store``, ``coverage.api_errors`` and ``classifiers`` keys (docs/report.md).
"""

from __future__ import annotations

import json
from typing import Any

from askscope.lenses.base import Lens
from askscope.lenses.common import LensInput
from askscope.store.core import table_names
from askscope.timefmt import iso


def _window(inp: LensInput) -> dict[str, Any]:
    rows = inp.store.con.execute('SELECT start, "end", from_campaign_file FROM campaign_window').fetchall()
    start, end, from_file = rows[0] if rows else (None, None, False)
    return {"start": iso(start), "end": iso(end), "from_campaign_file": bool(from_file)}


def _hosts(inp: LensInput) -> list[dict[str, Any]]:
    rows = inp.store.con.execute("SELECT platform, author_id, handle, role FROM hosts ORDER BY role, handle").fetchall()
    return [
        {"platform": platform, "author_id": author_id, "handle": handle, "role": role, "found": author_id is not None}
        for platform, author_id, handle, role in rows
    ]


def _counts(inp: LensInput) -> dict[str, int]:
    con = inp.store.con
    posts, matched, context = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT is_context), count(*) FILTER (WHERE is_context) FROM posts"
    ).fetchall()[0]
    rejects = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
    inputs = con.execute("SELECT count(*) FROM ingests WHERE superseded_by IS NULL").fetchall()[0][0]
    return {
        "posts": int(posts),
        "matched": int(matched),
        "context": int(context),
        "rejects": int(rejects),
        "inputs": int(inputs),
    }


def _classifiers(inp: LensInput) -> dict[str, Any]:
    """Per task: the model, the labeler, its validation data (bundled models' cards) and its
    error rates (tpr / fpr per class, rounded to 4 places)."""
    from askscope.stages.labeling import BUNDLED_SETS

    con = inp.store.con
    if "label_models" not in table_names(con):
        return {}
    out: dict[str, Any] = {}
    for task, model, rates, labeler in con.execute(
        "SELECT task, model, error_rates, labeler FROM label_models ORDER BY task"
    ).fetchall():
        entry: dict[str, Any] = {"model": model, "labeler": labeler}
        if labeler in BUNDLED_SETS:
            try:
                from askscope.classify import model_info, models

                with models.use(BUNDLED_SETS[labeler]):
                    validation = model_info(task).get("validation", {})
                entry["validation"] = {k: v for k, v in validation.items() if k in ("data", "metric", "value", "score")}
            except Exception:  # noqa: BLE001 - the figures stand without a model card
                pass
        parsed = json.loads(rates or "{}")
        classes = parsed.get("classes", parsed)
        entry["error_rates"] = {
            k: {m: round(v[m], 4) for m in ("tpr", "fpr") if m in v}
            for k, v in sorted(classes.items())
            if isinstance(v, dict)
        }
        out[task] = entry
    return out


def store_summary(inp: LensInput) -> dict[str, Any]:
    """The store's figures (see the module docstring)."""
    con = inp.store.con
    synthetic = con.execute("SELECT count(*) FROM ingests WHERE source_file LIKE 'synthetic:%'").fetchall()[0][0]
    api_errors = con.execute("SELECT count(*) FROM api_errors").fetchall()[0][0]
    return {
        "synthetic": bool(synthetic),
        "window": _window(inp),
        "hosts": _hosts(inp),
        "counts": _counts(inp),
        "api_errors": int(api_errors),
        "classifiers": _classifiers(inp),
    }


STORE = Lens(
    name="store",
    title="Store and coverage",
    order=60,
    compute=lambda inp, results: store_summary(inp),
    description="the window and hosts as analysed, posts, rejects, API errors, simulated data, classifiers",
)
