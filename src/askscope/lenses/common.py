"""What every lens reads: the campaign set, its categories, the error rates of the labels and the
validation data their shares are estimated with."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from askscope.classify.quantify import METHOD_NAMES, Shares, Validation, quantify_counts, validation_from_record
from askscope.lenses.audience import Classes
from askscope.store.core import Store, column_names, table_names

# The audience's posts of P with what the backfire lens counts (one row per post): the relation,
# the author, the time, the reposts, the discourse category and its probabilities, and
# (``{flag}``) whether the author is one of the coordinated accounts.
AUDIENCE_SQL = """
SELECT r.platform, r.post_id, r.relation, p.author_id, p.created_at,
       coalesce(p.repost_count, 0)::BIGINT AS reposts,
       d.label AS category, d.probabilities AS category_probabilities, {flag} AS coordinated
FROM relations r
JOIN posts p ON p.platform = r.platform AND p.id = r.post_id AND {part:p.id}
LEFT JOIN labels d ON d.platform = r.platform AND d.post_id = r.post_id AND d.task = 'discourse' AND {part:d.post_id}
WHERE r.in_campaign AND r.relation <> 'host' AND {filter} AND {part:r.post_id}
ORDER BY r.platform, r.post_id
"""
#: Audience posts per query of :func:`audience_sql` (each query joins that share of every table:
#: at 10M posts the one query's hash joins needed more than the analysis's 1.5 GB of DuckDB memory).
AUDIENCE_PART = 500_000

#: ``{flag}`` of :data:`AUDIENCE_SQL` when the authenticity stage found coordinated accounts.
COORDINATED_FLAG = (
    "EXISTS (SELECT 1 FROM coordinated_accounts c WHERE c.platform = p.platform AND c.author_id = p.author_id)"
)
#: The table of the coordinated accounts that the authenticity lens gives as ``LensInput.exclude``
#: (``SELECT DISTINCT platform, author_id FROM coordinated_accounts``).
COORDINATED = "_lens_coordinated"

Key = tuple[str, str]


def audience_sql(
    filter: str, low: Key | None = None, high: Key | None = None, flag: str = "false"
) -> tuple[str, list[str]]:
    """:data:`AUDIENCE_SQL` for the posts whose ``(platform, post_id)`` is at least ``low`` and
    below ``high`` (every post when both are None), and its parameters. The range is put on every
    table, so that each scan reads its share, and parts read in the order of their ranges come
    out in the order of the whole (``ORDER BY r.platform, r.post_id``)."""
    sql = AUDIENCE_SQL.replace("{filter}", filter).replace("{flag}", flag)
    params: list[str] = []
    # the placeholders in the order they appear in the text, so that the parameters follow it
    places = sorted(
        ("p.platform p.id", "d.platform d.post_id", "r.platform r.post_id"),
        key=lambda c: sql.index("{part:" + c.split()[1] + "}"),
    )
    for columns in places:
        platform, key = columns.split()
        conditions = []
        if low is not None:
            conditions.append(f"({platform} > ? OR ({platform} = ? AND {key} >= ?))")
            params += [low[0], low[0], low[1]]
        if high is not None:
            conditions.append(f"({platform} < ? OR ({platform} = ? AND {key} < ?))")
            params += [high[0], high[0], high[1]]
        sql = sql.replace("{part:" + key + "}", " AND ".join(conditions) or "true")
    return sql, params


@dataclass
class LensInput:
    """The campaign data the lenses work on, read once."""

    store: Store
    seed: int
    window_start: datetime | None
    window_end: datetime | None
    rates: dict[str, dict[str, Any]]
    labeled: bool
    #: A table of (platform, author_id) whose posts the lenses leave out (coordinated accounts).
    exclude: str | None = None
    #: Per task, the validation data its shares are estimated with (``label_models.validation``).
    validations: dict[str, Validation] = field(default_factory=dict)
    #: What one lens read and another needs again, for this stage run (shared by the copies that
    #: ``dataclasses.replace`` makes): the audience's summaries (``backfire.audience_summary``).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    #: Where the audience's parts are summarised (:data:`askscope.lenses.audience.Summariser`):
    #: None for this process; Dask tasks for an archive (``askscope.archive.dask_lenses``).
    summarise: Any = field(default=None, repr=False, compare=False)

    def authors_filter(self, alias: str, author: str = "author_id") -> str:
        """SQL condition keeping rows whose author is not excluded (``alias.author``)."""
        if self.exclude is None:
            return "true"
        return (
            f"NOT EXISTS (SELECT 1 FROM {self.exclude} x WHERE x.platform = {alias}.platform "
            f"AND x.author_id = {alias}.{author})"
        )

    def rate(self, task: str, label: str) -> dict[str, Any] | None:
        classes = self.rates.get(task, {}).get("classes", {})
        value = classes.get(label)
        return value if value and "tpr" in value and "fpr" in value else None

    def confusion(self, task: str) -> dict[str, Any] | None:
        return self.rates.get(task, {}).get("confusion")

    def shares(
        self,
        task: str,
        labels: Sequence[str | None] | pa.Array | pa.ChunkedArray,
        probabilities: Sequence[Any] | pa.Array | pa.ChunkedArray | None = None,
        *,
        name: str,
    ) -> Shares | None:
        """The estimated class shares of posts from their labels (and probability vectors), with
        the task's validation data (:mod:`askscope.classify.quantify`); ``None`` when the task has
        no validation data or no post is labelled. Unlabelled posts are left out.

        ``labels`` and ``probabilities`` may be Arrow columns (a table's ``label`` and
        ``probabilities``, as the backfire lens reads them): they stay columns, and the
        probabilities become one (n, k) matrix without a Python object per post."""
        validation = self.validations.get(task)
        if validation is None:
            return None
        column = labels if isinstance(labels, (pa.Array, pa.ChunkedArray)) else pa.array(labels, pa.string())
        return self.shares_of(task, Classes.of(column, probabilities, validation.labels, validation.method), name=name)

    def shares_of(self, task: str, classes: Classes | None, *, name: str) -> Shares | None:
        """:meth:`shares` of posts given by their label counts and probability bins
        (:class:`~askscope.lenses.audience.Classes`, e.g. summed over the parts of the audience)."""
        validation = self.validations.get(task)
        if validation is None or classes is None or not classes.counts.sum():
            return None
        method = validation.method
        binned = classes.binned if method in ("pacc", "em") else None
        if binned is None and method in ("pacc", "em"):
            method = "acc"  # labels without probabilities: the label-count form of the estimator
        digest = sum((i + 1) * b for i, b in enumerate(name.encode()))
        return quantify_counts(
            validation, counts=classes.counts, binned=binned, method=method, seed=self.seed * 1_000_003 + digest
        )


def load_input(store: Store, seed: int) -> LensInput:
    con = store.con
    window = con.execute('SELECT start, "end" FROM campaign_window').fetchall()
    start, end = window[0] if window else (None, None)
    tables = table_names(con)
    rates: dict[str, dict[str, Any]] = {}
    if "label_models" in tables:
        for task, raw in con.execute("SELECT task, error_rates FROM label_models").fetchall():
            rates[task] = normalise_rates(json.loads(raw or "{}"))
    labeled = "labels" in tables and con.execute("SELECT count(*) FROM labels").fetchall()[0][0] > 0
    return LensInput(
        store=store,
        seed=seed,
        window_start=start,
        window_end=end,
        rates=rates,
        labeled=labeled,
        validations=load_validations(store) if "label_models" in tables else {},
    )


def load_validations(store: Store) -> dict[str, Validation]:
    """Each task's validation data as ``label_models.validation`` recorded it (none for a store
    classified before the column existed: its shares are reported as not corrected)."""
    columns = column_names(store.con, "label_models").get("label_models", set())
    if "validation" not in columns:
        return {}
    found = {}
    for task, raw in store.con.execute(
        "SELECT task, validation FROM label_models WHERE validation IS NOT NULL ORDER BY task"
    ).fetchall():
        validation = validation_from_record(task, json.loads(raw))
        if validation is not None:
            found[task] = validation
    return found


def quantified(shares: Shares, labels: Sequence[str]) -> dict[str, Any]:
    """One corrected share (the union of ``labels``) in the lenses' shape: ``value``, ``ci``,
    ``n``, ``method`` and the ``validation`` data it rests on."""
    value, low, high = shares.combined(labels)
    return {
        "value": round(value, 6),
        "ci": [round(low, 6), round(high, 6)],
        "n": shares.n,
        "method": f"{shares.method}: {METHOD_NAMES[shares.method]}, bootstrap of posts and validation data",
        "validation": shares.validation,
    }


def normalise_rates(raw: dict[str, Any]) -> dict[str, Any]:
    """Error rates in one shape: ``{"classes": {label: {tpr, fpr, support?, negatives?}},
    "confusion": {"labels": [...], "matrix": [[...]]}?}``."""
    if "classes" in raw or "confusion" in raw:
        return raw
    classes = {k: v for k, v in raw.items() if isinstance(v, dict) and "tpr" in v}
    return {"classes": classes}


def bucket_for(start: datetime | None, end: datetime | None) -> str:
    """A time bucket that gives a readable number of points for the window's length."""
    if start is None or end is None:
        return "1 hour"
    hours = (end - start).total_seconds() / 3600
    if hours <= 6:
        return "10 minutes"
    if hours <= 48:
        return "1 hour"
    if hours <= 24 * 14:
        return "6 hours"
    return "1 day"


def campaign_span(store: Store) -> tuple[datetime | None, datetime | None]:
    """First and last post of P: the span time series are bucketed over."""
    row = store.con.execute(
        "SELECT min(p.created_at), max(p.created_at) FROM relations r JOIN posts p "
        "ON p.platform = r.platform AND p.id = r.post_id WHERE r.in_campaign"
    ).fetchall()[0]
    return row[0], row[1]
