"""What a report section is made of (:class:`Block`: tables, paragraphs, lists, figures, post
lists), each rendered to Markdown and to HTML from the same data, so the two formats show the same
content under the same titles; and :func:`section`, the two renderers of a section made of blocks.
Every value is escaped: ``Markup.format`` escapes its arguments, :func:`md_escape` the Markdown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from askscope.reports.format import md_escape, minutes, plural
from askscope.reports.glossary import category_label
from askscope.reports.tables import Table, table_html, table_md


class Block:
    """One part of a section: rendered to Markdown and to HTML from the same data."""

    def markdown(self) -> str:
        raise NotImplementedError

    def html(self) -> Markup:
        raise NotImplementedError


class TableBlock(Block):
    def __init__(self, table: Table) -> None:
        self.table = table

    def markdown(self) -> str:
        return table_md(self.table)

    def html(self) -> Markup:
        return table_html(self.table)


class Paragraph(Block):
    def __init__(self, text: str, css: str = "") -> None:
        self.text, self.css = text, css

    def markdown(self) -> str:
        return md_escape(self.text)

    def html(self) -> Markup:
        if self.css:
            return Markup('<p class="{}">{}</p>').format(self.css, self.text)
        return Markup("<p>{}</p>").format(self.text)


class Bullets(Block):
    def __init__(self, items: list[str]) -> None:
        self.items = items

    def markdown(self) -> str:
        return "\n".join(f"- {md_escape(item)}" for item in self.items)

    def html(self) -> Markup:
        return Markup("<ul>{}</ul>").format(Markup("").join(Markup("<li>{}</li>").format(i) for i in self.items))


class Figures(Block):
    """Charts, side by side on a wide screen; HTML only (Markdown has no images: ``--charts``
    writes them as files)."""

    def __init__(self, doc: dict[str, Any], names: tuple[str, ...]) -> None:
        self.doc, self.names = doc, names

    def markdown(self) -> str:
        return ""

    def html(self) -> Markup:
        figures = [_figure(self.doc, name) for name in self.names]
        shown = [f for f in figures if f]
        if not shown:
            return Markup("")
        if len(self.names) == 1:
            return shown[0]
        return Markup('<div class="cols">{}</div>').format(Markup("").join(shown))


class PostList(Block):
    """A titled list of posts (author, text, reposts), with an answer column for questions."""

    def __init__(self, title: str, rows: list[dict[str, Any]], host: bool = False, questions: bool = False) -> None:
        self.title, self.rows, self.host, self.questions = title, rows, host, questions

    def markdown(self) -> str:
        lines = [f"### {md_escape(self.title)}", ""]
        for p in self.rows:
            reposts = plural(p.get("reposts") or 0, "repost")
            if self.questions:
                answer = f"; answered after {md_escape(_answer(p))}" if p.get("answer_id") else ""
                lines.append(
                    f"- [{md_escape(category_label(p.get('category') or ''))}] @{md_escape(p.get('author') or '?')}: "
                    f"{md_escape(p.get('text') or '')} — {reposts}{answer}"
                )
            else:
                who = "" if self.host else f", @{md_escape(p.get('author') or '?')}"
                lines.append(f"- {reposts}{who}: {md_escape(p.get('text') or '')}")
        return "\n".join(lines if self.rows else [*lines, "None."])

    def html(self) -> Markup:
        head = Markup("<h3>{}</h3>").format(self.title)
        if not self.rows:
            return head + Markup("<p>None.</p>")
        columns = ["category", "question", "reposts", "answer"] if self.questions else ["post", "reposts"]
        out = [head, Markup("<table><tr>")]
        out += [Markup('<th class="num">{}</th>' if c == "reposts" else "<th>{}</th>").format(c) for c in columns]
        out.append(Markup("</tr>"))
        for row in self.rows:
            post = Markup("<td><div>@{}</div><div class='post'>{}</div></td>").format(
                row.get("author") or "?", row.get("text") or ""
            )
            reposts = Markup("<td class='num'>{}</td>").format(row.get("reposts") or 0)
            if self.questions:
                out.append(
                    Markup("<tr><td>{}</td>{}{}<td>{}</td></tr>").format(
                        category_label(row.get("category") or ""), post, reposts, _answer(row)
                    )
                )
            else:
                out.append(Markup("<tr>{}{}</tr>").format(post, reposts))
        out.append(Markup("</table>"))
        return Markup('<div class="block">{}</div>').format(Markup("").join(out))


def _answer(row: dict[str, Any]) -> str:
    if not row.get("answer_id"):
        return "unanswered"
    kind = row.get("answer_kind")
    return f"{minutes(row.get('latency_s'))}" + (f" ({kind})" if kind else "")


def _figure(doc: dict[str, Any], name: str) -> Markup:
    """The registered chart ``name`` as an embedded SVG image with its caption; nothing without
    data."""
    import base64

    from askscope.reports.charts import render_one

    drawn = render_one(doc, name, "svg")
    if drawn is None:
        return Markup("")
    title, data = drawn
    return Markup(
        '<figure><img alt="{0}" src="data:image/svg+xml;base64,{1}"><figcaption>{0}</figcaption></figure>'
    ).format(title, Markup(base64.b64encode(data).decode("ascii")))


Markdown = Callable[[dict[str, Any]], str]
Html = Callable[[dict[str, Any]], Markup]


def section(title: str, blocks: Callable[[dict[str, Any]], list[Block] | None]) -> tuple[Markdown, Html]:
    """The Markdown and HTML renderers of a section made of ``blocks(doc)`` (``None``: nothing
    to show)."""

    def markdown(doc: dict[str, Any]) -> str:
        found = blocks(doc)
        if found is None:
            return ""
        parts = [f"## {md_escape(title)}"] + [text for text in (b.markdown() for b in found) if text]
        return "\n\n".join(parts)

    def html(doc: dict[str, Any]) -> Markup:
        found = blocks(doc)
        if found is None:
            return Markup("")
        return Markup('<section class="lens"><h2>{}</h2>\n{}</section>').format(
            title, Markup("\n").join(b.html() for b in found)
        )

    return markdown, html
