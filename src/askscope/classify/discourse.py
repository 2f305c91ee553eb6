"""The discourse category of a post addressed to a host: a transparent rule over the tasks.

The rule, applied to each task's own calibrated decision (its validation-tuned threshold):

1. ``abuse``: the post is hateful, or offensive without being positive (profanity in praise
   is not abuse).
2. ``mockery``: otherwise, the post is ironic / sarcastic / mocking (mocking questions
   land here, as the #AskHamas seed examples require).
3. ``question_critical``: otherwise, a question whose sentiment is negative or whose emotion
   is anger (a substantive challenge).
4. ``question_genuine``: otherwise, any other question or request.
5. ``support``: otherwise, positive sentiment.
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


def categories(labels: dict[str, np.ndarray]) -> np.ndarray:
    """Category ids (index into :data:`DISCOURSE_CATEGORIES`) from each task's label ids."""
    n = len(labels["sentiment"])
    out = np.full(n, DISCOURSE_CATEGORIES.index("other"), dtype=np.int64)
    abuse = (labels["hate"] == 1) | ((labels["offensive"] == 1) & (labels["sentiment"] != POSITIVE))
    mockery = labels["irony"] == 1
    question = labels["question"] == 1
    critical = (labels["sentiment"] == NEGATIVE) | (labels["emotion"] == ANGER)
    support = labels["sentiment"] == POSITIVE
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
