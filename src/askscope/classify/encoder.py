"""The shared multi-task encoder: a fine-tuned MiniLM in ONNX (int8), one pass for all heads."""

from __future__ import annotations

import functools
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from askscope.classify.text import normalise

if TYPE_CHECKING:
    import onnxruntime

#: How posts reach the graph. Part of ``training.embed_cache``'s key, so that every cached output,
#: and with it every calibration and head fitted on cached outputs, is recomputed when it changes.
INFERENCE = "one-post-per-run/v3-plain-layernorm-exact-int8"
#: ONNX Runtime graph fusions left off. The graph has its residual adds and LayerNorms apart
#: (``training.onnx_graph.unfuse_skip_layer_norm``, the export's last step): the fused
#: ``SkipLayerNormalization`` CPU kernel was about four times slower than the plain ops on a post,
#: a quarter of the encoder's time. onnxruntime 1.32 does not fuse them back at load; this keeps
#: another version from doing it.
DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]
#: Exact int8 products on every x86-64 CPU. ONNX Runtime's u8 x s8 matmul kernels for AVX2 and
#: for AVX-512 without VNNI (``vpmaddubsw``) add pairs of products in 16 bits and saturate: a
#: ``DynamicQuantizeLinear`` activation near 255 times a weight near +-127 overflows. With this
#: session option ONNX Runtime stores the int8 weights as uint8 with zero point 128 (the same
#: integers) and multiplies u8 x u8, which does not saturate. Without it an AVX2-only machine
#: labelled 13 of the 1,000 hate validation posts otherwise than the VNNI machine the models were
#: validated on (docs/classify.md, "Exact on every CPU"). Set where :func:`saturates` says so: on
#: a VNNI CPU the u8 x s8 products are exact already, and its fast kernel stays. Nor where the
#: graph's weights are 7-bit (``encoder.json``: ``"weight_bits": 7``, integers in [-64, 64]):
#: 255 x 64 x 2 = 32,640 fits in 16 bits, so the u8 x s8 kernel is exact there too, and about a
#: sixth cheaper than the u8 x u8 one on an AVX2 CPU (docs/benchmarks.md, "7-bit weights").
PRECISION_KEY = "session.x64quantprecision"
#: ``training.int8_probe``'s graph: one u8 x s8 ``MatMulInteger`` whose pairs of products overflow 16 bits.
PROBE = Path(__file__).parent / "models" / "int8_probe.onnx"


def default_threads() -> int:
    """ONNX Runtime intra-op threads: ``ASKSCOPE_THREADS`` or every available core."""
    value = os.environ.get("ASKSCOPE_THREADS")
    if value:
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@functools.cache
def saturates() -> bool:
    """Whether ONNX Runtime's u8 x s8 products saturate on this CPU, asked once per process:
    :data:`PROBE` with every input at 255, run as it is and with :data:`PRECISION_KEY` (u8 x u8,
    exact everywhere); they differ only where the u8 x s8 kernel clips."""
    import onnxruntime

    results = []
    for precise in (False, True):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        if precise:
            options.add_session_config_entry(PRECISION_KEY, "1")
        session = onnxruntime.InferenceSession(str(PROBE), options, providers=["CPUExecutionProvider"])
        (probe,) = session.get_inputs()
        results.append(session.run(None, {probe.name: np.full(probe.shape, 255, dtype=np.uint8)})[0])
    return not np.array_equal(results[0], results[1])


def session_options(weight_bits: int = 8) -> onnxruntime.SessionOptions:
    """The encoder's ONNX Runtime options: one intra-op thread (posts run in parallel instead),
    every graph optimisation but :data:`DISABLED_OPTIMIZERS`, exact int8 products
    (:data:`PRECISION_KEY` where :func:`saturates`, unless the weights fit in ``weight_bits`` 7)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if weight_bits > 7 and saturates():
        options.add_session_config_entry(PRECISION_KEY, "1")
    return options


class Encoder:
    """Tokenises posts (``tokenizers``, no torch) and runs the ONNX graph on one post at a time.

    A post's logits and pooled vector are a function of its own text only. The graph is
    dynamically quantised to int8: ``DynamicQuantizeLinear`` computes one activation scale and
    zero point over its whole input tensor, so in a padded batch every post's activations were
    rounded on a grid set by the other posts (logits moved by up to 0.54 and 1-5% of argmaxes
    flipped between a batch of 64 and one post alone; issue 10). Each post therefore goes through
    the graph alone, without padding: the live console (posts one by one), ``askscope analyze``
    (a whole campaign) and ``askscope classify "one text"`` give a post the same labels. The
    cost is about a fifth more CPU than length-sorted batches of 64 (docs/classify.md).
    """

    def __init__(self, folder: Path, threads: int | None = None, tokenizer: Path | None = None) -> None:
        """``folder`` holds ``encoder.onnx`` and ``encoder.json``, and ``tokenizer.json`` unless
        ``tokenizer`` names another file (a model set sharing the default set's)."""
        import onnxruntime
        from tokenizers import Tokenizer

        layout = json.loads((folder / "encoder.json").read_text())
        self.max_length: int = layout["max_length"]
        self.heads: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in layout["heads"].items()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer or folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.no_padding()
        self.workers = threads or default_threads()
        self.session = onnxruntime.InferenceSession(
            str(folder / "encoder.onnx"),
            session_options(int(layout.get("weight_bits", 8))),
            providers=["CPUExecutionProvider"],
            disabled_optimizers=DISABLED_OPTIMIZERS,
        )

    def run(self, texts: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Raw logits of every head, ``{head: array (len(texts), n_classes)}``, and the pooled
        sentence vector of every post (``(len(texts), 384)``, mean pooling, not normalised)."""
        width = max(stop for _, stop in self.heads.values())
        out = np.zeros((len(texts), width), dtype=np.float32)
        pooled_out: np.ndarray | None = None
        if texts:
            encodings = self.tokenizer.encode_batch([normalise(t) for t in texts])

            def one(row: list[int]) -> tuple[np.ndarray, np.ndarray]:
                ids = np.asarray([row], dtype=np.int64)
                logits, pooled = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
                return logits[0], pooled[0]

            # one post per graph call; the session runs single-threaded and ``self.workers``
            # posts are in flight at once (ONNX Runtime releases the GIL), which keeps both cores
            # busy where one tiny post could not (outputs equal to the two-thread ones, bitwise)
            with ThreadPoolExecutor(self.workers) as pool:
                results = list(pool.map(one, [e.ids for e in encodings]))
            out[:] = np.stack([r[0] for r in results])
            pooled_out = np.stack([r[1] for r in results]).astype(np.float32)
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
