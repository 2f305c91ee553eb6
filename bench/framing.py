"""Frame detection quality: the bundled sentence encoder against hashed character n-grams.

Two real settings, both scored with the shipped code (``askscope.classify.frames``: keyword
match, similarity to the examples' centroid, threshold calibrated on the examples against the
bundled background posts):

1. **Stance frames** (SemEval-2016 stance, ``tweeteval/stance/<target>``): a frame is one stance
   on one target (10 frames: against / favor x abortion, atheism, climate, feminist, hillary).
   Its examples are ``k`` tweets of that stance drawn from the target's *train* split (seeds 0-9),
   no keywords (the embedding part alone); "uses the frame" is scored on the pooled *val* split
   of all five targets (294 tweets), where the truth is the tweet's target and stance label. The
   calibration rule was chosen looking at the train split only (``--split train``). Besides the
   shipped rule (``rule``), the threshold at the background's 95th and 99th percentile.
2. **The demo** (``askscope demo``: 103 real posts, @Uber_Sydney during the Sydney siege), the
   demo campaign's two frames (one example each) and the same frames with four examples each
   (tests/test_framing_encoder.py), against hand labels (bench/framing_demo_labels.csv).

    .venv/bin/python bench/framing.py [--data ../shared/data] [--split val] [--json OUT] [--fast]

Vectors are computed once per text and reused (``Cached``); the encoder runs one post per call, so
a text's vector here is the one ``askscope analyze`` gives it. ``--fast`` adds the fast model set's
encoder (``encoder-fast``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np

from askscope.campaign import Frame, load_campaign
from askscope.classify.frames import BundledEmbedder, Embedder, NgramEmbedder, background_texts, calibrate, score

HERE = Path(__file__).parent
TARGETS = ("abortion", "atheism", "climate", "feminist", "hillary")
STANCES = {1: "against", 2: "favor"}


class Cached:
    """An embedder that computes each text's vector once (benchmark speed only)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name = inner, inner.name
        self.cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # sparse: the n-gram rows are 65,536 wide
        self.width = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.cache})
        for start in range(0, len(missing), 500):
            block = missing[start : start + 500]
            vectors = self.inner.embed(block)
            self.width = vectors.shape[1]
            for text, vector in zip(block, vectors):
                index = np.flatnonzero(vector)
                self.cache[text] = (index, vector[index].astype(np.float32))
        out = np.zeros((len(texts), self.width), dtype=np.float32)
        for i, text in enumerate(texts):
            index, values = self.cache[text]
            out[i, index] = values
        return out


def prf(truth: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    tp = int((truth & pred).sum())
    precision = tp / pred.sum() if pred.sum() else 0.0
    recall = tp / truth.sum() if truth.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "flagged": float(pred.mean()),
        "truth": float(truth.mean()),
    }


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0]}


def stance(data: Path, split: str, embedders: dict[str, Cached]) -> dict:
    def read(target: str, part: str) -> list[tuple[str, int]]:
        folder = data / "tweeteval" / "stance" / target
        texts = (folder / f"{part}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = (folder / f"{part}_labels.txt").read_text(encoding="utf-8").split()
        # every tweet of the task ends with the task's own tag #SemST: not part of the post
        return [(t.replace("#SemST", "").strip(), int(y)) for t, y in zip(texts, labels)]

    train = {t: read(t, "train") for t in TARGETS}
    evaluation = [(t, text, y) for t in TARGETS for text, y in read(t, split)]
    background = background_texts()
    out: dict = {}
    for name, embedder in embedders.items():
        embedder.embed(background + [x for t in TARGETS for x, _ in train[t]] + [x for _, x, _ in evaluation])
        back = embedder.embed(background)
        for k in (5, 10):
            results: dict[str, list[dict[str, float]]] = {"rule": [], "p95": [], "p99": []}
            for target in TARGETS:
                for label in STANCES:
                    pool = [x for x, y in train[target] if y == label]
                    for seed in range(10):
                        rng = np.random.default_rng(seed)
                        examples = [pool[i] for i in sorted(rng.choice(len(pool), k, replace=False))]
                        rows = [(x, t == target and y == label) for t, x, y in evaluation if x not in examples]
                        texts = [x for x, _ in rows]
                        truth = np.array([y for _, y in rows])
                        (calibrated,) = calibrate((Frame("f", examples=tuple(examples)),), embedder, background)
                        uses, sims = score(texts, [calibrated], embedder)["f"]
                        results["rule"].append(prf(truth, np.array(uses)))
                        back_sims = back @ calibrated.centroid
                        for q, key in ((0.95, "p95"), (0.99, "p99")):
                            results[key].append(prf(truth, np.array(sims) >= np.quantile(back_sims, q)))
            out[f"{name}, k={k}"] = {rule: mean(rows) for rule, rows in results.items()}
    return out


def demo(embedders: dict[str, Cached]) -> dict:
    package = resources.files("askscope.demo")
    labels = {
        r["post_id"]: r
        for r in csv.DictReader(
            line
            for line in (HERE / "framing_demo_labels.csv").read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")
        )
    }
    import askscope

    with tempfile.TemporaryDirectory() as folder, resources.as_file(package.joinpath("uber_sydney.zip")) as zipped:
        store = str(Path(folder) / "demo.duckdb")
        askscope.ingest(store, [str(zipped)])
        with askscope.open_store(store, read_only=True) as db:
            _, rows = db.query("SELECT id, text FROM posts ORDER BY id")
    assert sorted(labels) == sorted(r[0] for r in rows), "the labels name every demo post"
    texts = [t or "" for _, t in rows]
    with resources.as_file(package.joinpath("campaign.toml")) as path:
        one = load_campaign(path).frames
    test_file = (HERE.parent / "tests" / "test_framing_encoder.py").read_text(encoding="utf-8")
    four_toml = tomllib.loads(test_file.split('CAMPAIGN = """', 1)[1].split('"""', 1)[0])
    four = tuple(Frame(n, tuple(f["keywords"]), tuple(f["examples"])) for n, f in four_toml["frames"].items())
    out: dict = {}
    for variant, frames in (("demo frames (1 example)", one), ("4 examples", four)):
        for name, embedder in embedders.items():
            calibrated = calibrate(frames, embedder)
            scores = score(texts, calibrated, embedder)
            for c in calibrated:
                truth = np.array([labels[i][c.frame.name] == "1" for i, _ in rows])
                keyword = (
                    np.array([bool(c.pattern.search(t)) for t in texts]) if c.pattern else np.zeros(len(texts), bool)
                )
                uses, sims = scores[c.frame.name]
                similar = np.array(sims) >= (c.threshold or 1.0)
                out[f"{variant}, {c.frame.name}, {name}"] = {
                    "keywords only": mean([prf(truth, keyword)]),
                    "keywords + similarity": mean([prf(truth, np.array(uses))]),
                    "similarity only": mean([prf(truth, similar)]),
                    "added by similarity": {
                        "posts": int((similar & ~keyword).sum()),
                        "correct": int((similar & ~keyword & truth).sum()),
                    },
                }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--split", default="val", choices=("train", "val"))
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--fast", action="store_true", help="also the fast model set's encoder (encoder-fast: the 3-layer student)"
    )
    args = parser.parse_args(argv)
    embedders = {"encoder": Cached(BundledEmbedder()), "n-grams": Cached(NgramEmbedder())}
    if args.fast:
        embedders["encoder-fast"] = Cached(BundledEmbedder("fast"))
    result = {"stance": stance(args.data, args.split, embedders), "demo": demo(embedders)}
    text = json.dumps(result, indent=1)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
