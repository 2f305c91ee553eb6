"""The command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result: results on
stdout, progress and messages on stderr. User errors (:class:`~askscope.errors.AskscopeError`
and click's usage errors) print ``Error: ...`` and a hint and exit 1; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click
import duckdb
import msgspec

from askscope._version import __version__
from askscope.analyze import analyze as run_analyze
from askscope.analyze import stages as pipeline_stages
from askscope.campaign import default_file_name, load_campaign
from askscope.campaign import template as campaign_template
from askscope.classify.command import classify_command
from askscope.collect.command import collect_command
from askscope.demo import run_demo
from askscope.errors import AskscopeError, UsageError
from askscope.info import format_info, store_info
from askscope.ingestion import ingest as run_ingest
from askscope.readers import READERS, format_names
from askscope.readers.csv import parse_map
from askscope.reparsing import reparse as run_reparse
from askscope.report import chart_files
from askscope.report import report as make_report
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
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
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
) -> None:
    """Ingest PATHS (files, folders, zip archives, - for stdin) into the store DB.

    Formats are recognised from the content: X API v1.1 and v2 (twarc2 pages and flattened
    lines), CSV (twarc2 csv and other exports, --map for any columns), Mastodon, Bluesky and
    Reddit API responses, and recorded HTTP sessions (cassettes); askscope formats lists them.
    gzip, bz2, xz, zstd and zip are opened as they come. Re-ingesting adds nothing twice.
    Prints read = new + updated + rejected.
    """
    mapping = parse_map(maps)
    limit = parse_size(max_record, "--max-record-size")
    with _Progress(progress) as bar:
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
                f"+ rejected {c.rejected:,}"
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
        f"Total: read {t.read:,} = new {t.new:,} + updated {t.updated:,} + rejected {t.rejected:,}"
        f" ({t.context_new:,} context posts added, {t.accounts_new:,} accounts added) in {result.seconds:.1f}s"
    )
    if t.rejected:
        for reason, count, example in result.reject_reasons[:3]:
            click.echo(f"  {count:,} rejected as {reason}, e.g. {example}", err=True)
        click.echo(f'See the rejects: askscope sql {db} "SELECT * FROM rejects"', err=True)


@cli.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option(
    "--top", type=click.IntRange(min=1), default=10, show_default=True, help="How many top hashtags and accounts."
)
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

    The query sees only the store: it cannot read or write other files, install or load
    extensions, or change settings.

    Example: askscope sql campaign.duckdb "SELECT kind, count(*) FROM posts GROUP BY kind"
    """
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
            writer.writerow([_cell(v, csv_mode=True) for v in row])
        click.echo(buffer.getvalue(), nl=False)
    else:
        click.echo(_table(columns, rows))


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", re.IGNORECASE)


def parse_size(value: str, option: str) -> int:
    """Bytes of a size such as ``64MB``, ``1.5GB`` or ``4096`` (units of 1024)."""
    match = _SIZE.fullmatch(value)
    if not match:
        raise UsageError(f"{option} {value!r} is not a size", "give a size such as 64MB, 512KB or 2GB")
    factor = 1024 ** " KMGT".index(match.group(2).upper() or " ")
    return int(float(match.group(1)) * factor)


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
    out = ["  ".join(col.ljust(w) for col, w in zip(columns, widths)).rstrip(), "  ".join("-" * w for w in widths)]
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
    click.echo(
        f"Reparsed {result.blocks:,} raw blocks of {result.ingests:,} ingests: read {c.read:,} = "
        f"new {c.new:,} + updated {c.updated:,} + rejected {c.rejected:,}; posts "
        f"{result.posts_before:,} -> {result.posts_after:,}"
    )


@cli.command()
@click.argument("name")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the campaign file (default: NAME.toml; - for stdout).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(name: str, output: str | None, force: bool) -> None:
    """Write a commented campaign file template for campaign NAME (hosts, hashtags, window,
    frames) to edit before analyze."""
    if output == "-":
        click.echo(campaign_template(name), nl=False)
        return
    path = Path(output or default_file_name(name))
    text = campaign_template(name, str(path))
    if path.exists() and not force:
        raise UsageError(f"{path} exists", "choose another name with -o, or overwrite with --force")
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {path}: edit the hosts, hashtags and frames, then run: askscope analyze DB --campaign {path}")


