"""The ``askscope classify`` command: a thin adapter over :func:`askscope.classify.classify`.

The lead registers it with ``cli.add_command(classify_command, "classify")``.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import IO

import click

from askscope.classify.predict import classify
from askscope.classify.tasks import TASKS, UnknownTaskError, resolve

CHUNK = 4096


class UnknownTask(click.ClickException):
    """``--task`` names no known task (exit status 1)."""


class UnreadableInput(click.ClickException):
    """The input file does not exist or cannot be read (exit status 1)."""


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


def _render(results: dict, tasks: tuple[str, ...], fmt: str, i: int) -> str:
    if fmt == "jsonl":
        record = {
            task: {"label": results[task].labels[i], "name": results[task].names[i],
                   "probabilities": results[task].distributions[i]}
            for task in tasks
        }
        return json.dumps(record, ensure_ascii=False, sort_keys=False)
    field = "labels" if fmt == "labels" else "names"
    return "\t".join(str(getattr(results[task], field)[i]) for task in tasks)


@click.command("classify")
@click.option("--task", "-t", "task", required=True, metavar="TASK",
              help=f"One of: {', '.join(TASKS)}, or 'all'.")
@click.argument("path", required=False, default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write the results (default: stdout).")
@click.option("--format", "fmt", type=click.Choice(["labels", "names", "jsonl"]), default="labels",
              show_default=True,
              help="labels: the integer label of the task's data set (language: ISO code); "
                   "names: label names; jsonl: every probability.")
def classify_command(task: str, path: str, output: IO[str], fmt: str) -> None:
    """Classify posts read one per line from PATH (or stdin, with - or no PATH).

    Writes exactly one line per input line, in order. With several tasks (--task all) the
    labels and names formats print one tab-separated column per task, in the order
    sentiment, irony, offensive, hate, emotion, question, language, discourse.
    """
    try:
        tasks = resolve(task)
    except UnknownTaskError as error:
        raise UnknownTask(f"{error}. Example: askscope classify --task sentiment posts.txt") from None
    stream = _open_input(path)
    for chunk in _lines(stream):
        results = classify(chunk, tasks)
        output.write("".join(_render(results, tasks, fmt, i) + "\n" for i in range(len(chunk))))
        output.flush()


def main() -> None:  # pragma: no cover - a stand-in entry point until the lead wires cli.py
    classify_command(prog_name="askscope classify")


if __name__ == "__main__":  # pragma: no cover
    main()
