"""Errors that tell the truth (issue 12): what the user can act on (out of memory, a full disk, a
store in use by another process, an askscope error) is one ``Error:`` line and a hint, exit 1, no
traceback; a DuckDB catalog or binder error in askscope's own SQL is a bug, so it keeps its
traceback and asks to be reported.

Every failure is a real one: DuckDB at a memory limit it cannot work in, a second process holding
the store's write lock, ``/dev/full`` (which answers every write with ENOSPC), an allocation the
machine cannot make, SQL on a table that does not exist. The command line is the real one: a
subprocess ``askscope`` where the failure can be set up from outside, ``main([...])`` in-process
for the plugin commands that fail on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import duckdb
import pytest
from conftest import run_cli

import askscope
import askscope.demo
from askscope import registry
from askscope.errors import StoreError
from askscope.hookspecs import hookimpl

DEMO = Path(askscope.demo.__file__).parent
DEMO_ZIP = str(DEMO / "uber_sydney.zip")  # 103 real tweets: @Uber_Sydney and its repliers
DEMO_CAMPAIGN = str(DEMO / "campaign.toml")
BUG_LINE = "This is a bug in askscope"


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo data ingested with the default memory limit: what a re-run must end with."""
    path = str(tmp_path_factory.mktemp("clean") / "clean.duckdb")
    assert askscope.ingest(path, [DEMO_ZIP]).reconciles
    return path


def _count(path: str, sql: str) -> int:
    with askscope.open_store(path, read_only=True) as store:
        (value,) = store.con.execute(sql).fetchone() or (None,)
    assert isinstance(value, int)
    return value


def _user_error(proc: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    """The ``Error:`` and ``Hint:`` lines of a failed command that must show no traceback."""
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and BUG_LINE not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    hints = [line for line in proc.stderr.splitlines() if line.startswith("Hint: ")]
    assert len(errors) == 1 and len(hints) == 1, proc.stderr
    return errors[0], hints[0]


# --- out of memory --------------------------------------------------------------------------


def test_ingest_out_of_memory_is_an_error_and_a_rerun_completes(
    tmp_path: Path, clean_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1MB is a size memory_setting accepts; DuckDB cannot hold one 256 KiB block after its own state
    store = str(tmp_path / "s.duckdb")
    monkeypatch.setenv("ASKSCOPE_INGEST_MEMORY", "1MB")
    error, hint = _user_error(run_cli("ingest", store, DEMO_ZIP))
    assert error.startswith("Error: the campaign store ran out of memory: Out of Memory Error: ")
    # the hint names the setting in force and which way to move it
    assert "ASKSCOPE_INGEST_MEMORY=1MB" in hint and "raise it" in hint
    # ... and what it promises holds: the store opens and the same command again ends with
    # exactly the posts of a clean run
    monkeypatch.delenv("ASKSCOPE_INGEST_MEMORY")
    rerun = run_cli("ingest", store, DEMO_ZIP)
    assert rerun.returncode == 0, rerun.stderr
    count = "SELECT count(*) FROM posts"
    assert _count(store, count) == _count(clean_store, count) == 103


def test_analyze_out_of_memory_is_an_error_and_a_rerun_completes(
    tmp_path: Path, clean_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "s.duckdb")
    shutil.copy(clean_store, store)
    monkeypatch.setenv("ASKSCOPE_ANALYZE_MEMORY", "1MB")
    error, hint = _user_error(run_cli("analyze", store, "--campaign", DEMO_CAMPAIGN))
    assert error.startswith("Error: the campaign store ran out of memory: Out of Memory Error: ")
    assert "ASKSCOPE_ANALYZE_MEMORY=1MB" in hint and "raise it" in hint
    monkeypatch.delenv("ASKSCOPE_ANALYZE_MEMORY")
    rerun = run_cli("analyze", store, "--campaign", DEMO_CAMPAIGN, "--only", "reply_trees")
    assert rerun.returncode == 0, rerun.stderr
    # every post of the store has its row in the reply trees (the stage's table `threads`)
    assert _count(store, "SELECT count(*) FROM threads") == _count(store, "SELECT count(*) FROM posts") == 103


# --- a store in use ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "{store}", DEMO_ZIP],  # opens it to write
        ["info", "{store}"],  # opens it to read
        ["analyze", "{store}", "--campaign", DEMO_CAMPAIGN],
    ],
)
def test_a_store_held_by_another_process_is_named_with_what_to_do(
    tmp_path: Path, clean_store: str, args: list[str]
) -> None:
    store = str(tmp_path / "held.duckdb")
    shutil.copy(clean_store, store)
    holder = duckdb.connect(store)  # this test process holds DuckDB's write lock on the file
    try:
        error, hint = _user_error(run_cli(*[a.format(store=store) for a in args]))
    finally:
        holder.close()
    assert error == f"Error: {store} is in use by another process"
    assert hint == "Hint: close the other askscope or duckdb session using it, then retry"
    assert run_cli("info", store).returncode == 0  # the same store, once the other process let go


# --- a full disk ------------------------------------------------------------------------------


needs_dev_full = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")


