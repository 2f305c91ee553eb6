"""The small numpy heads on the frozen encoder (irony, question): maths, files, and no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from askscope.classify.heads import LinearHead, input_block
from askscope.classify.models import MODELS_DIR


def test_linear_head_margin_and_scores_by_hand(tmp_path: Path) -> None:
    # Two input columns: the question head's margin and the 6 question rule features (7 columns).
    head = LinearHead(
        ("margin:question", "rules:questions"),
        mean=np.array([1.0] + [0.0] * 6),
        scale=np.array([2.0] + [1.0] * 6),
        coef=np.array([0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        intercept=-1.0,
    )
    logits = {"question": np.array([[0.0, 3.0], [1.0, 0.0]])}
    texts = ["is it true?", "fine."]
    # Post 1: margin 3 - 0 = 3, standardised (3 - 1) / 2 = 1 -> 0.5 * 1; question mark 1 -> 1.0 * 1.
    #         z = -1 + 0.5 + 1 = 0.5.
    # Post 2: margin 0 - 1 = -1, standardised (-1 - 1) / 2 = -1 -> -0.5; no question mark. z = -1.5.
    assert head.scores(texts, logits, np.zeros((2, 384))).tolist() == [[0.0, 0.5], [0.0, -1.5]]
    path = tmp_path / "h.npz"
    head.save(path)
    again = LinearHead.load(path)
    assert again.inputs == head.inputs
    assert np.allclose(again.scores(texts, logits, np.zeros((2, 384))), [[0.0, 0.5], [0.0, -1.5]])


def test_pooled_input_is_unit_length_and_zero_safe() -> None:
    pooled = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert input_block("pooled", ["a", "b"], {}, pooled).tolist() == [[0.6, 0.8], [0.0, 0.0]]
    with pytest.raises(ValueError, match="unknown head input"):
        input_block("bogus", ["a"], {}, pooled)


@pytest.mark.parametrize("task", ["irony", "question"])
def test_card_names_a_shipped_head_whose_inputs_are_known(task: str) -> None:
    card = json.loads((MODELS_DIR / f"{task}.json").read_text(encoding="utf-8"))
    files = [s["file"] for s in card["sources"] if s["kind"] == "head"]
    assert files, "the task is served by a linear head"
    layout = json.loads((MODELS_DIR / "encoder.json").read_text())["heads"]
    logits = {h: np.zeros((1, stop - start)) for h, (start, stop) in layout.items()}
    for name in files:
        head = LinearHead.load(MODELS_DIR / name)
        width = sum(input_block(n, ["x"], logits, np.ones((1, 384))).shape[1] for n in head.inputs)
        assert head.coef.shape == head.mean.shape == head.scale.shape == (width,)
        assert (MODELS_DIR / name).stat().st_size < 64 * 1024


NO_TORCH = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'sklearn', 'transformers'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
from askscope.classify import classify
out = classify(['Tell us why you raised prices', 'Thanks for the update.'], ['irony', 'question'])
print(out['question'].names[0], out['irony'].probabilities.shape, sorted(m for m in ('torch', 'sklearn') if m in sys.modules))
"""


def test_heads_run_without_torch_or_scikit_learn() -> None:
    done = subprocess.run([sys.executable, "-c", NO_TORCH], capture_output=True, text=True, check=True)
    # An imperative request is a question (the request floor of the question card), whatever the model says.
    assert done.stdout.split("\n")[0] == "question (2, 2) []"


def test_sincere_thanks_are_not_ironic() -> None:
    """Real sincere thanks: airline tweets labelled positive that open with thanks, from the half of
    the airline data the irony head never trained on (``training.data.ordinary_halves``), and
    the demo's thanks. v1.0.0 labelled most effusive praise ironic; 1.5% of these (4 of 274) are
    flagged now, so 5% leaves room for a retrain and fails if praise reads as irony again."""
    from conftest import shared

    from askscope.classify import classify
    from training import data as d
    from training.data import ordinary_halves, unaddressed

    tweets = d.airline(shared())
    check = ~ordinary_halves(len(tweets), "airline")
    thanks = [
        t
        for t, y, keep in zip(tweets.texts, tweets.labels, check)
        if keep and y == 2 and unaddressed([t])[0].lower().startswith(("thank", "thx"))
    ]
    assert len(thanks) > 200
    labels = classify(thanks + ["Thank you for making rides free tonight."], ["irony"])["irony"].names
    assert sum(n == "irony" for n in labels[:-1]) / len(thanks) <= 0.05
    assert labels[-1] == "non_irony"


def test_question_card_figures_are_the_shipped_models_and_beat_the_question_mark() -> None:
    """The question card's in-sample figure is what the installed package scores on RumourEval dev
    (recomputed here through ``classify``, query F1 by hand from the counts), and its honest figure,
    the mean of 20 seeded two-fold splits, beats "contains ?" on the same posts by the 8 points
    issue 10 asks for (a retrain that loses the margin fails here)."""
    from conftest import shared

    from askscope.classify import classify
    from training import data as d

    card = json.loads((MODELS_DIR / "question.json").read_text(encoding="utf-8"))
    dev = d.rumoureval(shared(), "dev")
    gold = np.asarray(dev.labels)
    pred = np.asarray(classify(dev.texts, ["question"])["question"].labels)
    tp = int(((pred == 1) & (gold == 1)).sum())
    fp = int(((pred == 1) & (gold == 0)).sum())
    fn = int(((pred == 0) & (gold == 1)).sum())
    assert round(100 * 2 * tp / (2 * tp + fp + fn), 2) == pytest.approx(card["validation"]["in_sample"], abs=0.01)
    mark = np.array(["?" in t for t in dev.texts])
    tp, fp, fn = int((mark & (gold == 1)).sum()), int((mark & (gold == 0)).sum()), int((~mark & (gold == 1)).sum())
    contains = 100 * 2 * tp / (2 * tp + fp + fn)
    assert card["validation"]["baselines"]["contains ?"] == pytest.approx(contains, abs=0.01)
    assert card["validation"]["cross_fitted_mean_of_20_splits"] - contains >= 8.0
