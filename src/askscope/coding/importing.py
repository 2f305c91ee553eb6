"""Importing a coder's file: read it in any spreadsheet dialect, check every row, store all or nothing.

Dialects accepted (what Excel and LibreOffice write when a sample file is saved again): UTF-8
with or without a byte-order mark, UTF-16 with a BOM (Excel's "Unicode text"), Windows-1252 when
the bytes are not UTF-8 (Excel's plain "CSV"); comma, semicolon (locales with a decimal comma) or
tab separators, recognised from the header line; CRLF, LF or CR line ends; quoted cells with line
breaks; trailing empty rows; a leading ``'`` the sample file put before ``= + - @``.

Rules (every violated rule is reported with its line; nothing is stored when there is one):

* the header has ``code`` and either ``key`` or ``post_id`` (with ``platform``, default ``x``);
* every row names a post of the sample (``sample_id`` column, or the task's only sample);
* a code is one of the task's labels (case and surrounding spaces do not matter);
* a post appears once (a second row for it is an error, even with the same code);
* an empty code means *not coded yet*: the row is skipped and the post does not count as coded.

Re-importing a coder replaces that coder's codes of the same task and samples, nothing else.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from askscope.coding.codebook import get_task
from askscope.coding.tables import ADJUDICATION, CodingError, ensure_tables, table_names
from askscope.store.core import Store, now_utc

_DELIMITERS = (",", ";", "\t")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Errors listed in one message before "... and N more".
MAX_LISTED = 10


@dataclass
class ImportResult:
    """What an import did."""

    coder: str
    task: str
    samples: list[str]
    stored: int
    skipped_empty: int
    replaced: int
    dialect: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "coder": self.coder,
            "task": self.task,
            "samples": self.samples,
            "stored": self.stored,
            "skipped_empty": self.skipped_empty,
            "replaced": self.replaced,
            "dialect": self.dialect,
        }


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _header_fields(text: str, delimiter: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    return [f.strip().lower() for f in first]


def sniff_delimiter(text: str) -> str:
    """The separator that splits the header into the columns an import needs."""
    for delimiter in _DELIMITERS:
        fields = _header_fields(text, delimiter)
        if "code" in fields and ("key" in fields or "post_id" in fields):
            return delimiter
    raise CodingError(
        "line 1: the header has no 'code' column and no 'key' or 'post_id' column",
        "import the file written by askscope code sample, with its header row kept",
    )


def unescape(value: str) -> str:
    """Undo :func:`askscope.coding.sampling.excel_safe`."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


def read_rows(data: bytes) -> tuple[list[tuple[str, dict[str, str]]], dict[str, str]]:
    """``(where, row)`` for every non-empty row and the dialect found. ``where`` names the row's
    first physical line (header = line 1), and its spreadsheet row when a cell with line breaks
    above it makes the two differ."""
    text, encoding = decode(data)
    ends = "CRLF" if "\r\n" in text else ("CR" if "\r" in text else "LF")
    if ends == "CR":  # classic Mac line ends: the csv module wants \n or \r\n
        text = text.replace("\r", "\n")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    rows = []
    line = reader.line_num + 1
    record_number = 1
    try:
        for record in reader:
            record_number += 1
            if any(cell.strip() for cell in record):
                where = f"line {line}" + (f" (spreadsheet row {record_number})" if record_number != line else "")
                rows.append(
                    (
                        where,
                        {
                            name: unescape(record[i].strip()) if i < len(record) else ""
                            for i, name in enumerate(header)
                            if name
                        },
                    )
                )
            line = reader.line_num + 1
    except csv.Error as exc:
        raise CodingError(
            f"line {line}: not readable as CSV ({exc})",
            "save the file again from the spreadsheet as CSV, or check that line's quotes",
        ) from exc
    return rows, {
        "encoding": encoding,
        "delimiter": {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter],
        "line_ends": ends,
    }