@needs_dev_full
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, text FROM posts ORDER BY id",  # more than a buffer: the write fails in the command
        "SELECT 1 AS one",  # a few bytes (click.echo flushes each write, so this fails in the command too)
    ],
)
def test_a_full_disk_under_the_output_is_an_error(clean_store: str, sql: str) -> None:
    # results go to stdout; here stdout is a device that is always full
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "askscope", "sql", clean_store, sql],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    error, hint = _user_error(subprocess.CompletedProcess(proc.args, proc.returncode, "", proc.stderr))
    assert error == "Error: the disk is full: [Errno 28] No space left on device"
    assert hint.startswith("Hint: free disk space")


@needs_dev_full
def test_a_full_disk_under_a_written_file_is_an_error() -> None:
    # `askscope init -o FILE` writes a campaign file; the file is a device that is always full
    error, hint = _user_error(run_cli("init", "AskUber", "-o", "/dev/full", "--force"))
    assert error.startswith("Error: the disk is full: [Errno 28] No space left on device")
    assert hint.startswith("Hint: free disk space")


# --- failures inside commands: plugin commands run by main() -----------------------------------


@pytest.fixture
def failing_commands(tmp_path: Path, clean_store: str) -> Iterator[str]:
    """Plugin commands registered at run time, each failing in one way on a copy of a real store."""
    store = str(tmp_path / "s.duckdb")
    shutil.copy(clean_store, store)

    @click.command("missing-table")
    def missing_table() -> None:
        """SQL on a table the store does not have: a CatalogException, askscope's own mistake."""
        with askscope.open_store(store) as db:
            db.con.execute("SELECT count(*) FROM no_such_table").fetchall()

    @click.command("missing-column")
    def missing_column() -> None:
        """SQL on a column posts does not have: a BinderException, askscope's own mistake."""
        with askscope.open_store(store) as db:
            db.con.execute("SELECT no_such_column FROM posts").fetchall()

    @click.command("no-memory")
    def no_memory() -> None:
        """An allocation no machine can make (2**60 bytes): a real MemoryError."""
        bytearray(1 << 60)

    @click.command("user-error")
    def user_error() -> None:
        """An askscope error, as the library raises for a store it cannot use."""
        raise StoreError(f"{store} is not what was expected", "give another store")

    class FailingCommands:
        @hookimpl
        def askscope_commands(self) -> list[click.Command]:
            return [missing_table, missing_column, no_memory, user_error]

    registry.register(FailingCommands(), "failing-commands")
    try:
        yield store
    finally:
        registry.unregister("failing-commands")


def _run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from askscope.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(args)
    code = exited.value.code
    assert isinstance(code, int)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "exception"),
    [
        ("missing-table", "_duckdb.CatalogException: Catalog Error: Table with name no_such_table does not exist!"),
        ("missing-column", '_duckdb.BinderException: Binder Error: Referenced column "no_such_column" not found'),
    ],
)
def test_a_catalog_or_binder_error_is_a_bug_with_its_traceback(
    failing_commands: str, capsys: pytest.CaptureFixture[str], command: str, exception: str
) -> None:
    code, err = _run_main([command], capsys)
    assert code == 1
    assert err.startswith("Traceback (most recent call last):")
    assert exception in err
    assert "db.con.execute(" in err  # the traceback reaches the line that ran the SQL
    assert err.rstrip().splitlines()[-1] == (
        f"{BUG_LINE} {askscope.__version__}: please report it with the command you ran and the traceback above."
    )
    assert not [line for line in err.splitlines() if line.startswith(("Error: ", "Hint: "))]


def test_running_out_of_memory_is_an_error(failing_commands: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_main(["no-memory"], capsys)
    assert code == 1
    assert "Traceback" not in err and BUG_LINE not in err
    assert err.splitlines()[0] == "Error: askscope ran out of memory (MemoryError)"
    assert err.splitlines()[1].startswith("Hint: free memory")


def test_an_askscope_error_has_no_traceback(failing_commands: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_main(["user-error"], capsys)
    assert code == 1
    assert err == f"Error: {failing_commands} is not what was expected\nHint: give another store\n"


def test_a_commit_out_of_memory_is_an_error_not_a_bug(tmp_path: Path) -> None:
    # DuckDB reports a commit that cannot allocate as a TransactionException, not an
    # OutOfMemoryException: a primary-key index built in one transaction under a small limit
    from askscope.cli.main import resource_error

    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("SET memory_limit = '64MB'")
    con.execute("CREATE TABLE t (platform VARCHAR, id VARCHAR, PRIMARY KEY (platform, id))")
    con.execute("BEGIN TRANSACTION")
    with pytest.raises(duckdb.Error) as caught:
        con.execute("INSERT INTO t SELECT 'x', (1000000000000000000 + i * 7919)::VARCHAR FROM range(600000) r(i)")
        con.execute("COMMIT")  # the insert fits; the commit does not
    assert isinstance(caught.value, duckdb.TransactionException) and "could not allocate" in str(caught.value)
    found = resource_error(caught.value)
    assert found is not None and found[0].startswith("the campaign store ran out of memory: ")
    assert "ASKSCOPE_ARCHIVE_MEMORY" in found[1]
    # any other transaction error is not a memory error
    assert resource_error(duckdb.TransactionException("TransactionContext Error: conflict on tuple")) is None
