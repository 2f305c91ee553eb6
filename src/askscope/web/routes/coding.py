"""``/coding``: human coding in the browser (:mod:`askscope.web.coding` on :mod:`askscope.coding`).

* ``/coding``: the store's samples with each coder's progress; draw a new sample; start coding.
* ``/coding/{sample}?coder=NAME``: resume: the coder's next uncoded post.
* ``/coding/{sample}/{row}?coder=NAME``: one post with its parent, the labels (keys 1-9 choose
  and save, ``static/coding.js``), a note; POST saves and moves to the next uncoded post.
* ``/coding/{sample}/agreement`` and ``/coding/{sample}/estimate``: Krippendorff's α and the
  validated (prediction-powered) shares, as ``askscope code agreement`` / ``estimate`` give them.

Every POST passes the CSRF and origin checks (:func:`askscope.web.security.check_csrf`). A write
opens the live store read-write for that write only, while no snapshot is being taken; a store
held by an ingest is a 503 page that keeps the coder's choice and note (nothing lost: press Save
again). The next page reads a fresh snapshot, so it shows the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import duckdb
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from pydantic import BaseModel
from starlette.responses import RedirectResponse, Response

from askscope.coding.codebook import CODING_TASKS
from askscope.coding.tables import STRATIFY_FIELDS, CodingError
from askscope.errors import AskscopeError, StoreBusyError
from askscope.store.core import Store
from askscope.web import coding
from askscope.web.deps import StoreHandle, handle, reading
from askscope.web.security import check_csrf
from askscope.web.templating import NAV, render

router = APIRouter()
if ("/coding", "Coding") not in NAV:
    NAV.append(("/coding", "Coding"))

DbParam = Annotated[str | None, Query(description="store name (the first store when omitted)")]
BUSY = "the store is being written by another process (an ingest or analyze): nothing was saved; retry when it is done"


@contextmanager
def live_store(target: StoreHandle) -> Iterator[Store]:
    """The live store, read-write, for one write of the coding tables. The snapshot lock is held
    meanwhile, so that no snapshot is taken (a read-only open of the same file) during the write."""
    with target.snapshots.paused():
        with coding.writing(target.path) as store:
            yield store


@dataclass(frozen=True)
class CodingRead:
    """What a coding page reads: the store's name, a connection and its tables."""

    name: str
    con: duckdb.DuckDBPyConnection
    tables: frozenset[str]


@contextmanager
def coding_reading(request: Request, db: str | None) -> Iterator[CodingRead]:
    """The coding tables as they are now. Coding writes the store after every post, and a
    snapshot is a copy of the whole store file (docs/architecture.md): reading each next post
    from a new snapshot would copy the store once per code. So the coding pages read the live
    store through a short read-only, confined connection (closed before the page is rendered),
    and fall back to the snapshot while another process writes the store."""
    from askscope.store.core import open_store, table_names

    target = handle(request, db)
    if target.snapshots.state is None:
        target.snapshots.refresh()  # once: a snapshot to fall back on while a writer holds the store
    live = None
    with target.snapshots.paused():  # no snapshot is taken (and no code written) meanwhile
        try:
            live = open_store(target.path, read_only=True, locked=True, create=False)
        except StoreBusyError:
            live = None
        if live is not None:
            try:
                yield CodingRead(target.name, live.con, frozenset(table_names(live.con)))
            finally:
                live.close()
    if live is None:
        with reading(request, db) as r:
            yield CodingRead(r.name, r.con, r.tables)


def _url(path: str, **params: Any) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def _error(exc: AskscopeError) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message


# -- pages -------------------------------------------------------------------------------------


@router.get("/coding", include_in_schema=False)
def coding_home(request: Request, db: DbParam = None) -> Response:
    with coding_reading(request, db) as r:
        found = coding.samples(r.con)
        name = r.name
        analysed = "labels" in r.tables and "relations" in r.tables
    return render(
        request,
        "coding.html",
        {
            "db": name,
            "samples": found,
            "analysed": analysed,
            "tasks": CODING_TASKS,
            "strata": list(STRATIFY_FIELDS),
        },
    )


