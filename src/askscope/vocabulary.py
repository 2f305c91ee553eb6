"""askscope's vocabulary: the one place the tasks, the discourse categories and the hostile set
are defined. Everything else imports them from here (docs/metrics.md defines what they mean)."""

from __future__ import annotations

#: Tasks with a trained model.
MODEL_TASKS = ("sentiment", "irony", "offensive", "hate", "emotion", "question")
#: Tasks derived from other models or rules (language id; the discourse category of a post).
DERIVED_TASKS = ("language", "discourse")
#: Every task the ``classify`` stage labels, in the order they are reported.
TASKS = MODEL_TASKS + DERIVED_TASKS

#: What a post does towards the host (lens 1's categories), in report order.
CATEGORIES = ("question_genuine", "question_critical", "mockery", "abuse", "support", "other")
#: The categories the press counts as backlash: the hostile share is their sum.
HOSTILE = ("question_critical", "mockery", "abuse")
#: The categories that ask the host something (the engagement lens's questions).
QUESTION_CATEGORIES = ("question_genuine", "question_critical")