def import_codes(
    store: Store, path: str | Path, coder: str, task: str | None = None, now: Callable[[], datetime] = now_utc
) -> ImportResult:
    """Check every row of a coder's file and store its codes in ``codes`` (all or nothing)."""
    coder = coder.strip()
    if not coder:
        raise CodingError("the coder has no name", "give --coder NAME (a name or initials)")
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodingError(f"cannot read {path}: {exc.strerror or exc}", "give the path of a code file") from exc
    if "code_samples" not in table_names(store):
        raise CodingError(
            f"{store.path} has no samples to code",
            f"draw one first: askscope code sample {store.path} --task TASK -o sample.csv",
        )
    rows, dialect = read_rows(data)
    con = store.con
    members: dict[tuple[str, str], dict[str, str]] = {}  # (sample_id, key) -> sample row
    sample_tasks = dict(con.execute("SELECT DISTINCT sample_id, task FROM code_samples").fetchall())
    for sample_id, platform, post_id in con.execute("SELECT sample_id, platform, post_id FROM code_samples").fetchall():
        members[(sample_id, f"{platform}:{post_id}")] = {"platform": platform, "post_id": post_id}
    errors: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    codes: list[tuple[str, str, str, str]] = []  # platform, post_id, code, sample_id
    skipped = 0
    samples_in_file = {r.get("sample_id", "") for _, r in rows if r.get("sample_id")}
    unknown_samples = sorted(s for s in samples_in_file if s not in sample_tasks)
    tasks_in_file = {sample_tasks[s] for s in samples_in_file if s in sample_tasks}
    if task is None:
        if len(tasks_in_file) == 1:
            task = next(iter(tasks_in_file))
        elif not tasks_in_file and len(set(sample_tasks.values())) == 1:
            task = next(iter(sample_tasks.values()))
        else:
            raise CodingError(
                "cannot tell which task the file codes"
                if not tasks_in_file
                else "the file mixes samples of tasks " + ", ".join(sorted(tasks_in_file)),
                "give --task TASK, and one task's sample per file",
            )
    labels = {name.lower(): name for name in get_task(task).label_names}
    task_samples = sorted(s for s, t in sample_tasks.items() if t == task)
    if not task_samples:
        raise CodingError(
            f"{store.path} has no sample for task {task}",
            f"draw one first: askscope code sample {store.path} --task {task} -o sample.csv",
        )
    for line, row in rows:
        sample_id = row.get("sample_id") or (task_samples[0] if len(task_samples) == 1 else "")
        key = row.get("key") or (f"{row.get('platform') or 'x'}:{row['post_id']}" if row.get("post_id") else "")
        if not key:
            errors.append(f"{line}: no post (the key and post_id cells are empty)")
            continue
        if not sample_id:
            errors.append(f"{line}: no sample_id, and task {task} has several samples")
            continue
        if sample_id in unknown_samples:
            errors.append(f"{line}: sample {sample_id} is not in the store")
            continue
        if sample_tasks[sample_id] != task:
            errors.append(f"{line}: sample {sample_id} is a {sample_tasks[sample_id]} sample, not {task}")
            continue
        member = members.get((sample_id, key))
        if member is None:
            known = con.execute("SELECT count(*) FROM posts WHERE platform || ':' || id = ?", [key]).fetchall()[0][0]
            why = "is not in sample " + sample_id if known else "is not in the store (unknown post)"
            hint = " (a spreadsheet may have rounded a long id: keep the key column)" if "e+" in key.lower() else ""
            errors.append(f"{line}: post {key} {why}{hint}")
            continue
        if (sample_id, key) in seen:
            errors.append(f"{line}: post {key} again (first on {seen[(sample_id, key)]}): duplicate row")
            continue
        seen[(sample_id, key)] = line
        code = row.get("code", "").strip()
        if not code:
            skipped += 1
            continue
        if code.lower() not in labels:
            errors.append(f"{line}: code {code!r} is not a {task} label ({', '.join(labels.values())})")
            continue
        codes.append((member["platform"], member["post_id"], labels[code.lower()], sample_id))
    if errors:
        listed = errors[:MAX_LISTED] + (
            [f"... and {len(errors) - MAX_LISTED} more"] if len(errors) > MAX_LISTED else []
        )
        raise CodingError(
            f"{path.name}: {len(errors)} bad row{'s' if len(errors) > 1 else ''}, nothing stored:\n  "
            + "\n  ".join(listed),
            "fix those lines (labels are listed in the codebook file) and import again",
        )
    samples = sorted({c[3] for c in codes} | {s for (s, _) in seen})
    coded_at = now()
    table = pa.table(
        {
            "platform": [c[0] for c in codes],
            "post_id": [c[1] for c in codes],
            "task": [task] * len(codes),
            "coder": [coder] * len(codes),
            "code": [c[2] for c in codes],
            "coded_at": pa.array([coded_at] * len(codes), pa.timestamp("us", tz="UTC")),
            "sample_id": [c[3] for c in codes],
        }
    )
    ensure_tables(store)
    with store.transaction():
        replaced = con.execute(
            "SELECT count(*) FROM codes WHERE coder = ? AND task = ? AND sample_id IN (SELECT unnest(?::VARCHAR[]))",
            [coder, task, samples],
        ).fetchall()[0][0]
        con.execute(
            "DELETE FROM codes WHERE coder = ? AND task = ? AND sample_id IN (SELECT unnest(?::VARCHAR[]))",
            [coder, task, samples],
        )
        con.register("_codes", table)
        try:
            con.execute("INSERT INTO codes SELECT * FROM _codes")
        finally:
            con.unregister("_codes")
    return ImportResult(coder, task, samples, len(codes), skipped, int(replaced), dialect)


__all__ = ["ADJUDICATION", "ImportResult", "import_codes", "read_rows"]