@router.post("/coding/samples", include_in_schema=False, dependencies=[Depends(check_csrf)])
def draw(
    request: Request,
    db: DbParam = None,
    task: Annotated[str, Form()] = "discourse",
    n: Annotated[int, Form()] = 300,
    seed: Annotated[int, Form()] = 1,
    stratify_by: Annotated[str, Form()] = "",
) -> Response:
    from askscope.coding.sampling import draw_sample

    target = handle(request, db)
    try:
        with live_store(target) as store:
            sample = draw_sample(store, task, n=n, seed=seed, stratify_by=stratify_by or None)
    except StoreBusyError as exc:
        raise HTTPException(status_code=503, detail=BUSY) from exc
    except AskscopeError as exc:
        raise HTTPException(status_code=400, detail=_error(exc)) from exc
    return RedirectResponse(_url("/coding", db=target.name, drawn=sample.sample_id), status_code=303)


@router.get("/coding/{sample_id}", include_in_schema=False)
def resume(request: Request, sample_id: str, coder: str = "", db: DbParam = None) -> Response:
    with coding_reading(request, db) as r:
        try:
            name = coding.check_coder(coder)
            row = coding.next_uncoded(r.con, sample_id, name)
        except CodingError as exc:
            raise HTTPException(status_code=400, detail=_error(exc)) from exc
        db_name = r.name
    if row is None:
        return RedirectResponse(_url(f"/coding/{sample_id}/estimate", db=db_name, done=name), status_code=303)
    return RedirectResponse(_url(f"/coding/{sample_id}/{row}", db=db_name, coder=name), status_code=303)


def _item_page(
    request: Request,
    db: str | None,
    sample_id: str,
    row: int,
    coder: str,
    *,
    error: str | None = None,
    chosen: str | None = None,
    note: str | None = None,
    status_code: int = 200,
) -> Response:
    with coding_reading(request, db) as r:
        try:
            found = coding.item(r.con, sample_id, row, coder)
        except CodingError as exc:
            raise HTTPException(status_code=400, detail=_error(exc)) from exc
        name = r.name
    context = {
        "db": name,
        "item": found,
        "error": error,
        "chosen": chosen if chosen is not None else found.code,
        "note": note if note is not None else found.note,
        "saved": request.query_params.get("saved"),
    }
    return render(request, "coding_item.html", context, status_code=status_code)


@router.get("/coding/{sample_id}/{row:int}", include_in_schema=False)
def item_page(request: Request, sample_id: str, row: int, coder: str = "", db: DbParam = None) -> Response:
    return _item_page(request, db, sample_id, row, coder)


