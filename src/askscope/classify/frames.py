"""Lens 3, framing: does the host's preferred framing move? *(ours, METRICS.md lens 3)*

The campaign file declares frames (name, keywords, example sentences). A post uses a frame when
it contains one of its keywords (whole words, case-insensitive) or when its vector is close
enough to the frame's examples. The threshold is calibrated per frame on the examples against
background posts: half-way between the 95th percentile of background similarity and the
examples' own leave-one-out similarity (when the examples do not stand above the background, the
background's 99th percentile). Shares are reported for participants and for the host, over
time, and before / during / after the window when the corpus has those periods.

Vectors: the bundled sentence encoder (``askscope.classify.embed``, the mean-pooled output of the
classifiers' fine-tuned MiniLM), with links and @-mentions removed first (they say nothing about a
frame and move the encoder's vectors: the demo host's reply "@nicholasderoose Uber trips out of
the CBD today are free ... See http://t.co/..." has cosine 0.85 to the demo frame's example
sentence, 0.95 without the mention and the link). When the encoder cannot load (its files or ONNX
Runtime missing or broken), hashed character n-gram vectors instead (language-independent,
lexical); ``frame_calibration.embedder`` and the lens's ``embedder`` say which was used and why.

The calibration rule compares quantiles of similarities measured in the same vector space, so it
carries over to the encoder's scale (background posts at cosine ~0.3 to a frame, where n-grams
give ~0.05); measured on stance data and on the demo in docs/benchmarks.md (bench/framing.py).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol, cast

import numpy as np

from askscope.campaign import Frame

DIM = 2**16
DIM_ENCODER = 384  # the bundled encoder's width (MiniLM), for an all-empty input
NGRAMS = (3, 4, 5)
#: Keys embedded at once (1,024 n-gram vectors are 256 MiB; the encoder runs a post per call anyway).
_EMBED = 1024
#: Rows whose similarities are summed at once (float64 copies: 256 n-gram rows are 128 MiB).
_ROWS = 256


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length vectors, one row per text."""


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"@\w+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class NgramEmbedder:
    """Hashed character n-grams (3-5) with sublinear tf, L2-normalised; deterministic."""

    name = "hashed character 3-5-grams"

    def key(self, text: str) -> str:
        """What a text's vector is computed from (:func:`keyed`): the text lower-cased, without
        links and @-mentions."""
        return _normalise(text)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embed_keys([_normalise(t) for t in texts])

    def embed_keys(self, keys: list[str]) -> np.ndarray:
        """The vectors of texts given by their :meth:`key`."""
        rows = np.zeros((len(keys), DIM), dtype=np.float32) if len(keys) <= 2000 else None
        if rows is None:
            return np.vstack([self.embed_keys(keys[i : i + 2000]) for i in range(0, len(keys), 2000)])
        for i, key in enumerate(keys):
            padded = f" {key} "
            counts: dict[int, int] = {}
            for n in NGRAMS:
                for j in range(len(padded) - n + 1):
                    h = zlib.crc32(padded[j : j + n].encode("utf-8")) % DIM
                    counts[h] = counts.get(h, 0) + 1
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64)
                rows[i, idx] = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32))
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return cast(np.ndarray, rows / norms)


