"""Bundled tweet classifiers: sentiment, irony, offensive, hate, emotion, question, language,
and the discourse category of a post addressed to a host.

Everything runs offline from the model files shipped in ``askscope/classify/models``: a
fine-tuned multi-task MiniLM encoder in ONNX (int8) plus n-gram models, loaded on first use.

>>> from askscope.classify import classify
>>> out = classify(["@user what happens if he sneezes?"], tasks=["question", "discourse"])
>>> out["question"].names
['question']
"""

from askscope.classify.info import error_rates, model_info
from askscope.classify.predict import TaskResult, classify, discourse_categories, embed
from askscope.classify.quantify import Shares, Validation, estimate_shares, load_validation
from askscope.classify.tasks import DISCOURSE_CATEGORIES, MODEL_TASKS, TASKS, UnknownTaskError

__all__ = [
    "DISCOURSE_CATEGORIES",
    "MODEL_TASKS",
    "TASKS",
    "Shares",
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
