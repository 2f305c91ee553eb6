"""Shared test helpers: fixture paths, a store factory and a real-CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import askscope

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SHARED_DATA = Path(os.environ.get("ASKSCOPE_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def shared(*parts: str) -> Path:
    """A path inside ../shared/data; fails loudly (never skips) when the folder is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"{path} is missing: the tests need ../shared/data next to the checkout "
            "(or ASKSCOPE_SHARED_DATA pointing at it)"
        )
    return path


def fixture(*parts: str) -> str:
    return str(FIXTURES.joinpath(*parts))


def rows(store: askscope.Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return store.con.execute(sql, params or []).fetchall()


def one(store: askscope.Store, sql: str, params: list[Any] | None = None) -> Any:
    result = rows(store, sql, params)
    assert len(result) == 1, result
    return result[0][0] if len(result[0]) == 1 else result[0]


def post(store: askscope.Store, post_id: str, platform: str = "x") -> dict[str, Any]:
    cursor = store.con.execute("SELECT * FROM posts WHERE platform = ? AND id = ?", [platform, post_id])
    names = [d[0] for d in cursor.description]
    found = cursor.fetchall()
    assert len(found) == 1, f"post {post_id}: {len(found)} rows"
    return dict(zip(names, found[0]))


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    return str(tmp_path / "campaign.duckdb")


def run_cli(
    *args: str, input: bytes | None = None, cwd: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``askscope`` command (``python -m askscope``) and capture its output."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, "-m", "askscope", *args],
        input=input,
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )
