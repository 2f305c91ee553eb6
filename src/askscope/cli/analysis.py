"""Commands of the analysis: ``init``, ``analyze``, ``stages``, ``report``, ``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from askscope.cli.common import dumps
from askscope.errors import UsageError


@click.command()
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
    from askscope.campaign import default_file_name
    from askscope.campaign import template as campaign_template

    if output == "-":
        click.echo(campaign_template(name), nl=False)
        return
    path = Path(output or default_file_name(name))
    text = campaign_template(name, str(path))
    if path.exists() and not force:
        raise UsageError(f"{path} exists", "choose another name with -o, or overwrite with --force")
    path.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {path}: edit the hosts, hashtags and frames, then run: askscope analyze DB --campaign {path}")


@click.command()
@click.argument("db", type=click.Path())
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
@click.option(
    "--labeler",
    default="bundled",
    show_default=True,
    help="The labeler of the classify stage (askscope plugins lists the installed ones).",
)
@click.option("--json", "as_json", is_flag=True, help="Print each stage's summary as JSON.")
@click.option(
    "--dask",
    "dask",
    default=None,
    metavar="ADDRESS",
    help="Analyse an archive folder DB, the classify stage on a Dask cluster: local:N or tcp://host:8786 "
    "(docs/archive.md; needs askscope[archive]).",
)
def analyze(
    db: str, campaign_path: str, only: tuple[str, ...], seed: int, labeler: str, as_json: bool, dask: str | None
) -> None:
    """Run the analysis stages on the store DB for a campaign: reply_trees, relations, classify,
    authenticity, answers, lenses (askscope stages lists them with what each needs and writes)."""
    from askscope.analysis import analyze as run_analyze
    from askscope.campaign import load_campaign

    campaign = load_campaign(campaign_path)
    if dask is not None or Path(db).is_dir():
        from askscope.cli.archive import archive_analyze

        summaries = archive_analyze(db, campaign, dask, list(only) or None, {"seed": seed, "labeler": labeler})
    else:
        summaries = run_analyze(
            db,
            campaign,
            only=list(only) or None,
            settings={"seed": seed, "labeler": labeler},
            progress=lambda message: click.echo(message, err=True),
        )
    if as_json:
        click.echo(dumps(summaries))
        return
    for name, summary in summaries.items():
        click.echo(f"{name}: " + ", ".join(f"{k}={v}" for k, v in summary.items() if not isinstance(v, (dict, list))))
    click.echo(f"Report: askscope report {db} -o report.html")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the pipeline as JSON.")
def stages(as_json: bool) -> None:
    """Print the analysis pipeline: each stage in order, the tables it requires, reads when they
    exist, and writes."""
    from askscope.analysis import stages as pipeline_stages

    rows = [
        {
            "name": s.name,
            "description": s.description,
            "requires": list(s.requires),
            "reads": list(s.reads),
            "provides": list(s.provides),
        }
        for s in pipeline_stages()
    ]
    if as_json:
        click.echo(dumps(rows))
        return
    for i, row in enumerate(rows, 1):
        needs = ", ".join(row["requires"]) or "-"
        reads = f"; reads if present: {', '.join(row['reads'])}" if row["reads"] else ""
        click.echo(f"{i}. {row['name']:<12} {row['description']}")
        click.echo(f"   requires: {needs}{reads}; writes: {', '.join(row['provides'])}")


@click.command()
@click.argument("db", type=click.Path())
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
    from askscope.cli.archive import store_path_for
    from askscope.reports import chart_files
    from askscope.reports import report as make_report

    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output not in (None, "-") else ""
        fmt = {"md": "md", "markdown": "md", "json": "json"}.get(suffix, "html")
    if output is None:
        output = f"report.{fmt}"
    with store_path_for(db) as path:  # an archive folder: read through a temporary store
        text = make_report(path, format=fmt, pseudonymise=pseudonymise)
        if output == "-":
            click.echo(text, nl=False)
        else:
            Path(output).write_text(text, encoding="utf-8")
            click.echo(f"Wrote {Path(output).resolve()}", err=True)
        if charts_dir:
            written = chart_files(path, charts_dir, chart_format, pseudonymise=pseudonymise)
            click.echo(f"Wrote {len(written)} charts to {charts_dir}", err=True)


@click.command()
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
    from askscope.demo import run_demo

    result = run_demo(folder, progress=lambda message: click.echo(message, err=True))
    for lens in ("backfire", "engagement", "framing", "authenticity"):
        click.echo(f"{lens.upper()}: {result['verdicts'][lens]}\n")
    click.echo(f"Report: {result['reports']['html']} (also {result['reports']['md']}, {result['reports']['json']})")
    click.echo(f"Store: {result['store']}; campaign file: {result['campaign']}")
