"""The report's tables as data, rendered the same way to Markdown and to HTML.

A section builds its tables once (:class:`Table`: a title, column names, rows of text) and both
renderers show them, so the Markdown report has every table the HTML report has, under the same
title. A metric table has the columns of :data:`METRIC_COLUMNS`: the plain-language label (a
glossary term, :mod:`askscope.reports.glossary`), the value, its 95% interval and nothing else
in that column, and a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from askscope.reports.format import md_escape

#: The columns of a metric table: label, value, 95% interval, notes.
METRIC_COLUMNS = ("metric", "value", "95% interval", "notes")


@dataclass(frozen=True)
class Table:
    """A titled table of text cells (every cell is escaped when rendered)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: Columns holding numbers (right-aligned in HTML and Markdown).
    numeric: frozenset[int] = frozenset({1})
    #: Columns holding 95% intervals (greyed in HTML).
    intervals: frozenset[int] = frozenset({2})
    #: Columns holding post texts (kept as written, wrapped anywhere in HTML).
    texts: frozenset[int] = frozenset()
    #: The first column's labels are glossary terms (:mod:`askscope.reports.glossary`).
    glossed: bool = True


def metric_table(title: str, rows: Sequence[tuple[str, str, str, str]]) -> Table:
    """A metric table: (label, value, 95% interval, note) rows."""
    return Table(title, METRIC_COLUMNS, tuple(rows))


def table_md(table: Table) -> str:
    """The table as a ``###`` heading and a Markdown table."""
    align = ["---:" if i in table.numeric else "---" for i in range(len(table.columns))]
    lines = [
        f"### {md_escape(table.title)}",
        "",
        "| " + " | ".join(md_escape(c) for c in table.columns) + " |",
        "|" + "|".join(align) + "|",
    ]
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _class(table: Table, index: int) -> str:
    if index in table.numeric:
        return "num"
    if index in table.intervals:
        return "ci"
    if index in table.texts:
        return "post"
    return ""


def _cell(tag: str, css: str, text: str) -> Markup:
    if css:
        return Markup('<{0} class="{1}">{2}</{0}>').format(Markup(tag), css, text)
    return Markup("<{0}>{1}</{0}>").format(Markup(tag), text)


def table_html(table: Table) -> Markup:
    """The table as an ``<h3>`` heading and an HTML table, every cell escaped; heading and table
    are kept together in print."""
    css = Markup(' class="metrics"') if table.columns == METRIC_COLUMNS else Markup("")
    out = [Markup('<div class="block"><h3>{}</h3><table{}><tr>').format(table.title, css)]
    for i, column in enumerate(table.columns):
        out.append(_cell("th", _class(table, i), column))
    out.append(Markup("</tr>"))
    for row in table.rows:
        out.append(Markup("<tr>"))
        for i, cell in enumerate(row):
            out.append(_cell("td", _class(table, i), cell))
        out.append(Markup("</tr>"))
    out.append(Markup("</table></div>"))
    return Markup("").join(out)
