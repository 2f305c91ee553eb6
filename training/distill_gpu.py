"""Distil the shipped 6-layer encoder into a shallower student on a GPU (issue 15), in three steps
so that the GPU machine needs neither the shared data nor the base model's package:

    python -m training.distill_gpu pack DATA PACK_DIR                 # here: token ids, labels, config
    python -m training.distill_gpu train PACK_DIR OUT_DIR --layers 0,3,5 --minutes 6   # on the GPU
    python -m training.distill_gpu assemble OUT_DIR/student-0-3-5.pt WORK_DIR   # here: WORK/multitask.pt

``WORK/multitask.pt`` is then what ``training.export`` and the later steps of training/README.md
read, as for ``training.distill`` (the CPU version, 2 epochs of logit and pooled-vector targets).

What the GPU allows beyond ``training.distill``: the teacher (the shipped ``encoder.onnx``, its int8
weights dequantised by :func:`training.distill.teacher_weights`) runs beside the student on every
batch, so its targets are computed on the fly, also for *perturbed* copies of the training texts
(half the rows of a batch lose or swap a tenth of their tokens each): on the texts the teacher was
fine-tuned on, its outputs are in-sample, and a student that only copies them there learns
less of how the teacher behaves on unseen posts (training/README.md: the question head lost 5-7
points that way). The student also matches the teacher's hidden states layer by layer (TinyBERT's
intermediate loss: student layer k against the teacher layer it was initialised from), and trains
for as many epochs as ``--minutes`` allow. The word embeddings stay the teacher's (frozen), so the
returned file holds only what training changed (fp16, under the device's 16 MiB per file).

Only the training sets' texts are trained on (``training.tasks.training_sets``); the validation
sets travel to report, at the end, each head's argmax figure for the student and the teacher.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

#: loss weights: teacher logits (MSE), pooled vector and hidden states (MSE per unit of the
#: teacher's variance), gold label of the row's own task (unperturbed rows only)
WEIGHTS = {"logits": 1.0, "pooled": 1.0, "hidden": 1.0, "gold": 0.3}
#: share of a batch's rows perturbed, and each token's chance of being dropped / swapped in them
PERTURBED, DROP, SWAP = 0.5, 0.1, 0.1
BATCH = 256
#: steps at a rising learning rate, over which the rate of steps is measured
WARMUP = 300
CLS, SEP = 101, 102
ENCODER = Path("src/askscope/classify/models/encoder.onnx")


def _flat(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    return np.concatenate([np.asarray(r, dtype=np.uint16) for r in rows]), offsets


def pack(data: Path, out: Path) -> None:
    """Token ids of every training text (one row per (text, head, gold)) and of the validation sets."""
    from transformers import AutoTokenizer

    from training.finetune import base_model_dir, encode
    from training.tasks import HEADS, training_sets, validation_sets

    out.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir())
    train = training_sets(data)
    heads = list(HEADS)
    rows = [(t, heads.index(h), y) for h, split in train.items() for t, y in zip(split.texts, split.labels)]
    texts = sorted({t for t, _, _ in rows})
    index = {t: i for i, t in enumerate(texts)}
    ids, offsets = _flat(encode(tokenizer, texts))
    arrays = {
        "ids": ids,
        "offsets": offsets,
        "row_text": np.array([index[t] for t, _, _ in rows], dtype=np.int64),
        "row_head": np.array([h for _, h, _ in rows], dtype=np.int64),
        "row_gold": np.array([y for _, _, y in rows], dtype=np.int64),
    }
    names = []
    for name, (head, split) in validation_sets(data).items():
        v_ids, v_off = _flat(encode(tokenizer, split.texts))
        arrays |= {f"val.{name}.ids": v_ids, f"val.{name}.offsets": v_off}
        arrays[f"val.{name}.labels"] = np.asarray(split.labels, dtype=np.int64)
        names.append((name, head))
    np.savez_compressed(out / "pack.npz", **arrays)
    shutil.copy(base_model_dir() / "config.json", out / "config.json")
    (out / "pack.json").write_text(json.dumps({"heads": HEADS, "validation": names, "texts": len(texts)}))
    print(f"{len(rows)} rows, {len(texts)} texts, {len(ids)} tokens -> {out}")


def _padded(ids: np.ndarray, offsets: np.ndarray):
    import torch

    lengths = np.diff(offsets)
    grid = np.zeros((len(lengths), int(lengths.max())), dtype=np.int64)
    for i, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])):
        grid[i, : b - a] = ids[a:b]
    return torch.tensor(grid), torch.tensor(lengths)


def perturb(ids, mask, generator):
    """Half the rows lose a tenth of their tokens and have another tenth swapped for tokens of the
    batch ([CLS] and [SEP] stay); returns new ids, mask and which rows were perturbed."""
    import torch

    b, t = ids.shape
    device = ids.device
    inner = mask.bool() & (ids != CLS) & (ids != SEP)
    rows = torch.rand(b, device=device, generator=generator) < PERTURBED
    r = torch.rand(b, t, device=device, generator=generator)
    drop = inner & rows[:, None] & (r < DROP)
    swap = inner & rows[:, None] & (r >= DROP) & (r < DROP + SWAP)
    pool = ids[inner]
    pick = pool[torch.randint(len(pool), (b, t), device=device, generator=generator)]
    ids = torch.where(swap, pick, ids)
    keep = mask.bool() & ~drop
    position = torch.arange(t, device=device).expand(b, t)
    order = torch.argsort(torch.where(keep, position, position + t), dim=1)
    ids = torch.gather(ids * keep, 1, order)
    mask = torch.gather(keep, 1, order).long()
    width = int(mask.sum(1).max())
    return ids[:, :width], mask[:, :width], rows


def _model(config_path: Path, layers: int, heads: dict[str, int]):
    from transformers import BertConfig, BertModel

    from training.finetune import MultiTask

    config = BertConfig.from_json_file(str(config_path))
    config.num_hidden_layers = layers
    return MultiTask(BertModel(config, add_pooling_layer=False), heads)


def _forward(model, ids, mask):
    """Pooled vector (mean of the last layer over the mask), every hidden state, every head's logits."""
    import torch

    out = model.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    m = mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
    pooled = (out.last_hidden_state * m).sum(1) / m.sum(1).clamp(min=1.0)
    logits = torch.cat([head(pooled) for head in model.heads.values()], dim=1)
    return pooled.float(), out.hidden_states, logits.float()


