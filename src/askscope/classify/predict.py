"""``classify``: run the bundled models on a list of posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from askscope.classify import calibration, discourse, language, models, questions
from askscope.classify.tasks import DISCOURSE_CATEGORIES, MODEL_TASKS, resolve


@dataclass(frozen=True)
class TaskResult:
    """One task's output for a list of posts.

    ``labels`` are label ids in the task's data set mapping (``language``: ISO 639-1 codes),
    ``names`` the label names, ``probabilities`` a row per post over ``classes`` (``language``:
    ``None``; see ``distributions``).
    """

    task: str
    classes: tuple[str, ...]
    labels: list[int] | list[str]
    names: list[str]
    probabilities: np.ndarray | None
    distributions: list[dict[str, float]] = field(repr=False)


def _distributions(classes: Sequence[str], probabilities: np.ndarray) -> list[dict[str, float]]:
    return [{c: round(float(p), 6) for c, p in zip(classes, row)} for row in probabilities]


def source_scores(
    source: dict[str, Any], texts: list[str], encoded: dict[str, np.ndarray] | None, pooled: np.ndarray | None
) -> np.ndarray:
    """The raw scores of one card source: an encoder head's logits, an n-gram model's scores, or a
    linear head's ``[0, z]`` logits over the encoder outputs and rule features."""
    if source["kind"] == "encoder":
        assert encoded is not None
        return encoded[source["head"]]
    if source["kind"] == "head":
        assert encoded is not None and pooled is not None
        return models.linear_head(source["file"]).scores(texts, encoded, pooled)
    return models.ngram_model(source["file"]).scores(texts)


def _model_task(
    task: str,
    texts: list[str],
    encoded: dict[str, np.ndarray] | None,
    pooled: np.ndarray | None,
    languages: list[str] | None,
) -> TaskResult:
    card = models.card(task)
    sources = [source_scores(source, texts, encoded, pooled) for source in card["sources"]]
    route = calibration.route_of(languages) if languages is not None else None
    probabilities = calibration.combine_card(sources, card["calibration"], route)
    ids = calibration.decide(probabilities, card["decision"], route)
    if "rule_floor" in card["decision"]:
        ids = np.maximum(ids, questions.rule_floor(texts, card["decision"]["rule_floor"], route))
    classes = tuple(card["labels"])
    return TaskResult(
        task, classes, ids.tolist(), [classes[i] for i in ids], probabilities, _distributions(classes, probabilities)
    )


def _language_task(texts: list[str], ranked: list[list[tuple[str, float]]]) -> TaskResult:
    # a language only above the confidence threshold, "und" otherwise (language.MIN_CONFIDENCE);
    # the distributions keep the model's ranking, plus the chosen label's probability
    chosen = [language.language_of(r) for r in ranked]
    codes = [code for code, _ in chosen]
    distributions = [dict(r) | {code: p} for r, (code, p) in zip(ranked, chosen)]
    return TaskResult("language", (), codes, codes, None, distributions)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence vectors of posts from the bundled encoder (its mean-pooled output,
    384 wide), one row per post; the same encoder pass that feeds the classifier heads."""
    return models.encoder().embed([str(t) for t in texts])


def classify(texts: Sequence[str], tasks: str | Sequence[str] | None = None) -> dict[str, TaskResult]:
    """Classify posts with the bundled models.

    ``tasks``: a task name, a list of names, or ``None``/``"all"`` for every task
    (``sentiment``, ``irony``, ``offensive``, ``hate``, ``emotion``, ``question``, ``language``,
    ``discourse``). The encoder runs once for all tasks that need it. Returns ``{task: TaskResult}``.
    Deterministic: the same posts give the same output, whatever their order.
    """
    texts = [str(t) for t in texts]
    chosen = resolve(tasks if isinstance(tasks, str) or tasks is None else list(tasks))
    needed = set(chosen) - {"language", "discourse"}
    if "discourse" in chosen:
        needed |= set(discourse.REQUIRED)
    uses_encoder = any(s["kind"] in ("encoder", "head") for t in needed for s in models.card(t)["sources"])
    encoded, pooled = models.encoder().run(texts) if uses_encoder and texts else (None, None)
    routed = any(
        "routes" in models.card(t)["calibration"] or "rule_floor" in models.card(t)["decision"] for t in needed
    )
    ranked = language.identify(texts) if texts and ("language" in chosen or routed) else None
    languages = [r[0][0] for r in ranked] if ranked is not None else None
    results: dict[str, TaskResult] = {}
    for task in MODEL_TASKS:
        if task in needed:
            if not texts:
                classes = tuple(models.card(task)["labels"])
                results[task] = TaskResult(task, classes, [], [], np.zeros((0, len(classes))), [])
            else:
                results[task] = _model_task(task, texts, encoded, pooled, languages)
    if "language" in chosen:
        results["language"] = _language_task(texts, ranked or [])
    if "discourse" in chosen:
        probabilities = {t: p for t in discourse.REQUIRED if (p := results[t].probabilities) is not None}
        if texts:
            ids, soft = discourse.predict(probabilities, texts, pooled)
        else:
            ids, soft = np.zeros(0, dtype=np.int64), np.zeros((0, len(DISCOURSE_CATEGORIES)))
        results["discourse"] = TaskResult(
            "discourse",
            DISCOURSE_CATEGORIES,
            ids.tolist(),
            [DISCOURSE_CATEGORIES[i] for i in ids],
            soft,
            _distributions(DISCOURSE_CATEGORIES, soft),
        )
    return {t: results[t] for t in chosen}


def discourse_categories(texts: Sequence[str]) -> list[str]:
    """The discourse category name of each post (see :mod:`askscope.classify.discourse`)."""
    return classify(texts, ["discourse"])["discourse"].names
