"""Commands on the store and its inputs: ``ingest``, ``info``, ``sql``, ``reparse``, ``formats``."""

from __future__ import annotations

import csv
import io
from typing import Any

import click

from askscope.cli.common import FormatChoice, Progress, cell, dumps, parse_size, table
from askscope.errors import UsageError

#: Above this many inputs, ingest prints a summary instead of a line per input.
LIST_INPUTS = 10


@click.command()
@click.argument("db", type=click.Path())
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=FormatChoice(), help="Skip sniffing and read PATHS as this format.")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="CSV: map a column to a post field (repeatable), e.g. --map 'Tweet Body=text'.",
)
@click.option(
    "--platform", default=None, help="CSV: platform of the posts when the file has no platform column (default x)."
)
@click.option(
    "--strict",
    is_flag=True,
    help="Stop at the first bad record (exit 1, with its file and line) instead of rejecting it and going on.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="Extra parser processes for large JSON-lines inputs (default: one per CPU but one; 0: none).",
)
@click.option(
    "--day-first/--month-first",
    "day_first",
    default=None,
    help="CSV: read numeric dates such as 05/12/2014 as day/month (or month/day). Without it a date "
    "whose order is clear (15/12/2014) is read and an ambiguous one is rejected.",
)
@click.option(
    "--date-format",
    default=None,
    metavar="FORMAT",
    help="CSV: read every date with this strptime format, e.g. '%d.%m.%Y %H:%M' (UTC unless it has %z).",
)
@click.option(
    "--max-record-size",
    "max_record",
    default="64MB",
    show_default=True,
    metavar="SIZE",
    help="The largest record (JSON line or document, CSV row) read; a larger one is rejected "
    "(record_too_large) and the rest of its input is read on.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar on stderr (terminals only).")
@click.option(
    "--dask",
    "dask",
    default=None,
    metavar="ADDRESS",
    help="Ingest into an archive folder DB on a Dask cluster: local:N (N workers here) or tcp://host:8786 "
    "(docs/archive.md; needs askscope[archive]).",
)
def ingest(
    db: str,
    paths: tuple[str, ...],
    fmt: str | None,
    maps: tuple[str, ...],
    platform: str | None,
    strict: bool,
    workers: int | None,
    day_first: bool | None,
    date_format: str | None,
    max_record: str,
    as_json: bool,
    progress: bool,
    dask: str | None,
) -> None:
    """Ingest PATHS (files, folders, zip archives, - for stdin) into the store DB.

    Formats are recognised from the content: X API v1.1 and v2 (twarc2 pages and flattened
    lines), CSV (twarc2 csv and other exports, --map for any columns), Mastodon, Bluesky and
    Reddit API responses, and recorded HTTP sessions (cassettes); askscope formats lists them.
    gzip, bz2, xz, zstd and zip are opened as they come. Re-ingesting adds nothing twice.
    Prints read = new + updated + unchanged + rejected. With --dask, DB is an archive folder
    (docs/archive.md) and the inputs are parsed on Dask workers.
    """
    import os

    from askscope.ingestion.engine import ingest as run_ingest
    from askscope.readers.csv import parse_map

    mapping = parse_map(maps)
    limit = parse_size(max_record, "--max-record-size")
    if dask is not None or os.path.isdir(db):
        from askscope.cli.archive import archive_ingest

        date_order = None if day_first is None else ("dmy" if day_first else "mdy")
        result = archive_ingest(
            db, list(paths), dask, fmt, mapping, platform, strict, workers, date_order, date_format, limit
        )
    else:
        with Progress(progress) as bar:
            result = run_ingest(
                db,
                list(paths),
                format=fmt,
                mapping=mapping,
                platform=platform,
                strict=strict,
                workers=workers,
                progress=bar,
                max_record_bytes=limit,
                date_order=None if day_first is None else ("dmy" if day_first else "mdy"),
                date_format=date_format,
            )
    for f in result.files:
        if f.damage:
            click.echo(f"Warning: {f.source_file}: {f.damage}", err=True)
    if as_json:
        click.echo(dumps(result.as_dict()))
    else:
        _print_ingest(db, result)
    if result.skipped:
        names = "; ".join(f"{why}" for _, why in result.skipped[:3])
        more = f" and {len(result.skipped) - 3} more" if len(result.skipped) > 3 else ""
        raise UsageError(
            f"{len(result.skipped)} input(s) not recognised, the others ingested: {names}{more}",
            "askscope formats lists what askscope reads (--format forces one); the files are "
            f"in: askscope sql {db} \"SELECT * FROM rejects WHERE reason = 'unknown_format'\"",
        )
    if result.all_rejected:
        names = ", ".join(f.source_file for f in result.all_rejected[:3])
        example = result.reject_reasons[0] if result.reject_reasons else ("", 0, "")
        raise UsageError(
            f"every record of {names} was rejected ({example[0]}: {example[2]})",
            "for a spreadsheet export, map its columns with --map COLUMN=FIELD and give its date "
            "form with --day-first, --month-first or --date-format; see the rejects "
            f'with: askscope sql {db} "SELECT * FROM rejects"',
        )


