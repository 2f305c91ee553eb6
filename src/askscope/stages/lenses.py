"""The ``lenses`` stage: every registered lens (backfire, engagement, framing, authenticity and
plugins' lenses, :mod:`askscope.lenses.base`), every share with an interval.

Results go to ``lens_results`` (one JSON document: what the report shows) and ``metrics`` (one
row per number, for SQL users). Deterministic: the bootstrap is seeded (setting ``seed``). When
the store holds hand codes of the discourse categories (``askscope code``), ``validation`` holds
the validated (prediction-powered) shares and their basis.
"""

from __future__ import annotations

import json
from typing import Any

from askscope import registry
from askscope.authenticity.analysis import TABLES as AUTHENTICITY_TABLES
from askscope.lenses.common import load_input
from askscope.lenses.validated import validated_shares
from askscope.stages.base import Context, Stage


def flatten(prefix: str, value: Any, out: list[tuple[Any, ...]]) -> None:
    """Rows (lens, path, value, ci_low, ci_high, n, method) for every number in a result."""
    if isinstance(value, dict):
        if "value" in value and ("ci" in value or "method" in value or "n" in value):
            ci = value.get("ci") or [None, None]
            n = value.get("n")
            out.append(
                (prefix, _num(value["value"]), ci[0], ci[1], n if isinstance(n, int) else None, value.get("method"))
            )
            for key, inner in value.items():
                if isinstance(inner, dict):
                    flatten(f"{prefix}.{key}", inner, out)
            return
        for key, inner in value.items():
            flatten(f"{prefix}.{key}" if prefix else str(key), inner, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out.append((prefix, float(value), None, None, None, None))


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def attach_validated(backfire: dict[str, Any], validation: dict[str, Any]) -> None:
    """Put the prediction-powered share of a hand-coded sample (``validation``) beside the model's
    shares of the backfire lens, as ``validated`` (the value the verdicts then use: valid
    whatever the classifier's errors), for the hostile share, the mockery share and every
    discourse category."""
    shares = validation.get("shares") or {}
    if validation.get("error") or not shares:
        return

    def block(name: str) -> dict[str, Any] | None:
        ppi = (shares.get(name) or {}).get("ppi") or {}
        if ppi.get("estimate") is None:
            return None
        return {
            "value": ppi["estimate"],
            "ci": [ppi.get("low"), ppi.get("high")],
            "n": validation["n_coded"],
            "method": validation["method"],
            "basis": validation["basis"],
        }

    for target, name in ((backfire.get("hostile_share"), "hostile"), (backfire.get("mockery_share"), "mockery")):
        if isinstance(target, dict) and block(name) is not None:
            target["validated"] = block(name)
    for name, share in (backfire.get("category_shares") or {}).items():
        if isinstance(share, dict) and block(name) is not None:
            share["validated"] = block(name)


class Lenses(Stage):
    name = "lenses"
    description = (
        "backfire, engagement, framing and authenticity metrics with intervals; shares corrected for classifier error"
    )
    requires = ("posts", "hosts", "relations", "campaign_window", "threads", "thread_roots", "labels", "answers")
    reads = (
        "label_models",
        "frame_scores",
        "frame_calibration",
        "codes",
        "ingests",
        "rejects",
        "api_errors",
        *AUTHENTICITY_TABLES,
    )
    provides = ("lens_results", "metrics")

    def __init__(self, summarise: Any = None) -> None:
        #: where the backfire lens's audience parts are summarised (``LensInput.summarise``):
        #: None for this process, Dask tasks for an archive (``askscope.archive.dask_lenses``)
        self.summarise = summarise

    def run(self, ctx: Context) -> dict[str, Any]:
        seed = int(ctx.settings.get("seed", 0))
        inp = load_input(ctx.store, seed)
        inp.summarise = self.summarise
        results: dict[str, Any] = {}
        for lens in registry.lenses():
            ctx.say(f"lens {lens.name}")
            value = lens.compute(inp, results)
            if value is not None:
                results[lens.name] = value
        # a hand-coded sample of the campaign: prediction-powered shares beside the model's (issue 11)
        validation = validated_shares(ctx.store, "discourse", seed=seed)
        if validation is not None:
            results["validation"] = validation
            if "backfire" in results:
                attach_validated(results["backfire"], validation)
        rows: list[tuple[Any, ...]] = []
        for lens, value in results.items():
            flat: list[tuple[Any, ...]] = []
            flatten("", value, flat)
            rows += [(lens, *row) for row in flat]
        con = ctx.store.con
        con.execute(
            "CREATE OR REPLACE TABLE lens_results AS SELECT ? AS results, ? AS seed",
            [json.dumps(results, sort_keys=True), seed],
        )
        con.execute(
            "CREATE OR REPLACE TABLE metrics (lens VARCHAR, metric VARCHAR, value DOUBLE, ci_low DOUBLE, "
            "ci_high DOUBLE, n BIGINT, method VARCHAR)"
        )
        if rows:
            con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        summary: dict[str, Any] = {"metrics": len(rows), "lenses": sorted(results)}
        if "backfire" in results:
            summary["hostile_share"] = results["backfire"]["hostile_share"]["value"]
        if "engagement" in results:
            summary["answer_rate"] = results["engagement"]["answer_rate"]["value"]
        return summary
