"""Leiden communities, seeded: the one implementation behind the engagement lens's reply
communities and the authenticity analysis's Leiden groups.

igraph's own Leiden (``Graph.community_leiden``) optimising modularity with a resolution
(``resolution=1`` is Newman's modularity; other values the RB configuration model). It draws from
igraph's process-wide random generator, so each call sets a ``random.Random(seed)`` for its
duration, under a lock, and puts the default back. On the 2M-post lens bench's reply network it
took 2.3 s where leidenalg (used before 3 Dec 2026) took 39 s, and found a partition of higher
modularity (docs/benchmarks.md, "The lenses at 2M posts").
"""

from __future__ import annotations

import random
import threading
from typing import Any

#: Held while igraph's process-wide random generator is a seeded one (analyses may run in threads).
_SEEDED = threading.Lock()


def leiden_membership(graph: Any, seed: int, resolution: float = 1.0, weights: str | None = "weight") -> list[int]:
    """The community of each vertex of the igraph ``graph`` (undirected): Leiden on modularity at
    ``resolution``, edge weights from the attribute ``weights``, two iterations; the same partition
    for the same graph and ``seed``, and nothing drawn from Python's global generator."""
    import igraph

    with _SEEDED:
        igraph.set_random_number_generator(random.Random(seed))
        try:
            partition = graph.community_leiden(
                objective_function="modularity", weights=weights, resolution=resolution, n_iterations=2
            )
        finally:
            igraph.set_random_number_generator(random)
    return list(partition.membership)
