"""The tasks askscope classifies, and their label sets (defined in :mod:`askscope.vocabulary`)."""

from __future__ import annotations

from askscope.vocabulary import CATEGORIES as DISCOURSE_CATEGORIES
from askscope.vocabulary import DERIVED_TASKS, MODEL_TASKS, TASKS

__all__ = ["DERIVED_TASKS", "DISCOURSE_CATEGORIES", "MODEL_TASKS", "TASKS", "UnknownTaskError", "resolve"]


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
