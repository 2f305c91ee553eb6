"""The discourse category of a post addressed to a host, from the other tasks' probabilities.

Two scorers share one interface (:func:`predict`); the card ``models/discourse.json`` says which
one ships (``model.kind``: ``head`` or ``rule``) and holds its validation confusion matrix:

* the **head**: a multinomial logistic regression over the tasks' probabilities (as log-odds),
  a few surface features of the text (:data:`TEXT_FEATURES`) and, when the card says so, the
  encoder's pooled sentence vector; trained by ``python -m training.discourse_head`` on public
  posts whose own labels map onto the categories, and shipped only where it beat the rule there
  (``docs/models/discourse.md``). Numpy only at run time.
* the **rule**, transparent and always available (:func:`categories`, :func:`soft_scores`).

The rule reads the tasks' calibrated probabilities. A binary signal counts when it is more
likely than not (probability >= 0.5; not the F1-tuned thresholds of the task labels, which are
set for each benchmark's own, higher base rates); sentiment and emotion are their most probable
class. In order of precedence:

1. ``abuse``: hateful, or offensive while not positive (profanity in praise is not abuse).
2. ``mockery``: ironic / sarcastic / mocking (mocking questions land here, as the #AskHamas
   seed examples require). When the post is positive, the irony probability must reach 0.75:
   effusive praise is otherwise too often read as sarcasm.
3. ``question_critical``: a question whose sentiment is negative or whose emotion is anger
   (a substantive challenge).
4. ``question_genuine``: any other question or request.
5. ``support``: positive sentiment.
6. ``other``: everything else.

Soft scores follow the same precedence with the tasks' probabilities treated as independent:
``P(abuse) = P(hate) + (1 - P(hate)) * P(offensive) * (1 - P(positive))``, then each later
category takes its probability times the probability that no earlier one applied. They sum to 1
and suit expected counts; the label is the hard rule above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import cast

import numpy as np

from askscope.classify.tasks import DISCOURSE_CATEGORIES
from askscope.classify.text import normalise

NEGATIVE, POSITIVE = 0, 2  # sentiment label ids
ANGER = 0  # emotion label id

REQUIRED = ("sentiment", "irony", "offensive", "hate", "emotion", "question")


LIKELY = 0.5
MOCKERY_IF_POSITIVE = 0.75


def categories(probabilities: dict[str, np.ndarray]) -> np.ndarray:
    """The rule's category ids (index into :data:`DISCOURSE_CATEGORIES`) from the tasks' probabilities."""
    n = len(probabilities["sentiment"])
    out = np.full(n, DISCOURSE_CATEGORIES.index("other"), dtype=np.int64)
    sentiment = probabilities["sentiment"].argmax(axis=1)
    emotion = probabilities["emotion"].argmax(axis=1)
    positive = sentiment == POSITIVE
    p_irony = probabilities["irony"][:, 1]
    abuse = (probabilities["hate"][:, 1] >= LIKELY) | ((probabilities["offensive"][:, 1] >= LIKELY) & ~positive)
    mockery = np.where(positive, p_irony >= MOCKERY_IF_POSITIVE, p_irony >= LIKELY)
    question = probabilities["question"][:, 1] >= LIKELY
    critical = (sentiment == NEGATIVE) | (emotion == ANGER)
    support = positive
    # Assign from the lowest precedence up, so higher rules overwrite.
    out[support] = DISCOURSE_CATEGORIES.index("support")
    out[question] = DISCOURSE_CATEGORIES.index("question_genuine")
    out[question & critical] = DISCOURSE_CATEGORIES.index("question_critical")
    out[mockery] = DISCOURSE_CATEGORIES.index("mockery")
    out[abuse] = DISCOURSE_CATEGORIES.index("abuse")
    return out


def soft_scores(probabilities: dict[str, np.ndarray]) -> np.ndarray:
    """The rule's category probabilities, shape ``(n, 6)``, columns in :data:`DISCOURSE_CATEGORIES` order."""
    p_pos = probabilities["sentiment"][:, POSITIVE]
    p_neg = probabilities["sentiment"][:, NEGATIVE]
    p_hate = probabilities["hate"][:, 1]
    p_off = probabilities["offensive"][:, 1]
    p_irony = probabilities["irony"][:, 1]
    p_question = probabilities["question"][:, 1]
    p_anger = probabilities["emotion"][:, ANGER]
    p_critical = p_neg + p_anger - p_neg * p_anger
    abuse = p_hate + (1 - p_hate) * p_off * (1 - p_pos)
    rest = 1 - abuse
    mockery = rest * p_irony
    rest = rest - mockery
    q_critical = rest * p_question * p_critical
    q_genuine = rest * p_question * (1 - p_critical)
    rest = rest * (1 - p_question)
    support = rest * p_pos
    other = rest - support
    columns = {
        "question_genuine": q_genuine,
        "question_critical": q_critical,
        "mockery": mockery,
        "abuse": abuse,
        "support": support,
        "other": other,
    }
    return np.stack([columns[c] for c in DISCOURSE_CATEGORIES], axis=1)


