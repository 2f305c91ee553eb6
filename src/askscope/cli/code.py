"""``askscope code``: human coding from the command line (a thin layer over askscope.coding)."""

from __future__ import annotations

from typing import Any

import click

from askscope.coding.codebook import CODING_TASKS
from askscope.coding.tables import STRATIFY_FIELDS

_TASK = click.Choice(CODING_TASKS)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _pct(value: float | None) -> str:
    return "—" if value is None or value != value else f"{100 * value:5.1f}%"


@click.group("code")
def code_command() -> None:
    """Human coding: draw a sample of the campaign's posts to code by hand, import the coders'
    files, measure their agreement (Krippendorff's alpha) and estimate every label's share with
    prediction-powered inference (the model's labels on every post, corrected by the codes)."""


@code_command.command("sample")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--task", required=True, type=_TASK, help="Task to code (its labels are the codes).")
@click.option("--n", "size", type=click.IntRange(min=1), default=300, show_default=True, help="Posts to draw.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draw (same seed, same sample).")
@click.option(
    "--stratify-by",
    type=click.Choice(list(STRATIFY_FIELDS)),
    default=None,
    help="Draw within strata (proportional allocation); the weights go in the file and the store.",
)
@click.option("--pseudonymise", is_flag=True, help="Replace authors and @mentions by user0001...; drop links.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Sample file (CSV for a spreadsheet); the codebook goes beside it in NAME.codebook.csv.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the sample's design as JSON.")
def sample_command(
    db: str, task: str, size: int, seed: int, stratify_by: str | None, pseudonymise: bool, output: str, as_json: bool
) -> None:
    """Draw a seeded probability sample of the task's posts (the audience's posts for discourse) and
    write it as a spreadsheet-safe CSV with an empty code column, plus the codebook."""
    from askscope.cli.common import dumps
    from askscope.coding.sampling import draw_sample, write_sample
    from askscope.store.core import open_store

    with open_store(db, create=False) as store:
        sample = draw_sample(store, task, size, seed, stratify_by, pseudonymise)
    path, book = write_sample(sample, output)
    summary = sample.summary() | {"file": str(path), "codebook": str(book)}
    if as_json:
        click.echo(dumps(summary))
        return
    click.echo(f"sample {sample.sample_id}: {len(sample.rows):,} of {sample.frame_size:,} {task} posts -> {path}")
    if stratify_by:
        for name, (stratum_size, drawn) in sorted(sample.strata.items()):
            click.echo(f"  {name:<24} {drawn:>6,} of {stratum_size:>9,}  weight {stratum_size / drawn:.4g}")
    click.echo(f"codebook: {book}")
    _say(f"code the 'code' column, then: askscope code import {db} {path} --coder NAME")


@code_command.command("import")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", required=True, help="Who coded the file ('adjudication' settles disagreements).")
@click.option("--task", type=_TASK, default=None, help="Task coded (default: the task of the file's sample).")
@click.option("--json", "as_json", is_flag=True, help="Print what was stored as JSON.")
def import_command(db: str, file: str, coder: str, task: str | None, as_json: bool) -> None:
    """Check every row of a coder's file (known post of the sample, a label of the task, no duplicate)
    and store its codes; on any bad row store nothing and name the lines. Re-importing a coder
    replaces that coder's codes. Empty codes are posts not coded yet."""
    from askscope.cli.common import dumps
    from askscope.coding.importing import import_codes
    from askscope.store.core import open_store

    with open_store(db, create=False) as store:
        result = import_codes(store, file, coder, task)
    if as_json:
        click.echo(dumps(result.as_dict()))
        return
    click.echo(
        f"{result.coder}: {result.stored:,} {result.task} codes stored ({result.skipped_empty:,} rows not coded "
        f"yet; {result.replaced:,} earlier codes replaced) from sample {', '.join(result.samples) or '-'}"
    )
    _say(
        f"read as {result.dialect['encoding']}, {result.dialect['delimiter']}-separated, {result.dialect['line_ends']}"
    )


