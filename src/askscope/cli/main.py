"""The command line: a thin layer over the library.

Each command parses its options, calls one library function and prints the result: results on
stdout, progress and messages on stderr. Commands come from the registry (built-ins and plugins
alike, through the ``askscope_commands`` hook) and are loaded only when listed or run, so
``askscope --version`` imports none of them.

Errors: a user error (:class:`~askscope.errors.AskscopeError`, click's usage errors) and a
resource error of the store (out of memory, disk full, I/O, a store locked by another process)
print ``Error: ...`` and a hint and exit 1. Anything else, a catalog or binder error in
askscope's own SQL included, is a bug: it keeps its traceback and asks to be reported.
"""

from __future__ import annotations

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


def resource_error(exc: BaseException) -> tuple[str, str] | None:
    """``(message, hint)`` when ``exc`` is a DuckDB error the user can do something about
    (memory, disk, I/O, a lock); ``None`` for the others, which are bugs."""
    import duckdb

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    kept = (
        "what was committed before the failure is kept; re-running the same command is safe (nothing is stored twice)"
    )
    if isinstance(exc, duckdb.OutOfMemoryException):
        return (
            f"the campaign store ran out of memory: {first}",
            "free memory, or lower the memory DuckDB may use (ASKSCOPE_ANALYZE_MEMORY, ASKSCOPE_INGEST_MEMORY); "
            + kept,
        )
    if isinstance(exc, duckdb.IOException):
        text = str(exc).lower()
        if "lock" in text:
            return (
                f"the campaign store is in use by another process: {first}",
                "wait for the other askscope command (or the dashboard) to finish, or work on a copy of the file",
            )
        if "no space" in text or "disk" in text:
            return (f"the disk is full: {first}", "free disk space; " + kept)
        return (f"the campaign store could not be read or written: {first}", "check the file and its folder; " + kept)
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
        known = resource_error(exc) if "duckdb" in sys.modules else None
        if known is not None:
            fail(*known)
        traceback.print_exc()
        click.echo(REPORT_BUG.format(version=__version__), err=True)
        sys.exit(1)
