"""The irony task on real reply threads: two model folders side by side.

    python bench/irony_threads.py ../shared/data OTHER_MODELS [--base MODELS]

The validation figures of the irony task (docs/models/irony.md) come from benchmark sets and
ordinary posts that are not reply threads. A candidate model can gain there and lose on what a
campaign is made of. This bench labels, with the shipped models (or ``--base``) and with
``OTHER_MODELS`` (a folder laid out like ``askscope/classify/models``, e.g. written by
``python -m training.irony_head DATA OTHER_MODELS --ngram-c 4``):

- the demo campaign's thread (``askscope/demo/uber_sydney.zip``, a real RumourEval thread): posts
  labelled ironic, the host's posts among them, and every post either model labels ironic with
  both probabilities, to read for sincere posts;
- every source tweet and reply of RumourEval train and dev (never used by the irony task): the
  share labelled ironic, overall and among posts that open with a mention (replies).

No gold labels exist for these posts, so this is a reading aid and a guard against a model that
flags sincere replies, not an accuracy figure. Prints a table; ``--json PATH`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def demo_posts() -> tuple[list[str], list[str], str]:
    """Texts and author handles of the demo thread, and the host's handle."""
    import tomllib

    from askscope import demo

    folder = Path(demo.__file__).parent
    texts, authors = [], []
    with zipfile.ZipFile(folder / "uber_sydney.zip") as archive:
        for name in sorted(archive.namelist()):
            if name.endswith(".json") and name.split("/")[0] in ("source-tweet", "replies"):
                tweet = json.loads(archive.read(name))
                texts.append(tweet["text"])
                authors.append(tweet["user"]["screen_name"])
    hosts = tomllib.loads((folder / "campaign.toml").read_text(encoding="utf-8"))["hosts"]
    return texts, authors, str(hosts[0]).lstrip("@")


def label(models_dir: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Irony labels and probabilities of the posts with the models in ``models_dir``."""
    from askscope.classify import models, predict

    models.MODELS_DIR = models.SETS["default"] = models_dir
    models.clear_caches()
    result = predict.classify(texts, ["irony"])["irony"]
    assert result.probabilities is not None
    return np.asarray(result.labels), result.probabilities[:, 1]


def main() -> None:
    from askscope.classify import models
    from training.embed_cache import SPLITS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("other", type=Path, help="the candidate models folder")
    parser.add_argument("--base", type=Path, default=models.MODELS_DIR, help="the models to compare with")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    texts, authors, host = demo_posts()
    is_host = np.array([a.lower() == host.lower() for a in authors])
    thread = [t for n in ("rumoureval-dev", "rumoureval-train") for t in SPLITS[n](args.data).texts]
    opens_with_mention = np.array([t.lstrip().startswith("@") for t in thread])
    figures: dict = {"demo_posts": len(texts), "host_posts": int(is_host.sum()), "rumoureval_posts": len(thread)}
    demo_p = {}
    for key, folder in (("base", args.base), ("other", args.other)):
        flags, p = label(folder, texts)
        demo_p[key] = (flags, p)
        r_flags, _ = label(folder, thread)
        figures[key] = {
            "models": str(folder),
            "threshold": models.card("irony")["decision"].get("threshold"),
            "demo_flagged": int(flags.sum()),
            "demo_host_flagged": int(flags[is_host].sum()),
            "rumoureval_flagged_share": round(float(r_flags.mean()), 4),
            "rumoureval_flagged_share_opening_with_mention": round(float(r_flags[opens_with_mention].mean()), 4),
        }
    print(
        "| models | threshold | demo posts flagged | host posts flagged | RumourEval flagged | opening with a mention |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for key in ("base", "other"):
        f = figures[key]
        print(
            f"| {key} ({f['models']}) | {f['threshold']} | {f['demo_flagged']} of {len(texts)} | "
            f"{f['demo_host_flagged']} of {int(is_host.sum())} | {100 * f['rumoureval_flagged_share']:.1f}% | "
            f"{100 * f['rumoureval_flagged_share_opening_with_mention']:.1f}% |"
        )
    print("\ndemo posts either model labels ironic (base p, other p; H = the host):")
    (bf, bp), (of, op) = demo_p["base"], demo_p["other"]
    for i in np.argsort(-op):
        if bf[i] or of[i]:
            print(f"  {bp[i]:.2f} {op[i]:.2f} {'H' if is_host[i] else ' '} {texts[i][:110]!r}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
