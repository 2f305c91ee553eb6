"""The bundled model files: size budget, cards, and documented figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from askscope.classify import models
from askscope.classify.tasks import MODEL_TASKS

ROOT = Path(__file__).resolve().parents[1]
# Floors of the issue (FastText / baseline figures on the test splits); validation must beat them.
FLOORS = {"sentiment": 62.9, "irony": 63.1, "offensive": 73.4, "hate": 50.6, "emotion": 65.2, "question": 70.0}


def test_total_model_size_within_budget() -> None:
    # both model sets, validation data included: what the wheel carries
    size = sum(p.stat().st_size for folder in models.SETS.values() for p in folder.rglob("*") if p.is_file())
    assert size <= 60 * 1024 * 1024


@pytest.mark.parametrize("model_set", sorted(models.SETS))
@pytest.mark.parametrize("task", MODEL_TASKS + ("language",))
def test_card_is_complete_and_documented(task: str, model_set: str) -> None:
    card = json.loads(models.path(f"{task}.json", model_set).read_text(encoding="utf-8"))
    assert card["task"] == task and card["version"]
    assert card["training_data"] and card["validation"]["metric"]
    for name in card["model"].get("files", []) if isinstance(card["model"].get("files"), list) else []:
        assert models.path(name, model_set).is_file(), name
    assert (ROOT / "docs" / "models" / f"{task}.md").is_file()


@pytest.mark.parametrize("model_set", sorted(models.SETS))
@pytest.mark.parametrize("task", MODEL_TASKS)
def test_stored_validation_figure_beats_floor(task: str, model_set: str) -> None:
    card = json.loads(models.path(f"{task}.json", model_set).read_text(encoding="utf-8"))
    assert card["validation"]["cross_fitted"] > FLOORS[task]
