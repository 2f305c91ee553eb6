"""The coding tables of the store and the sampling frame every coding command works on.

``code_samples`` holds the drawn samples (one row per sampled post, with its stratum, the
stratum's size and the inclusion weight), ``codes`` the coders' codes. Both are public: users
query them with ``askscope sql``; columns are only ever added.

The *frame* of a task is the set of posts a share is a share of: the audience's posts of the
campaign set P (P without the host's own posts) for ``discourse``, as the lenses count them, and
every post of P for the other tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from askscope.errors import AskscopeError

if TYPE_CHECKING:
    from askscope.store.core import Store

# The store (and DuckDB) is imported inside the functions that use it: `askscope code`'s options
# read STRATIFY_FIELDS, and `askscope --help` must not load DuckDB.


class CodingError(AskscopeError):
    """A coding command cannot do what was asked: no sample, no codes, a malformed code file."""

    code = "E060"


CODE_SAMPLES_DDL: Final = """
CREATE TABLE IF NOT EXISTS code_samples (
    sample_id VARCHAR, task VARCHAR, platform VARCHAR, post_id VARCHAR, row_number INTEGER,
    stratify_by VARCHAR, stratum VARCHAR, stratum_size BIGINT, stratum_sample BIGINT, weight DOUBLE,
    frame_size BIGINT, seed BIGINT, drawn_at TIMESTAMPTZ
)
"""

CODES_DDL: Final = """
CREATE TABLE IF NOT EXISTS codes (
    platform VARCHAR, post_id VARCHAR, task VARCHAR, coder VARCHAR, code VARCHAR, coded_at TIMESTAMPTZ,
    sample_id VARCHAR
)
"""

#: Public coding tables and their columns (for docs/coding.md and checks).
CODING_TABLES: Final = {
    "code_samples": (
        "sample_id",
        "task",
        "platform",
        "post_id",
        "row_number",
        "stratify_by",
        "stratum",
        "stratum_size",
        "stratum_sample",
        "weight",
        "frame_size",
        "seed",
        "drawn_at",
    ),
    "codes": ("platform", "post_id", "task", "coder", "code", "coded_at", "sample_id"),
}

#: The coder name whose codes settle disagreements (excluded from agreement, wins the consensus).
ADJUDICATION: Final = "adjudication"

#: Fields a sample can be stratified by, and the SQL expression giving each post's stratum.
STRATIFY_FIELDS: Final = {
    "relation": "r.relation",
    "label": "coalesce(m.label, '(unlabelled)')",
    "language": "coalesce(lg.label, p.lang, 'und')",
    "platform": "r.platform",
}


def ensure_tables(store: Store) -> None:
    store.con.execute(CODE_SAMPLES_DDL)
    store.con.execute(CODES_DDL)


def table_names(store: Store) -> set[str]:
    from askscope.store.core import table_names as catalog_tables

    return catalog_tables(store.con)


def require_analysis(store: Store, task: str) -> None:
    """Raise a :class:`CodingError` with the command to run when the store has no campaign set or
    no labels yet."""
    tables = table_names(store)
    if "relations" not in tables:
        raise CodingError(
            f"{store.path} has no campaign set yet (no relations table)",
            f"run: askscope analyze {store.path} --campaign CAMPAIGN.toml",
        )
    if "labels" not in tables:
        raise CodingError(
            f"{store.path} has no model labels yet (no labels table)",
            f"run: askscope analyze {store.path} --campaign CAMPAIGN.toml",
        )


def frame_sql(task: str, columns: str, extra_where: str = "true") -> str:
    """SELECT ``columns`` over the task's frame: aliases ``r`` (relations), ``p`` (posts), ``m``
    (the task's model label, may be NULL) and ``lg`` (the language label)."""
    audience = "AND r.relation <> 'host'" if task == "discourse" else ""
    return f"""
        SELECT {columns}
        FROM relations r
        JOIN posts p ON p.platform = r.platform AND p.id = r.post_id
        LEFT JOIN labels m ON m.platform = r.platform AND m.post_id = r.post_id AND m.task = $task
        LEFT JOIN labels lg ON lg.platform = r.platform AND lg.post_id = r.post_id AND lg.task = 'language'
        WHERE r.in_campaign {audience} AND {extra_where}
    """


def frame_labels(store: Store, task: str) -> list[tuple[str, str, str | None, list[float] | None]]:
    """``(platform, post_id, model label or None, class probabilities or None)`` for every post
    of the task's frame, sorted. The probabilities are the classify stage's ``probabilities``
    (every class of the task, in the order of its labels) where the store has them."""
    from askscope.store.core import column_names

    require_analysis(store, task)
    columns = column_names(store.con, "labels").get("labels", set())
    probabilities = "m.probabilities" if "probabilities" in columns else "NULL"
    return store.con.execute(
        frame_sql(task, f"r.platform, r.post_id, m.label, {probabilities}") + " ORDER BY r.platform, r.post_id",
        {"task": task},
    ).fetchall()
