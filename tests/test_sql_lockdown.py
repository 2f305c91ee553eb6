"""``askscope sql`` sees only the store: every way out of it is refused (issue 16).

Each row is an escape a hostile or careless query could try; every one must exit 1 with
``Error:`` and the hint, and leave no file behind.
"""

from __future__ import annotations

import os

import pytest
from conftest import fixture, run_cli


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("lock") / "c.duckdb")
    proc = run_cli("ingest", path, fixture("x-v2", "two_tweets.jsonl"))
    assert proc.returncode == 0, proc.stderr
    return path


ESCAPES = [
    # writing a file next to the store
    ("COPY (SELECT * FROM posts) TO '{out}/posts.csv'", "posts.csv"),
    # writing the whole database out
    ("EXPORT DATABASE '{out}/dump'", "dump"),
    # reading any file on the machine
    ("SELECT * FROM read_csv('/etc/passwd')", None),
    ("SELECT * FROM read_text('/etc/hostname')", None),
    ("SELECT * FROM glob('/etc/*')", None),
    # opening another database
    ("ATTACH '{out}/other.duckdb' AS other", "other.duckdb"),
    # extensions: downloads and native code
    ("INSTALL httpfs", None),
    ("LOAD httpfs", None),
    # switching the lock off again
    ("SET enable_external_access = true", None),
    ("SET lock_configuration = false", None),
]


@pytest.mark.parametrize("query, leaves", ESCAPES)
def test_every_escape_is_refused(db, tmp_path, query, leaves):
    proc = run_cli("sql", db, query.format(out=tmp_path))
    assert proc.returncode == 1, (query, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("Error: query failed:"), proc.stderr
    assert "Hint:" in proc.stderr and "Traceback" not in proc.stderr
    if leaves:
        assert not os.path.exists(tmp_path / leaves)


def test_reading_the_store_still_works(db):
    proc = run_cli("sql", db, "SELECT count(*) AS n FROM posts WHERE NOT is_context", "--csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "n\n1\n"
