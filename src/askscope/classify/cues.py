"""Surface cues of irony and sarcasm in a post, read by the ``irony`` task's head.

The encoder reads the words; these cues carry what its uncased, 64-token view loses or sees too
rarely: shouting, elongation, scare quotes, eye-roll emoji, explicit irony markers (``#not``,
``#sarcasm``), the stock openers of sarcasm ("yeah right", "I love it when", "thanks for
nothing", "oh great") and, on the other side, plain sincere thanks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from askscope.classify.text import normalise

FEATURES = (
    "irony_tag",
    "sarcasm_opener",
    "eye_roll",
    "laughing",
    "scare_quotes",
    "elongated",
    "shouting",
    "exclamations",
    "ellipsis",
    "sincere_thanks",
)

_IRONY_TAG = re.compile(r"#(?:not|sarcasm|sarcastic|irony|ironic|notreally|yeahright|jk|lies)\b", re.IGNORECASE)
_OPENER = re.compile(
    r"\b(?:yeah,?\s+right|oh\s+(?:great|good|joy|wonderful|perfect|yay|sure)|"
    r"(?:i|just|gotta|got\s+to|don't\s+you\s+just|dont\s+you\s+just)\s+(?:love|adore)\s+(?:it\s+)?(?:when|how)|"
    r"thanks?\s+(?:a\s+lot|for\s+nothing|so\s+much\s+for)|(?:so|such)\s+much\s+fun|"
    r"what\s+a\s+(?:surprise|shock|great|lovely|wonderful)|nothing\s+(?:like|better\s+than)|"
    r"because\s+that\s+(?:worked|went)|said\s+no\s+one|who\s+knew|can't\s+wait|cant\s+wait|"
    r"totally|clearly|obviously|of\s+course)\b",
    re.IGNORECASE,
)
_EYE_ROLL = re.compile("[\U0001f644\U0001f612\U0001f611\U0001f610\U0001f60f\U0001f643\U0001f928]")
_LAUGH = re.compile(r"[\U0001f602\U0001f923\U0001f606\U0001f605]|\b(?:lol|lmao|lmfao|rofl|haha\w*)\b", re.IGNORECASE)
_SCARE = re.compile(r"[\"“‘'][^\"”’'\s]{2,20}(?:\s[^\"”’'\s]{1,20})?[\"”’']")
_ELONGATED = re.compile(r"([a-z])\1{2,}", re.IGNORECASE)
_SHOUT = re.compile(r"\b[A-Z]{3,}\b")
_THANKS = re.compile(
    r"^\W*(?:@user\s+)*(?:thank\s+you|thanks|thank\s+u|thx|many\s+thanks|big\s+thanks)\b"
    r"(?!\s+(?:a\s+lot|for\s+nothing))",
    re.IGNORECASE,
)


def post_cues(text: str) -> dict[str, float]:
    """The cues of one post (raw text; it is normalised first)."""
    text = normalise(text)
    words = max(1, len(text.split()))
    shouted = [w for w in _SHOUT.findall(text) if w not in ("RT", "USA", "LOL", "OMG", "NFL", "NBA", "TV")]
    return {
        "irony_tag": float(bool(_IRONY_TAG.search(text))),
        "sarcasm_opener": float(bool(_OPENER.search(text))),
        "eye_roll": float(bool(_EYE_ROLL.search(text))),
        "laughing": float(bool(_LAUGH.search(text))),
        "scare_quotes": float(bool(_SCARE.search(text))),
        "elongated": float(bool(_ELONGATED.search(text))),
        "shouting": min(1.0, len(shouted) / words * 3),
        "exclamations": min(3, text.count("!")) / 3,
        "ellipsis": float("..." in text or "…" in text),
        "sincere_thanks": float(bool(_THANKS.search(text))),
    }


def features(texts: Sequence[str]) -> np.ndarray:
    """Cue features of each post, shape ``(n, len(FEATURES))``, in :data:`FEATURES` order."""
    out = np.zeros((len(texts), len(FEATURES)), dtype=np.float32)
    for i, text in enumerate(texts):
        row = post_cues(text)
        out[i] = [row[name] for name in FEATURES]
    return out
