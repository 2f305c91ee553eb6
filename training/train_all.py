"""Rebuild every bundled classifier from the shared data folder.

Usage: python training/train_all.py DATA_DIR [--work build/classify] [--models src/askscope/classify/models]
       [--skip-finetune]

Steps (each also runnable alone as ``python -m training.<step>``):
  1. finetune        multi-task MiniLM fine-tuning (torch, 45-75 min on 2 CPU cores)
  2. export          ONNX export + int8 dynamic quantisation -> encoder.onnx
  3. ngrams          n-gram sentiment model -> sentiment_ngrams.npz
  4. calibrate       calibration, decision rules, confusion matrices -> <task>.json
     irony_head      irony head at realistic priors -> irony_head.npz, irony.json
     question_head   question head + rule features -> question_head.npz, question.json
  5. language_card   language-id accuracy on UMSAB val -> language.json
  6. evaluate        official validation figures through the installed package
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(module: str, *args: str) -> None:
    print(f"== {module} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", f"training.{module}", *args], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "classify")
    parser.add_argument("--models", type=Path, default=ROOT / "src" / "askscope" / "classify" / "models")
    parser.add_argument("--skip-finetune", action="store_true", help="reuse WORK/multitask.pt")
    args = parser.parse_args()
    data, work, models = (str(p.resolve()) for p in (args.data, args.work, args.models))
    if not args.skip_finetune:
        run("finetune", data, work)
    run("export", work, models)
    run("ngrams", data, models)
    run("calibrate", data, models)
    run("irony_head", data, models)
    run("question_head", data, models)
    run("language_card", data, models)
    run("evaluate", data, "--out", str(Path(work) / "val_report.json"))


if __name__ == "__main__":
    main()
