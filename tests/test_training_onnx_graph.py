"""``training.onnx_graph.unfuse_skip_layer_norm``, the export's last step: ONNX Runtime's fused
``SkipLayerNormalization`` split back into ``Add`` and ``LayerNormalization`` computes the same
outputs (checked against numpy, by the formula of the contrib op), sum output included."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from askscope.classify.models import MODELS_DIR
from training.onnx_graph import unfuse_skip_layer_norm

H = 8
EPS = 0.25  # large enough that a lost epsilon shows in the outputs


def _graph(path: Path, *, mean_output: bool = False) -> dict[str, np.ndarray]:
    """Two fused nodes: one with a bias and its sum output used, one without either."""
    rng = np.random.default_rng(3)
    weights = {name: rng.normal(size=H).astype(np.float32) for name in ("g1", "b1", "bias1", "g2", "b2")}
    first_outputs = ["y1", "mean" if mean_output else "", "", "sum1"]
    nodes = [
        helper.make_node(
            "SkipLayerNormalization",
            ["x", "skip", "g1", "b1", "bias1"],
            first_outputs,
            name="sln1",
            domain="com.microsoft",
            epsilon=EPS,
        ),
        helper.make_node(
            "SkipLayerNormalization", ["y1", "x", "g2", "b2"], ["y2"], name="sln2", domain="com.microsoft", epsilon=EPS
        ),
    ]
    shape = [2, 3, H]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("y2", "sum1")]
    if mean_output:
        outputs.append(helper.make_tensor_value_info("mean", TensorProto.FLOAT, None))
    graph = helper.make_graph(
        nodes,
        "fused",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shape) for n in ("x", "skip")],
        outputs,
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    onnx.save(model, str(path))
    return weights


def _layer_norm(v: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    v = v.astype(np.float64)
    mean = v.mean(-1, keepdims=True)
    var = ((v - mean) ** 2).mean(-1, keepdims=True)
    return (v - mean) / np.sqrt(var + EPS) * gamma + beta


def _run(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # no fusing back
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(["y2", "sum1"], feeds)


def test_split_nodes_compute_what_the_fused_ones_do(tmp_path: Path) -> None:
    path = tmp_path / "g.onnx"
    w = _graph(path)
    rng = np.random.default_rng(4)
    feeds = {n: rng.normal(size=(2, 3, H)).astype(np.float32) for n in ("x", "skip")}
    fused = _run(path, feeds)

    assert unfuse_skip_layer_norm(path) == 2
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "SkipLayerNormalization" not in ops
    assert ops.count("LayerNormalization") == 2 and ops.count("Identity") == 1 and ops.count("Add") == 3
    split = _run(path, feeds)

    x, skip = feeds["x"].astype(np.float64), feeds["skip"].astype(np.float64)
    sum1 = x + skip + w["bias1"]
    y1 = _layer_norm(sum1, w["g1"], w["b1"])
    y2 = _layer_norm(y1 + x, w["g2"], w["b2"])
    for got in (fused, split):
        np.testing.assert_allclose(got[0], y2, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(got[1], sum1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(split[0], fused[0], atol=1e-5)


def test_a_used_mean_output_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "g.onnx"
    _graph(path, mean_output=True)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="sln1: the mean and inverse deviation outputs are used"):
        unfuse_skip_layer_norm(path)
    assert path.read_bytes() == before


def test_the_shipped_encoder_holds_no_fused_node(tmp_path: Path) -> None:
    """The package keeps ONNX Runtime from fusing again (classify/encoder.py); the file itself is
    the split graph, and splitting it again finds nothing to split."""
    copy = tmp_path / "encoder.onnx"
    shutil.copy(MODELS_DIR / "encoder.onnx", copy)
    assert unfuse_skip_layer_norm(copy) == 0
    ops = [n.op_type for n in onnx.load(str(copy)).graph.node]
    assert "SkipLayerNormalization" not in ops
    assert ops.count("LayerNormalization") >= 13  # the embeddings' and two in each of six layers
