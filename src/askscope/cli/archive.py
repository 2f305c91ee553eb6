"""Commands that move a campaign between a store and its archive form: ``export``, ``import``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from askscope.cli.common import dumps
from askscope.errors import UsageError


@click.command("export")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option(
    "--parquet",
    "folder",
    required=True,
    type=click.Path(file_okay=False),
    help="Write the archive form here (a new or empty folder): a Parquet dataset per table.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def export_command(db: str, folder: str, as_json: bool) -> None:
    """Write the store DB as Parquet datasets (its archive form): posts partitioned by platform
    and day, every other table as its own dataset, and a manifest. askscope import reads it back."""
    from askscope.archive.parquet import export_store

    manifest = export_store(db, folder)
    if as_json:
        click.echo(dumps(manifest))
        return
    tables = manifest["tables"]
    click.echo(
        f"Wrote {folder}: {len(tables)} tables, posts {tables.get('posts', {}).get('rows', 0):,} "
        f"(by platform and day), rejects {tables.get('rejects', {}).get('rows', 0):,}"
    )


@click.command("import")
@click.argument("folder", type=click.Path(file_okay=False))
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the rows per table as JSON.")
def import_command(folder: str, db: str, as_json: bool) -> None:
    """Make the new store DB from the archive FOLDER (written by askscope export --parquet or
    askscope ingest --dask); every table as it was, row counts checked against the manifest."""
    from askscope.archive.parquet import import_archive

    if folder == db:
        raise UsageError("FOLDER and DB are the same path", "give the archive folder, then a new store file")
    rows = import_archive(folder, db)
    if as_json:
        click.echo(dumps(rows))
        return
    click.echo(f"Wrote {db}: {len(rows)} tables, posts {rows.get('posts', 0):,}, rejects {rows.get('rejects', 0):,}")


def archive_ingest(
    folder: str,
    paths: list[str],
    dask: str | None,
    fmt: str | None,
    mapping: dict[str, str],
    platform: str | None,
    strict: bool,
    workers: int | None,
    date_order: str | None,
    date_format: str | None,
    max_record: int,
) -> Any:
    """``askscope ingest ARCHIVE_DIR PATH... --dask ADDRESS``: the Dask ingest, its options
    checked; returns the ingest result that ``askscope ingest`` prints."""
    if dask is None:
        raise UsageError(
            f"{folder} is a folder: an archive is ingested on a Dask cluster",
            "add --dask local:2 (two workers here) or --dask tcp://host:8786; a store is a file",
        )
    if strict:
        raise UsageError("--strict is not supported with --dask", "leave it out; rejects are kept in the archive")
    if workers is not None:
        raise UsageError("--workers is for the embedded store; with --dask the cluster's workers parse", "leave it out")
    from askscope.archive.cluster import parse_address
    from askscope.archive.dask_ingest import ingest_archive

    parse_address(dask)
    result, reports, phases = ingest_archive(
        folder,
        paths,
        dask=dask,
        format=fmt,
        mapping=mapping,
        platform=platform,
        max_record_bytes=max_record,
        date_order=date_order,
        date_format=date_format,
    )
    pids = {r["pid"] for r in reports}
    peak = max((r["peak_rss_mib"] for r in reports), default=0.0)
    merged = (
        "merged in one process (a version of an edited post came without its edit history)"
        if phases.get("one_process_merge")
        else f"merged in {phases.get('partitions', 0)} key partitions"
    )
    click.echo(
        f"Dask {dask}: {len(result.files):,} inputs parsed on {len(pids)} worker(s) in {len(reports):,} "
        f"task(s) (one per input, or per byte range of a large JSON-lines file; peak RSS of a worker "
        f"{peak:,.0f} MiB), {merged} into {folder}",
        err=True,
    )
    return result


def archive_analyze(
    folder: str, campaign: Any, dask: str | None, only: list[str] | None, settings: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """``askscope analyze ARCHIVE_DIR --campaign F --dask ADDRESS``: classify on the cluster,
    the other stages embedded (said on stderr); returns the stages' summaries."""
    if dask is None:
        raise UsageError(
            f"{folder} is a folder: an archive is analysed on a Dask cluster",
            "add --dask local:2 (two workers here) or --dask tcp://host:8786; a store is a file",
        )
    from askscope.archive.cluster import parse_address
    from askscope.archive.dask_analyze import analyze_archive

    parse_address(dask)
    summaries: dict[str, dict[str, Any]] = analyze_archive(
        folder, campaign, dask=dask, only=only, settings=settings, progress=lambda m: click.echo(m, err=True)
    )
    return summaries


@contextmanager
def store_path_for(db: str) -> Iterator[str]:
    """``db`` itself for a store file; for an archive folder, a temporary store loaded from it
    (removed after)."""
    if not Path(db).is_dir():
        yield db
        return
    from askscope.archive.dask_analyze import archive_as_store
    from askscope.errors import AskscopeError

    path = None
    try:
        with archive_as_store(db, write_back=False) as path:
            yield path
    except AskscopeError as exc:
        if path is None:
            raise
        # the user gave the archive, not the temporary store: say the archive, and how to analyse it
        exc.message = exc.message.replace(path, db)
        exc.args = (exc.message,)
        if exc.hint:
            exc.hint = exc.hint.replace(
                f"askscope analyze {path} --campaign CAMPAIGN.toml",
                f"askscope analyze {db} --campaign CAMPAIGN.toml --dask local:2",
            ).replace(path, db)
        raise