# ---------------------------------------------------------------------------------------------
# The head's inputs: the tasks' probabilities as log-odds, and surface features of the text.

_QUESTION_MARK = re.compile("[?\uff1f\u00bf\u061f\u037e]")  # ? fullwidth-? ¿ ؟ Greek ;
_WORDS = re.compile(r"[a-z']+")
_INTERROGATIVE = frozenset(
    "what why how when where who whom whose which is are was were do does did can could will would "
    "should shall may might have has had isn't aren't don't doesn't didn't can't won't wouldn't "
    "shouldn't".split()
)
_REQUEST = frozenset("please pls plz tell explain dm help let show give send confirm answer".split())
_THANKS = frozenset("thank thanks thx thankyou ty grateful appreciate appreciated cheers".split())
_LAUGHTER = re.compile(r"\b(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|jk)\b")

#: Surface features of a post's text, in the order :func:`text_features` returns them.
TEXT_FEATURES = (
    "question_mark",  # ?, fullwidth ?, ¿, ؟ or the Greek question mark anywhere
    "interrogative_start",  # the first word (after @user mentions) is an English wh-word or auxiliary
    "request_start",  # the first word is a request ("please", "tell", "explain", "dm" ...)
    "thanks",  # a word of thanks ("thank", "thanks", "thx", "appreciate" ...)
    "exclamation",  # an exclamation mark
    "laughter",  # lol, haha, lmao ...
    "shouting",  # share of upper-case letters above one half (at least 8 letters)
)


def text_features(texts: Sequence[str]) -> np.ndarray:
    """``(n, len(TEXT_FEATURES))`` 0/1 features of each post's normalised text."""
    out = np.zeros((len(texts), len(TEXT_FEATURES)), dtype=np.float64)
    for i, raw in enumerate(texts):
        text = normalise(str(raw))
        lower = text.lower()
        words = _WORDS.findall(re.sub(r"@user|\bhttp\b|#\w+", " ", lower))
        first = words[0] if words else ""
        letters = [c for c in text if c.isalpha()]
        upper = sum(c.isupper() for c in letters)
        out[i] = [
            _QUESTION_MARK.search(text) is not None or (";" in text and _greek(text)),
            first in _INTERROGATIVE,
            first in _REQUEST,
            any(w in _THANKS for w in words),
            "!" in text,
            _LAUGHTER.search(lower) is not None,
            len(letters) >= 8 and upper / len(letters) > 0.5,
        ]
    return out


def _greek(text: str) -> bool:
    """Whether the text is written in Greek script (where ``;`` is the question mark)."""
    return any("\u0370" <= c <= "\u03ff" for c in text)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 1e-4, 1 - 1e-4)
    return cast(np.ndarray, np.log(p) - np.log1p(-p))


