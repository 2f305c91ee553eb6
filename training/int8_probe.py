"""Build ``models/int8_probe.onnx``: the graph with which the package asks ONNX Runtime whether
its int8 products saturate on the CPU at hand.

One ``MatMulInteger`` of a uint8 input (4 x 64) and fixed int8 weights (64 x 16: +127 in the even
columns, -127 in the odd ones), zero points 0. With every input at 255 the exact products are
+-255 * 127 * 64 = +-2,072,640; a kernel that adds pairs of products in 16 bits (ONNX Runtime's
u8 x s8 kernels on x86-64 CPUs without VNNI) clips each pair at 32,767 and gives +-1,048,544.
``askscope.classify.encoder.saturates`` runs it once per process (docs/classify.md, "Exact on
every CPU")::

    python -m training.int8_probe            # rewrites src/askscope/classify/models/int8_probe.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "src" / "askscope" / "classify" / "models" / "int8_probe.onnx"
ROWS, DEPTH, COLUMNS = 4, 64, 16


def weights() -> np.ndarray:
    w = np.full((DEPTH, COLUMNS), 127, dtype=np.int8)
    w[:, 1::2] = -127
    return w


def build() -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node("MatMulInteger", ["A", "B", "a_zero", "b_zero"], ["Y"])
    graph = helper.make_graph(
        [node],
        "askscope-int8-probe",
        [helper.make_tensor_value_info("A", TensorProto.UINT8, [ROWS, DEPTH])],
        [helper.make_tensor_value_info("Y", TensorProto.INT32, [ROWS, COLUMNS])],
        [
            numpy_helper.from_array(weights(), "B"),
            numpy_helper.from_array(np.array(0, np.uint8), "a_zero"),
            numpy_helper.from_array(np.array(0, np.int8), "b_zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="askscope")
    model.ir_version = 8
    return bytes(model.SerializeToString())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.write_bytes(build())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
