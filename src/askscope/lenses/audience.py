"""The backfire lens's audience as a sum of parts: what the lens reads of each audience post,
reduced part by part to counts and sums that add up (an aggregation), so that no process holds the
audience's posts at once.

The audience (:data:`~askscope.lenses.common.AUDIENCE_SQL`: the audience's posts of P with their
relation, author, time, reposts, discourse category and its probabilities) is read in parts of
``AUDIENCE_PART`` posts, ranges of ``(platform, post_id)``. Each part becomes an
:class:`AudienceSummary`: the posts by (hashtag_only, category), the distinct authors, the
discourse labels' counts and probability bins (:class:`~askscope.classify.quantify.Binned`, what
the quantification estimator reads), the posts by (hostile, supportive, reposts) and by (time,
hostile). Summaries merge in part order; the lens computes every figure from the merged one.

Where the parts are summarised is the caller's: in this process, one part at a time
(:func:`summarise_in_process`, the embedded store), or as Dask tasks, one per part
(:mod:`askscope.archive.dask_lenses`, ``askscope analyze ARCHIVE --dask``). Both summarise the
same parts with the same code and merge them in the same order, so their lens results are the same
to the bit.

A part also carries the summary of its posts without the coordinated accounts' (when the
authenticity stage found any): the authenticity lens's second backfire is then a merge, not a
second read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from askscope.classify.quantify import Binned
from askscope.vocabulary import HOSTILE

#: A part's query and its parameters.
Query = tuple[str, list[Any]]


def probability_matrix(
    probabilities: Sequence[Any] | pa.Array | pa.ChunkedArray, kept: pa.Array | pa.ChunkedArray, k: int
) -> np.ndarray | None:
    """The kept posts' probability vectors as an (n, k) float64 matrix, or ``None`` when one of
    them has none or not ``k`` values."""
    if not isinstance(probabilities, (pa.Array, pa.ChunkedArray)):
        keep = np.flatnonzero(kept.to_numpy(zero_copy_only=False))
        rows = [probabilities[int(i)] for i in keep]
        if all(r is not None and len(r) == k for r in rows):
            return np.asarray(rows, dtype=np.float64).reshape(len(rows), k)
        return None
    rows = probabilities.filter(kept)
    if rows.null_count or not (pa.types.is_list(rows.type) or pa.types.is_large_list(rows.type)):
        return None
    if len(rows) and not pc.all(pc.equal(pc.list_value_length(rows), k)).as_py():
        return None
    values = pc.list_flatten(rows).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64).reshape(len(rows), k)


@dataclass(frozen=True)
class Spec:
    """What a part's summary needs to know of the discourse task's validation data: its labels
    (None: no validation data, no bins) and whether the estimator reads fine bins (``em``)."""

    labels: tuple[str, ...] | None = None
    method: str | None = None

    @property
    def binned(self) -> bool:
        return self.method in ("pacc", "em")


@dataclass(frozen=True)
class Classes:
    """A group of posts' labels of one task as the estimator reads them: how many posts have
    each of the validation's labels (unlabelled posts and other labels left out), and their
    probability vectors' bins; ``binned`` is None when one of those posts has no vector of the
    validation's length (the estimator then falls back to label counts) or none were asked for."""

    counts: np.ndarray
    binned: Binned | None

    @classmethod
    def of(
        cls,
        labels: pa.Array | pa.ChunkedArray,
        probabilities: Sequence[Any] | pa.Array | pa.ChunkedArray | None,
        classes: Sequence[str],
        method: str | None,
    ) -> Classes:
        k = len(classes)
        ids = pc.index_in(labels, value_set=pa.array(list(classes), pa.string()))
        kept = pc.is_valid(ids)
        predicted = np.asarray(ids.filter(kept).to_numpy(zero_copy_only=False), dtype=np.int64)
        counts = np.bincount(predicted, minlength=k)[:k].astype(np.int64)
        binned = None
        if probabilities is not None and method in ("pacc", "em"):
            matrix = probability_matrix(probabilities, kept, k)
            if matrix is not None:
                binned = Binned.of(matrix, fine=method == "em")
        return cls(counts, binned)

    @staticmethod
    def merge(parts: Sequence[Classes]) -> Classes:
        if len(parts) == 1:
            return parts[0]
        counts = np.sum([p.counts for p in parts], axis=0).astype(np.int64)
        # a part without bins (one of its posts had no vector) leaves the whole without them; a
        # part without labelled posts has empty bins, which add nothing
        binned = None if any(p.binned is None for p in parts) else Binned.merge([p.binned for p in parts if p.binned])
        return Classes(counts, binned)


