"""Text normalisation shared by training and inference.

Every model sees text through :func:`normalise`, at training time and at run time, so that a
post read from a raw API payload and the same post read from a TweetEval file (which has
``@user`` placeholders and literal ``\\u2019``-style escapes) give the same features.
"""

from __future__ import annotations

import html
import re

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_MENTION = re.compile(r"@\w{1,30}")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_SPACE = re.compile(r"\s+")


def _unescape_surrogates(text: str) -> str:
    """Decode literal ``\\uXXXX`` escapes (TweetEval / UMSAB files keep them as text)."""
    if "\\u" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    # Pairs of escaped surrogates (emoji) become one code point; lone ones are dropped.
    return decoded.encode("utf-16", "surrogatepass").decode("utf-16", "ignore")


def normalise(text: str) -> str:
    """Return the canonical form of a post for the classifiers.

    Decodes literal unicode escapes and HTML entities, replaces user mentions by ``@user``
    and links by ``http`` (the TweetEval convention), and collapses whitespace.
    """
    text = _unescape_surrogates(text)
    if "&" in text:
        text = html.unescape(text)
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    return _SPACE.sub(" ", text).strip()
