"""Mastodon status HTML to plain text, with links and mentions kept.

Mastodon renders a status as a small, regular subset of HTML: paragraphs, line breaks, links
(mentions and hashtags are links with the classes ``mention`` / ``hashtag``; other links show a
shortened text inside ``<span class="invisible">`` / ``ellipsis`` spans), and on some servers
lists, quotes and code. The conversion:

* ``<p>`` becomes a blank line between paragraphs, ``<br>`` a line break, list items start on a
  new line;
* a mention or hashtag link keeps its visible text (``@alice``, ``#tag``);
* any other link becomes its full ``href`` (never the shortened display text) and is listed in
  ``urls``; links are only read, never followed;
* the ``quote-inline`` paragraph (the "RE: <link>" fallback that quote-aware servers add for
  older clients) is dropped: the quote itself is in ``quoted_id``;
* entities are decoded; anything else (tags, attributes, scripts) is dropped.

A tag scanner with regular expressions is used instead of ``html.parser`` (several times faster
on statuses, which are short and machine-written).
"""

from __future__ import annotations

import re
from html import unescape

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>|<!--.*?-->", re.S)
_ATTR = re.compile(r"""([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_BLOCK = frozenset(("p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"))
_DROP = frozenset(("script", "style"))
_BLANKS = re.compile(r"\n{3,}")


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1).lower(): unescape(m.group(2) or m.group(3) or m.group(4) or "") for m in _ATTR.finditer(text)}


def html_to_text(html: str) -> tuple[str, list[str]]:
    """Plain text of a status's ``content`` and the links in it (not mentions or hashtags)."""
    if not html:
        return "", []
    if "<" not in html:
        return unescape(html).strip(), []
    out: list[str] = []
    urls: list[str] = []
    position = 0
    skip_depth = 0  # inside a dropped element (quote-inline paragraph, script)
    skip_tag = ""
    link: str | None = None  # href of an open plain link: its text is replaced by the href
    for match in _TAG.finditer(html):
        start, end = match.span()
        if start > position and not skip_depth and link is None:
            out.append(unescape(html[position:start]))
        position = end
        closing, tag = match.group(1), (match.group(2) or "").lower()
        if not tag:
            continue  # a comment
        if skip_depth:
            if tag == skip_tag:
                skip_depth += -1 if closing else 1
            continue
        attrs_text = match.group(3) or ""
        if not closing:
            if tag in _DROP or (tag == "p" and "quote-inline" in attrs_text):
                skip_depth, skip_tag = 1, tag
                continue
            if tag == "br":
                out.append("\n")
            elif tag == "li":
                out.append("\n")
            elif tag in _BLOCK:
                out.append("\n\n")
            elif tag == "a":
                attrs = _attrs(attrs_text)
                classes = attrs.get("class", "").split()
                href = attrs.get("href", "")
                if "mention" not in classes and "hashtag" not in classes and href:
                    link = href
        else:
            if tag == "a" and link is not None:
                out.append(link)
                urls.append(link)
                link = None
            elif tag in _BLOCK:
                out.append("\n\n")
    if position < len(html) and not skip_depth and link is None:
        out.append(unescape(html[position:]))
    text = "".join(out)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip(), urls
