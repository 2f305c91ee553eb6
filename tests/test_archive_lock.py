"""An archive folder is held while a command uses it: a writer (ingest, analyze) alone, readers
(report, import) together. The commands are the real CLI on an archive of recorded X pages."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import fixture, run_cli

import askscope
from askscope.archive.parquet import archive_lock
from askscope.errors import StoreBusyError

PAGES = [fixture("x-v2", f) for f in ("two_tweets.jsonl", "mentions_tweet.jsonl", "quoted_edit.jsonl")]


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    store = tmp_path / "store.duckdb"
    askscope.ingest(str(store), PAGES, workers=0)
    folder = tmp_path / "archive"
    proc = run_cli("export", str(store), "--parquet", str(folder))
    assert proc.returncode == 0, proc.stderr
    return folder


def contents(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@contextmanager
def held(folder: Path, kind: int) -> Iterator[None]:
    """The folder flocked by this (test) process, as another askscope command would hold it."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def test_a_command_writing_the_archive_keeps_every_other_command_out(archive: Path, tmp_path: Path) -> None:
    before = contents(archive)
    with held(archive, fcntl.LOCK_EX):
        for args in (
            ("report", str(archive), "--format", "json", "-o", str(tmp_path / "r.json")),
            ("import", str(archive), str(tmp_path / "imported.duckdb")),
            ("ingest", str(archive), fixture("x-v2", "edited.jsonl"), "--dask", "local:1"),
        ):
            proc = run_cli(*args)
            assert proc.returncode == 1, (args, proc.stderr)
            assert "Error:" in proc.stderr and "is in use by another process" in proc.stderr, proc.stderr
            assert "Traceback" not in proc.stderr
        assert not (tmp_path / "r.json").exists() and not (tmp_path / "imported.duckdb").exists()
        assert contents(archive) == before
        assert sorted(p.name for p in archive.parent.iterdir() if p.name.startswith(".")) == []
    # released: the same commands go through (this archive was never analysed: the report says so
    # about the archive given, not about the temporary store it read it through)
    proc = run_cli("report", str(archive), "--format", "json", "-o", str(tmp_path / "r.json"))
    assert proc.returncode == 1 and f"Error: {archive} has not been analysed" in proc.stderr, proc.stderr
    assert f"askscope analyze {archive} --campaign CAMPAIGN.toml --dask local:2" in proc.stderr
    assert ".work-" not in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("import", str(archive), str(tmp_path / "imported.duckdb"))
    assert proc.returncode == 0, proc.stderr
    assert (
        askscope.open_store(str(tmp_path / "imported.duckdb"), read_only=True)
        .con.execute("SELECT count(*) FROM posts")
        .fetchall()[0][0]
        == json.loads((archive / "manifest.json").read_text())["tables"]["posts"]["rows"]
        > 0
    )


def test_readers_share_the_archive_and_keep_a_writer_out(archive: Path, tmp_path: Path) -> None:
    before = contents(archive)
    with held(archive, fcntl.LOCK_SH):
        proc = run_cli("report", str(archive), "--format", "json", "-o", str(tmp_path / "r.json"))
        assert proc.returncode == 1 and "has not been analysed" in proc.stderr, proc.stderr  # read, not refused
        proc = run_cli("import", str(archive), str(tmp_path / "imported.duckdb"))
        assert proc.returncode == 0, proc.stderr
        proc = run_cli("ingest", str(archive), fixture("x-v2", "edited.jsonl"), "--dask", "local:1")
        assert proc.returncode == 1 and "is in use by another process" in proc.stderr, proc.stderr
        assert contents(archive) == before


def test_the_lock_follows_a_folder_replaced_before_it_was_taken(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer publishes a new folder under the same name (rename) between this command's open
    and its lock: the command must end up holding the new folder, not the old inode."""
    real = fcntl.flock
    calls = []

    def flock(fd: int, operation: int) -> None:
        calls.append(fd)
        if len(calls) == 1:  # another process replaces the archive right now
            os.replace(archive, tmp_path / "old")
            archive.mkdir()
        real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    with archive_lock(archive, write=True):
        assert len(calls) == 2
        fd = os.open(archive, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                real(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        finally:
            os.close(fd)
        with pytest.raises(StoreBusyError, match="in use by another process"):
            with archive_lock(archive, write=False):
                pass


def test_a_first_ingest_holds_its_new_folder(tmp_path: Path) -> None:
    """A first ingest into a new path makes the folder and holds it (a second first ingest into
    the same path is refused, not published over it); a failed one leaves the path as it was."""
    new = tmp_path / "new-archive"
    missing = str(tmp_path / "missing.jsonl")
    proc = run_cli("ingest", str(new), missing, "--dask", "local:1")
    assert proc.returncode == 1 and "Error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not new.exists()
    new.mkdir()  # what a first ingest running now has made and holds
    with held(new, fcntl.LOCK_EX):
        proc = run_cli("ingest", str(new), *PAGES, "--dask", "local:1")
        assert proc.returncode == 1 and "is in use by another process" in proc.stderr, proc.stderr
        assert new.is_dir() and not any(new.iterdir())
