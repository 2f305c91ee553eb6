"""``model_info``: what each bundled model is, how it was trained, and its known error rates."""

from __future__ import annotations

import copy
from typing import Any, cast

from askscope.classify import calibration, models
from askscope.classify.tasks import MODEL_TASKS, TASKS, UnknownTaskError


def model_info(task: str) -> dict[str, Any]:
    """The stored card of a task's model, with per-class error rates on validation data.

    Keys: ``task``, ``version``, ``labels``, ``model`` (what it is), ``training_data``,
    ``validation`` (data, official metric, ``confusion`` matrix with rows = gold and columns =
    predicted, ``error_rates`` = per-class ``tpr``/``fpr``/``precision`` for adjusted
    classify-and-count), ``calibration`` and ``decision``. ``discourse`` reads the other tasks:
    its card names the shipped scorer (``model.kind``: a trained ``head`` or the ``rule``, whose
    text is in ``model.rule``), and ``validation.basis`` says which labelled data its confusion
    matrix rests on.
    """
    if task not in TASKS:
        raise UnknownTaskError(task)
    if task == "discourse":
        from askscope.classify import discourse

        info = copy.deepcopy(models.card("discourse"))
        info["model"]["rule"] = discourse.__doc__.strip()
    else:
        info = copy.deepcopy(models.card(task))
    for block in [info.get("validation", {})] + list(info.get("validation_extra", {}).values()):
        if "confusion" in block:
            block["error_rates"] = calibration.error_rates(block["confusion"], info["labels"])
    return info


def error_rates(task: str) -> dict[str, dict[str, float]]:
    """Per-class ``tpr``, ``fpr``, ``precision`` of a model task (or of the discourse scorer) on its
    main validation set."""
    if task not in MODEL_TASKS and task != "discourse":
        raise UnknownTaskError(task)
    return cast(dict[str, dict[str, float]], model_info(task)["validation"]["error_rates"])