@cli.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option(
    "--campaign",
    "campaign_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The campaign file (TOML: hosts, hashtags, window, frames; see askscope init).",
)
@click.option(
    "--only",
    "only",
    multiple=True,
    metavar="STAGE",
    help="Re-run only this stage (repeatable); its inputs must exist from an earlier run.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap intervals.")
@click.option("--json", "as_json", is_flag=True, help="Print each stage's summary as JSON.")
def analyze(db: str, campaign_path: str, only: tuple[str, ...], seed: int, as_json: bool) -> None:
    """Run the analysis stages on the store DB for a campaign: threads, relations, classify,
    authenticity, answers, lenses (askscope stages lists them with what each needs and writes)."""
    campaign = load_campaign(campaign_path)
    summaries = run_analyze(
        db,
        campaign,
        only=list(only) or None,
        settings={"seed": seed},
        progress=lambda message: click.echo(message, err=True),
    )
    if as_json:
        click.echo(dumps(summaries))
        return
    for name, summary in summaries.items():
        click.echo(f"{name}: " + ", ".join(f"{k}={v}" for k, v in summary.items() if not isinstance(v, (dict, list))))
    click.echo(f"Report: askscope report {db} -o report.html")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the pipeline as JSON.")
def stages(as_json: bool) -> None:
    """Print the analysis pipeline: each stage in order, what it needs and what it provides."""
    rows = [
        {"name": s.name, "description": s.description, "requires": list(s.requires), "provides": list(s.provides)}
        for s in pipeline_stages()
    ]
    if as_json:
        click.echo(dumps(rows))
        return
    for i, row in enumerate(rows, 1):
        needs = ", ".join(row["requires"]) or "-"
        click.echo(f"{i}. {row['name']:<12} {row['description']}")
        click.echo(f"   needs: {needs}; writes: {', '.join(row['provides'])}")


@cli.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "md", "json"]),
    default=None,
    help="Report format (default: from the output's extension, else html).",
)
@click.option(
    "-o",
    "--output",
    default=None,
    help="Output file (default: report.html, report.md or report.json in the current folder); - for stdout.",
)
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write every chart to this folder (for papers).",
)
@click.option(
    "--chart-format",
    type=click.Choice(["svg", "png"]),
    default="svg",
    show_default=True,
    help="Format of the chart files.",
)
@click.option("--pseudonymise", is_flag=True, help="Replace participants' handles with stable pseudonyms.")
def report(
    db: str, fmt: str | None, output: str | None, charts_dir: str | None, chart_format: str, pseudonymise: bool
) -> None:
    """Write the campaign report of an analysed store DB: a self-contained offline HTML file, or
    Markdown, or JSON with every number."""
    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output not in (None, "-") else ""
        fmt = {"md": "md", "markdown": "md", "json": "json"}.get(suffix, "html")
    if output is None:
        output = f"report.{fmt}"
    text = make_report(db, format=fmt, pseudonymise=pseudonymise)
    if output == "-":
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {Path(output).resolve()}", err=True)
    if charts_dir:
        written = chart_files(db, charts_dir, chart_format, pseudonymise=pseudonymise)
        click.echo(f"Wrote {len(written)} charts to {charts_dir}", err=True)


@cli.command()
@click.option(
    "-o",
    "--output",
    "folder",
    default="askscope-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the demo store, campaign file and reports.",
)
def demo(folder: str) -> None:
    """Run a whole analysis on bundled real data (@Uber_Sydney answering repliers during the
    Sydney siege, RumourEval/PHEME) and write the reports."""
    result = run_demo(folder, progress=lambda message: click.echo(message, err=True))
    for lens in ("backfire", "engagement", "framing", "authenticity"):
        click.echo(f"{lens.upper()}: {result['verdicts'][lens]}\n")
    click.echo(f"Report: {result['reports']['html']} (also {result['reports']['md']}, {result['reports']['json']})")
    click.echo(f"Store: {result['store']}; campaign file: {result['campaign']}")


@cli.command()
def formats() -> None:
    """List the input formats askscope recognises."""
    for reader in READERS:
        click.echo(f"{reader.name:<8} {reader.description}")


cli.add_command(classify_command, "classify")
cli.add_command(collect_command, "collect")


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
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _fail(
            f"the campaign store failed: {first}",
            "what was committed before the failure is kept; free memory or disk space and run the "
            "same command again (re-running is safe: nothing is stored twice)",
        )
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

from askscope.coding.command import code_command  # noqa: E402

cli.add_command(code_command, "code")


if __name__ == "__main__":
    main()
