"""Downloads: any filtered view of the posts as CSV, Parquet or JSON, and the report.

``/export/posts.csv|parquet|json`` takes the posts explorer's filters (the same query parameters
as ``/posts``, :mod:`askscope.web.postquery`) and ``sort``, and streams every post the filter
selects, in batches, so that a million posts never sit in memory at once:

* **CSV** is safe to open in a spreadsheet, written as the coding sample files are
  (:func:`askscope.coding.sampling.excel_safe`): UTF-8 with a byte-order mark, CRLF line ends, and
  every cell that starts with ``= + - @`` (or a tab or carriage return) prefixed with ``'`` so that
  no post text runs as a formula (OWASP, *CSV injection*).
* **Parquet** keeps the column types (times as UTC timestamps), one row group per batch.
* **JSON** is one object: the filter, its description in words, and the posts (times in ISO 8601).

``/export/report.html|md|json`` is ``askscope report`` of the store's snapshot.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response, StreamingResponse

from askscope.coding.sampling import excel_safe
from askscope.errors import AskscopeError
from askscope.timefmt import iso
from askscope.web import postquery
from askscope.web.deps import handle, reading

router = APIRouter()

#: Rows fetched and written per batch.
BATCH = 5000
#: The exported columns, in order (``postquery.COLUMNS`` plus the discourse label, the relation
#: to the host and the language label).
EXPORT_COLUMNS = (
    "platform",
    "id",
    "author_id",
    "author_handle",
    "created_at",
    "kind",
    "text",
    "url",
    "in_reply_to_id",
    "reposts",
    "likes",
    "replies",
    "category",
    "relation",
    "language",
)
DbParam = Annotated[str | None, Query(description="store name (the first store when omitted)")]
SortParam = Annotated[str, Query(description="time, -time, reposts or likes")]
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
}


def export_sql(f: postquery.PostFilter, tables: frozenset[str], sort: str) -> tuple[str, list[Any]]:
    """The SELECT of every post of the filter, with :data:`EXPORT_COLUMNS`, in ``sort`` order: the
    filter selects the posts (:func:`askscope.web.postquery.source`), their labels and relation are
    joined to the selection here (the filter joins only the tables its conditions read)."""
    if sort not in postquery.SORTS:
        raise postquery.FilterError(f"sort={sort!r} is not one of: {', '.join(postquery.SORTS)}")
    source, params = postquery.source(f, tables)
    key, direction = postquery.SORTS[sort]
    joins = []
    category = language = relation = "NULL::VARCHAR"
    if "labels" in tables:
        joins.append(
            "LEFT JOIN labels xd ON xd.platform = p.platform AND xd.post_id = p.id AND xd.task = 'discourse' "
            "LEFT JOIN labels xl ON xl.platform = p.platform AND xl.post_id = p.id AND xl.task = 'language'"
        )
        category, language = "xd.label", "xl.label"
    if "relations" in tables:
        joins.append("LEFT JOIN relations xr ON xr.platform = p.platform AND xr.post_id = p.id")
        relation = "xr.relation"
    sql = (
        f"WITH selected AS (SELECT DISTINCT p.platform, p.id {source}) "
        f"SELECT {postquery.COLUMNS}, {category} AS category, {relation} AS relation, {language} AS language "
        f"FROM selected s JOIN posts p ON p.platform = s.platform AND p.id = s.id {' '.join(joins)} "
        f"ORDER BY {key} {direction}, p.platform {direction}, p.id {direction}"
    )
    return sql, params


def _filter(request: Request) -> postquery.PostFilter:
    try:
        return postquery.parse(dict(request.query_params))
    except postquery.FilterError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc


def csv_chunks(rows: Iterator[list[tuple[Any, ...]]]) -> Iterator[bytes]:
    """Spreadsheet-safe CSV: the BOM and header first, then one chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    for batch in rows:
        buffer.seek(0)
        buffer.truncate(0)
        for row in batch:
            writer.writerow(
                [excel_safe(iso(v) if k == "created_at" and v is not None else v) for k, v in zip(EXPORT_COLUMNS, row)]
            )
        yield buffer.getvalue().encode("utf-8")


class _Sink(io.RawIOBase):
    """A write-only file that hands its bytes over after each row group (``tell`` counts every
    byte written, as Parquet's footer needs)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def _stream(request: Request, db: str | None, fmt: str, sort: str) -> Iterator[bytes]:
    f = _filter(request)
    target = handle(request, db)
    with target.reading() as r:
        sql, params = export_sql(f, r.tables, sort)
        if fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            reader = r.con.sql(sql, params=params).to_arrow_reader(BATCH)
            sink = _Sink()
            with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    yield sink.take()
            yield sink.take()
            return
        cursor = r.con.execute(sql, params)
        if fmt == "csv":

            def batches() -> Iterator[list[tuple[Any, ...]]]:
                while rows := cursor.fetchmany(BATCH):
                    yield rows

            yield from csv_chunks(batches())
        else:
            head = {"db": r.name, "filter": f.params(), "description": postquery.describe(f), "sort": sort}
            yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "posts": [').encode("utf-8")
            first = True
            while rows := cursor.fetchmany(BATCH):
                parts = []
                for row in rows:
                    record = {k: (iso(v) if k == "created_at" else v) for k, v in zip(EXPORT_COLUMNS, row)}
                    parts.append(("" if first else ",") + "\n" + json.dumps(record, ensure_ascii=False))
                    first = False
                yield "".join(parts).encode("utf-8")
            yield b"\n]}\n"


@router.get(
    "/export/posts.{fmt}",
    summary="Every post of a filtered view (the /posts filters) as CSV (Excel-safe), Parquet or JSON, streamed",
)
def export_posts(
    request: Request, fmt: Literal["csv", "parquet", "json"], db: DbParam = None, sort: SortParam = "time"
) -> Response:
    f = _filter(request)
    with reading(request, db) as r:  # check the filter against the store before streaming
        try:
            export_sql(f, r.tables, sort)
        except postquery.FilterError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        name = r.name
    return StreamingResponse(
        _stream(request, db, fmt, sort),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="askscope-{name}-posts.{fmt}"'},
    )


@router.get("/export/report.{fmt}", summary="The report of the store (askscope report) as HTML, Markdown or JSON")
def export_report(request: Request, fmt: Literal["html", "md", "json"], db: DbParam = None) -> Response:
    from askscope.reports import report
    from askscope.store.core import Store

    with reading(request, db) as r:
        try:
            text = report(Store(r.path, r.con, read_only=True), format=fmt)
        except AskscopeError as exc:
            raise HTTPException(
                status_code=409, detail=f"{exc.message} ({exc.hint})" if exc.hint else exc.message
            ) from exc
        name = r.name
    media = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8", "json": "application/json"}
    return Response(
        text.encode("utf-8"),
        media_type=media[fmt],
        headers={"Content-Disposition": f'attachment; filename="askscope-{name}-report.{fmt}"'},
    )
