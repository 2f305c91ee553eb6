"""What a lens is: a named computation over the campaign that returns a JSON-able document of
numbers (each share with its interval), stored by the ``lenses`` stage.

A lens is registered through the ``askscope_lenses`` hook (:mod:`askscope.hookspecs`)::

    Lens(name="reach", title="Reach", order=60, compute=reach)

``compute(inp, results)`` gets the :class:`~askscope.lenses.common.LensInput` (the store, the
window, the seed, the classifier's validation data) and the results of the lenses computed
before it (lower ``order``); it returns its document, or ``None`` when it has nothing to say
(the lens is then left out). Numbers shaped ``{"value": ..., "ci": [low, high], "n": ...,
"method": ...}`` also become rows of the ``metrics`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - types only
    from askscope.lenses.common import LensInput


@dataclass(frozen=True)
class Lens:
    name: str
    title: str
    compute: Callable[[LensInput, dict[str, Any]], dict[str, Any] | None]
    #: Lenses are computed in ascending order; a lens sees the results of those before it.
    order: int = 100
    description: str = ""
