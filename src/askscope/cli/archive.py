"""Commands that move a campaign between a store and its archive form: ``export``, ``import``."""

from __future__ import annotations

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