@dataclass(frozen=True)
class Tally:
    """How many posts have each of some int64 keys: ``keys`` ascending and distinct, ``counts``
    beside them (a value count that adds up over parts)."""

    keys: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, keys: np.ndarray) -> Tally:
        distinct, counts = np.unique(np.asarray(keys, dtype=np.int64), return_counts=True)
        return cls(distinct, counts.astype(np.int64))

    @staticmethod
    def merge(parts: Sequence[Tally]) -> Tally:
        if len(parts) == 1:
            return parts[0]
        distinct, inverse = np.unique(np.concatenate([p.keys for p in parts]), return_inverse=True)
        counts = np.bincount(
            inverse.reshape(-1), weights=np.concatenate([p.counts for p in parts]), minlength=len(distinct)
        )
        return Tally(distinct, counts.astype(np.int64))


@dataclass
class AudienceSummary:
    """What the backfire lens reads of a set of audience posts (see the module docstring)."""

    posts: int
    #: the distinct non-missing author ids, and whether a post had no author (counted as one more)
    authors: pa.Array
    no_author: bool
    #: posts by (hashtag_only relation, discourse category; None when unlabelled)
    categories: dict[tuple[bool, str | None], int]
    #: the discourse labels of all posts, and of the hashtag_only posts (None: no validation data)
    discourse: Classes | None
    capture: Classes | None
    #: posts by (reposts, hostile, supportive): key ``reposts · 4 + hostile · 2 + supportive``
    reposts: Tally
    #: posts with a time by (microseconds since the epoch, hostile): key ``t · 2 + hostile``,
    #: so that the keys' order is the posts' (time, hostile) order
    times: Tally
    #: the time zone of the posts' times (as the store gives them)
    tz: str | None = None
    #: posts counted by the summary, for the merge's check
    parts: int = field(default=1)

    def category_counts(self) -> dict[str | None, int]:
        out: dict[str | None, int] = {}
        for (_, category), n in self.categories.items():
            out[category] = out.get(category, 0) + n
        return out

    def hashtag_only(self) -> tuple[int, int]:
        """(hashtag_only posts, those of them not labelled supportive)."""
        tagged = sum(n for (only, _), n in self.categories.items() if only)
        supportive = self.categories.get((True, "support"), 0)
        return tagged, tagged - supportive

    def author_count(self) -> int:
        return len(self.authors) + int(self.no_author)

    @staticmethod
    def merge(parts: Sequence[AudienceSummary]) -> AudienceSummary:
        """The summary of the posts of every part (merged in the parts' order)."""
        if len(parts) == 1:
            return parts[0]
        authors = pc.unique(pa.chunked_array([p.authors for p in parts], pa.string()).combine_chunks())
        classes = [p.discourse for p in parts]
        captures = [p.capture for p in parts]
        return AudienceSummary(
            posts=sum(p.posts for p in parts),
            authors=authors,
            no_author=any(p.no_author for p in parts),
            categories=_add([p.categories for p in parts]),
            discourse=None if any(c is None for c in classes) else Classes.merge([c for c in classes if c]),
            capture=None if any(c is None for c in captures) else Classes.merge([c for c in captures if c]),
            reposts=Tally.merge([p.reposts for p in parts]),
            times=Tally.merge([p.times for p in parts]),
            tz=next((p.tz for p in parts if p.tz), None),
            parts=sum(p.parts for p in parts),
        )


def _add(counts: Sequence[dict[tuple[bool, str | None], int]]) -> dict[tuple[bool, str | None], int]:
    out: dict[tuple[bool, str | None], int] = {}
    for part in counts:
        for key, n in part.items():
            out[key] = out.get(key, 0) + n
    return out


