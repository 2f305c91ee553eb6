"""The report's "Telegram" section, rendered from the ``telegram`` lens of the report document
only (never from the store), in Markdown and in HTML with every value escaped."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from askscope.reports.format import ci, md_escape, pct
from askscope.reports.sections import Section

TITLE = "Telegram"


def _lens(doc: dict[str, Any]) -> dict[str, Any] | None:
    lens: dict[str, Any] | None = (doc.get("lenses") or {}).get("telegram")
    return lens


def _chat(chat: dict[str, Any]) -> str:
    return f"{chat.get('name') or 'unnamed'} ({chat.get('type') or 'chat'} {chat['id']})"


def markdown(doc: dict[str, Any]) -> str:
    lens = _lens(doc)
    if not lens:
        return ""
    share, replies, media = lens["share_of_campaign"], lens["reply_share"], lens["media_share"]
    lines = [
        f"## {TITLE}",
        "",
        f"{lens['posts']['value']:,} of the campaign's {share['n']:,} audience posts are Telegram messages: "
        f"{pct(share['value'])} (95% interval {ci(share)}), from {lens['authors']['value']:,} accounts. "
        f"{pct(replies['value'])} of them reply to another message ({ci(replies)}); "
        f"{pct(media['value'])} carry a photo or a file ({ci(media)}).",
    ]
    if lens.get("chats"):
        lines += ["", "Chats: " + "; ".join(md_escape(_chat(chat)) for chat in lens["chats"]) + "."]
    return "\n".join(lines) + "\n"


def html(doc: dict[str, Any]) -> Markup:
    lens = _lens(doc)
    if not lens:
        return Markup("")
    share, replies, media = lens["share_of_campaign"], lens["reply_share"], lens["media_share"]
    out = [
        Markup("<h2>{}</h2>").format(TITLE),
        Markup(
            "<p>{} of the campaign's {} audience posts are Telegram messages: {} (95% interval {}), from {} "
            "accounts. {} of them reply to another message ({}); {} carry a photo or a file ({}).</p>"
        ).format(
            f"{lens['posts']['value']:,}",
            f"{share['n']:,}",
            pct(share["value"]),
            ci(share),
            f"{lens['authors']['value']:,}",
            pct(replies["value"]),
            ci(replies),
            pct(media["value"]),
            ci(media),
        ),
    ]
    if lens.get("chats"):
        items = Markup("").join(Markup("<li>{}</li>").format(_chat(chat)) for chat in lens["chats"])
        out.append(Markup("<p>Chats:</p><ul>{}</ul>").format(items))
    return Markup("\n").join(out)


TELEGRAM_SECTION = Section(name="telegram", title=TITLE, order=60, markdown=markdown, html=html)
