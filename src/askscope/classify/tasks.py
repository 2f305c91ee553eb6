"""The tasks askscope classifies, and their label sets."""

from __future__ import annotations

MODEL_TASKS = ("sentiment", "irony", "offensive", "hate", "emotion", "question")
DERIVED_TASKS = ("language", "discourse")
TASKS = MODEL_TASKS + DERIVED_TASKS

DISCOURSE_CATEGORIES = (
    "question_genuine",
    "question_critical",
    "mockery",
    "abuse",
    "support",
    "other",
)


class UnknownTaskError(ValueError):
    """A task name that askscope does not know."""

    def __init__(self, task: str) -> None:
        super().__init__(f"unknown task {task!r}; known tasks: {', '.join(TASKS)} (or 'all')")
        self.task = task


def resolve(tasks: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Normalise a task selection: ``None`` or ``"all"`` = every task; order follows :data:`TASKS`."""
    if tasks is None or tasks == "all":
        return TASKS
    chosen = [tasks] if isinstance(tasks, str) else list(tasks)
    if "all" in chosen:
        return TASKS
    for task in chosen:
        if task not in TASKS:
            raise UnknownTaskError(task)
    return tuple(t for t in TASKS if t in chosen)
