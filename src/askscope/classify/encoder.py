"""The shared multi-task encoder: a fine-tuned MiniLM in ONNX (int8), one pass for all heads."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import cast

import numpy as np

from askscope.classify.text import normalise

BATCH = 64


def default_threads() -> int:
    """ONNX Runtime intra-op threads: ``ASKSCOPE_THREADS`` or every available core."""
    value = os.environ.get("ASKSCOPE_THREADS")
    if value:
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Encoder:
    """Tokenises posts (``tokenizers``, no torch) and runs the ONNX graph in length-sorted batches.

    The logits of a post do not depend on the order of the input list: batches are formed after
    sorting the posts by (token length, token ids), so the same set of posts always gives the
    same batches. (Dynamic int8 quantisation scales activations per batch, so a post's logits
    can move by about 1e-2 when it is classified alongside other posts.)
    """

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        layout = json.loads((folder / "encoder.json").read_text())
        self.max_length: int = layout["max_length"]
        self.heads: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in layout["heads"].items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(folder / "encoder.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def run(self, texts: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Raw logits of every head, ``{head: array (len(texts), n_classes)}``, and the pooled
        sentence vector of every post (``(len(texts), 384)``, mean pooling, not normalised)."""
        width = max(stop for _, stop in self.heads.values())
        out = np.zeros((len(texts), width), dtype=np.float32)
        pooled_out: np.ndarray | None = None
        if texts:
            encodings = self.tokenizer.encode_batch([normalise(t) for t in texts])
            rows = [e.ids for e in encodings]
            order = sorted(range(len(rows)), key=lambda i: (len(rows[i]), rows[i]))
            for start in range(0, len(order), BATCH):
                chosen = order[start : start + BATCH]
                length = max(len(rows[i]) for i in chosen)
                ids = np.zeros((len(chosen), length), dtype=np.int64)
                mask = np.zeros((len(chosen), length), dtype=np.int64)
                for j, i in enumerate(chosen):
                    ids[j, : len(rows[i])] = rows[i]
                    mask[j, : len(rows[i])] = 1
                logits, pooled = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
                if pooled_out is None:
                    pooled_out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
                out[chosen] = logits
                pooled_out[chosen] = pooled
        if pooled_out is None:
            pooled_out = np.zeros((0, 384), dtype=np.float32)
        return {head: out[:, a:b] for head, (a, b) in self.heads.items()}, pooled_out

    def logits(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Raw logits of every head, ``{head: array (len(texts), n_classes)}``."""
        return self.run(texts)[0]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length sentence vectors (the encoder's mean-pooled output), one row per post."""
        pooled = self.run(texts)[1]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return cast(np.ndarray, (pooled / norms).astype(np.float32))
