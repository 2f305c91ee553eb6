"""Encode named data splits once: cached head logits and pooled vectors of the bundled encoder.

Usage: python -m training.embed_cache DATA_DIR NAME [NAME ...]   (or ``--all``, ``--list``)

Every head's raw logits and the 384-d mean-pooled vector of each post come from one pass of the
shipped ONNX encoder (``askscope.classify.models.encoder().run``), exactly as the package runs it.
Encoding is the slow part of every experiment on frozen features (about 100-300 posts/s on two
shared cores), so results are cached in ``build/emb/`` (git-ignored) under a key made of the
texts and the encoder file: the same texts through the same encoder are never encoded twice, and
a rebuilt encoder invalidates the cache by itself.

Library use::

    from training.embed_cache import load_split, encode
    split, logits, pooled = load_split(Path("../shared/data"), "tweeteval-irony-val")
    logits, pooled = encode(["any", "texts"])          # cached by content too
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

from training import data as d

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "build" / "emb"
CHUNK = 2048
DEFAULT_DATA = ROOT.parent / "shared" / "data"


def _split_registry() -> dict[str, Callable[[Path], d.Split]]:
    """Split name -> loader. Names are ``<source>-<part>``; see ``--list``."""
    reg: dict[str, Callable[[Path], d.Split]] = {}
    for task in ("irony", "offensive", "hate", "emotion"):
        for part in ("train", "val"):
            reg[f"tweeteval-{task}-{part}"] = lambda data, t=task, p=part: d.tweeteval(data, t, p)
    reg["tweeteval-sentiment-val"] = lambda data: d.tweeteval(data, "sentiment", "val")
    for target in d.STANCE_TARGETS:
        for part in ("train", "val"):
            reg[f"stance-{target}-{part}"] = lambda data, t=target, p=part: d.stance(data, t, p)
    reg["isarcasm-fit"] = lambda data: d.isarcasm(data, "fit")
    reg["isarcasm-heldout"] = lambda data: d.isarcasm(data, "heldout")
    reg["isarcasm-arabic"] = d.isarcasm_arabic
    reg["rumoureval-train"] = lambda data: d.rumoureval(data, "train")
    reg["rumoureval-dev"] = lambda data: d.rumoureval(data, "dev")
    reg["complaints"] = d.complaints
    reg["airline"] = d.airline
    for lang in d.UMSAB_LANGUAGES:
        for part in ("train", "val"):
            reg[f"umsab-{lang}-{part}"] = lambda data, g=lang, p=part: d.umsab(data, g, p)
    reg["semeval2017-pool"] = d.semeval2017
    return reg


SPLITS = _split_registry()


@cache
def _encoder_digest() -> str:
    """Content hash of the shipped encoder graph and of how the package runs it (part of every
    cache key): a new graph or a new inference scheme (``encoder.INFERENCE``) re-encodes."""
    from askscope.classify.encoder import INFERENCE
    from askscope.classify.models import MODELS_DIR

    digest = hashlib.sha256(INFERENCE.encode())
    for name in ("encoder.onnx", "encoder.json", "tokenizer.json"):
        digest.update((MODELS_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def texts_key(texts: list[str]) -> str:
    """Cache key of a list of texts under the shipped encoder (order matters)."""
    digest = hashlib.sha256(_encoder_digest().encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()[:24]


def _run(texts: list[str], progress: str | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    from askscope.classify.models import encoder

    model = encoder()
    if not texts:
        return model.run([])
    heads: dict[str, list[np.ndarray]] = {}
    pooled: list[np.ndarray] = []
    started = time.monotonic()
    for start in range(0, len(texts), CHUNK):
        logits, vectors = model.run(texts[start : start + CHUNK])
        for head, values in logits.items():
            heads.setdefault(head, []).append(values)
        pooled.append(vectors)
        if progress:
            done = min(len(texts), start + CHUNK)
            rate = done / max(1e-9, time.monotonic() - started)
            print(f"  {progress}: {done}/{len(texts)} ({rate:.0f} posts/s)", file=sys.stderr, flush=True)
    return {h: np.concatenate(v) for h, v in heads.items()}, np.concatenate(pooled)


@cache
def _named_rows(cache_dir: Path, data: Path) -> dict[str, tuple[Path, int]]:
    """Text -> (cache file, row) for every named split already cached under this encoder.

    Sound because a post's outputs are a function of its own text (one post per graph call, see
    ``askscope.classify.encoder``): a text cached as part of one list has the same logits in any
    other list. Lets ad-hoc lists (the discourse set, the unaddressed copies) reuse the splits.
    """
    rows: dict[str, tuple[Path, int]] = {}
    for loader in SPLITS.values():
        try:
            texts = [str(t) for t in loader(data).texts]
        except (OSError, ValueError, KeyError):  # a data set missing from this folder
            continue
        path = cache_dir / f"{texts_key(texts)}.npz"
        if path.is_file():
            for row, text in enumerate(texts):
                rows.setdefault(text, (path, row))
    return rows


def _reuse(texts: list[str], cache_dir: Path, data: Path) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
    """Outputs of ``texts`` from the named splits' caches, encoding only the texts none holds."""
    known = _named_rows(cache_dir, data)
    missing = sorted({t for t in texts if t not in known})
    if len(missing) == len(set(texts)):
        return None
    fresh_heads, fresh_pooled = _run(missing, "texts no cached split holds") if missing else ({}, None)
    fresh_row = {t: i for i, t in enumerate(missing)}
    files: dict[Path, dict[str, np.ndarray]] = {}
    heads: dict[str, np.ndarray] = {}
    pooled = np.zeros((len(texts), 384), dtype=np.float32)
    for i, text in enumerate(texts):
        if text in fresh_row:
            source = {f"logits_{h}": v for h, v in fresh_heads.items()} | {"pooled": fresh_pooled}
            row = fresh_row[text]
        else:
            path, row = known[text]
            if path not in files:
                with np.load(path) as stored:
                    files[path] = {k: stored[k] for k in stored.files}
            source = files[path]
        for key, values in source.items():
            if key.startswith("logits_"):
                head = key[len("logits_") :]
                if head not in heads:
                    heads[head] = np.zeros((len(texts), values.shape[1]), dtype=values.dtype)
                heads[head][i] = values[row]
        pooled[i] = source["pooled"][row]
    return heads, pooled


