"""Coding in the browser: the samples of a store, one post at a time for a named coder, and the
code written straight into the ``codes`` table with the checks ``askscope code import`` makes.

Reads take a cursor on the app's snapshot of the store; writes open the live store read-write for
the length of one write (:func:`writing`), so that nothing but the coding tables is ever written
and a store busy with an ingest is a clear :class:`~askscope.errors.StoreBusyError` (the page
keeps what the coder entered and asks to retry). The checks are those of the import
(:mod:`askscope.coding.importing`): a named coder, a post of the sample, a code among the task's
labels (case and spaces ignored); a new code replaces the coder's earlier code of that post in
that sample, nothing else changes.

Notes go to their own table, ``code_notes`` (``platform, post_id, task, coder, sample_id, note,
noted_at``), one row per coder and post of a sample: the ``codes`` table keeps the columns the
import writes.

The coder resumes where they left off: :func:`next_uncoded` is the first post, in the sample
file's (random) order, that the coder has not coded, so that a half-coded sample is a random
subset of it (docs/coding.md, *partly coded samples*).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from askscope.coding.codebook import get_task
from askscope.coding.tables import CodingError, ensure_tables
from askscope.store.core import Store, now_utc, open_store
from askscope.timefmt import iso

NOTES_DDL = """
CREATE TABLE IF NOT EXISTS code_notes (
    platform VARCHAR, post_id VARCHAR, task VARCHAR, coder VARCHAR, sample_id VARCHAR, note VARCHAR,
    noted_at TIMESTAMPTZ
)
"""
#: The keys that choose the labels, in the codebook's order (1-9, then 0).
SHORTCUTS = "1234567890"
#: Longest coder name and note accepted.
MAX_CODER = 60
MAX_NOTE = 2000


@dataclass
class SampleSummary:
    """A drawn sample and how far each coder is."""

    sample_id: str
    task: str
    size: int
    stratify_by: str | None
    seed: int
    drawn_at: datetime | None
    coded: dict[str, int] = field(default_factory=dict)  #: coder -> posts coded

    def as_dict(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id,
            "task": self.task,
            "size": self.size,
            "stratify_by": self.stratify_by,
            "seed": self.seed,
            "drawn_at": iso(self.drawn_at) if self.drawn_at else None,
            "coded": self.coded,
        }


@dataclass
class CodingItem:
    """One post of a sample as a coder sees it."""

    sample_id: str
    task: str
    row: int  #: position in the sample file (1-based)
    size: int
    platform: str
    post_id: str
    author: str
    created_at: str
    url: str
    text: str
    parent_author: str | None
    parent_text: str | None
    labels: list[dict[str, str]]  #: name, definition, key
    coder: str
    code: str | None  #: the coder's code of this post, if any
    note: str
    coded_by_coder: int
    next_uncoded: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    from askscope.store.core import table_names

    return table_names(con)


def samples(con: duckdb.DuckDBPyConnection) -> list[SampleSummary]:
    """Every sample of the store (latest drawn first) with each coder's number of coded posts."""
    tables = _tables(con)
    if "code_samples" not in tables:
        return []
    found = [
        SampleSummary(sid, task, int(size), stratify_by, int(seed), drawn_at)
        for sid, task, size, stratify_by, seed, drawn_at in con.execute(
            "SELECT sample_id, any_value(task), count(*), any_value(stratify_by), any_value(seed), max(drawn_at) "
            "FROM code_samples GROUP BY sample_id ORDER BY max(drawn_at) DESC, sample_id"
        ).fetchall()
    ]
    if "codes" in tables:
        by_id = {s.sample_id: s for s in found}
        for sid, coder, n in con.execute(
            "SELECT c.sample_id, c.coder, count(*) FROM codes c SEMI JOIN code_samples s "
            "ON s.sample_id = c.sample_id AND s.platform = c.platform AND s.post_id = c.post_id "
            "GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall():
            if sid in by_id:
                by_id[sid].coded[coder] = int(n)
    return found


def sample_task(con: duckdb.DuckDBPyConnection, sample_id: str) -> tuple[str, int]:
    """The task and size of a sample; a :class:`CodingError` when the store has no such sample."""
    rows = []
    if "code_samples" in _tables(con):
        rows = con.execute(
            "SELECT any_value(task), count(*) FROM code_samples WHERE sample_id = ?", [sample_id]
        ).fetchall()
    if not rows or rows[0][1] == 0:
        raise CodingError(f"no sample {sample_id!r} in this store", "draw one on the coding page, or choose another")
    return str(rows[0][0]), int(rows[0][1])


def check_coder(coder: str) -> str:
    """The coder's name, trimmed; a :class:`CodingError` when it is empty or too long."""
    name = " ".join(coder.split())
    if not name:
        raise CodingError("the coder has no name", "enter your name or initials")
    if len(name) > MAX_CODER:
        raise CodingError(f"the coder's name is longer than {MAX_CODER} characters", "use a shorter name or initials")
    return name


def _coded_rows(con: duckdb.DuckDBPyConnection, sample_id: str, coder: str) -> set[int]:
    if "codes" not in _tables(con):
        return set()
    return {
        int(r)
        for (r,) in con.execute(
            "SELECT s.row_number FROM code_samples s JOIN codes c ON c.sample_id = s.sample_id "
            "AND c.platform = s.platform AND c.post_id = s.post_id AND c.task = s.task "
            "WHERE s.sample_id = ? AND c.coder = ?",
            [sample_id, coder],
        ).fetchall()
    }


def next_uncoded(con: duckdb.DuckDBPyConnection, sample_id: str, coder: str, after: int = 0) -> int | None:
    """The coder's next uncoded post of the sample (its row, file order) after row ``after``,
    wrapping around to the start; None when the coder has coded every post."""
    _, size = sample_task(con, sample_id)
    coded = _coded_rows(con, sample_id, coder)
    order: list[int] = list(range(after + 1, size + 1)) + list(range(1, after + 1))
    for row in order:
        if row not in coded:
            return row
    return None


def item(con: duckdb.DuckDBPyConnection, sample_id: str, row: int, coder: str) -> CodingItem:
    """Row ``row`` of the sample with its parent post, the task's labels and the coder's code."""
    task, size = sample_task(con, sample_id)
    coder = check_coder(coder)
    if not 1 <= row <= size:
        raise CodingError(f"sample {sample_id} has rows 1 to {size}, not {row}", "go back to the sample's first post")
    # point lookups on the posts' primary key (a join with posts would scan them: 20x slower on 200k posts)
    platform, post_id = con.execute(
        "SELECT platform, post_id FROM code_samples WHERE sample_id = ? AND row_number = ?", [sample_id, row]
    ).fetchall()[0]
    found = con.execute(
        "SELECT coalesce(author_handle, author_id), created_at, url, text, in_reply_to_id, quoted_id FROM posts "
        "WHERE platform = ? AND id = ?",
        [platform, post_id],
    ).fetchall()
    author, created_at, url, text, reply_to, quoted = found[0] if found else (None, None, None, None, None, None)
    parent_author = parent_text = None
    for parent_id in (reply_to, quoted):  # the post it replies to, else the one it quotes
        if parent_id is None:
            continue
        parent = con.execute(
            "SELECT coalesce(author_handle, author_id), text FROM posts WHERE platform = ? AND id = ?",
            [platform, parent_id],
        ).fetchall()
        if parent:
            parent_author, parent_text = parent[0]
            break
    tables = _tables(con)
    code = None
    if "codes" in tables:
        codes = con.execute(
            "SELECT code FROM codes WHERE sample_id = ? AND platform = ? AND post_id = ? AND coder = ? AND task = ?",
            [sample_id, platform, post_id, coder, task],
        ).fetchall()
        code = codes[0][0] if codes else None
    note = ""
    if "code_notes" in tables:
        notes = con.execute(
            "SELECT note FROM code_notes WHERE sample_id = ? AND platform = ? AND post_id = ? AND coder = ?",
            [sample_id, platform, post_id, coder],
        ).fetchall()
        note = (notes[0][0] or "") if notes else ""
    book = get_task(task)
    labels = [
        {"name": label.name, "definition": label.definition, "key": SHORTCUTS[i] if i < len(SHORTCUTS) else ""}
        for i, label in enumerate(book.labels)
    ]
    return CodingItem(
        sample_id,
        task,
        row,
        size,
        platform,
        post_id,
        author or "",
        iso(created_at) if created_at else "",
        url or "",
        text or "",
        parent_author,
        parent_text,
        labels,
        coder,
        code,
        note,
        len(_coded_rows(con, sample_id, coder)),
        next_uncoded(con, sample_id, coder, row),
    )


@contextmanager
def writing(path: str) -> Iterator[Store]:
    """A read-write connection to the live store for one write of the coding tables. Raises
    :class:`~askscope.errors.StoreBusyError` at once when another process holds the store."""
    store = open_store(path, create=False)
    try:
        yield store
    finally:
        store.close()


def write_code(
    store: Store,
    sample_id: str,
    row: int,
    coder: str,
    code: str,
    note: str = "",
    now: Callable[[], datetime] = now_utc,
) -> tuple[str, str]:
    """Store ``coder``'s ``code`` (and note) of row ``row`` of the sample, replacing their earlier
    code of that post; returns ``(platform, post_id)``. Checks as ``askscope code import``."""
    con = store.con
    task, size = sample_task(con, sample_id)
    coder = check_coder(coder)
    if not 1 <= row <= size:
        raise CodingError(f"sample {sample_id} has rows 1 to {size}, not {row}", "go back to the sample's first post")
    labels = {name.lower(): name for name in get_task(task).label_names}
    chosen = labels.get(code.strip().lower())
    if chosen is None:
        raise CodingError(
            f"code {code.strip()!r} is not a {task} label ({', '.join(labels.values())})",
            "choose one of the labels (keys " + SHORTCUTS[: len(labels)] + ")",
        )
    if len(note) > MAX_NOTE:
        raise CodingError(f"the note is longer than {MAX_NOTE} characters", "shorten it")
    platform, post_id = con.execute(
        "SELECT platform, post_id FROM code_samples WHERE sample_id = ? AND row_number = ?", [sample_id, row]
    ).fetchall()[0]
    at = now()
    ensure_tables(store)
    con.execute(NOTES_DDL)
    with store.transaction():
        key = [coder, task, sample_id, platform, post_id]
        con.execute(
            "DELETE FROM codes WHERE coder = ? AND task = ? AND sample_id = ? AND platform = ? AND post_id = ?", key
        )
        con.execute(
            "INSERT INTO codes (platform, post_id, task, coder, code, coded_at, sample_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [platform, post_id, task, coder, chosen, at, sample_id],
        )
        con.execute(
            "DELETE FROM code_notes WHERE coder = ? AND task = ? AND sample_id = ? AND platform = ? AND post_id = ?",
            key,
        )
        if note.strip():
            con.execute(
                "INSERT INTO code_notes (platform, post_id, task, coder, sample_id, note, noted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [platform, post_id, task, coder, sample_id, note.strip(), at],
            )
    return platform, post_id


def reader_store(path: str, con: duckdb.DuckDBPyConnection) -> Store:
    """A read-only :class:`Store` over a request's cursor, for the library's agreement and
    estimate functions (never closed here: the cursor belongs to the request)."""
    return Store(path, con, read_only=True)