def train(
    pack_dir: Path,
    out: Path,
    layers: list[int],
    minutes: float,
    lr: float,
    seed: int,
    name: str = "",
    oversample: dict[str, int] | None = None,
) -> None:
    import torch

    from training.distill import teacher_weights
    from training.metrics import OFFICIAL

    started = time.time()
    out.mkdir(parents=True, exist_ok=True)
    tag = "-".join(map(str, layers)) + (f"-{name}" if name else "")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(seed)
    generator = torch.Generator(device=device).manual_seed(seed)
    meta = json.loads((pack_dir / "pack.json").read_text())
    heads: dict[str, int] = meta["heads"]
    with np.load(pack_dir / "pack.npz") as saved:
        arrays = {k: saved[k] for k in saved.files}
    grid, lengths = _padded(arrays["ids"], arrays["offsets"])
    grid, lengths = grid.to(device), lengths.to(device)
    row_text = torch.tensor(arrays["row_text"], device=device)
    row_head = torch.tensor(arrays["row_head"], device=device)
    row_gold = torch.tensor(arrays["row_gold"], device=device)

    state, head_weights = teacher_weights(ENCODER)
    teacher = _model(pack_dir / "config.json", 6, heads)
    teacher.encoder.load_state_dict(state)
    student = _model(pack_dir / "config.json", len(layers), heads)
    mapped = {k: v for k, v in state.items() if not k.startswith("encoder.layer.")}
    for new, old in enumerate(layers):
        prefix = f"encoder.layer.{old}."
        mapped |= {f"encoder.layer.{new}." + k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    student.encoder.load_state_dict(mapped)
    with torch.no_grad():
        for model in (teacher, student):
            for h, (w, b) in head_weights.items():
                model.heads[h].weight.copy_(torch.tensor(w))
                model.heads[h].bias.copy_(torch.tensor(b))
    student.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    teacher.to(device).eval()
    student.to(device).train()
    for p in teacher.parameters():
        p.requires_grad_(False)
    slices, start = [], 0
    for k in heads.values():
        slices.append((start, start + k))
        start += k
    gold_loss = torch.nn.CrossEntropyLoss(reduction="none")
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda")

    def batch(sel):
        text = row_text[sel]
        width = int(lengths[text].max())
        ids = grid[text, :width]
        mask = (torch.arange(width, device=device)[None, :] < lengths[text][:, None]).long()
        return ids, mask

    # the teacher's variance of each hidden state and of the pooled vector, on 2,048 rows
    with torch.no_grad(), autocast:
        ids, mask = batch(torch.randperm(len(row_text), device=device, generator=generator)[:2048])
        t_pooled, t_hidden, _ = _forward(teacher, ids, mask)
        scale = [float(h.float()[mask.bool()].var()) for h in t_hidden]
        pooled_scale = float(t_pooled.var())
    params = [p for p in student.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warmup, total = WARMUP, None
    log: dict = {
        "oversample": oversample,
        "layers": layers,
        "weights": WEIGHTS,
        "lr": lr,
        "batch": BATCH,
        "loss": [],
        "device": device,
    }
    if device == "cuda":
        log["gpu"] = torch.cuda.get_device_name()
    budget = minutes * 60
    t0 = time.time()
    # an epoch's rows: every row once, a head named in ``oversample`` k times
    pool = torch.arange(len(row_text), device=device)
    for head_name, k in (oversample or {}).items():
        mine = pool[row_head == list(heads).index(head_name)]
        pool = torch.cat([pool] + [mine] * (k - 1))
    step, epoch_rows = 0, len(pool)
    order = pool[torch.randperm(epoch_rows, device=device, generator=generator)]
    at = 0
    running: dict[str, list] = {k: [] for k in WEIGHTS}  # tensors: no host sync per step
    while total is None or step < total:
        if at + BATCH > epoch_rows:
            order, at = pool[torch.randperm(epoch_rows, device=device, generator=generator)], 0
        sel = order[at : at + BATCH]
        at += BATCH
        ids, mask = batch(sel)
        ids, mask, perturbed = perturb(ids, mask, generator)
        if total is None:
            fraction = (step + 1) / warmup
            if step + 1 == warmup:  # the schedule's length from the measured rate
                rate = warmup / (time.time() - t0)
                total = max(warmup + 1, int(rate * (budget - (t0 - started)) * 0.97))
                log["steps"], log["epochs"] = total, round(total * BATCH / epoch_rows, 2)
                print(f"[{tag}] {rate:.1f} steps/s -> {total} steps, {log['epochs']} epochs", flush=True)
        else:
            fraction = max(0.0, (total - step) / (total - warmup))
        for group in optimiser.param_groups:
            group["lr"] = lr * fraction
        with torch.no_grad(), autocast:
            t_pooled, t_hidden, t_logits = _forward(teacher, ids, mask)
        with autocast:
            s_pooled, s_hidden, s_logits = _forward(student, ids, mask)
        on = mask.bool()
        l_hidden = sum(
            ((s_hidden[k + 1].float() - t_hidden[old + 1].float())[on] ** 2).mean() / scale[old + 1]
            for k, old in enumerate(layers)
        ) / len(layers)
        l_logits = ((s_logits - t_logits) ** 2).mean()
        l_pooled = ((s_pooled - t_pooled) ** 2).mean() / pooled_scale
        head = row_head[sel]
        clean = ~perturbed
        l_gold = torch.zeros((), device=device)
        for h, (a, b) in enumerate(slices):
            mine = clean & (head == h)
            if mine.any():
                l_gold = l_gold + gold_loss(s_logits[mine, a:b], row_gold[sel][mine]).sum() / len(sel)
        loss = (
            WEIGHTS["logits"] * l_logits
            + WEIGHTS["pooled"] * l_pooled
            + WEIGHTS["hidden"] * l_hidden
            + WEIGHTS["gold"] * l_gold
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        for k, v in (("logits", l_logits), ("pooled", l_pooled), ("hidden", l_hidden), ("gold", l_gold)):
            running[k].append(v.detach())
        step += 1
        if step % 500 == 0:
            means = {k: round(float(torch.stack(v).float().mean()), 4) for k, v in running.items()}
            running = {k: [] for k in WEIGHTS}
            log["loss"].append({"step": step, **means})
            print(f"[{tag}] step {step}/{total} {time.time() - t0:.0f} s {means}", flush=True)
    log["train_s"] = round(time.time() - t0, 1)

    # each validation set: the argmax figure of the student and of the teacher, and their agreement
    student.eval()
    figures = {}
    with torch.no_grad(), autocast:
        for set_name, set_head in meta["validation"]:
            v_grid, v_len = _padded(arrays[f"val.{set_name}.ids"], arrays[f"val.{set_name}.offsets"])
            v_grid, v_len = v_grid.to(device), v_len.to(device)
            a, b = slices[list(heads).index(set_head)]
            preds = {}
            for who, model in (("student", student), ("teacher", teacher)):
                out_ = []
                for s in range(0, len(v_len), 512):
                    ids = v_grid[s : s + 512]
                    mask = (torch.arange(ids.shape[1], device=device)[None, :] < v_len[s : s + 512][:, None]).long()
                    out_.append(_forward(model, ids, mask)[2][:, a:b].argmax(1).cpu().numpy())
                preds[who] = np.concatenate(out_)
            gold = arrays[f"val.{set_name}.labels"]
            metric = OFFICIAL["umsab" if set_name.startswith("umsab-") else set_name][1]
            figures[set_name] = {
                "student": round(100 * metric(gold, preds["student"]), 2),
                "teacher": round(100 * metric(gold, preds["teacher"]), 2),
                "agreement": round(float((preds["student"] == preds["teacher"]).mean()), 4),
            }
            print(f"[{tag}] {set_name}: {figures[set_name]}", flush=True)
    log["validation_argmax"] = figures
    log["minutes"] = round((time.time() - started) / 60, 1)
    kept = {k: v.half().cpu() for k, v in student.state_dict().items() if "word_embeddings" not in k}
    torch.save({"state_dict": kept, "layers": layers, "heads": heads}, out / f"student-{tag}.pt")
    (out / f"log-{tag}.json").write_text(json.dumps(log, indent=2))


def assemble(student_file: Path, work: Path) -> None:
    """``WORK/multitask.pt`` in ``training.finetune``'s format: the student's trained tensors and the
    teacher's word embeddings (frozen in training), on the base model's architecture."""
    import torch

    from training.distill import student as initial
    from training.finetune import MAX_LENGTH

    saved = torch.load(student_file, map_location="cpu")
    layers = saved["layers"]
    model = initial(ENCODER, layers)
    state = {k: v.float() for k, v in saved["state_dict"].items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    assert all("word_embeddings" in k or "pooler" in k for k in missing), missing
    work.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": model.state_dict(),
            "heads": saved["heads"],
            "max_length": MAX_LENGTH,
            "layers": len(layers),
            "distilled_from": "encoder.onnx (6 layers), on a GPU with perturbed texts and hidden-state targets",
            "teacher_layers": layers,
        },
        work / "multitask.pt",
    )
    print(f"{work / 'multitask.pt'}: {len(layers)} layers from the teacher's {layers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("data", type=Path)
    p.add_argument("out", type=Path)
    t = sub.add_parser("train")
    t.add_argument("pack", type=Path)
    t.add_argument("out", type=Path)
    t.add_argument("--layers", default="0,3,5")
    t.add_argument("--minutes", type=float, default=6.0)
    t.add_argument("--lr", type=float, default=3e-4)
    t.add_argument("--seed", type=int, default=20240)
    t.add_argument("--name", default="", help="suffix of the output files' names")
    t.add_argument("--oversample", default="", help="HEAD=K,...: a head's rows K times an epoch")
    t.add_argument("--gold", type=float, default=WEIGHTS["gold"], help="weight of the gold labels' loss")
    a = sub.add_parser("assemble")
    a.add_argument("student", type=Path)
    a.add_argument("work", type=Path)
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.data, args.out)
    elif args.command == "train":
        WEIGHTS["gold"] = args.gold
        oversample = {h: int(k) for h, k in (x.split("=") for x in args.oversample.split(",") if x)}
        layers = [int(x) for x in args.layers.split(",")]
        train(args.pack, args.out, layers, args.minutes, args.lr, args.seed, args.name, oversample)
    else:
        assemble(args.student, args.work)


if __name__ == "__main__":
    main()
