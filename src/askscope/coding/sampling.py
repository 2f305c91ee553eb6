"""Samples to code: a seeded probability sample of a task's frame, written as a spreadsheet.

Simple random sampling without replacement, or stratified sampling (``--stratify-by``) with
proportional allocation (largest remainders, at least two posts per stratum where it has two) and
the inclusion weight ``stratum_size / stratum_sample`` kept with every post, in the file and in
``code_samples``, so that estimates can undo the design. The same store, task, size, strata and
seed give the same sample (same posts, same order).

The file opens safely in a spreadsheet: UTF-8 with a byte-order mark, CRLF line ends, and every
cell that starts with ``= + - @`` (or a tab / carriage return) prefixed with ``'`` so that it is
text, not a formula (OWASP's CSV-injection advice). Post ids are long numbers a spreadsheet may
round; the ``key`` column (``platform:post_id``) survives that and is what the import reads first.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from askscope.coding.codebook import codebook_csv_rows, get_task
from askscope.coding.tables import STRATIFY_FIELDS, CodingError, ensure_tables, frame_sql, require_analysis
from askscope.errors import UsageError
from askscope.store.core import Store, now_utc, table_names
from askscope.timefmt import iso

#: The sample file's columns, in order.
SAMPLE_COLUMNS = (
    "platform",
    "post_id",
    "url",
    "author",
    "created_at",
    "parent_text",
    "text",
    "code",
    "note",
    "weight",
    "stratum",
    "key",
    "sample_id",
)
#: Fewest posts drawn from a stratum that has at least this many (a variance needs two).
MIN_PER_STRATUM = 2
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MENTION = re.compile(r"@(\w{1,50})")


@dataclass
class Sample:
    """A drawn sample: its id, design and rows (dicts with :data:`SAMPLE_COLUMNS`)."""

    sample_id: str
    task: str
    seed: int
    stratify_by: str | None
    frame_size: int
    strata: dict[str, tuple[int, int]]  # stratum -> (stratum size, posts drawn)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id,
            "task": self.task,
            "n": len(self.rows),
            "frame_size": self.frame_size,
            "seed": self.seed,
            "stratify_by": self.stratify_by,
            "strata": {k: {"size": v[0], "drawn": v[1]} for k, v in sorted(self.strata.items())},
        }


def sample_id_for(task: str, n: int, seed: int, stratify_by: str | None) -> str:
    return f"{task}-{stratify_by or 'srs'}-n{n}-seed{seed}"


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` draws over strata of ``sizes`` (largest remainders; ties
    by stratum name), with at least ``min(MIN_PER_STRATUM, size)`` per stratum."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    floors = {k: min(MIN_PER_STRATUM, v) for k, v in sizes.items()}
    if sum(floors.values()) > n:
        raise UsageError(
            f"{n} posts cannot give each of the {len(sizes)} strata {MIN_PER_STRATUM} posts",
            f"draw at least {sum(floors.values())} posts, or stratify by a field with fewer values",
        )
    quotas = {k: n * v / total for k, v in sizes.items()}
    alloc = {k: max(floors[k], int(np.floor(q))) for k, q in quotas.items()}
    # give the remaining draws by largest remainder, take surplus from the largest allocations
    while sum(alloc.values()) < n:
        k = max((k for k in sizes if alloc[k] < sizes[k]), key=lambda k: (quotas[k] - alloc[k], k))
        alloc[k] += 1
    while sum(alloc.values()) > n:
        k = max((k for k in sizes if alloc[k] > floors[k]), key=lambda k: (alloc[k] - quotas[k], k))
        alloc[k] -= 1
    return alloc


def draw_sample(
    store: Store,
    task: str,
    n: int = 300,
    seed: int = 0,
    stratify_by: str | None = None,
    pseudonymise: bool = False,
    now: Callable[[], datetime] = now_utc,
) -> Sample:
    """Draw a sample of ``n`` posts of the task's frame, store it in ``code_samples`` (replacing a
    sample with the same id that has no codes yet) and return it with the rows of its file."""
    get_task(task)
    if n < 1:
        raise UsageError("the sample needs at least one post", "give --n 1 or more (300 is usual)")
    if stratify_by is not None and stratify_by not in STRATIFY_FIELDS:
        raise UsageError(f"cannot stratify by {stratify_by!r}", "stratify by one of: " + ", ".join(STRATIFY_FIELDS))
    require_analysis(store, task)
    con = store.con
    stratum_sql = STRATIFY_FIELDS[stratify_by] if stratify_by else "'all'"
    frame = con.execute(
        frame_sql(task, f"r.platform, r.post_id, {stratum_sql} AS stratum") + " ORDER BY r.platform, r.post_id",
        {"task": task},
    ).fetchall()
    if not frame:
        raise CodingError(
            f"the {task} frame of {store.path} is empty (no campaign posts)",
            "check the campaign file's hosts, hashtags and window, then analyze again",
        )
    by_stratum: dict[str, list[tuple[str, str]]] = {}
    for platform, post_id, stratum in frame:
        by_stratum.setdefault(str(stratum), []).append((platform, post_id))
    sizes = {k: len(v) for k, v in sorted(by_stratum.items())}
    n = min(n, len(frame))
    alloc = allocate(sizes, n)
    rng = np.random.default_rng(seed)
    drawn: list[tuple[str, str, str]] = []
    for stratum in sorted(by_stratum):
        members = by_stratum[stratum]
        for index in sorted(rng.choice(len(members), size=alloc[stratum], replace=False).tolist()):
            drawn.append((members[index][0], members[index][1], stratum))
    order = rng.permutation(len(drawn))
    drawn = [drawn[i] for i in order]
    sample = Sample(
        sample_id_for(task, n, seed, stratify_by),
        task,
        seed,
        stratify_by,
        len(frame),
        {k: (sizes[k], alloc[k]) for k in sizes},
    )
    _store_sample(store, sample, drawn, now())
    sample.rows = _file_rows(store, sample, drawn, pseudonymise)
    return sample


def _store_sample(store: Store, sample: Sample, drawn: Sequence[tuple[str, str, str]], drawn_at: datetime) -> None:
    con = store.con
    ensure_tables(store)
    old = con.execute(
        "SELECT platform, post_id FROM code_samples WHERE sample_id = ? ORDER BY row_number", [sample.sample_id]
    ).fetchall()
    coded = con.execute("SELECT count(*) FROM codes WHERE sample_id = ?", [sample.sample_id]).fetchall()[0][0]
    if old and coded and [tuple(r) for r in old] != [(p, i) for p, i, _ in drawn]:
        raise CodingError(
            f"sample {sample.sample_id} was drawn before from other posts and has {coded} codes",
            "the campaign changed since: draw with another --seed or --n",
        )
    table = pa.table(
        {
            "sample_id": [sample.sample_id] * len(drawn),
            "task": [sample.task] * len(drawn),
            "platform": [d[0] for d in drawn],
            "post_id": [d[1] for d in drawn],
            "row_number": pa.array(range(1, len(drawn) + 1), pa.int32()),
            "stratify_by": [sample.stratify_by] * len(drawn),
            "stratum": [d[2] for d in drawn],
            "stratum_size": [sample.strata[d[2]][0] for d in drawn],
            "stratum_sample": [sample.strata[d[2]][1] for d in drawn],
            "weight": [sample.strata[d[2]][0] / sample.strata[d[2]][1] for d in drawn],
            "frame_size": [sample.frame_size] * len(drawn),
            "seed": [sample.seed] * len(drawn),
            "drawn_at": pa.array([drawn_at] * len(drawn), pa.timestamp("us", tz="UTC")),
        }
    )
    with store.transaction():
        con.execute("DELETE FROM code_samples WHERE sample_id = ?", [sample.sample_id])
        con.register("_sample", table)
        try:
            con.execute("INSERT INTO code_samples SELECT * FROM _sample")
        finally:
            con.unregister("_sample")


def post_details(
    store: Store, keys: Sequence[tuple[str, str]], sample_id: str | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """The sample-file row (:data:`SAMPLE_COLUMNS`, empty code) of each sampled post in ``keys``:
    its text, author, link, the text of the post it replies to or quotes, and its sample's weight
    and stratum (``sample_id``'s, or the first sample holding it)."""
    con = store.con
    con.register("_keys", pa.table({"platform": [k[0] for k in keys], "post_id": [k[1] for k in keys]}))
    try:
        found = con.execute(
            """
            SELECT s.platform, s.post_id, p.url, coalesce(p.author_handle, p.author_id), p.created_at, p.text,
                   coalesce(pr.text, pq.text), s.weight, s.stratum, s.sample_id
            FROM code_samples s
            SEMI JOIN _keys k ON k.platform = s.platform AND k.post_id = s.post_id
            JOIN posts p ON p.platform = s.platform AND p.id = s.post_id
            LEFT JOIN posts pr ON pr.platform = p.platform AND pr.id = p.in_reply_to_id
            LEFT JOIN posts pq ON pq.platform = p.platform AND pq.id = p.quoted_id
            WHERE $sample IS NULL OR s.sample_id = $sample
            ORDER BY s.sample_id DESC
            """,
            {"sample": sample_id},
        ).fetchall()
    finally:
        con.unregister("_keys")
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for platform, post_id, url, author, created_at, text, parent_text, weight, stratum, sid in found:
        out[(platform, post_id)] = {
            "platform": platform,
            "post_id": post_id,
            "url": url or "",
            "author": author or "",
            "created_at": iso(created_at) if created_at else "",
            "parent_text": parent_text or "",
            "text": text or "",
            "code": "",
            "note": "",
            "weight": _number(weight),
            "stratum": stratum,
            "key": f"{platform}:{post_id}",
            "sample_id": sid,
        }
    return out


def _file_rows(
    store: Store, sample: Sample, drawn: Sequence[tuple[str, str, str]], pseudonymise: bool
) -> list[dict[str, Any]]:
    details = post_details(store, [(p, i) for p, i, _ in drawn], sample.sample_id)
    rows = [details[(p, i)] for p, i, _ in drawn]
    if pseudonymise:
        _pseudonymise(store, rows)
    return rows


def _pseudonymise(store: Store, rows: list[dict[str, Any]]) -> None:
    """Authors and @mentions become ``user0001``... (the hosts keep their handles); links are
    dropped (they name the author)."""
    con = store.con
    hosts: set[str] = set()
    if "hosts" in table_names(con):
        hosts = {h.lower() for (h,) in con.execute("SELECT handle FROM hosts WHERE handle IS NOT NULL").fetchall()}
    names: dict[str, str] = {}

    def pseudonym(handle: str) -> str:
        if not handle or handle.lower() in hosts:
            return handle
        return names.setdefault(handle.lower(), f"user{len(names) + 1:04d}")

    for row in rows:
        row["author"] = pseudonym(row["author"])
        row["url"] = ""
        for column in ("parent_text", "text"):
            row[column] = _MENTION.sub(lambda m: "@" + pseudonym(m.group(1)), row[column])


def _number(value: float) -> str:
    return f"{value:.6g}"


def excel_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: ``'`` before a leading ``= + - @``, tab or CR."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_bytes(rows: Sequence[Sequence[Any]]) -> bytes:
    """Rows as spreadsheet-safe CSV: UTF-8 with BOM, CRLF, every cell through :func:`excel_safe`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([excel_safe(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def codebook_path(path: str | Path) -> Path:
    """Where the codebook of a sample file goes: ``NAME.codebook.csv`` beside ``NAME.csv``."""
    path = Path(path)
    return path.with_name(path.stem + ".codebook.csv")


def write_sample(sample: Sample, path: str | Path) -> tuple[Path, Path]:
    """Write the sample file and its codebook file; returns both paths."""
    path = Path(path)
    if not path.parent.exists():
        raise UsageError(f"folder {path.parent} does not exist", "create it first or choose another -o path")
    rows = [list(SAMPLE_COLUMNS)] + [[row[c] for c in SAMPLE_COLUMNS] for row in sample.rows]
    path.write_bytes(csv_bytes(rows))
    book = codebook_path(path)
    book.write_bytes(csv_bytes(codebook_csv_rows(get_task(sample.task))))
    return path, book