def encode(
    texts: list[str], cache_dir: Path = CACHE_DIR, progress: str | None = None, data: Path | None = DEFAULT_DATA
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Head logits ``{head: (n, k)}`` and pooled vectors ``(n, 384)`` of ``texts``, from the cache
    when these texts were encoded before by this encoder, else computed and cached.

    Each post's outputs are a function of its own text (the package runs one post per graph
    call), so they do not depend on how the caller split its lists; chunks only pace progress.
    Texts that a cached named split of ``data`` (the shared data folder; ``None``: no reuse)
    holds are read from its cache and only the others are encoded.
    """
    texts = [str(t) for t in texts]
    path = cache_dir / f"{texts_key(texts)}.npz"
    if path.is_file():
        with np.load(path) as stored:
            heads = {k[len("logits_") :]: stored[k] for k in stored.files if k.startswith("logits_")}
            return heads, stored["pooled"]
    reused = _reuse(texts, cache_dir, data) if data is not None and data.is_dir() and texts else None
    heads, pooled = reused if reused is not None else _run(texts, progress)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, pooled=pooled.astype(np.float32), **{f"logits_{h}": v for h, v in heads.items()})
    tmp.replace(path)
    return heads, pooled


def load_split(data: Path, name: str, cache_dir: Path = CACHE_DIR) -> tuple[d.Split, dict[str, np.ndarray], np.ndarray]:
    """A named split (see :data:`SPLITS`) with its head logits and pooled vectors."""
    if name not in SPLITS:
        raise KeyError(f"unknown split {name!r}; known: {', '.join(sorted(SPLITS))}")
    split = SPLITS[name](data)
    logits, pooled = encode(split.texts, cache_dir, progress=name, data=None)
    return split, logits, pooled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, nargs="?", default=ROOT.parent / "shared" / "data")
    parser.add_argument("names", nargs="*")
    parser.add_argument("--all", action="store_true", help="every split except the 49k SemEval pool")
    parser.add_argument("--list", action="store_true", help="print the split names and exit")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    args = parser.parse_args()
    if args.list:
        print("\n".join(sorted(SPLITS)))
        return
    names = [n for n in SPLITS if n != "semeval2017-pool"] if args.all else args.names
    for name in names:
        started = time.monotonic()
        split, _, pooled = load_split(args.data, name, args.cache)
        print(f"{name}: {len(split)} posts, pooled {pooled.shape}, {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
