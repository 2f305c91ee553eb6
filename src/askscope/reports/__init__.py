"""Reports of an analysed store: JSON, Markdown and self-contained HTML."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from askscope.errors import UsageError
from askscope.reports.document import ReportError, build
from askscope.reports.render import to_html, to_json, to_markdown, write_charts
from askscope.store.core import Store, open_store

FORMATS = ("html", "md", "json")

__all__ = [
    "FORMATS",
    "ReportError",
    "build",
    "chart_files",
    "document",
    "report",
    "to_html",
    "to_json",
    "to_markdown",
    "write_charts",
]


def document(store: Store | str | os.PathLike[str], *, pseudonymise: bool = False) -> dict[str, Any]:
    """The report document (every number, stable keys) of an analysed store."""
    if isinstance(store, Store):
        return build(store, pseudonymise=pseudonymise)
    with open_store(store, read_only=True) as db:
        return build(db, pseudonymise=pseudonymise)


def report(store: Store | str | os.PathLike[str], *, format: str = "html", pseudonymise: bool = False) -> str:
    """The report of an analysed store as text in ``format`` (html, md or json)."""
    if format not in FORMATS:
        raise UsageError(f"unknown report format {format!r}", "formats: " + ", ".join(FORMATS))
    doc = document(store, pseudonymise=pseudonymise)
    return {"html": to_html, "md": to_markdown, "json": to_json}[format](doc)


def chart_files(
    store: Store | str | os.PathLike[str], folder: str | Path, fmt: str = "svg", pseudonymise: bool = False
) -> list[Path]:
    """Write every chart of the report to ``folder`` as SVG or PNG."""
    if fmt not in ("svg", "png"):
        raise UsageError(f"unknown chart format {fmt!r}", "use svg or png")
    return write_charts(document(store, pseudonymise=pseudonymise), folder, fmt)