@router.post("/coding/{sample_id}/{row:int}", include_in_schema=False, dependencies=[Depends(check_csrf)])
def save(
    request: Request,
    sample_id: str,
    row: int,
    db: DbParam = None,
    coder: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    target = handle(request, db)
    try:
        with live_store(target) as store:
            coding.write_code(store, sample_id, row, coder, code, note)
            following = coding.next_uncoded(store.con, sample_id, coding.check_coder(coder), row)
    except StoreBusyError:
        return _item_page(request, db, sample_id, row, coder, error=BUSY, chosen=code, note=note, status_code=503)
    except CodingError as exc:
        if "coder" in exc.message:
            raise HTTPException(status_code=400, detail=_error(exc)) from exc
        return _item_page(
            request, db, sample_id, row, coder, error=_error(exc), chosen=code, note=note, status_code=400
        )
    name = coding.check_coder(coder)
    if following is None:
        return RedirectResponse(_url(f"/coding/{sample_id}/estimate", db=target.name, done=name), status_code=303)
    return RedirectResponse(
        _url(f"/coding/{sample_id}/{following}", db=target.name, coder=name, saved=row), status_code=303
    )


def _agreement(request: Request, db: str | None, sample_id: str) -> tuple[str, dict[str, Any]]:
    from askscope.coding.reliability import agreement

    with reading(request, db) as r:
        cache = handle(request, db).cache  # emptied when the snapshot changes (a new code)
        key = f"coding.agreement.{sample_id}"
        if key not in cache:
            try:
                task, _ = coding.sample_task(r.con, sample_id)
                cache[key] = agreement(coding.reader_store(r.path, r.con), task, sample_id).as_dict()
            except CodingError as exc:
                raise HTTPException(status_code=404, detail=_error(exc)) from exc
        found: dict[str, Any] = cache[key]
        return r.name, found


def _estimate(request: Request, db: str | None, sample_id: str) -> tuple[str, dict[str, Any]]:
    from askscope.coding.estimates import estimate

    with reading(request, db) as r:
        cache = handle(request, db).cache  # emptied when the snapshot changes (a new code)
        key = f"coding.estimate.{sample_id}"
        if key not in cache:
            try:
                task, _ = coding.sample_task(r.con, sample_id)
                result = estimate(coding.reader_store(r.path, r.con), task, sample_id)
            except CodingError as exc:
                raise HTTPException(status_code=404, detail=_error(exc)) from exc
            out = result.as_json()
            out.update({"sample_id": result.sample_id, "coders": result.coders, "notes": result.notes})
            cache[key] = out
        found: dict[str, Any] = cache[key]
        return r.name, found


@router.get("/coding/{sample_id}/agreement", include_in_schema=False)
def agreement_page(request: Request, sample_id: str, db: DbParam = None) -> Response:
    name, data = _agreement(request, db, sample_id)
    return render(request, "coding_agreement.html", {"db": name, "sample_id": sample_id, "a": data})


@router.get("/coding/{sample_id}/estimate", include_in_schema=False)
def estimate_page(request: Request, sample_id: str, db: DbParam = None) -> Response:
    name, data = _estimate(request, db, sample_id)
    return render(
        request,
        "coding_estimate.html",
        {"db": name, "sample_id": sample_id, "e": data, "done": request.query_params.get("done")},
    )


# -- API ---------------------------------------------------------------------------------------


class CodeIn(BaseModel):
    """A code sent by a script: who codes, the label, an optional note."""

    coder: str
    code: str
    note: str = ""


@router.get("/api/coding/samples", summary="The store's samples to code, with each coder's number of coded posts")
def api_samples(request: Request, db: DbParam = None) -> list[dict[str, Any]]:
    with coding_reading(request, db) as r:
        return [s.as_dict() for s in coding.samples(r.con)]


@router.get("/api/coding/{sample_id}/agreement", summary="Agreement between the coders (as askscope code agreement)")
def api_agreement(request: Request, sample_id: str, db: DbParam = None) -> dict[str, Any]:
    return _agreement(request, db, sample_id)[1]


@router.get("/api/coding/{sample_id}/estimate", summary="Validated shares (as askscope code estimate --json)")
def api_estimate(request: Request, sample_id: str, db: DbParam = None) -> dict[str, Any]:
    return _estimate(request, db, sample_id)[1]


@router.get("/api/coding/{sample_id}/{row:int}", summary="One post of a sample as a coder sees it")
def api_item(
    request: Request, sample_id: str, row: int, coder: Annotated[str, Query()], db: DbParam = None
) -> dict[str, Any]:
    with coding_reading(request, db) as r:
        try:
            return coding.item(r.con, sample_id, row, coder).as_dict()
        except CodingError as exc:
            raise HTTPException(status_code=400, detail=_error(exc)) from exc


@router.post(
    "/api/coding/{sample_id}/{row:int}",
    summary="Store a coder's code of one post (X-CSRF-Token header and same origin required)",
    dependencies=[Depends(check_csrf)],
)
def api_save(request: Request, sample_id: str, row: int, body: CodeIn, db: DbParam = None) -> dict[str, Any]:
    target = handle(request, db)
    try:
        with live_store(target) as store:
            platform, post_id = coding.write_code(store, sample_id, row, body.coder, body.code, body.note)
            following = coding.next_uncoded(store.con, sample_id, coding.check_coder(body.coder), row)
    except StoreBusyError as exc:
        raise HTTPException(status_code=503, detail=BUSY) from exc
    except CodingError as exc:
        raise HTTPException(status_code=400, detail=_error(exc)) from exc
    return {"saved": {"platform": platform, "post_id": post_id, "row": row}, "next_uncoded": following}
