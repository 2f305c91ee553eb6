"""The command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result: results on
stdout, progress and messages on stderr. User errors (:class:`~askscope.errors.AskscopeError`
and click's usage errors) print ``Error: ...`` and a hint and exit 1; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import click
import msgspec

from askscope._version import __version__
from askscope.errors import AskscopeError, UsageError
from askscope.info import format_info, store_info
from askscope.ingestion import ingest as run_ingest
from askscope.readers import READERS, format_names
from askscope.readers.csv import parse_map
from askscope.reparsing import reparse as run_reparse
from askscope.store import open_store


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return str(value)


_json_encoder = msgspec.json.Encoder(enc_hook=_json_default)
#: Above this many inputs, ingest prints a summary instead of a line per input.
LIST_INPUTS = 10


def dumps(value: Any, indent: bool = True) -> str:
    data = _json_encoder.encode(value)
    return (msgspec.json.format(data, indent=2) if indent else data).decode()


class _Progress:
    """A progress bar on stderr for long inputs (only when stderr is a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                console=Console(stderr=True), transient=True,
            )
            self._progress.start()
        return self

    def __call__(self, name: str, done: int, total: int | None) -> None:
        if self._progress is None:
            return
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=total)
        self._progress.update(self._tasks[name], completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="askscope")
def cli() -> None:
    """askscope: evidence for public Q&A and hashtag campaigns.

    Ingest the posts of a campaign into a DuckDB store, then query and report on it.
    """


@cli.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(format_names()), help="Skip sniffing and read PATHS as this format.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="CSV: map a column to a post field (repeatable), e.g. --map 'Tweet Body=text'.")
@click.option("--platform", default=None, help="CSV: platform of the posts when the file has no platform column (default x).")
@click.option("--strict", is_flag=True, help="Stop at the first bad record (exit 1, with its file and line) instead of rejecting it and going on.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Parser processes for large JSON-lines inputs (default: one per CPU; 0: none).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar on stderr (terminals only).")
def ingest(db: str, paths: tuple[str, ...], fmt: str | None, maps: tuple[str, ...], platform: str | None,
           strict: bool, workers: int | None, as_json: bool, progress: bool) -> None:
    """Ingest PATHS (files, folders, zip archives, - for stdin) into the store DB.

    Formats are recognised from the content: X API v1.1 and v2 (twarc2 pages and flattened
    lines), CSV (twarc2 csv and other exports); gzip, bz2, xz, zstd and zip are opened as they
    come. Re-ingesting adds nothing twice. Prints read = new + updated + rejected.
    """
    mapping = parse_map(maps)
    with _Progress(progress) as bar:
        result = run_ingest(db, list(paths), format=fmt, mapping=mapping, platform=platform, strict=strict,
                            workers=workers, progress=bar)
    for f in result.files:
        if f.damage:
            click.echo(f"Warning: {f.source_file}: {f.damage}", err=True)
    for name, why in result.skipped:
        click.echo(f"Skipped {why}", err=True)
    if as_json:
        click.echo(dumps(result.as_dict()))
        return
    if len(result.files) <= LIST_INPUTS:
        for f in result.files:
            c = f.counts
            click.echo(f"{f.source_file} [{f.format}]: read {c.read:,} = new {c.new:,} + updated {c.updated:,} "
                       f"+ rejected {c.rejected:,}")
    else:
        formats: dict[str, int] = {}
        for f in result.files:
            formats[f.format] = formats.get(f.format, 0) + 1
        click.echo(f"{len(result.files):,} inputs (" + ", ".join(f"{n:,} {k}" for k, n in sorted(formats.items())) + ")")
        with_rejects = [f for f in result.files if f.counts.rejected]
        for f in with_rejects[:LIST_INPUTS]:
            click.echo(f"{f.source_file} [{f.format}]: rejected {f.counts.rejected:,} of {f.counts.read:,}")
        if len(with_rejects) > LIST_INPUTS:
            click.echo(f"... and {len(with_rejects) - LIST_INPUTS:,} more inputs with rejects")
    t = result.totals
    click.echo(f"Total: read {t.read:,} = new {t.new:,} + updated {t.updated:,} + rejected {t.rejected:,}"
               f" ({t.context_new:,} context posts added, {t.accounts_new:,} accounts added) in {result.seconds:.1f}s")
    if t.rejected:
        click.echo(f"See the rejects: askscope sql {db} \"SELECT * FROM rejects\"", err=True)


