"""Rule features of questions and requests, beyond the question mark and beyond English.

For askscope a *question* is a question or a request addressed to someone: a direct question
("where did you hear that?"), one without a question mark ("what happened"), a request in the
imperative ("tell us why ...", "explain how ...", "can you ..."), rhetorical and mocking questions
included (the discourse category sorts those). The features below are read by the ``question``
task's head (with the encoder's question head); :func:`rule` is the plain rule on its own.

The rules are written for the languages of UMSAB (Arabic, English, French, German, romanised
Hindi, Italian, Portuguese, Spanish) plus Greek:

- question marks of every script: ``?``, full-width ``？``, Arabic ``؟``, Spanish ``¿``, the Greek
  question mark (U+037E) and ``;`` right after a word in Greek script (Greek writes its question
  mark with the semicolon's glyph);
- an interrogative word opening a sentence (after any leading @mentions), per language; words
  that are also conjunctions or relative pronouns (English *when*, *where*, *how*; Spanish *que*,
  *como* without accent; Italian *come*, *quando*; Arabic *من*, *ما*) count only where the
  language marks them as questions (an accent, an auxiliary that follows) or not at all;
- a request: imperative or modal forms asking the addressee to tell, explain, confirm or answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import cast

import numpy as np

from askscope.classify.text import normalise

FEATURES = ("question_mark", "ends_with_question", "interrogative_opener", "request", "addressed", "verification")

# Greek question mark U+037E, or ';' after a Greek letter (optionally one closing mark between).
_GREEK = "\u0370-\u03ff\u1f00-\u1fff"
_QUESTION_MARK = re.compile(rf"[?？؟¿\u037e\u2047-\u2049]|(?<=[{_GREEK}])[\"'»”)]?\s?;")
_END_QUESTION = re.compile(rf"(?:[?？؟\u037e\u2047-\u2049]|(?<=[{_GREEK}]);)[\W_]*$")
# Trailing material that does not end a sentence: links, mentions, hashtags, emoji, spaces.
_TRAILER = re.compile(r"(?:\s*(?:http\S*|@user|#\w+|[^\w\s?？؟;\u037e.!]))+$")
_SENTENCE = re.compile(r"(?:^|(?<=[.!?¡¿;:؟？\n\u037e…]))\s*")
_LEADING = re.compile(r"^(?:(?:rt|RT)\s+)?(?:@user[:,]?\s*)+|^[\"'“‘«(\[]+")

_EN_AUX = (
    r"(?:is|are|am|was|were|do|does|did|can|could|will|would|should|shall|may|might|must|"
    r"has|have|had|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|can't|couldn't|won't|"
    r"wouldn't|shouldn't|haven't|hasn't|hadn't|ain't)"
)
_EN_PRONOUN = (
    r"(?:i|you|u|we|they|he|she|it|there|this|that|these|those|your|ur|the|anyone|anybody|someone|somebody|any)"
)
# Interrogative openers, one pattern per language. Each must match at a sentence start.
_OPENERS = {
    "en": rf"(?:why|who|whom|whose|wtf\s+is|"
    rf"what(?!\s+(?:a|an)\b)(?!\s+(?:i|we|i'm|im|i\s+am|we're)\s+(?:mean|meant|said|say|saying|think)\b)|"
    rf"which(?!\s+(?:is|was|means|meant|seems|shows|makes|explains)\b)|"
    rf"how(?:\s+(?:come|about|many|much|long|often|far|old|so|dare)\b|(?=\s+{_EN_AUX}\b))|"
    rf"(?:when|where)(?=\s+{_EN_AUX}\b)|"
    rf"{_EN_AUX}(?=\s+(?:not\s+)?{_EN_PRONOUN}\b))",
    "es": r"(?:qué|por\s*qué|cómo|cuándo|dónde|adónde|quién|quiénes|cuál|cuáles|cuánt[oa]s?)",
    "fr": r"(?:pourquoi|comment(?!\s+(?:ça|ca)\s+va\b)?|quand(?=\s+(?:est|sont|va|vont|allez|avez|as|a)\b)|"
    r"où|qui(?=\s+(?:est|sont|a|va|peut|veut|sait|fait)\b)|quel(?:le)?s?|combien|est-ce|qu'est|"
    r"qu’est|que\s+(?:faire|fait|font|pensez|penses|dites)|"
    r"(?:pouvez|pourriez|voulez|savez|avez|êtes|allez|peux|veux|sais|as|es)-(?:vous|tu)\b)",
    "de": r"(?:warum|wieso|weshalb|weswegen|wie(?!\s+(?:immer|gesagt)\b)|wann|wo|woher|wohin|wer|wen|wem|"
    r"wessen|was|welche[rsmn]?|(?:ist|sind|hast|habt|haben|kannst|könnt|können|wirst|werden|"
    r"willst|wollen|weißt|wisst|gibt)(?=\s+(?:du|ihr|sie|es|er|man|das|die|der|denn)\b))",
    "it": r"(?:perché(?=\s+(?:non|\w+\s*\?))|chi|cosa|che\s+cosa|dove|qual[ei]?|quant[oaie]|"
    r"come\s+(?:mai|si|stai|state|sta)|quando\s+(?:arriva|arrivano|finisce|sarà))",
    "pt": r"(?:por\s*qu[eê]|porquê|onde|quem|qual|quais|quant[oa]s?|o\s+que|como\s+(?:é|foi|assim|pode|vai))",
    "ar": r"(?:هل|أ?ماذا|لماذا|لمَ|ليش|ليه|كيف|كيفاش|متى|امتى|أين|اين|وين|فين|شو|ايش|إيش|اش|شنو|كم\s+(?:عدد|مرة))",
    "hi": r"(?:kya|kyu|kyun|kyon|kyoon|kaise|kaisa|kaisi|kab|kahan|kahaan|kaha|kaun|kon|kitna|kitne|kitni|kisne|kisko)",
    "el": r"(?:τι|γιατί|πώς|πού|πότε|ποιος|ποια|ποιο|ποιοι|ποιες|ποιου|πόσο|πόσα|πόσοι|πόσες|μήπως|άραγε)",
}
_OPENER = re.compile(r"(?:" + "|".join(_OPENERS.values()) + r")(?![\w-])", re.IGNORECASE)
# Trailing interrogative particles (romanised Hindi "... hai kya", "... na?") count anywhere.
_TRAILING_PARTICLE = re.compile(r"\b(?:hai|ho|hain|tha|he)\s+kya\b", re.IGNORECASE)

_CLAUSE = r"(?:^|(?<=[.!?,;:\n])\s*|(?<=@user)\s+|\bplease\s+|\bpls\s+|\bplz\s+|\bnow\s+|\bso\s+)"
_REQUESTS = [
    # English imperatives at a clause start (or after "please"): tell, explain, confirm, answer.
    _CLAUSE + r"(?:tell|show|give)\s+(?:us|me|them|everyone|people)\b",
    _CLAUSE + r"(?:explain|clarify|justify|confirm|elaborate|define|answer|respond|prove)\b",
    _CLAUSE + r"let\s+(?:us|me|people|everyone)\s+know\b",
    r"\b(?:can|could|would|will|won't)\s+(?:you|u|ya|someone|somebody|anyone|anybody)\s+(?!believe\b)",
    r"\b(?:any|got\s+an?)\s+(?:idea|ideas|update|updates|news\s+on|info|information|word\s+on|comment|source|sources|"
    r"evidence|proof|link|details|response|answer)\b",
    r"\b(?:anyone|anybody|someone|somebody)\s+(?:know|knows|have|has|got|seen|heard|confirm|explain)\b",
    r"\bi\s+(?:wonder|am\s+wondering|'m\s+wondering|was\s+wondering)\b",
    r"\b(?:i'd|i\s+would|we'd|we\s+would)\s+(?:like|love)\s+to\s+(?:know|hear|understand)\b",
    r"\b(?:i|we)\s+(?:want|need)\s+to\s+know\b",
    r"\bcare\s+to\s+(?:explain|comment|share|elaborate|respond)\b",
    r"\b(?:source|sources|citation|link|proof|evidence)\s*\?",
    # Spanish, French, German, Italian, Portuguese: tell / explain / can you.
    r"\b(?:dime|dinos|díganos|dígannos|explica|explícanos|explíquenos|expliquen|aclaren|confirmen)\b",
    r"\b(?:puede[sn]?|podría[sn]?|podrías)\s+(?:decir|explicar|aclarar|confirmar)\b",
    r"\b(?:dites|dis)[- ](?:nous|moi)\b|\b(?:expliquez|expliquez-nous|explique-moi|confirmez)\b",
    r"\b(?:sag|sagt|sagen\s+sie)\s+(?:mir|uns)\b|\b(?:erklär|erkläre|erklärt|erklären\s+sie)\b",
    r"\b(?:dimmi|dicci|diteci|spiegami|spiegaci|spiegatemi|spiegateci|spieghi|spiegate)\b",
    r"\b(?:me\s+diz|nos\s+diz|diga(?:m)?-nos|diga(?:m)?-me|expliquem|esclareça|confirmem)\b",
    # Arabic: "explain to us", "tell us", "can you".
    r"(?:اشرح|اشرحوا|وضح|وضحوا|قل\s+لنا|قولوا\s+لنا|اخبرنا|أخبرنا|أخبرونا|اخبرونا|ممكن\s+توضح|هل\s+يمكنك)",
    # Romanised Hindi: "batao" (tell), "samjhao" (explain).
    r"\b(?:batao|bataiye|bataye|bataein|samjhao|samjhaiye)\b",
]
_REQUEST = re.compile("|".join(_REQUESTS), re.IGNORECASE)
# Asking whether something is true, or for its source (the typical question about a claim).
_VERIFICATION = re.compile(
    r"\b(?:source|sources|proof|evidence|confirm(?:ed|ation)?|verif(?:y|ied)|true|real|really|fake|hoax|legit|"
    r"sure|rumou?r|how\s+do\s+(?:you|u|they|we)\s+know|where\s+did\s+(?:you|u)\s+(?:hear|read|get|see)|"
    r"fuente|prueba|verdad|cierto|source|preuve|vrai|quelle|beweis|stimmt|wahr|fonte|prova|vero|verdade|"
    r"مصدر|دليل|صحيح|حقيقي|sach|sahi)\b",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[str]:
    """Sentence starts of a normalised post, each without leading mentions, ``RT`` or quotes."""
    out = []
    for part in _SENTENCE.split(text):
        part = part.strip()
        while True:
            stripped = _LEADING.sub("", part).strip()
            if stripped == part:
                break
            part = stripped
        if part:
            out.append(part)
    return out


def post_features(text: str) -> dict[str, bool]:
    """The rule features of one post (raw text; it is normalised first)."""
    text = normalise(text)
    body = _TRAILER.sub("", text)
    return {
        "question_mark": bool(_QUESTION_MARK.search(text)),
        "ends_with_question": bool(_END_QUESTION.search(body)) if body else False,
        "interrogative_opener": any(_OPENER.match(s) for s in _sentences(text))
        or bool(_TRAILING_PARTICLE.search(text)),
        "request": bool(_REQUEST.search(text)),
        "addressed": text.startswith(("@user", ".@user")),
        "verification": bool(_VERIFICATION.search(text)),
    }


@lru_cache(maxsize=16384)
def _row(text: str) -> tuple[bool, ...]:
    # Cached: the question head and the rule floor read the same posts in one classify() call.
    row = post_features(text)
    return tuple(row[name] for name in FEATURES)


def features(texts: Sequence[str]) -> np.ndarray:
    """Rule features of each post, shape ``(n, len(FEATURES))``, 0/1 in :data:`FEATURES` order."""
    out = np.zeros((len(texts), len(FEATURES)), dtype=np.float32)
    for i, text in enumerate(texts):
        out[i] = _row(text)
    return out


def rule(texts: Sequence[str]) -> np.ndarray:
    """The plain rule: a question mark, an interrogative opener or a request (boolean per post)."""
    f = features(texts)
    names = {name: i for i, name in enumerate(FEATURES)}
    return cast(
        np.ndarray, (f[:, names["question_mark"]] + f[:, names["interrogative_opener"]] + f[:, names["request"]]) > 0
    )


def rule_floor(texts: Sequence[str], floor: dict[str, list[str]], route: np.ndarray | None) -> np.ndarray:
    """Posts that are questions by rule whatever the model says (0/1 per post).

    ``floor`` maps a calibration route (``en``: English or undetermined, ``other``: any other
    language; see :func:`askscope.classify.calibration.route_of`) to the rule features that suffice
    on that route. The ``question`` card uses it for requests in the imperative, which the
    RumourEval-trained model under-scores, and, for non-English posts, which the English encoder
    cannot read, for every rule feature.
    """
    f = features(texts)
    names = {name: i for i, name in enumerate(FEATURES)}
    routes = route if route is not None else np.full(len(texts), "en")
    out = np.zeros(len(texts), dtype=np.int64)
    for name, chosen in floor.items():
        rows = routes == name
        if chosen and rows.any():
            out[rows] = (f[rows][:, [names[c] for c in chosen]].sum(axis=1) > 0).astype(np.int64)
    return out
