"""Helpers for the plugin's tests: the recorded export, the real ``askscope`` command, stores.

The tests need the plugin installed (``pip install -e examples/plugins/askscope-telegram``):
askscope finds it through its entry point, exactly as a user's installation does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import askscope

HERE = Path(__file__).parent
#: The recorded real export (origin and licence in data/README.md).
EXPORT = HERE / "data" / "teknologi-umum-gcp-ingress.json"
REPO = HERE.parents[3]
SHARED_DATA = Path(os.environ.get("ASKSCOPE_SHARED_DATA", REPO.parent / "shared" / "data"))
#: The chat id of the recorded export (its top-level "id", line 4 of the file).
CHAT = "1712691810"


def run_cli(*args: str, cwd: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the real ``askscope`` command (``python -m askscope``) and capture its output."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8", COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "askscope", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=timeout,
        env=env,
    )


def rows(db: str | Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with askscope.open_store(str(db), read_only=True) as store:
        return store.con.execute(sql, params or []).fetchall()


@pytest.fixture(autouse=True)
def _installed() -> None:
    """Fail (never skip) when the plugin is not installed: every test here needs it."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("askscope-telegram")
    except PackageNotFoundError:
        pytest.fail("install the plugin first: pip install -e examples/plugins/askscope-telegram")