def _strip(text: str) -> str:
    """Links and @-mentions removed, spaces collapsed; case and punctuation kept for the encoder."""
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"@\w+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class BundledEmbedder:
    """The bundled sentence encoder's unit-length vectors of the posts without links and mentions.

    Loads the encoder when built, so that a missing or broken model fails here (and
    :func:`default_embedder` can fall back) rather than half-way through scoring."""

    name = "bundled sentence encoder"

    def __init__(self, model_set: str = "default") -> None:
        """``model_set``: the bundled model set whose encoder gives the vectors
        (``askscope.classify.models.SETS``; the default set unless another is named)."""
        from askscope.classify import models

        if model_set not in models.SETS:
            raise ValueError(f"unknown model set {model_set!r}")
        self.model_set = model_set
        if model_set != "default":
            self.name = f"bundled sentence encoder ({model_set} set)"
        with models.use(model_set):
            models.encoder()

    def key(self, text: str) -> str:
        """What a text's vector is computed from (:func:`keyed`): the text without links and
        @-mentions."""
        return _strip(text or "")

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embed_keys([_strip(t or "") for t in texts])

    def embed_keys(self, stripped: list[str]) -> np.ndarray:
        """The vectors of texts given by their :meth:`key`."""
        from askscope.classify import embed, models

        kept = [i for i, t in enumerate(stripped) if t]
        with models.use(getattr(self, "model_set", "default")):
            found = np.asarray(embed([stripped[i] for i in kept]), dtype=np.float32) if kept else None
        vectors = np.zeros((len(stripped), DIM_ENCODER if found is None else found.shape[1]), dtype=np.float32)
        if found is not None:
            norms = np.linalg.norm(found, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            vectors[kept] = found / norms
        # a post that is only links and mentions keeps a zero vector: similarity 0 to every frame
        return vectors


class FallbackNgramEmbedder(NgramEmbedder):
    """Hashed n-grams standing in for the encoder that could not load; its name says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.name = f"{NgramEmbedder.name} (the bundled sentence encoder could not load: {reason})"


def keyed(embedder: Embedder) -> tuple[Callable[[str], str], Callable[[list[str]], np.ndarray]]:
    """``(key, embed_keys)`` of ``embedder``: the function of a text that its vector depends on
    alone, and the vectors of such keys, so that texts with the same key are embedded once (two
    replies that differ only in the accounts they mention or the links they carry). An embedder
    without ``key`` and ``embed_keys`` methods: the text itself and its ``embed``."""
    key, embed_keys = getattr(embedder, "key", None), getattr(embedder, "embed_keys", None)
    if callable(key) and callable(embed_keys):
        return key, embed_keys
    return (lambda text: text), embedder.embed


def default_embedder(model_set: str = "default") -> Embedder:
    """The bundled sentence encoder (of the model set ``model_set``), or hashed n-grams (named with
    the reason) when it cannot load.

    Any failure to load counts (missing model files, a missing or broken ONNX Runtime or
    tokenizer, a corrupt graph): the frames are still scored, and the stored embedder name
    carries the error so that the report says which vectors were used and why."""
    try:
        return BundledEmbedder(model_set)
    except Exception as exc:  # noqa: BLE001 - any load failure; the reason goes in the embedder's name
        return FallbackNgramEmbedder(f"{type(exc).__name__}: {exc}")


def background_texts() -> list[str]:
    """Ordinary posts on other subjects, shipped with askscope (TweetEval sentiment val)."""
    text = resources.files("askscope.lenses").joinpath("background.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


@dataclass
class CalibratedFrame:
    frame: Frame
    pattern: re.Pattern[str] | None
    centroid: np.ndarray | None
    threshold: float | None
    examples_similarity: float | None
    background_p95: float | None

    def describe(self) -> dict[str, Any]:
        return {
            "keywords": list(self.frame.keywords),
            "examples": len(self.frame.examples),
            "threshold": _r(self.threshold),
            "examples_similarity": _r(self.examples_similarity),
            "background_p95": _r(self.background_p95),
        }


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def calibrate(
    frames: tuple[Frame, ...], embedder: Embedder, background: list[str] | None = None
) -> list[CalibratedFrame]:
    background = background if background is not None else background_texts()
    back = embedder.embed(background) if frames else None
    out = []
    for frame in frames:
        pattern = None
        if frame.keywords:
            words = sorted((re.escape(k.lower()) for k in frame.keywords), key=len, reverse=True)
            pattern = re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
        centroid = threshold = loo = p95 = None
        if frame.examples:
            vectors = embedder.embed(list(frame.examples))
            centroid = vectors.mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            if len(vectors) > 1:
                sims = []
                for i in range(len(vectors)):
                    rest = np.delete(vectors, i, axis=0).mean(axis=0)
                    sims.append(float(vectors[i] @ (rest / (np.linalg.norm(rest) or 1.0))))
                loo = float(np.mean(sims))
            else:
                loo = float(vectors[0] @ centroid)
            back_sims = back @ centroid
            p95 = float(np.quantile(back_sims, 0.95))
            threshold = (p95 + loo) / 2 if loo > p95 else float(np.quantile(back_sims, 0.99))
        out.append(CalibratedFrame(frame, pattern, centroid, threshold, loo, p95))
    return out


def keyword_hits(texts: list[str], calibrated: list[CalibratedFrame]) -> list[list[bool]]:
    """Per text, per frame: does the text contain one of the frame's keywords."""
    return [[bool(c.pattern.search(t or "")) if c.pattern else False for c in calibrated] for t in texts]


def similarities(keys: list[str], calibrated: list[CalibratedFrame], embedder: Embedder) -> np.ndarray:
    """``(len(keys), len(calibrated))``: the similarity of each text, given by its key
    (:func:`keyed`), to each frame's examples; NaN for a frame without examples.

    Each row's products are summed on their own in float64 (not a matrix-vector product, whose
    float32 sums depend on the rows around a row: up to 1e-5 apart), so that a text's similarity
    is the same in any page of keys."""
    out = np.full((len(keys), len(calibrated)), np.nan)
    if keys and any(c.centroid is not None for c in calibrated):
        embed_keys = keyed(embedder)[1]
        centroids = {
            j: np.asarray(c.centroid, dtype=np.float64) for j, c in enumerate(calibrated) if c.centroid is not None
        }
        for first in range(0, len(keys), _EMBED):  # the vectors of a block of keys at a time
            vectors = embed_keys(keys[first : first + _EMBED])
            for start in range(0, len(vectors), _ROWS):  # float64 copies of a few rows at a time
                block = np.asarray(vectors[start : start + _ROWS], dtype=np.float64)
                for j, centroid in centroids.items():
                    out[first + start : first + start + len(block), j] = (block * centroid).sum(axis=1)
    return out


def uses(hit: bool, similarity: float, frame: CalibratedFrame) -> bool:
    """A text uses a frame: one of its keywords, or a similarity at the frame's threshold."""
    return bool(hit or (frame.centroid is not None and similarity >= (frame.threshold or 1.0)))


def score(
    texts: list[str], calibrated: list[CalibratedFrame], embedder: Embedder
) -> dict[str, tuple[list[bool], list[float]]]:
    """Per frame: does each text use it, and its similarity to the frame's examples (the
    classify stage computes the same per distinct key: ``stages.labeling.score_frames``)."""
    key = keyed(embedder)[0]
    sims = similarities([key(t or "") for t in texts], calibrated, embedder)
    hits = keyword_hits(texts, calibrated)
    return {
        c.frame.name: (
            [uses(hits[i][j], float(sims[i, j]), c) for i in range(len(texts))],
            [float(v) for v in sims[:, j]],
        )
        for j, c in enumerate(calibrated)
    }