@code_command.command("agreement")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--task", required=True, type=_TASK, help="Task whose codes are compared.")
@click.option("--sample", "sample_id", default=None, help="Only this sample's codes (default: all of the task).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap interval of alpha.")
@click.option(
    "--disagreements",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the posts the coders disagree on to this CSV, for adjudication.",
)
@click.option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
def agreement_command(
    db: str, task: str, sample_id: str | None, seed: int, disagreements: str | None, as_json: bool
) -> None:
    """Krippendorff's alpha between the coders with a bootstrap interval, agreement per label and
    per pair of coders, and the model against the coders' consensus (precision, recall, confusion)."""
    from askscope.cli.common import dumps
    from askscope.coding.reliability import agreement, write_disagreements
    from askscope.store.core import open_store

    with open_store(db, create=False) as store:
        result = agreement(store, task, sample_id, seed)
        written = write_disagreements(store, result, disagreements) if disagreements else None
    if as_json:
        click.echo(dumps(result.as_dict()))
    else:
        click.echo(format_agreement(result.as_dict()))
    if written is not None:
        _say(f"{written:,} posts to adjudicate -> {disagreements}; import the decisions with --coder adjudication")


def format_agreement(data: dict[str, Any]) -> str:
    alpha = data["alpha"]
    interval = data["alpha_interval"]
    lines = [
        f"{data['task']}: {data['posts']:,} coded posts, {len(data['coders'])} coders "
        f"({', '.join(data['coders'])}), {data['pairable_posts']:,} coded by two or more",
        "Krippendorff's alpha (nominal): "
        + (
            "not defined (needs two coders on the same posts)"
            if alpha is None
            else f"{alpha:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")
        ),
    ]
    lines.append(f"{'label':<20} {'alpha':>7} {'specific':>9}   model: {'precision':>9} {'recall':>7} {'support':>8}")
    for label, figures in data["per_label"].items():
        model = data["model"]["per_label"][label]
        a = "—" if figures["alpha"] is None else f"{figures['alpha']:.3f}"
        lines.append(
            f"{label:<20} {a:>7} {_pct(figures['specific_agreement']):>9}          "
            f"{_pct(model['precision']):>9} {_pct(model['recall']):>7} {model['support']:>8,}"
        )
    for pair in data["pairs"]:
        kappa = "—" if pair["kappa"] is None else f"{pair['kappa']:.3f}"
        lines.append(
            f"{pair['coders'][0]} vs {pair['coders'][1]}: {pair['posts']:,} posts, agreement "
            f"{_pct(pair['agreement'])}, kappa {kappa}"
        )
    lines.append(
        f"model vs consensus: {data['model']['posts']:,} posts, accuracy {_pct(data['model']['accuracy'])}; "
        f"{data['disagreements']:,} posts with disagreements, {data['ties']:,} without consensus"
    )
    return "\n".join(lines)


@code_command.command("estimate")
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--task", required=True, type=_TASK, help="Task whose shares are estimated.")
@click.option(
    "--sample",
    "sample_id",
    default=None,
    help="Coded sample to use (default: the task's sample with the most coded posts).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the estimates as JSON.")
def estimate_command(db: str, task: str, sample_id: str | None, as_json: bool) -> None:
    """Every label's share three ways: prediction-powered (the model's labels on all posts corrected
    by the coded sample; valid whatever the model's errors), from the coded sample only, and from
    the model only, each with its 95% interval."""
    from askscope.cli.common import dumps
    from askscope.coding.estimates import estimate
    from askscope.store.core import open_store

    with open_store(db, create=False) as store:
        result = estimate(store, task, sample_id)
    for note in result.notes:
        _say(f"Note: {note}")
    if as_json:
        click.echo(dumps(result.as_json()))
        return
    design = f"stratified by {result.stratify_by}" if result.stratify_by else "simple random sample"
    click.echo(
        f"{task}: {result.n_coded:,} coded of {result.n_total:,} posts (sample {result.sample_id}, {design}; "
        f"coders: {', '.join(result.coders)}; {result.n_ties} posts without a majority, "
        "counted as fractions)"
    )
    click.echo(f"{'label':<20} {'prediction-powered':>26} {'coded only':>26} {'model only':>26}")
    for label, kinds in result.shares.items():
        cells = [
            f"{_pct(i.estimate)} [{_pct(i.low)}, {_pct(i.high)}]"
            for i in (kinds["ppi"], kinds["coded_only"], kinds["model_only"])
        ]
        click.echo(f"{label:<20} {cells[0]:>26} {cells[1]:>26} {cells[2]:>26}")
