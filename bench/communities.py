"""The engagement lens's reply communities: igraph's Leiden (what the lens runs) against
leidenalg's (what it ran before 3 Dec 2026) and igraph's Louvain, on the reply network of the
lens bench's SYNTHETIC store.

    python bench/lenses.py --posts 2000000 --rounds 0        # builds the 2M-post store once
    python bench/communities.py --posts 2000000

Each method runs on the same igraph graph (the lens's: accounts as vertices, reply edges
weighted, undirected), ``--rounds`` times in turn; it prints the seconds, the modularity of the
partition by one measure for all (``igraph.Graph.modularity``, weighted), the communities and the
lens's entropy figure. leidenalg's own ``partition.modularity`` is printed beside it: it is
computed on another scale (here 0.36 for a partition igraph measures at 0.23), so only the common
measure compares the methods.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import igraph
import leidenalg

from askscope.lenses import stats
from askscope.lenses.common import load_input
from askscope.lenses.engagement import _reply_edges
from askscope.store.core import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=2_000_000, help="the lens bench's store of this size")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "askscope-bench")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    source = args.cache / f"lenses-{args.posts}.duckdb"
    if not source.exists():
        raise SystemExit(f"no {source}: build it with python bench/lenses.py --posts {args.posts} --rounds 0")
    with open_store(source, read_only=True) as store:
        edges = [(f"{p}:{a}", f"{p}:{b}", w) for p, a, b, w in _reply_edges(load_input(store, 0))]
    names = sorted({a for a, _, _ in edges} | {b for _, b, _ in edges})
    index = {name: i for i, name in enumerate(names)}
    graph = igraph.Graph(n=len(names), edges=[(index[a], index[b]) for a, b, _ in edges], directed=False)
    graph.es["weight"] = [w for _, _, w in edges]
    largest = max(len(c) for c in graph.connected_components())
    print(f"reply network: {graph.vcount():,} accounts, {graph.ecount():,} edges, largest component {largest:,}")

    def igraph_leiden() -> tuple[list[int], str]:
        igraph.set_random_number_generator(random.Random(0))
        found = graph.community_leiden(objective_function="modularity", weights="weight", n_iterations=2)
        igraph.set_random_number_generator(random)
        return found.membership, ""

    def leidenalg_leiden() -> tuple[list[int], str]:
        found = leidenalg.find_partition(graph, leidenalg.ModularityVertexPartition, weights="weight", seed=0)
        return found.membership, f" (leidenalg's own measure {found.modularity:.4f})"

    def louvain() -> tuple[list[int], str]:
        igraph.set_random_number_generator(random.Random(0))
        found = graph.community_multilevel(weights="weight")
        igraph.set_random_number_generator(random)
        return found.membership, ""

    print("| method | round | seconds | modularity | communities | entropy (the lens's value) |")
    print("|---|---:|---:|---:|---:|---:|")
    for round_ in range(1, args.rounds + 1):
        for name, method in (
            ("igraph community_leiden (the lens)", igraph_leiden),
            ("leidenalg find_partition (before)", leidenalg_leiden),
            ("igraph community_multilevel (Louvain)", louvain),
        ):
            started = time.perf_counter()
            membership, note = method()
            seconds = time.perf_counter() - started
            sizes = [n for n in _sizes(membership)]
            print(
                f"| {name} | {round_} | {seconds:.2f} | {graph.modularity(membership, weights='weight'):.4f}{note} "
                f"| {len(sizes):,} | {stats.entropy(sizes)['value']} |"
            )


def _sizes(membership: list[int]) -> list[int]:
    counts: dict[int, int] = {}
    for community in membership:
        counts[community] = counts.get(community, 0) + 1
    return list(counts.values())


if __name__ == "__main__":
    main()