#: The task inputs of the head, in the order :func:`task_features` returns them.
TASK_FEATURES = (
    "irony",
    "offensive",
    "hate",
    "question",  # log-odds of the positive class
    "sentiment:negative",
    "sentiment:neutral",
    "sentiment:positive",  # log-probabilities
    "emotion:anger",
    "emotion:joy",
    "emotion:optimism",
    "emotion:sadness",
)


def task_features(probabilities: dict[str, np.ndarray]) -> np.ndarray:
    """``(n, len(TASK_FEATURES))``: binary tasks as log-odds, multi-class tasks as log-probabilities."""
    binary = [_logit(probabilities[t][:, 1]) for t in ("irony", "offensive", "hate", "question")]
    multi = [np.log(np.clip(probabilities[t].astype(np.float64), 1e-4, 1.0)) for t in ("sentiment", "emotion")]
    return np.column_stack(binary + multi)


@dataclass(frozen=True)
class Head:
    """A multinomial logistic regression over standardised features (learned state from training).

    ``uses_pooled``: the encoder's pooled vector (unit length) is part of the input, after the
    task and text features. ``class_weights``: the decision is ``argmax(p * class_weights)``
    (the probabilities are fitted at equal category priors; the weights, tuned in training, keep
    mockery and abuse from being called on ordinary posts too often).
    """

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (n_features, 6)
    bias: np.ndarray  # (6,)
    uses_pooled: bool
    class_weights: np.ndarray = field(default_factory=lambda: np.ones(len(DISCOURSE_CATEGORIES)))

    @classmethod
    def load(cls, path: Path) -> Head:
        with np.load(path) as stored:
            return cls(
                stored["mean"],
                stored["scale"],
                stored["weights"],
                stored["bias"],
                bool(stored["uses_pooled"]),
                stored["class_weights"].astype(np.float64),
            )

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            uses_pooled=np.array(self.uses_pooled),
            class_weights=np.asarray(self.class_weights, dtype=np.float32),
        )

    def decide(self, probabilities: np.ndarray) -> np.ndarray:
        """Category ids from the head's probabilities, with its class weights."""
        return cast(np.ndarray, np.argmax(probabilities * self.class_weights[None, :], axis=1).astype(np.int64))

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Category probabilities ``(n, 6)`` from raw (unstandardised) features."""
        # einsum, not ``@``: a row's result must not depend on the other rows (see LinearHead.margin)
        z = np.einsum("nf,fk->nk", (features - self.mean) / self.scale, self.weights.astype(np.float64)) + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return cast(np.ndarray, e / e.sum(axis=1, keepdims=True))


def head_features(
    probabilities: dict[str, np.ndarray], texts: Sequence[str], pooled: np.ndarray | None, uses_pooled: bool
) -> np.ndarray:
    """The head's input matrix: task features, text features and (optionally) the unit pooled vector."""
    parts = [task_features(probabilities), text_features(texts)]
    if uses_pooled:
        if pooled is None:
            raise ValueError("the shipped discourse head reads the encoder's pooled vectors; pass them")
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        parts.append(pooled / np.where(norms == 0, 1.0, norms))
    return np.column_stack(parts)


def shipped_head() -> Head | None:
    """The head named by the active model set's discourse card, or ``None`` when the card ships
    the rule."""
    from askscope.classify import models

    return _shipped_head(models.active())


@cache
def _shipped_head(model_set: str) -> Head | None:
    from askscope.classify import models

    with models.use(model_set):
        model = models.card("discourse").get("model", {})
    if model.get("kind") != "head":
        return None
    return Head.load(models.path(model["file"], model_set))


def predict(
    probabilities: dict[str, np.ndarray], texts: Sequence[str], pooled: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Category ids and category probabilities ``(n, 6)`` of the shipped scorer (head or rule)."""
    head = shipped_head()
    if head is None:
        return categories(probabilities), soft_scores(probabilities)
    soft = head.probabilities(head_features(probabilities, texts, pooled, head.uses_pooled))
    return head.decide(soft), soft
