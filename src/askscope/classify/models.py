"""Where the bundled model files live, and their lazy, cached loading."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, cast

from askscope.classify.encoder import Encoder
from askscope.classify.heads import LinearHead
from askscope.classify.ngrams import NgramLinear

MODELS_DIR = Path(__file__).parent / "models"


@cache
def card(task: str) -> dict[str, Any]:
    """The model card data of one task (``models/<task>.json``)."""
    return cast(dict[str, Any], json.loads((MODELS_DIR / f"{task}.json").read_text(encoding="utf-8")))


@cache
def encoder() -> Encoder:
    return Encoder(MODELS_DIR)


@cache
def ngram_model(name: str) -> NgramLinear:
    return NgramLinear.load(MODELS_DIR / name)


@cache
def linear_head(name: str) -> LinearHead:
    """A small numpy head over the encoder's outputs (``models/<name>``, see ``classify/heads.py``)."""
    return LinearHead.load(MODELS_DIR / name)
