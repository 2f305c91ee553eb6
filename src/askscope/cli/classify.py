"""The ``askscope classify`` command: a thin adapter over :func:`askscope.classify.classify`.

The lead registers it with ``cli.add_command(classify_command, "classify")``.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

import click

from askscope.classify.tasks import TASKS, UnknownTaskError, resolve

if TYPE_CHECKING:  # pragma: no cover - types only
    from askscope.classify.predict import TaskResult
    from askscope.classify.quantify import Shares

CHUNK = 4096


class UnknownTask(click.ClickException):
    """``--task`` names no known task (exit status 1)."""


class UnreadableInput(click.ClickException):
    """The input file does not exist or cannot be read (exit status 1)."""


class NoShares(click.ClickException):
    """``--shares`` cannot be estimated for this task or input (exit status 1)."""


def _open_input(path: str) -> IO[str]:
    if path == "-":
        # Split on "\n" only: universal newlines would also split a post on a stray "\r".
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")
    try:
        return open(path, encoding="utf-8", errors="replace", newline="\n")
    except OSError as error:
        raise UnreadableInput(
            f"cannot read {path!r}: {error.strerror}. Give a text file with one post per line, "
            "or - to read standard input."
        ) from None


def _lines(stream: IO[str]) -> Iterator[list[str]]:
    """Chunks of input lines, split on ``\\n`` only (a post never spans two lines)."""
    chunk: list[str] = []
    for line in stream:
        chunk.append(line[:-1] if line.endswith("\n") else line)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _render(results: dict[str, TaskResult], tasks: tuple[str, ...], fmt: str, i: int) -> str:
    if fmt == "jsonl":
        record = {
            task: {
                "label": results[task].labels[i],
                "name": results[task].names[i],
                "probabilities": results[task].distributions[i],
            }
            for task in tasks
        }
        return json.dumps(record, ensure_ascii=False, sort_keys=False)
    field = "labels" if fmt == "labels" else "names"
    return "\t".join(str(getattr(results[task], field)[i]) for task in tasks)


@click.command("classify")
@click.option("--task", "-t", "task", required=True, metavar="TASK", help=f"One of: {', '.join(TASKS)}, or 'all'.")
@click.argument("path", required=False, default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Where to write the results (default: stdout).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["labels", "names", "jsonl"]),
    default="labels",
    show_default=True,
    help="labels: the integer label of the task's data set (language: ISO code); "
    "names: label names; jsonl: every probability.",
)
@click.option(
    "--shares",
    is_flag=True,
    help="Instead of a label per post, estimate each label's share of all the posts with its 95% "
    "interval (quantification corrected for the model's errors; docs/classify.md).",
)
@click.option("--json", "as_json", is_flag=True, help="With --shares: print the shares as one JSON object.")
@click.option("--seed", type=int, default=0, show_default=True, help="With --shares: the bootstrap's seed.")
@click.option(
    "--models",
    "model_set",
    type=click.Choice(["default", "fast"]),
    default="default",
    show_default=True,
    help="The bundled model set: default (6-layer encoder) or fast (its 3-layer student, about 1.8 "
    "times the speed; figures in docs/classify.md, 'Model sets').",
)
def classify_command(
    task: str, path: str, output: IO[str], fmt: str, shares: bool, as_json: bool, seed: int, model_set: str
) -> None:
    """Classify posts read one per line from PATH (or stdin, with - or no PATH).

    Writes exactly one line per input line, in order. With several tasks (--task all) the
    labels and names formats print one tab-separated column per task, in the order
    sentiment, irony, offensive, hate, emotion, question, language, discourse.

    With --shares, prints each label's estimated share of all the posts instead, with its 95%
    interval and the method (one task at a time).
    """
    from askscope.classify import models

    with models.use(model_set):
        _classify(task, path, output, fmt, shares, as_json, seed)


def _classify(task: str, path: str, output: IO[str], fmt: str, shares: bool, as_json: bool, seed: int) -> None:
    from askscope.classify.predict import classify

    try:
        tasks = resolve(task)
    except UnknownTaskError as error:
        raise UnknownTask(f"{error}. Example: askscope classify --task sentiment posts.txt") from None
    if as_json and not shares:
        raise NoShares("--json goes with --shares. Example: askscope classify --task irony --shares posts.txt --json")
    if shares:
        _write_shares(_estimate(tasks, path, seed), output, as_json)
        return
    stream = _open_input(path)
    for chunk in _lines(stream):
        results = classify(chunk, tasks)
        output.write("".join(_render(results, tasks, fmt, i) + "\n" for i in range(len(chunk))))
        output.flush()


def _estimate(tasks: tuple[str, ...], path: str, seed: int) -> Shares:
    """Classify every post of PATH and estimate the task's shares."""
    import numpy as np

    from askscope.classify.predict import classify
    from askscope.classify.quantify import QuantifyError, estimate_shares, load_validation

    if len(tasks) != 1:
        raise NoShares("--shares takes one task. Example: askscope classify --task irony --shares posts.txt")
    task = tasks[0]
    if load_validation(task) is None:
        raise NoShares(
            f"the {task!r} labels have no validation data, so their shares cannot be corrected. "
            "Use a task with validation data: sentiment, irony, offensive, hate, emotion, question."
        )
    probabilities, predicted = [], []
    for chunk in _lines(_open_input(path)):
        result = classify(chunk, [task])[task]
        probabilities.append(np.asarray(result.probabilities))
        predicted.append(np.asarray(result.labels, dtype=np.int64))
    if not predicted:
        raise NoShares("the input has no posts. Give a text file with one post per line.")
    try:
        return estimate_shares(
            task=task, probabilities=np.concatenate(probabilities), predicted=np.concatenate(predicted), seed=seed
        )
    except QuantifyError as error:
        raise NoShares(f"{error}.") from None


def _write_shares(result: Shares, output: IO[str], as_json: bool) -> None:
    from askscope.classify.quantify import METHOD_NAMES

    data = result.as_dict()
    if as_json:
        output.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    width = max(len(label) for label in data["shares"])
    output.write(
        f"{data['task']}: {data['n']:,} posts, {data['method']} ({METHOD_NAMES[data['method']]}), 95% intervals\n"
    )
    for label, share in data["shares"].items():
        output.write(
            f"{label:<{width}}  {100 * share['estimate']:5.1f}%  "
            f"({100 * share['low']:.1f}-{100 * share['high']:.1f}%)\n"
        )
