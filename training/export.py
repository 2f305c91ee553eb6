"""Export the fine-tuned multi-task model to ONNX and quantise it to int8.

Usage: python -m training.export WORK_DIR MODELS_DIR [--weight-bits 7|8]
       python -m training.export --unfuse-only MODELS_DIR    # the last step alone, on a shipped graph
       python -m training.export --dequantise ONNX WORK_DIR   # WORK_DIR/multitask.pt from a shipped graph

Reads ``WORK_DIR/multitask.pt`` (from ``training.finetune``, or ``training.distill``: its
``layers`` gives the depth), writes ``WORK_DIR/encoder-fp32.onnx``
and the bundled ``MODELS_DIR/encoder.onnx`` (dynamic int8 quantisation of every MatMul and of
the embedding tables), plus ``MODELS_DIR/tokenizer.json`` and ``MODELS_DIR/encoder.json``
(head layout). The graph's outputs: ``logits`` (all heads side by side) and ``pooled``.

The last step splits every ``SkipLayerNormalization`` the BERT fusions made back into ``Add``
(residual, then bias) and ``LayerNormalization`` (:func:`unfuse_skip_layer_norm`): ONNX Runtime's
CPU kernel of the fused op took 86 µs on one post of 32 tokens against 22 µs for the three plain
ops (onnxruntime 1.32), a quarter of the encoder's time; the package keeps ONNX Runtime from
fusing them again (``askscope.classify.encoder.DISABLED_OPTIMIZERS``). The weights are untouched.

``--weight-bits 7`` (the default, as shipped since 4 Dec 2026) quantises each weight matrix per
output channel into [-64, 64] instead of per tensor into [-127, 127] (``--weight-bits 8``, before):
the u8 x s8 products then cannot overflow the 16-bit pair sums of the AVX2 kernel, so the package
runs it without ``session.x64quantprecision`` (about a sixth less CPU on an AVX2 CPU, exact
everywhere; ``encoder.json`` says ``"weight_bits": 7``), and the scale per channel gives back the
bit that the narrower range takes (docs/benchmarks.md, "The fast model set, and 7-bit weights").
``--dequantise`` writes ``WORK_DIR/multitask.pt`` from a shipped int8 graph's dequantised weights
(``training.distill.student`` with every layer), for re-quantising a model whose fp32 weights are
gone.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from torch import nn

from training.finetune import MultiTask, base_model_dir
from training.onnx_graph import unfuse_skip_layer_norm


class Exported(nn.Module):
    def __init__(self, model: MultiTask) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        pooled = self.model.pooled(input_ids, attention_mask)
        logits = torch.cat([head(pooled) for head in self.model.heads.values()], dim=1)
        return logits, pooled


def export(work: Path, models: Path, weight_bits: int = 7) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    if weight_bits not in (7, 8):
        raise ValueError(f"weight_bits must be 7 or 8, not {weight_bits}")
    checkpoint = torch.load(work / "multitask.pt", map_location="cpu")
    # Eager attention exports the plain MatMul/Softmax pattern that ONNX Runtime fuses into Attention.
    layers = checkpoint.get("layers", 6)
    encoder = AutoModel.from_pretrained(base_model_dir(), attn_implementation="eager", num_hidden_layers=layers)
    model = MultiTask(encoder, checkpoint["heads"])
    model.load_state_dict(checkpoint["state_dict"])  # strict: every layer of the checkpoint, no other
    model.eval()
    fp32 = work / "encoder-fp32.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(
        Exported(model),
        (ids, torch.ones_like(ids)),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits", "pooled"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "length"},
            "attention_mask": {0: "batch", 1: "length"},
            "logits": {0: "batch"},
            "pooled": {0: "batch"},
        },
        opset_version=17,
        dynamo=False,
    )
    # Fuse attention, GELU and skip-LayerNorm for ONNX Runtime's CPU kernels. The embedding
    # LayerNorm is left unfused so that the embedding tables stay plain Gathers and can be
    # quantised (they are 45 MB in fp32).
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_embed_layer_norm = False
    fused = work / "encoder-fused.onnx"
    optimize_model(
        str(fp32), model_type="bert", num_heads=12, hidden_size=384, opt_level=1, optimization_options=options
    ).save_model_to_file(str(fused))
    models.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(
        str(fused),
        str(models / "encoder.onnx"),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Attention", "Gather"],
        per_channel=weight_bits == 7,
        reduce_range=weight_bits == 7,
        extra_options={"DefaultTensorType": 1},
    )
    unfuse_skip_layer_norm(models / "encoder.onnx")
    shutil.copy(base_model_dir() / "tokenizer.json", models / "tokenizer.json")
    layout, start = {}, 0
    for name, k in checkpoint["heads"].items():
        layout[name] = [start, start + k]
        start += k
    (models / "encoder.json").write_text(
        json.dumps(
            {
                "base_model": "sentence-transformers/all-MiniLM-L6-v2",
                "layers": layers,
                **(
                    {"distilled_from": checkpoint["distilled_from"], "teacher_layers": checkpoint["teacher_layers"]}
                    if "distilled_from" in checkpoint
                    else {}
                ),
                "max_length": checkpoint["max_length"],
                "heads": layout,
                "pooling": "mean",
                "quantisation": "onnxruntime dynamic int8 (MatMul, Attention, Gather) after BERT fusions"
                + (
                    ", per output channel, weights in 7 bits ([-64, 64]: exact u8 x s8 products on every x86 CPU)"
                    if weight_bits == 7
                    else ""
                ),
                **({"weight_bits": 7} if weight_bits == 7 else {}),
            },
            indent=2,
        )
        + "\n"
    )


def dequantise(onnx_path: Path, work: Path) -> None:
    """``WORK/multitask.pt`` in ``training.finetune``'s format from ``onnx_path``'s dequantised
    weights, every layer kept (the depth read from the graph)."""
    import onnx

    from training.distill import student
    from training.finetune import HEADS, MAX_LENGTH

    nodes = onnx.load(str(onnx_path), load_external_data=False).graph.node
    depth = sum(1 for node in nodes if node.op_type in ("Attention", "QAttention"))
    model = student(onnx_path, list(range(depth)))
    work.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"state_dict": model.state_dict(), "heads": HEADS, "max_length": MAX_LENGTH, "layers": depth},
        work / "multitask.pt",
    )
    print(f"{work / 'multitask.pt'}: {depth} layers dequantised from {onnx_path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unfuse-only", action="store_true", help="split the skip-LayerNorms of MODELS/encoder.onnx")
    parser.add_argument("--dequantise", type=Path, metavar="ONNX", help="write WORK_DIR/multitask.pt from this graph")
    parser.add_argument(
        "--weight-bits",
        type=int,
        choices=(7, 8),
        default=7,
        help="7 (shipped): per channel, in [-64, 64]; 8: per tensor",
    )
    parser.add_argument("paths", type=Path, nargs="+", help="WORK_DIR MODELS_DIR, or MODELS_DIR with --unfuse-only")
    args = parser.parse_args()
    if args.unfuse_only:
        (models,) = args.paths
        print(f"split {unfuse_skip_layer_norm(models / 'encoder.onnx')} SkipLayerNormalization nodes")
        return
    if args.dequantise:
        (work,) = args.paths
        dequantise(args.dequantise, work)
        return
    work, models = args.paths
    export(work, models, args.weight_bits)


if __name__ == "__main__":
    main()
