"""Groups of coordinated accounts: connected components or Leiden communities of significant edges."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from askscope.authenticity.settings import AuthenticityError
from askscope.communities import leiden_membership


def component_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes and undirected edges ``(a[i], b[i])``: each node's
    label is the smallest node of its component (vectorised min-label propagation with pointer
    jumping)."""
    labels = np.arange(n, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    while len(a):
        lowest = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, a, lowest)
        np.minimum.at(labels, b, lowest)
        while True:  # pointer jumping: point every node at its label's label
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            break
    return labels


def components(a: np.ndarray, b: np.ndarray) -> dict[int, int]:
    """Account -> component label (its smallest account number) over undirected edges."""
    if len(a) == 0:
        return {}
    nodes = np.unique(np.concatenate([a, b]))
    labels = component_labels(len(nodes), np.searchsorted(nodes, a), np.searchsorted(nodes, b))
    return {int(x): int(nodes[label]) for x, label in zip(nodes, labels)}


def leiden(a: np.ndarray, b: np.ndarray, weight: np.ndarray, resolution: float, seed: int) -> dict[int, int]:
    """Leiden communities (modularity at ``resolution``, weighted) of the undirected edges;
    deterministic per seed (:func:`askscope.communities.leiden_membership`)."""
    try:
        import igraph
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise AuthenticityError(
            "Leiden groups need the igraph package",
            "pip install 'askscope[leiden]', or use groups = components",
        ) from exc
    nodes = np.unique(np.concatenate([a, b]))  # sorted: an account's vertex is its position
    edges = np.column_stack([np.searchsorted(nodes, a), np.searchsorted(nodes, b)])
    graph = igraph.Graph(n=len(nodes), edges=edges)
    graph.es["weight"] = np.asarray(weight, dtype=np.float64).tolist()
    membership = leiden_membership(graph, seed, resolution)
    return {int(nodes[i]): int(member) for i, member in enumerate(membership)}


def number_groups(membership: dict[int, int], order_key: Sequence[str]) -> dict[int, int]:
    """Renumber groups 1..n: largest first, ties by their smallest member's ``order_key``.
    Groups of one account (possible with Leiden) are dropped."""
    members: dict[int, list[int]] = {}
    for account, group in membership.items():
        members.setdefault(group, []).append(account)
    ranked = sorted((g for g in members.values() if len(g) >= 2), key=lambda g: (-len(g), min(order_key[x] for x in g)))
    return {account: number for number, group in enumerate(ranked, 1) for account in group}
