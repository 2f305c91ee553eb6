"""The discourse category of a post addressed to a host: a transparent rule over the tasks.

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

import numpy as np

from askscope.classify.tasks import DISCOURSE_CATEGORIES

NEGATIVE, POSITIVE = 0, 2  # sentiment label ids
ANGER = 0  # emotion label id

REQUIRED = ("sentiment", "irony", "offensive", "hate", "emotion", "question")


LIKELY = 0.5
MOCKERY_IF_POSITIVE = 0.75


def categories(probabilities: dict[str, np.ndarray]) -> np.ndarray:
    """Category ids (index into :data:`DISCOURSE_CATEGORIES`) from the tasks' probabilities."""
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
    """Category probabilities, shape ``(n, 6)``, columns in :data:`DISCOURSE_CATEGORIES` order."""
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
    columns = {"question_genuine": q_genuine, "question_critical": q_critical, "mockery": mockery,
               "abuse": abuse, "support": support, "other": other}
    return np.stack([columns[c] for c in DISCOURSE_CATEGORIES], axis=1)
