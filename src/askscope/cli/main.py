"""The command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result: results on
stdout, progress and messages on stderr. Commands come from the registry (built-ins and plugins
alike, through the ``askscope_commands`` hook) and are loaded only when listed or run, so
``askscope --version`` imports none of them.

Errors: a user error (:class:`~askscope.errors.AskscopeError`, click's usage errors) and a
resource error (out of memory, DuckDB's or the machine's; a full disk; an I/O failure; a store
locked by another process) print ``Error: ...`` and a hint and exit 1. Anything else, a catalog or binder error in
askscope's own SQL included, is a bug: it keeps its traceback and asks to be reported.
"""

from __future__ import annotations

import errno
import os
import sys
import traceback

import click

from askscope._version import __version__
from askscope.cli.common import fail
from askscope.errors import AskscopeError

REPORT_BUG = "This is a bug in askscope {version}: please report it with the command you ran and the traceback above."


class AskscopeGroup(click.Group):
    """The ``askscope`` group: its commands are the registry's, loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from askscope import registry

        return list(registry.commands())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from askscope import registry

        return registry.commands().get(cmd_name)


@click.group(cls=AskscopeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="askscope")
def cli() -> None:
    """askscope: evidence for public Q&A and hashtag campaigns.

    Ingest the posts of a campaign into a DuckDB store, then query and report on it.
    """


#: What a resource error leaves behind, for the hints: true of every command, since ingest and
#: analyze commit in batches and stages and a re-run replaces rather than adds.
KEPT = "what was committed before the failure is kept; re-running the same command is safe (nothing is stored twice)"

#: The environment variables that set DuckDB's memory limit, by command (askscope.store.core.memory_setting).
MEMORY_VARIABLES = ("ASKSCOPE_ANALYZE_MEMORY", "ASKSCOPE_INGEST_MEMORY", "ASKSCOPE_ARCHIVE_MEMORY")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def resource_error(exc: BaseException) -> tuple[str, str] | None:
    """``(message, hint)`` when ``exc`` is something the user can do something about: memory (DuckDB's
    limit or the machine's), a full disk, an I/O failure, a store locked by another process. ``None``
    for the others, which are bugs (a DuckDB catalog or binder error in askscope's own SQL among them)."""
    first = _first_line(exc)
    if isinstance(exc, MemoryError):
        return (
            f"askscope ran out of memory ({first})",
            "free memory (close other programs), or give DuckDB less so that more is left to the rest "
            f"({' or '.join(MEMORY_VARIABLES)}, e.g. 512MB); " + KEPT,
        )
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the disk is full: {first}", "free disk space (or write to another disk); " + KEPT)
    if isinstance(exc, OSError) and exc.errno == errno.EIO:
        return (f"a file could not be read or written: {first}", "check the disk and the file; " + KEPT)
    if "duckdb" not in sys.modules:  # DuckDB never loaded: none of its errors
        return None
    import duckdb

    # a commit that runs out of memory is a TransactionException carrying the allocation failure
    out_of_memory = isinstance(exc, duckdb.TransactionException) and "could not allocate" in first
    if isinstance(exc, duckdb.OutOfMemoryException) or out_of_memory:
        settings = [f"{name}={os.environ[name]}" for name in MEMORY_VARIABLES if os.environ.get(name, "").strip()]
        return (
            f"the campaign store ran out of memory: {first}",
            "DuckDB stopped at its memory limit"
            + (f" ({', '.join(settings)})" if settings else "")
            + ": raise it if the machine has memory to spare (ASKSCOPE_ANALYZE_MEMORY for analyze, "
            "ASKSCOPE_INGEST_MEMORY for ingest, ASKSCOPE_ARCHIVE_MEMORY for export and import, e.g. 2GB), "
            "or free memory; " + KEPT,
        )
    if isinstance(exc, duckdb.IOException):
        text = str(exc).lower()
        if "lock" in text:
            return (
                f"the campaign store is in use by another process: {first}",
                "wait for the other askscope command (or the dashboard) to finish, or work on a copy of the file",
            )
        if "no space" in text or "disk" in text:
            return (f"the disk is full: {first}", "free disk space; " + KEPT)
        return (f"the campaign store could not be read or written: {first}", "check the file and its folder; " + KEPT)
    return None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``askscope`` console script."""
    try:
        cli.main(args=argv, prog_name="askscope", standalone_mode=False)
    except AskscopeError as exc:
        fail(exc.message, exc.hint)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "askscope"
        fail(exc.format_message(), f"see: {command} --help")
    except click.ClickException as exc:
        fail(exc.format_message(), None)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:
        known = resource_error(exc)
        if known is not None:
            fail(*known)
        traceback.print_exc()
        click.echo(REPORT_BUG.format(version=__version__), err=True)
        sys.exit(1)
