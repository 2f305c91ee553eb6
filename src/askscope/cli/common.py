"""What the command modules share: JSON output, the progress bar, sizes, plain tables and
``Error:`` messages. Imports nothing of askscope but its errors and time formatting, so any
command module may import it."""

from __future__ import annotations

import re
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

import click
import msgspec

from askscope.errors import UsageError
from askscope.timefmt import iso


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return str(value)


_json_encoder = msgspec.json.Encoder(enc_hook=_json_default)


def dumps(value: Any, indent: bool = True) -> str:
    data = _json_encoder.encode(value)
    return (msgspec.json.format(data, indent=2) if indent else data).decode()


class Progress:
    """A progress bar on stderr for long inputs (only when stderr is a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> Progress:
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


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", re.IGNORECASE)


def parse_size(value: str, option: str) -> int:
    """Bytes of a size such as ``64MB``, ``1.5GB`` or ``4096`` (units of 1024)."""
    match = _SIZE.fullmatch(value)
    if not match:
        raise UsageError(f"{option} {value!r} is not a size", "give a size such as 64MB, 512KB or 2GB")
    factor = 1024 ** " KMGT".index(match.group(2).upper() or " ")
    return int(float(match.group(1)) * factor)


def cell(value: Any, csv_mode: bool = False) -> str:
    if value is None:
        return "" if csv_mode else "NULL"
    if isinstance(value, (list, dict)):
        return dumps(value, indent=False)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return str(value)


def table(columns: list[str], rows: list[tuple[Any, ...]], max_width: int = 60) -> str:
    if not columns:
        return ""
    cells = [[cell(v).replace("\n", "\\n") for v in row] for row in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    widths = [max([len(col)] + [len(row[i]) for row in cells]) for i, col in enumerate(columns)]
    out = ["  ".join(col.ljust(w) for col, w in zip(columns, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def fail(message: str, hint: str | None) -> NoReturn:
    """Print ``Error: message`` (and ``Hint: hint``) on stderr and exit 1."""
    click.echo(f"Error: {message}", err=True)
    if hint:
        click.echo(f"Hint: {hint}", err=True)
    sys.exit(1)


if TYPE_CHECKING:
    # recent clicks (8.5 here) type a parameter type by its value and input types; older ones (the
    # floor is 8.1) cannot subscript ParamType at run time, so the subscripted base is for the
    # type checker only.
    _ParamType = click.ParamType[str, Any]
else:
    _ParamType = click.ParamType


class FormatChoice(_ParamType):
    """An input format name, checked against the registered readers when used (so that
    ``askscope --help`` does not import every reader)."""

    name = "format"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from askscope.readers import format_names

        names = format_names()
        if value not in names:
            self.fail(f"{value!r} is not one of {', '.join(names)}", param, ctx)
        return str(value)
