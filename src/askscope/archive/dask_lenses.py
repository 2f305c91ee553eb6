"""The lenses of ``askscope analyze ARCHIVE_DIR --dask``: the backfire lens's audience as an
aggregation on the cluster.

The backfire lens (run twice: as itself and, in the authenticity lens, without the coordinated
accounts) reads every audience post of P: its category and probability vector, its reposts, its
time and its author. The embedded path reads the audience in parts and summarises each part in
its own process (:mod:`askscope.lenses.audience`: counts by category, by (hostile, supportive,
reposts) and by (time, hostile), the distinct authors, the estimator's probability bins), then
merges the summaries. Here each part is written by the analysing process's DuckDB as a Parquet
file (a streaming write of the part's joins, nothing held in Python) and summarised by a Dask
task on a worker; the summaries come back, small, and merge in part order. The parts, the code
that summarises them and the merge are the embedded path's, so the lens results are the same to
the bit.

What stays in the analysing process: the part's joins (DuckDB, within its memory limit, spilling),
the lenses' other queries (aggregates in DuckDB), and the merge: the summaries' sizes grow with the
distinct values (categories, repost counts, seconds of the campaign, probability bins, authors),
not with the posts, except the distinct authors, which are kept as a set (one string per author).
The engagement, framing and authenticity lenses still compute in that process.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from askscope.lenses.audience import AudienceSummary, Query, Spec, summarise_split


def summarise_file(path: str, spec: Spec) -> tuple[AudienceSummary, AudienceSummary | None]:
    """A Dask task: the summary of one part of the audience, written as Parquet."""
    import pyarrow.parquet as pq

    return summarise_split(pq.read_table(path), spec)


class DaskAudience:
    """Summarises the audience's parts as Dask tasks (:data:`askscope.lenses.audience.Summariser`).
    ``work`` must be a folder every worker sees (beside the archive, as the shuffles' is)."""

    def __init__(self, client: Any, work: Path) -> None:
        self.client = client
        self.work = work
        self.calls = 0

    def __repr__(self) -> str:
        return f"DaskAudience({self.work})"

    def __call__(
        self, con: Any, queries: Sequence[Query], spec: Spec
    ) -> list[tuple[AudienceSummary, AudienceSummary | None]]:
        self.calls += 1
        folder = self.work / f"audience-{os.getpid()}-{self.calls}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            futures = []
            for i, (sql, params) in enumerate(queries):
                path = folder / f"part-{i:05d}.parquet"
                # submitted as soon as written: the workers summarise while the next part is read
                con.sql(sql, params=params).write_parquet(str(path))
                futures.append(self.client.submit(summarise_file, str(path), spec, pure=False, retries=1))
            return list(self.client.gather(futures))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
