"""Small linear heads on the frozen encoder: numpy weights over named inputs.

A card source ``{"kind": "head", "file": "<name>.npz"}`` scores posts with a logistic-regression
head trained (in ``training/``) on the shipped encoder's outputs and on rule features, without
re-fine-tuning the encoder. The file holds:

- ``inputs``: the names of the input blocks, concatenated in this order (see :func:`input_block`);
- ``mean``, ``scale``: per-column standardisation fitted on the training rows;
- ``coef`` (``d``) and ``intercept`` (scalar): the binary head's weights on standardised inputs.

Its score is the two-column logit ``[0, z]`` with ``z = intercept + coef . (x - mean) / scale``,
so the card's calibration treats it like any encoder head. Training builds its inputs with the
same :func:`inputs` function, so training and run time cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from askscope.classify import cues, questions


def input_block(name: str, texts: Sequence[str], logits: dict[str, np.ndarray], pooled: np.ndarray) -> np.ndarray:
    """One named block of head inputs, ``(n, width)``.

    ``pooled``: the unit-normalised 384-d sentence vector; ``margin:<head>``: a binary encoder
    head's logit difference (class 1 minus class 0); ``logits:<head>``: a head's raw logits;
    ``rules:questions``: :data:`askscope.classify.questions.FEATURES`; ``rules:cues``:
    :data:`askscope.classify.cues.FEATURES`.
    """
    if name == "pooled":
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return cast(np.ndarray, (pooled / norms).astype(np.float64))
    if name.startswith("margin:"):
        head = logits[name.split(":", 1)[1]].astype(np.float64)
        return (head[:, 1] - head[:, 0])[:, None]
    if name.startswith("logits:"):
        return logits[name.split(":", 1)[1]].astype(np.float64)
    if name == "rules:questions":
        return questions.features(texts).astype(np.float64)
    if name == "rules:cues":
        return cues.features(texts).astype(np.float64)
    raise ValueError(f"unknown head input {name!r}")


def inputs(names: Sequence[str], texts: Sequence[str], logits: dict[str, np.ndarray], pooled: np.ndarray) -> np.ndarray:
    """The concatenated input blocks of a head, ``(n, d)``."""
    return np.concatenate([input_block(n, texts, logits, pooled) for n in names], axis=1)


@dataclass(frozen=True)
class LinearHead:
    """A binary logistic head over named input blocks (see the module docstring)."""

    inputs: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        with np.load(path, allow_pickle=False) as f:
            return cls(
                tuple(str(x) for x in f["inputs"]),
                f["mean"].astype(np.float64),
                f["scale"].astype(np.float64),
                f["coef"].astype(np.float64),
                float(f["intercept"]),
            )

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            inputs=np.array(self.inputs),
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=np.float64(self.intercept),
        )

    def margin(self, x: np.ndarray) -> np.ndarray:
        """The head's log-odds ``z`` for input rows ``x`` (already built by :func:`inputs`)."""
        # einsum, not ``@``: BLAS rounds a row's dot product differently for another number of
        # rows, which made a post's margin depend, in its last bits, on the posts scored with it
        return cast(np.ndarray, self.intercept + np.einsum("nf,f->n", (x - self.mean) / self.scale, self.coef))

    def scores(self, texts: Sequence[str], logits: dict[str, np.ndarray], pooled: np.ndarray) -> np.ndarray:
        """Two-column logits ``[0, z]`` per post."""
        z = self.margin(inputs(self.inputs, texts, logits, pooled))
        return np.stack([np.zeros_like(z), z], axis=1)