@cli.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="How many top hashtags and accounts.")
def info(db: str, as_json: bool, top: int) -> None:
    """Summarise the store DB: posts by platform and kind, time range, top hashtags and
    accounts, rejects by reason, ingest runs."""
    with open_store(db, read_only=True) as store:
        data = store_info(store, top=top)
    click.echo(dumps(data) if as_json else format_info(data))


@cli.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print rows as a JSON array of objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print rows as CSV with a header.")
@click.option("-p", "--param", "params", multiple=True, help="A value for a ? placeholder (repeatable, in order).")
def sql(db: str, query: str, as_json: bool, as_csv: bool, params: tuple[str, ...]) -> None:
    """Run a read-only SQL QUERY on the store DB (DuckDB SQL).

    Example: askscope sql campaign.duckdb "SELECT kind, count(*) FROM posts GROUP BY kind"
    """
    if as_json and as_csv:
        raise UsageError("--json and --csv exclude each other", "choose one output format")
    with open_store(db, read_only=True) as store:
        columns, rows = store.query(query, list(params))
    if as_json:
        click.echo(dumps([dict(zip(columns, row)) for row in rows]))
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(v, csv_mode=True) for v in row])
        click.echo(buffer.getvalue(), nl=False)
    else:
        click.echo(_table(columns, rows))


def _cell(value: Any, csv_mode: bool = False) -> str:
    if value is None:
        return "" if csv_mode else "NULL"
    if isinstance(value, (list, dict)):
        return dumps(value, indent=False)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return str(value)


def _table(columns: list[str], rows: list[tuple[Any, ...]], max_width: int = 60) -> str:
    if not columns:
        return ""
    cells = [[_cell(v).replace("\n", "\\n") for v in row] for row in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    widths = [max([len(col)] + [len(row[i]) for row in cells]) for i, col in enumerate(columns)]
    out = ["  ".join(col.ljust(w) for col, w in zip(columns, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


@cli.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def reparse(db: str, as_json: bool) -> None:
    """Rebuild posts, accounts and rejects of DB from the raw payloads it keeps (after a reader
    fix); the original files are not needed."""
    with open_store(db, create=False) as store:
        result = run_reparse(store)
    if as_json:
        click.echo(dumps(result.as_dict()))
        return
    c = result.counts
    click.echo(f"Reparsed {result.blocks:,} raw blocks of {result.ingests:,} ingests: read {c.read:,} = "
               f"new {c.new:,} + updated {c.updated:,} + rejected {c.rejected:,}; posts "
               f"{result.posts_before:,} -> {result.posts_after:,}")


@cli.command()
def formats() -> None:
    """List the input formats askscope recognises."""
    for reader in READERS:
        click.echo(f"{reader.name:<8} {reader.description}")


def _fail(message: str, hint: str | None) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    if hint:
        click.echo(f"Hint: {hint}", err=True)
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``askscope`` console script."""
    try:
        cli.main(args=argv, prog_name="askscope", standalone_mode=False)
    except AskscopeError as exc:
        _fail(exc.message, exc.hint)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "askscope"
        _fail(exc.format_message(), f"see: {command} --help")
    except click.ClickException as exc:
        _fail(exc.format_message(), None)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


from askscope.authenticity.command import authenticity_command  # noqa: E402

cli.add_command(authenticity_command, "authenticity")


if __name__ == "__main__":
    main()
