"""Groups of coordinated accounts: connected components or Leiden communities of significant edges."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from askscope.authenticity.settings import AuthenticityError


def components(a: np.ndarray, b: np.ndarray) -> dict[int, int]:
    """Union-find over undirected edges ``(a[i], b[i])``: account -> its component's root."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for x, y in zip(a.tolist(), b.tolist()):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    return {x: find(x) for x in list(parent)}


def leiden(a: np.ndarray, b: np.ndarray, weight: np.ndarray, resolution: float, seed: int) -> dict[int, int]:
    """Leiden communities (modularity, weighted) of the undirected edges; deterministic per seed."""
    try:
        import igraph
        import leidenalg
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise AuthenticityError("Leiden groups need the igraph and leidenalg packages",
                                "pip install 'askscope[leiden]', or use groups = components") from exc
    nodes = np.unique(np.concatenate([a, b]))
    index = {int(n): i for i, n in enumerate(nodes)}
    graph = igraph.Graph(n=len(nodes), edges=[(index[int(x)], index[int(y)]) for x, y in zip(a, b)])
    graph.es["weight"] = [float(w) for w in weight]
    partition = leidenalg.find_partition(graph, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                         resolution_parameter=resolution, seed=seed)
    return {int(nodes[i]): int(member) for i, member in enumerate(partition.membership)}


def number_groups(membership: dict[int, int], order_key: Sequence[str]) -> dict[int, int]:
    """Renumber groups 1..n: largest first, ties by their smallest member's ``order_key``.
    Groups of one account (possible with Leiden) are dropped."""
    members: dict[int, list[int]] = {}
    for account, group in membership.items():
        members.setdefault(group, []).append(account)
    ranked = sorted((g for g in members.values() if len(g) >= 2),
                    key=lambda g: (-len(g), min(order_key[x] for x in g)))
    return {account: number for number, group in enumerate(ranked, 1) for account in group}
