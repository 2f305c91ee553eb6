"""Rewrites of an exported ONNX graph that need onnx only (no torch), so that they are tested
where the package's tests run (``tests/test_training_onnx_graph.py``)."""

from __future__ import annotations

from pathlib import Path


def unfuse_skip_layer_norm(path: Path) -> int:
    """Rewrite the graph at ``path``: each ``SkipLayerNormalization(x, skip, gamma, beta, bias)``
    becomes ``LayerNormalization((x + skip) + bias, gamma, beta)`` with its epsilon (its optional
    sum output, when used, an ``Identity`` of the sum). Returns how many were split."""
    import onnx
    from onnx import helper

    model = onnx.load(str(path))
    nodes, split = [], 0
    for node in model.graph.node:
        if node.op_type != "SkipLayerNormalization":
            nodes.append(node)
            continue
        inputs, outputs = list(node.input), list(node.output)
        if any(outputs[1:3]):
            raise ValueError(f"{node.name}: the mean and inverse deviation outputs are used; not split")
        epsilon = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-12)
        x, skip, gamma, beta = inputs[:4]
        total = f"{node.name}_sum"
        nodes.append(helper.make_node("Add", [x, skip], [total], name=f"{node.name}_add"))
        if len(inputs) > 4 and inputs[4]:
            nodes.append(helper.make_node("Add", [total, inputs[4]], [f"{total}_bias"], name=f"{node.name}_bias"))
            total = f"{total}_bias"
        if len(outputs) > 3 and outputs[3]:
            nodes.append(helper.make_node("Identity", [total], [outputs[3]], name=f"{node.name}_out"))
        nodes.append(
            helper.make_node(
                "LayerNormalization",
                [total, gamma, beta],
                [outputs[0]],
                name=f"{node.name}_ln",
                axis=-1,
                epsilon=epsilon,
            )
        )
        split += 1
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return split
