"""The ``telegram`` lens: what the campaign owes to Telegram, computed from the store.

Stored by askscope's ``lenses`` stage in ``lens_results`` (and flattened into ``metrics``) like
the built-in lenses, so the report section (:mod:`askscope_telegram.section`) renders stored
numbers only. It counts the campaign's audience posts (``relations.in_campaign``, the host's own
posts left out, and the coordinated accounts when the lenses are recomputed without them) and
reads which Telegram chats were ingested from the ``ingests`` table (the chat the reader kept
beside its records).
"""

from __future__ import annotations

import json
from typing import Any

from askscope.lenses.base import Lens
from askscope.lenses.stats import wilson
from askscope_telegram.reader import PLATFORM

_COUNTS = """
SELECT count(*) AS posts,
       count(*) FILTER (WHERE r.platform = $platform) AS telegram,
       count(DISTINCT p.author_id) FILTER (WHERE r.platform = $platform) AS authors,
       count(*) FILTER (WHERE r.platform = $platform AND p.in_reply_to_id IS NOT NULL) AS replies,
       count(*) FILTER (WHERE r.platform = $platform AND p.media_count > 0) AS media
FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id
WHERE r.in_campaign AND r.relation <> 'host' AND {authors}
"""


def compute(inp: Any, results: dict[str, Any]) -> dict[str, Any] | None:
    """The lens document, or None when no campaign post comes from Telegram."""
    con = inp.store.con
    posts, telegram, authors, replies, media = con.execute(
        _COUNTS.format(authors=inp.authors_filter("p")), {"platform": PLATFORM}
    ).fetchall()[0]
    if not telegram:
        return None
    chats: dict[str, dict[str, Any]] = {}
    for (options,) in con.execute(
        "SELECT options FROM ingests WHERE format = 'telegram' AND options IS NOT NULL ORDER BY id"
    ).fetchall():
        header = json.loads(options).get("header")
        chat = json.loads(header) if header else {}
        if isinstance(chat, dict) and chat.get("id") is not None:
            chats[str(chat["id"])] = {"id": str(chat["id"]), "name": chat.get("name"), "type": chat.get("type")}
    return {
        "posts": {"value": telegram, "n": telegram, "method": "count"},
        "share_of_campaign": wilson(telegram, posts),
        "authors": {"value": authors, "n": telegram, "method": "count"},
        "reply_share": wilson(replies, telegram),
        "media_share": wilson(media, telegram),
        "chats": sorted(chats.values(), key=lambda chat: chat["id"]),
    }


TELEGRAM = Lens(
    name="telegram",
    title="Telegram",
    compute=compute,
    order=90,
    description="Telegram messages among the campaign's audience posts, and the chats they came from",
)
