"""Distil the shipped 6-layer encoder into a shallower student (issue 15: the whole stack at
1,000 posts/s on two cores needs an encoder about twice as fast).

Usage: python -m training.distill DATA_DIR WORK_DIR [--layers 0,2,4] [--epochs 2]

1. The teacher is the shipped ``encoder.onnx`` itself: its int8 weights are dequantised into a
   torch BERT (:func:`teacher_weights`; the fine-tuning checkpoint is not needed), and its outputs
   (every head's logits and the pooled vector), computed by the package's own ONNX session, are
   the targets.
2. The student keeps the teacher's embeddings, the chosen layers (``--layers``) and its heads, and
   is trained on the texts of every head's *training* set (``training.tasks.training_sets``; no
   validation text is ever seen) to reproduce the teacher's logits and pooled vector, plus the gold
   label of the task each text comes from (a smaller weight).
3. ``WORK_DIR/multitask.pt`` is written in ``training.finetune``'s format with the number of
   layers, so ``training.export`` and every later step of ``training.train_all --skip-finetune``
   run unchanged.

Seeded; writes ``WORK_DIR/distill_log.json`` (losses, agreement with the teacher on validation
texts per head, time).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.finetune import MAX_LENGTH, SEED, MultiTask, base_model_dir, class_weights, encode, pad
from training.tasks import HEADS, training_sets, validation_sets

BATCH = 32
#: loss weights: teacher logits (MSE), teacher pooled vector (MSE, per unit of its variance), gold
WEIGHTS = {"logits": 1.0, "pooled": 1.0, "gold": 0.3}


def _dequantised(initialisers: dict[str, np.ndarray], name: str) -> np.ndarray:
    q = initialisers[f"{name}_quantized"].astype(np.float32)
    return (q - initialisers[f"{name}_zero_point"].astype(np.float32)) * initialisers[f"{name}_scale"].astype(
        np.float32
    )


def teacher_weights(onnx_path: Path) -> tuple[dict[str, torch.Tensor], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The shipped graph's weights, dequantised, as a ``BertModel`` state dict, and each head's
    ``(weight (k, 384), bias (k,))``."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state: dict[str, np.ndarray] = {}
    for part in ("word", "position", "token_type"):
        state[f"embeddings.{part}_embeddings.weight"] = _dequantised(
            init, f"model.encoder.embeddings.{part}_embeddings.weight"
        )
    for suffix in ("weight", "bias"):
        state[f"embeddings.LayerNorm.{suffix}"] = init[f"model.encoder.embeddings.LayerNorm.{suffix}"]
    # the three MatMuls of each layer, found by the node that reads them
    matmul: dict[tuple[int, str], str] = {}
    for node in graph.node:
        if node.op_type == "MatMulInteger" and "/encoder/encoder/layer." in node.output[0]:
            layer = int(node.output[0].split("layer.")[1].split("/")[0])
            where = node.output[0].split(f"layer.{layer}/")[1].rsplit("/MatMul", 1)[0]
            matmul[(layer, where)] = node.input[1].removesuffix("_quantized")
    layers = 1 + max(layer for layer, _ in matmul)
    for i in range(layers):
        p = f"encoder.layer.{i}."
        qkv = _dequantised(init, f"Attention_{i}_qkv_weight")  # (384, 3*384): q | k | v
        bias = init[f"Attention_{i}_qkv_bias"]
        for j, name in enumerate(("query", "key", "value")):
            state[f"{p}attention.self.{name}.weight"] = qkv[:, j * 384 : (j + 1) * 384].T
            state[f"{p}attention.self.{name}.bias"] = bias[j * 384 : (j + 1) * 384]
        for where, key in (
            ("attention/output/dense", "attention.output.dense"),
            ("intermediate/dense", "intermediate.dense"),
            ("output/dense", "output.dense"),
        ):
            state[f"{p}{key}.weight"] = _dequantised(init, matmul[(i, where)]).T
            state[f"{p}{key}.bias"] = init[f"model.encoder.encoder.layer.{i}.{key}.bias"]
        for key in ("attention.output.LayerNorm", "output.LayerNorm"):
            for suffix in ("weight", "bias"):
                state[f"{p}{key}.{suffix}"] = init[f"model.encoder.encoder.layer.{i}.{key}.{suffix}"]
    heads = {
        h: (_dequantised(init, f"model.heads.{h}.weight_Transposed").T.copy(), init[f"model.heads.{h}.bias"])
        for h in HEADS
    }
    return {k: torch.tensor(np.ascontiguousarray(v), dtype=torch.float32) for k, v in state.items()}, heads


def student(onnx_path: Path, layers: list[int]) -> MultiTask:
    """A ``MultiTask`` of ``len(layers)`` layers initialised from the teacher's embeddings, the
    chosen layers (in order) and the heads."""
    from transformers import AutoModel

    state, heads = teacher_weights(onnx_path)
    encoder = AutoModel.from_pretrained(base_model_dir(), attn_implementation="eager", num_hidden_layers=len(layers))
    mapped = {k: v for k, v in state.items() if not k.startswith("encoder.layer.")}
    for new, old in enumerate(layers):
        prefix = f"encoder.layer.{old}."
        mapped |= {f"encoder.layer.{new}." + k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    missing, unexpected = encoder.load_state_dict(mapped, strict=False)
    assert not unexpected and all(k.startswith("pooler.") for k in missing), (missing, unexpected)
    model = MultiTask(encoder, HEADS)
    with torch.no_grad():
        for h, (w, b) in heads.items():
            model.heads[h].weight.copy_(torch.tensor(w))
            model.heads[h].bias.copy_(torch.tensor(b))
    return model


def teacher_folder(work: Path) -> Path:
    """``WORK/teacher/``: a copy of the shipped encoder files, taken before ``training.export``
    replaces them with the student's."""
    import shutil

    from askscope.classify.models import MODELS_DIR

    folder = work / "teacher"
    if not (folder / "encoder.onnx").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("encoder.json", "tokenizer.json", "encoder.onnx"):
            shutil.copy(MODELS_DIR / name, folder / name)
    return folder


