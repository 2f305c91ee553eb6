"""What running the encoder on one post at a time costs, against the old length-sorted batches.

Usage: python bench/encoder_batching.py [DATA_DIR] [--n 2000] [--rounds 3]

Issue 10: the bundled encoder is dynamically quantised to int8, and ``DynamicQuantizeLinear``
takes one activation scale per input tensor, so in a padded batch a post's logits depended on the
posts batched with it. This bench compares, on the same posts and the same ONNX session (the
package's ``Encoder``), alternating rounds of

* ``batched64``: the package's scheme up to v2.1.0 (length-sorted batches of 64, padded);
* ``one-post``: one post per graph call, no padding (composition-independent by construction);

in CPU time per post (user + system, all threads; a shared machine's load moves it far less than
wall time) and wall time, and how far each scheme's logits move when the same posts are encoded
in another composition (the first half alone, then every post alone). Posts: every fifth of
``bench/classify.py``'s 20,000 (SemEval pool, OffensEval, 8 UMSAB languages).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from askscope.classify.encoder import Encoder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def batched64(enc: Encoder, texts: list[str]) -> np.ndarray:
    """Logits of every post through the pre-fix scheme: length-sorted, padded batches of 64."""
    from askscope.classify.text import normalise

    rows = [e.ids for e in enc.tokenizer.encode_batch([normalise(t) for t in texts])]
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i]), rows[i]))
    out: np.ndarray | None = None
    for start in range(0, len(order), 64):
        chosen = order[start : start + 64]
        width = max(len(rows[i]) for i in chosen)
        ids = np.zeros((len(chosen), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for j, i in enumerate(chosen):
            ids[j, : len(rows[i])] = rows[i]
            mask[j, : len(rows[i])] = 1
        logits, _ = enc.session.run(None, {"input_ids": ids, "attention_mask": mask})
        if out is None:
            out = np.zeros((len(texts), logits.shape[1]), dtype=np.float32)
        out[chosen] = logits
    assert out is not None
    return out


def one_post(enc: Encoder, texts: list[str]) -> np.ndarray:
    """Logits of every post with one post per graph call (no padding): the issue-10 scheme."""
    from askscope.classify.text import normalise

    rows = [e.ids for e in enc.tokenizer.encode_batch([normalise(t) for t in texts])]
    out: list[np.ndarray] = []
    for row in rows:
        ids = np.asarray([row], dtype=np.int64)
        logits, _ = enc.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        out.append(logits[0])
    return np.vstack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="?", default=ROOT.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("ASKSCOPE_THREADS", "2")
    from classify import load_posts  # bench/classify.py

    from askscope.classify import models

    posts = load_posts(args.data, 20_000)[::5][: args.n]
    enc = models.encoder()
    schemes = {"batched64": batched64, "one-post": one_post}
    for scheme in schemes.values():
        scheme(enc, posts[:64])  # warm-up
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in schemes}
    results: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, scheme in schemes.items():
            cpu, wall = cpu_seconds(), time.monotonic()
            results[name] = scheme(enc, posts)
            timings[name].append((cpu_seconds() - cpu, time.monotonic() - wall))
    check = posts[: min(300, len(posts))]
    print(f"{len(posts)} posts, {args.rounds} alternating rounds, load average {os.getloadavg()[0]:.1f} after")
    for name, scheme in schemes.items():
        cpu_ms = [1000 * c / len(posts) for c, _ in timings[name]]
        wall_ms = [1000 * w / len(posts) for _, w in timings[name]]
        together = scheme(enc, check)
        half = scheme(enc, check[: len(check) // 2])
        alone = np.vstack([scheme(enc, [text]) for text in check])
        moved = max(float(np.abs(together - alone).max()), float(np.abs(together[: len(half)] - half).max()))
        print(
            f"  {name:10s} CPU ms/post {' '.join(f'{v:.2f}' for v in cpu_ms)} (median {np.median(cpu_ms):.2f}); "
            f"wall ms/post median {np.median(wall_ms):.2f}; "
            f"largest logit change with the batch's composition ({len(check)} posts): {moved:.2e}"
        )


if __name__ == "__main__":
    main()
