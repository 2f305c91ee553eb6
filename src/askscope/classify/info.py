"""``model_info``: what each bundled model is, how it was trained, and its known error rates."""

from __future__ import annotations

import copy

from askscope.classify import calibration, models
from askscope.classify.tasks import DISCOURSE_CATEGORIES, MODEL_TASKS, TASKS, UnknownTaskError


def model_info(task: str) -> dict:
    """The stored card of a task's model, with per-class error rates on validation data.

    Keys: ``task``, ``version``, ``labels``, ``model`` (what it is), ``training_data``,
    ``validation`` (data, official metric, ``confusion`` matrix with rows = gold and columns =
    predicted, ``error_rates`` = per-class ``tpr``/``fpr``/``precision`` for adjusted
    classify-and-count), ``calibration`` and ``decision``. ``discourse`` is a rule, not a model:
    its info names the rule and the tasks it reads.
    """
    if task not in TASKS:
        raise UnknownTaskError(task)
    if task == "discourse":
        from askscope.classify import discourse

        return {"task": "discourse", "labels": list(DISCOURSE_CATEGORIES), "model": {
            "kind": "rule", "reads": list(discourse.REQUIRED), "rule": discourse.__doc__.strip()}}
    info = copy.deepcopy(models.card(task))
    for block in [info.get("validation", {})] + list(info.get("validation_extra", {}).values()):
        if "confusion" in block:
            block["error_rates"] = calibration.error_rates(block["confusion"], info["labels"])
    return info


def error_rates(task: str) -> dict[str, dict[str, float]]:
    """Per-class ``tpr``, ``fpr``, ``precision`` of a model task on its main validation set."""
    if task not in MODEL_TASKS:
        raise UnknownTaskError(task)
    return model_info(task)["validation"]["error_rates"]