def _flags(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _category_counts(categories: pa.Array | pa.ChunkedArray, flag: np.ndarray) -> dict[tuple[bool, str | None], int]:
    """Posts by (flag, category): the categories' dictionary codes counted with numpy."""
    whole = categories.combine_chunks() if isinstance(categories, pa.ChunkedArray) else categories
    encoded = pc.dictionary_encode(whole)
    names: list[str | None] = [None, *encoded.dictionary.to_pylist()]
    code = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    counted = np.bincount((code + 1) * 2 + flag, minlength=2 * len(names))
    return {(bool(i % 2), names[i // 2]): int(n) for i, n in enumerate(counted) if n}


def summarise(table: pa.Table, spec: Spec) -> AudienceSummary:
    """The summary of one part of the audience (the columns of :data:`AUDIENCE_SQL`)."""
    categories = table.column("category")
    if not pa.types.is_string(categories.type):
        categories = categories.cast(pa.string())
    hashtag_only = pc.fill_null(pc.equal(table.column("relation").cast(pa.string()), "hashtag_only"), False)
    hostile = _flags(pc.is_in(categories, value_set=pa.array(sorted(HOSTILE), pa.string())))
    support = _flags(pc.equal(categories, "support"))
    reposts = np.asarray(pc.fill_null(table.column("reposts").cast(pa.int64()), 0).to_numpy(), dtype=np.int64)
    authors = table.column("author_id").cast(pa.string())
    created = table.column("created_at")
    tz = getattr(created.type, "tz", None)
    micros = created.cast(pa.timestamp("us", tz=tz)).cast(pa.int64())
    timed = _flags(pc.is_valid(micros))
    t = np.asarray(pc.fill_null(micros, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    probabilities = table.column("category_probabilities")
    discourse = capture = None
    if spec.labels is not None:
        discourse = Classes.of(categories, probabilities, spec.labels, spec.method)
        capture = Classes.of(
            categories.filter(hashtag_only), probabilities.filter(hashtag_only), spec.labels, spec.method
        )
    present = pc.drop_null(authors)
    return AudienceSummary(
        posts=table.num_rows,
        authors=pc.unique(present.combine_chunks() if isinstance(present, pa.ChunkedArray) else present),
        no_author=authors.null_count > 0,
        categories=_category_counts(categories, _flags(hashtag_only)),
        discourse=discourse,
        capture=capture,
        reposts=Tally.of(reposts * 4 + hostile * 2 + support),
        times=Tally.of((t * 2 + hostile)[timed]),
        tz=tz,
    )


def summarise_split(table: pa.Table, spec: Spec) -> tuple[AudienceSummary, AudienceSummary | None]:
    """A part's summary, and the summary of its posts whose author is not one of the coordinated
    accounts (its ``coordinated`` column; None when the part has no such column)."""
    whole = summarise(table, spec)
    if "coordinated" not in table.column_names:
        return whole, None
    flagged = pc.fill_null(table.column("coordinated"), False)
    if not pc.any(flagged).as_py():
        return whole, whole
    return whole, summarise(table.filter(pc.invert(flagged)), spec)


#: Summarises the parts of the audience: ``(connection, queries, spec)`` -> one pair of
#: :func:`summarise_split` per query, in the queries' order.
Summariser = Callable[[Any, Sequence[Query], Spec], list[tuple[AudienceSummary, AudienceSummary | None]]]


def summarise_in_process(
    con: Any, queries: Sequence[Query], spec: Spec
) -> list[tuple[AudienceSummary, AudienceSummary | None]]:
    """Each part read and summarised here, one after the other (one part in memory at a time)."""
    return [summarise_split(con.sql(sql, params=params).to_arrow_table(), spec) for sql, params in queries]


def reposts_of(tally: Tally, hostile: bool | None = None, support: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The reposts of the posts counted in ``tally`` (:attr:`AudienceSummary.reposts`) that are
    hostile / supportive as asked (None: either), as ascending distinct values and their counts."""
    keep = np.ones(len(tally.keys), dtype=bool)
    if hostile is not None:
        keep &= ((tally.keys >> 1) & 1).astype(bool) == hostile
    if support is not None:
        keep &= (tally.keys & 1).astype(bool) == support
    values, counts = tally.keys[keep] >> 2, tally.counts[keep]
    levels, inverse = np.unique(values, return_inverse=True)
    total = np.bincount(inverse.reshape(-1), weights=counts, minlength=len(levels)).astype(np.int64)
    return levels, total
