"""Where the bundled model files live, and their lazy, cached loading.

The package ships two **model sets**: ``default`` (``models/``: the fine-tuned 6-layer encoder
and everything fitted on its outputs) and ``fast`` (``models_fast/``: a 3-layer student
distilled from it on a GPU, ``training.distill_gpu``, with every calibration, head and
validation set refitted on its own outputs; about 1.8 times the stack's speed, its figures in
its cards and docs/classify.md, "Model sets"). A set's folder holds the files that differ;
the others (tokenizer, language identifier, n-gram model, probe) are the default set's.

Which set the loaders read is a context: :func:`use` switches it for the current thread or task
(``contextvars``), so the labeler ``bundled-fast`` can label in one thread while ``bundled``
labels in another. Every loaded file is cached per set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any, cast

from askscope.classify.encoder import Encoder
from askscope.classify.heads import LinearHead
from askscope.classify.ngrams import NgramLinear

MODELS_DIR = Path(__file__).parent / "models"
FAST_DIR = Path(__file__).parent / "models_fast"
#: Model set name -> its folder.
SETS = {"default": MODELS_DIR, "fast": FAST_DIR}
_ACTIVE: ContextVar[str] = ContextVar("askscope_model_set", default="default")


def active() -> str:
    """The model set the loaders read in this context."""
    return _ACTIVE.get()


@contextmanager
def use(name: str) -> Iterator[None]:
    """Read the model set ``name`` (see :data:`SETS`) inside the block."""
    if name not in SETS:
        raise ValueError(f"unknown model set {name!r}; known: {', '.join(SETS)}")
    token = _ACTIVE.set(name)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def path(name: str, model_set: str | None = None) -> Path:
    """The file ``name`` (relative to a set's folder) of ``model_set`` (default: the active
    one): its own copy when the set has one, else the default set's."""
    own = SETS[model_set or active()] / name
    return own if own.exists() else MODELS_DIR / name


def card(task: str) -> dict[str, Any]:
    """The model card data of one task (``<set>/<task>.json``) in the active set."""
    return _card(active(), task)


@cache
def _card(model_set: str, task: str) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(path(f"{task}.json", model_set).read_text(encoding="utf-8")))


def encoder() -> Encoder:
    """The active set's encoder (loaded once per set and process)."""
    return _encoder(active())


@cache
def _encoder(model_set: str) -> Encoder:
    return Encoder(SETS[model_set], tokenizer=path("tokenizer.json", model_set))


def ngram_model(name: str) -> NgramLinear:
    return _ngram_model(active(), name)


@cache
def _ngram_model(model_set: str, name: str) -> NgramLinear:
    return NgramLinear.load(path(name, model_set))


def linear_head(name: str) -> LinearHead:
    """A small numpy head over the encoder's outputs (``<set>/<name>``, see ``classify/heads.py``)."""
    return _linear_head(active(), name)


@cache
def _linear_head(model_set: str, name: str) -> LinearHead:
    return LinearHead.load(path(name, model_set))


def clear_caches() -> None:
    """Forget every loaded file (training scripts that rewrite the models in place)."""
    for loader in (_card, _encoder, _ngram_model, _linear_head):
        loader.cache_clear()
