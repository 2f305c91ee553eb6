"""Bundled tweet classifiers: sentiment, irony, offensive, hate, emotion, question, language,
and the discourse category of a post addressed to a host.

Everything runs offline from the model files shipped in ``askscope/classify/models``: a
fine-tuned multi-task MiniLM encoder in ONNX (int8) plus n-gram models, loaded on first use.

>>> from askscope.classify import classify
>>> out = classify(["@user what happens if he sneezes?"], tasks=["question", "discourse"])
>>> out["question"].names
['question']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from askscope._lazy import lazy_exports

#: Public name -> module; loaded on first use, so importing this package is cheap.
_EXPORTS = {
    "DISCOURSE_CATEGORIES": "askscope.classify.tasks",
    "MODEL_TASKS": "askscope.classify.tasks",
    "Shares": "askscope.classify.quantify",
    "TASKS": "askscope.classify.tasks",
    "TaskResult": "askscope.classify.predict",
    "UnknownTaskError": "askscope.classify.tasks",
    "Validation": "askscope.classify.quantify",
    "classify": "askscope.classify.predict",
    "discourse_categories": "askscope.classify.predict",
    "embed": "askscope.classify.predict",
    "error_rates": "askscope.classify.info",
    "estimate_shares": "askscope.classify.quantify",
    "load_validation": "askscope.classify.quantify",
    "model_info": "askscope.classify.info",
}

__all__ = [
    "DISCOURSE_CATEGORIES",
    "MODEL_TASKS",
    "Shares",
    "TASKS",
    "TaskResult",
    "UnknownTaskError",
    "Validation",
    "classify",
    "discourse_categories",
    "embed",
    "error_rates",
    "estimate_shares",
    "load_validation",
    "model_info",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers
    from askscope.classify.info import error_rates, model_info
    from askscope.classify.predict import TaskResult, classify, discourse_categories, embed
    from askscope.classify.quantify import Shares, Validation, estimate_shares, load_validation
    from askscope.classify.tasks import DISCOURSE_CATEGORIES, MODEL_TASKS, TASKS, UnknownTaskError


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