def _print_ingest(db: str, result: Any) -> None:
    if len(result.files) <= LIST_INPUTS:
        for f in result.files:
            c = f.counts
            click.echo(
                f"{f.source_file} [{f.format}]: read {c.read:,} = new {c.new:,} + updated {c.updated:,} "
                f"+ unchanged {c.unchanged:,} + rejected {c.rejected:,}"
            )
    else:
        formats: dict[str, int] = {}
        for f in result.files:
            formats[f.format] = formats.get(f.format, 0) + 1
        click.echo(
            f"{len(result.files):,} inputs (" + ", ".join(f"{n:,} {k}" for k, n in sorted(formats.items())) + ")"
        )
        with_rejects = [f for f in result.files if f.counts.rejected]
        for f in with_rejects[:LIST_INPUTS]:
            click.echo(f"{f.source_file} [{f.format}]: rejected {f.counts.rejected:,} of {f.counts.read:,}")
        if len(with_rejects) > LIST_INPUTS:
            click.echo(f"... and {len(with_rejects) - LIST_INPUTS:,} more inputs with rejects")
    t = result.totals
    click.echo(
        f"Total: read {t.read:,} = new {t.new:,} + updated {t.updated:,} + unchanged {t.unchanged:,} + rejected {t.rejected:,}"
        f" ({t.context_new:,} context posts added, {t.accounts_new:,} accounts added) in {result.seconds:.1f}s"
    )
    if t.rejected:
        for reason, count, example in result.reject_reasons[:3]:
            click.echo(f"  {count:,} rejected as {reason}, e.g. {example}", err=True)
        click.echo(f'See the rejects: askscope sql {db} "SELECT * FROM rejects"', err=True)


@click.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--top", type=click.IntRange(min=1), default=10, show_default=True, help="How many top hashtags and accounts."
)
def info(db: str, as_json: bool, top: int) -> None:
    """Summarise the store DB: posts by platform and kind, time range, top hashtags and
    accounts, rejects by reason, ingest runs."""
    from askscope.store.core import open_store
    from askscope.store.info import format_info, store_info

    with open_store(db, read_only=True) as store:
        data = store_info(store, top=top)
    click.echo(dumps(data) if as_json else format_info(data))


@click.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print rows as a JSON array of objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print rows as CSV with a header.")
@click.option("-p", "--param", "params", multiple=True, help="A value for a ? placeholder (repeatable, in order).")
def sql(db: str, query: str, as_json: bool, as_csv: bool, params: tuple[str, ...]) -> None:
    """Run a read-only SQL QUERY on the store DB (DuckDB SQL).

    The query sees only the store: it cannot read or write other files, install or load
    extensions, or change settings.

    Example: askscope sql campaign.duckdb "SELECT kind, count(*) FROM posts GROUP BY kind"
    """
    from askscope.store.core import open_store

    if as_json and as_csv:
        raise UsageError("--json and --csv exclude each other", "choose one output format")
    with open_store(db, read_only=True, locked=True) as store:
        columns, rows = store.query(query, list(params))
    if as_json:
        click.echo(dumps([dict(zip(columns, row)) for row in rows]))
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([cell(v, csv_mode=True) for v in row])
        click.echo(buffer.getvalue(), nl=False)
    else:
        click.echo(table(columns, rows))


@click.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def reparse(db: str, as_json: bool) -> None:
    """Rebuild posts, accounts and rejects of DB from the raw payloads it keeps (after a reader
    fix); the original files are not needed."""
    from askscope.ingestion.reparse import reparse as run_reparse
    from askscope.store.core import open_store

    with open_store(db, create=False) as store:
        result = run_reparse(store)
    if as_json:
        click.echo(dumps(result.as_dict()))
        return
    c = result.counts
    click.echo(
        f"Reparsed {result.blocks:,} raw blocks of {result.ingests:,} ingests: read {c.read:,} = "
        f"new {c.new:,} + updated {c.updated:,} + unchanged {c.unchanged:,} + rejected {c.rejected:,}; posts "
        f"{result.posts_before:,} -> {result.posts_after:,}"
    )


@click.command()
def formats() -> None:
    """List the input formats askscope recognises."""
    from askscope.readers import readers

    for reader in readers():
        click.echo(f"{reader.name:<8} {reader.description}")