def teacher_outputs(folder: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every head's logits side by side ``(n, 17)`` and the pooled vector ``(n, 384)`` of the
    teacher, through the package's encoder (one post per graph call, as in use)."""
    from askscope.classify.encoder import Encoder

    encoder = Encoder(folder)
    logits, pooled = [], []
    for start in range(0, len(texts), 2000):
        encoded, p = encoder.run(texts[start : start + 2000])
        logits.append(np.concatenate([encoded[h] for h in HEADS], axis=1))
        pooled.append(p)
        print(f"teacher {start + len(p)}/{len(texts)}", flush=True)
    return np.concatenate(logits), np.concatenate(pooled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--layers", default="0,2,4")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=1e-4)
    args = parser.parse_args()
    from transformers import AutoTokenizer

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    args.work.mkdir(parents=True, exist_ok=True)
    layers = [int(x) for x in args.layers.split(",")]
    started = time.time()
    teacher = teacher_folder(args.work)

    train = training_sets(args.data)
    rows: list[tuple[str, str, int]] = []  # (text, head, gold)
    for head, split in train.items():
        rows += [(t, head, y) for t, y in zip(split.texts, split.labels)]
    texts = sorted({t for t, _, _ in rows})
    index = {t: i for i, t in enumerate(texts)}
    cache = args.work / "teacher.npz"
    if cache.exists():
        with np.load(cache) as saved:
            t_logits, t_pooled = saved["logits"], saved["pooled"]
        assert len(t_logits) == len(texts)
    else:
        t_logits, t_pooled = teacher_outputs(teacher, texts)
        np.savez(cache, logits=t_logits, pooled=t_pooled)
    print(f"{len(rows)} rows, {len(texts)} texts; teacher outputs in {time.time() - started:.0f} s", flush=True)
    pooled_scale = float(t_pooled.var())

    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    ids = encode(tokenizer, texts)
    model = student(teacher / "encoder.onnx", layers)
    head_slices, start = {}, 0
    for h, k in HEADS.items():
        head_slices[h] = (start, start + k)
        start += k
    weights = {
        "sentiment": class_weights(train["sentiment"].labels, 3, 1.0),
        "question": class_weights(train["question"].labels, 2, 0.5),
    }
    gold_loss = {h: nn.CrossEntropyLoss(weight=weights.get(h)) for h in HEADS}
    rng = random.Random(SEED)
    steps_per_epoch = (len(rows) + BATCH - 1) // BATCH
    total = int(args.epochs * steps_per_epoch)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, int(0.03 * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup)))
    )

    def batches():
        while True:
            order = list(range(len(rows)))
            rng.shuffle(order)
            chunk = BATCH * 50
            plan = []
            for s in range(0, len(order), chunk):
                pool = sorted(order[s : s + chunk], key=lambda r: len(ids[index[rows[r][0]]]))
                plan += [pool[j : j + BATCH] for j in range(0, len(pool), BATCH)]
            rng.shuffle(plan)
            yield from plan

    log: dict = {"layers": layers, "weights": WEIGHTS, "lr": args.lr, "epochs": args.epochs, "steps": total, "loss": []}
    model.train()
    running: dict[str, list[float]] = {"logits": [], "pooled": [], "gold": []}
    t0 = time.time()
    for step, sel in enumerate(batches()):
        if step >= total:
            break
        which = [index[rows[r][0]] for r in sel]
        input_ids, mask = pad([ids[i] for i in which])
        pooled = model.pooled(input_ids, mask)
        logits = torch.cat([model.heads[h](pooled) for h in HEADS], dim=1)
        target = torch.tensor(t_logits[which])
        l_logits = ((logits - target) ** 2).mean()
        l_pooled = ((pooled - torch.tensor(t_pooled[which])) ** 2).mean() / pooled_scale
        l_gold = torch.zeros(())
        for h in HEADS:
            mine = [k for k, r in enumerate(sel) if rows[r][1] == h]
            if mine:
                a, b = head_slices[h]
                gold = torch.tensor([rows[sel[k]][2] for k in mine])
                l_gold = l_gold + gold_loss[h](logits[mine, a:b], gold) * len(mine) / len(sel)
        loss = WEIGHTS["logits"] * l_logits + WEIGHTS["pooled"] * l_pooled + WEIGHTS["gold"] * l_gold
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        for k, v in (("logits", l_logits), ("pooled", l_pooled), ("gold", l_gold)):
            running[k].append(float(v))
        if (step + 1) % 200 == 0:
            rate = (step + 1) / (time.time() - t0)
            means = {k: round(float(np.mean(v[-200:])), 4) for k, v in running.items()}
            log["loss"].append({"step": step + 1, **means})
            print(
                f"step {step + 1}/{total} {rate:.2f} batch/s eta {(total - step) / rate / 60:.1f} min {means}",
                flush=True,
            )
        if (step + 1) % 2000 == 0 or step + 1 == total:
            torch.save(
                {
                    "state_dict": model.state_dict(),
                    "heads": HEADS,
                    "max_length": MAX_LENGTH,
                    "layers": len(layers),
                    "distilled_from": "encoder.onnx (6 layers)",
                    "teacher_layers": layers,
                },
                args.work / "multitask.pt",
            )
    # agreement with the teacher on the validation texts (argmax of the task's own head)
    model.eval()
    agreement = {}
    val = validation_sets(args.data)
    with torch.no_grad():
        for name, (head, split) in val.items():
            t = teacher_outputs(teacher, split.texts)[0][:, slice(*head_slices[head])].argmax(1)
            rows_ = encode(tokenizer, split.texts)
            preds = []
            for s in range(0, len(rows_), 128):
                i_, m_ = pad(rows_[s : s + 128])
                preds.append(model.heads[head](model.pooled(i_, m_)).argmax(1).numpy())
            agreement[name] = round(float((np.concatenate(preds) == t).mean()), 4)
    log["agreement_with_teacher"] = agreement
    log["minutes"] = round((time.time() - started) / 60, 1)
    (args.work / "distill_log.json").write_text(json.dumps(log, indent=2))
    print(json.dumps(agreement), f"done in {log['minutes']} min", flush=True)


if __name__ == "__main__":
    main()
