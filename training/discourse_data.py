"""The discourse validation set: human-labelled public posts mapped onto askscope's categories.

No public data set is labelled with askscope's six discourse categories (``question_genuine``,
``question_critical``, ``mockery``, ``abuse``, ``support``, ``other``), but several label one
side of them. :data:`MAPPING` turns each source's own label (plus, where a source says nothing
about questions, the surface rule "contains a question mark") into the set of categories the
post can belong to:

* a **singleton** set is a gold category: those rows (from data the encoder never trained on)
  make the confusion matrix that corrects discourse shares;
* a **partial** set (e.g. "not abuse" for a post labelled not offensive) is used only to train
  the discourse head, with a likelihood that sums over the allowed categories, so the head also
  learns from the negatives of every source (otherwise it could learn "TweetEval style means
  mockery");
* a source label with no usable mapping is left out.

Every row names its source; ``seen`` marks rows whose text the shipped encoder was fine-tuned on
(RumourEval train, read by its question head): they may train the head but are never scored.
The mapping, its reasons and its limits are documented in ``docs/models/discourse.md``.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from askscope.classify.tasks import DISCOURSE_CATEGORIES
from training import data as d

SEED = 11
#: At most this many rows per (source, mapping row), drawn with :data:`SEED`: keeps the airline
#: set (14,640 tweets) from outweighing the others.
CAP = 1500

QG, QC, MOCK, ABUSE, SUPPORT, OTHER = DISCOURSE_CATEGORIES
ALL = tuple(DISCOURSE_CATEGORIES)
QUESTION_MARKS = re.compile(r"[?？¿؟]")
#: RumourEval threads left out of every use: the demo's thread (@Uber_Sydney, Sydney siege), so
#: that the demo's posts test the head on replies it never saw.
EXCLUDED_THREADS = frozenset({"544329935943237632"})


def but(*excluded: str) -> tuple[str, ...]:
    """Every category except ``excluded`` (a partial label: what the post is known not to be)."""
    return tuple(c for c in ALL if c not in excluded)


@dataclass(frozen=True)
class Mapping:
    """One row of the mapping table: a source's label (and optionally the question-mark rule)."""

    source: str
    label: str
    question_mark: bool | None  # None: either; True/False: the post does / does not contain one
    allowed: tuple[str, ...]  # the categories the post can be; one = a gold category
    why: str


MAPPING: tuple[Mapping, ...] = (
    # RumourEval 2017 (PHEME): stance of real replies to news posts about rumours.
    Mapping(
        "rumoureval",
        "query",
        None,
        (QG,),
        "asks for evidence about the post's claim: a question to the poster; sceptical queries "
        "exist, but RumourEval keeps challenges in 'deny'",
    ),
    Mapping("rumoureval", "deny", True, (QC,), "disputes the post's claim, as a question: a critical question"),
    Mapping(
        "rumoureval",
        "deny",
        False,
        (QC, MOCK, ABUSE, OTHER),
        "disputes the claim without a question mark: a challenge, a taunt, an insult or a "
        "statement; RumourEval does not say which",
    ),
    Mapping(
        "rumoureval",
        "support",
        None,
        (SUPPORT, OTHER),
        "asserts the claim is true: mostly restated news (other), sometimes endorsement (support)",
    ),
    Mapping(
        "rumoureval",
        "comment",
        None,
        (OTHER,),
        "a reply that neither asks, supports nor denies; RumourEval labels stance, not tone, so a "
        "few abusive or mocking comments count as other here",
    ),
    # TweetEval offensive val (OffensEval-2019).
    Mapping(
        "offensive",
        "offensive",
        None,
        (ABUSE,),
        "offensive language; OffensEval counts untargeted profanity too, so some of these are "
        "profane but not abuse of anyone",
    ),
    Mapping("offensive", "not-offensive", None, but(ABUSE), "not offensive: any category but abuse"),
    # TweetEval hate val (HatEval-2019: hate against immigrants and women).
    Mapping("hate", "hate", None, (ABUSE,), "hateful: abuse"),
    # TweetEval irony val (SemEval-2018 task 3): ironic posts, by annotators.
    Mapping(
        "irony", "irony", None, (MOCK,), "ironic; SemEval irony includes situational irony, which is not always mockery"
    ),
    Mapping("irony", "non_irony", None, but(MOCK), "not ironic: any category but mockery"),
    # iSarcasmEval English, the held-out fifth: sarcasm labelled by the posts' own authors.
    Mapping("sarcasm", "sarcastic", None, (MOCK,), "sarcastic by its author's own account"),
    Mapping("sarcasm", "not_sarcastic", None, but(MOCK), "not sarcastic: any category but mockery"),
    # Complaints to companies (Preotiuc-Pietro et al. 2019): posts addressed to a company.
    Mapping(
        "complaints",
        "complaint",
        True,
        (QC,),
        "a complaint to the company phrased as a question: a critical question (composed: "
        "complaint label + question-mark rule)",
    ),
    Mapping(
        "complaints",
        "complaint",
        False,
        (QC, MOCK, ABUSE, OTHER),
        "a complaint without a question mark: a statement, a request, sarcasm or abuse",
    ),
    Mapping(
        "complaints",
        "not_complaint",
        True,
        (QG,),
        "a question to the company that is not a complaint: a genuine question (composed)",
    ),
    # TweetEval sentiment val (SemEval-2017), the 1,451 tweets the encoder never saw: sentiment only.
    Mapping(
        "sentiment",
        "positive",
        None,
        (QG, SUPPORT, OTHER),
        "positive: support, other or a friendly question; assumed not sarcastic (SemEval's "
        "annotators label a post by its intended sentiment, so sarcastic praise reads negative)",
    ),
    Mapping("sentiment", "negative", None, but(SUPPORT), "negative: anything but support"),
    # Twitter US Airline Sentiment: posts addressed to airlines, sentiment by annotators.
    Mapping(
        "airline", "positive", False, (SUPPORT,), "positive and not a question: thanks and praise of the addressee"
    ),
    Mapping(
        "airline",
        "positive",
        True,
        (SUPPORT, QG),
        "positive with a question mark: thanks with a question, or praise as a rhetorical question",
    ),
    Mapping(
        "airline",
        "neutral",
        True,
        (QG,),
        "a neutral question to the airline: a genuine question (composed: sentiment + rule)",
    ),
    Mapping(
        "airline",
        "neutral",
        False,
        (OTHER, SUPPORT, QG),
        "neutral, no question mark: other, or support (the set's 'neutral' holds much praise: "
        "'All were entertaining', '@AmericanAir Thanks so much!'), or a request without a "
        "question mark ('please DM me', a question for askscope)",
    ),
    Mapping(
        "airline",
        "negative",
        True,
        (QC,),
        "a negative question to the airline: a critical question (composed); mocking questions "
        "('Anyone home??') count as critical here",
    ),
    Mapping(
        "airline",
        "negative",
        False,
        (QC, MOCK, ABUSE, OTHER),
        "a negative statement: a complaint, sarcasm, abuse or a request; the data set does not say",
    ),
)
# Left out: RumourEval source posts (the news posts replied to, not replies), neutral sentiment
# posts (any category), the 549 TweetEval sentiment val posts the encoder trained on, HatEval non-hate
# (may still be offensive), complaints' non-complaints without a question mark (thanks, chatter,
# requests: no category is implied), SemEval stance sets (stance toward a topic, not toward the
# addressee of the post).

_LABEL_NAMES = {
    "offensive": ("not-offensive", "offensive"),
    "hate": ("not-hate", "hate"),
    "irony": ("non_irony", "irony"),
    "sarcasm": ("not_sarcastic", "sarcastic"),
    "complaints": ("not_complaint", "complaint"),
    "airline": ("negative", "neutral", "positive"),
    "sentiment": ("negative", "neutral", "positive"),
}


def has_question_mark(text: str) -> bool:
    """The surface rule used to compose question categories: ``?``, fullwidth, ``¿`` or ``؟``."""
    return QUESTION_MARKS.search(text) is not None


def lookup(source: str, label: str, text: str) -> Mapping | None:
    """The mapping row for a post of ``source`` with its data set's ``label``, or ``None``."""
    mark = has_question_mark(text)
    for row in MAPPING:
        if row.source == source and row.label == label and row.question_mark in (None, mark):
            return row
    return None


@dataclass
class Raw:
    """Posts of one named split (the text list as :mod:`training.embed_cache` encodes it)."""

    split: str  # embed_cache split name
    source: str  # mapping source name
    texts: list[str]
    labels: list[str]  # the data set's own label names
    groups: list[str]  # a thread id for RumourEval (folds never cut a thread), else the row
    keep: list[bool]  # rows that are replies / posts to use at all
    seen: bool = False  # the shipped encoder was fine-tuned on these texts


def rumoureval(data: Path, split: str) -> Raw:
    """RumourEval subtask A, in the order of :func:`training.data.rumoureval`, with 4-way stance."""
    annotations = json.loads((data / "rumoureval" / f"{split}-annotations" / "subtaskA.json").read_text())
    texts, labels, groups, keep = [], [], [], []
    for path in sorted((data / "rumoureval" / split).glob("*/*/*/*.json")):
        tweet_id = path.stem
        if path.parent.name not in ("replies", "source-tweet") or tweet_id not in annotations:
            continue
        thread = path.parent.parent.name
        texts.append(json.loads(path.read_text(encoding="utf-8"))["text"])
        labels.append(annotations[tweet_id])
        groups.append(f"rumoureval/{thread}")
        keep.append(path.parent.name == "replies" and thread not in EXCLUDED_THREADS)
    return Raw(f"rumoureval-{split}", "rumoureval", texts, labels, groups, keep, seen=split == "train")


def _named(split: str, source: str, loaded: d.Split) -> Raw:
    names = _LABEL_NAMES[source]
    return Raw(
        split,
        source,
        loaded.texts,
        [names[y] for y in loaded.labels],
        [f"{split}/{i}" for i in range(len(loaded))],
        [True] * len(loaded),
    )


def raw_sources(data: Path, with_seen: bool = True) -> list[Raw]:
    """Every source split, whole (so that the encoder cache of each named split is reused)."""
    out = [rumoureval(data, "dev")]
    if with_seen:
        out.append(rumoureval(data, "train"))
    out += [
        _named("tweeteval-offensive-val", "offensive", d.tweeteval(data, "offensive", "val")),
        _named("tweeteval-hate-val", "hate", d.tweeteval(data, "hate", "val")),
        _named("tweeteval-irony-val", "irony", d.tweeteval(data, "irony", "val")),
        _named("isarcasm-heldout", "sarcasm", d.isarcasm(data, "heldout")),
        _named("complaints", "complaints", d.complaints(data)),
        _named("airline", "airline", d.airline(data)),
    ]
    sentiment = _named("tweeteval-sentiment-val", "sentiment", d.tweeteval(data, "sentiment", "val"))
    sentiment.keep = d.sentiment_unseen(data, sentiment.texts)
    out.append(sentiment)
    return out


@dataclass
class Assembled:
    """The discourse set: one row per kept post."""

    texts: list[str]
    source: np.ndarray  # split name of each row
    label: np.ndarray  # the source data set's own label
    allowed: np.ndarray  # (n, 6) bool: the categories the post can be
    group: np.ndarray  # fold group (thread for RumourEval)
    seen: np.ndarray  # bool: the encoder trained on this text
    split_rows: dict[str, np.ndarray] = field(default_factory=dict)  # split -> its rows' positions in the split

    @property
    def gold(self) -> np.ndarray:
        """The gold category id of singleton rows, -1 for partial rows."""
        single = self.allowed.sum(axis=1) == 1
        return np.where(single, self.allowed.argmax(axis=1), -1)

    @property
    def scored(self) -> np.ndarray:
        """Rows that enter the confusion matrix: a gold category, never seen by the encoder."""
        return (self.gold >= 0) & ~self.seen


def assemble(raws: list[Raw]) -> Assembled:
    """Map every kept post through :data:`MAPPING`; de-duplicate by text; cap each mapping row.

    A text that occurs twice (within or across sources, by :func:`training.data.text_key`) is
    kept once, at its first occurrence in source order (the unseen dev splits come first); a
    text whose copies map to different categories (the airline set has tweets labelled twice,
    positive and neutral) is left out.
    """
    rng = random.Random(SEED)
    mapped: dict[str, set[tuple[str, ...]]] = {}
    for raw in raws:
        for i, (text, own) in enumerate(zip(raw.texts, raw.labels)):
            row = lookup(raw.source, own, text) if raw.keep[i] else None
            if row is not None:
                mapped.setdefault(d.text_key(text), set()).add(row.allowed)
    seen_keys = {key for key, sets in mapped.items() if len(sets) > 1 or not key}
    chosen: dict[tuple[str, int], list[tuple[Raw, int]]] = {}
    for raw in raws:
        for i, (text, own) in enumerate(zip(raw.texts, raw.labels)):
            if not raw.keep[i]:
                continue
            row = lookup(raw.source, own, text)
            key = d.text_key(text)
            if row is None or key in seen_keys:
                continue
            seen_keys.add(key)
            chosen.setdefault((raw.split, MAPPING.index(row)), []).append((raw, i))
    picked: list[tuple[Raw, int]] = []
    for mapping_row in sorted(chosen):
        members = chosen[mapping_row]
        if len(members) > CAP:
            members = sorted(rng.sample(members, CAP), key=lambda r: r[1])
        picked += members
    texts: list[str] = []
    source: list[str] = []
    label: list[str] = []
    allowed: list[list[bool]] = []
    group: list[str] = []
    seen: list[bool] = []
    split_rows: dict[str, list[int]] = {}
    for raw, i in picked:
        row = lookup(raw.source, raw.labels[i], raw.texts[i])
        assert row is not None
        texts.append(raw.texts[i])
        source.append(raw.split)
        label.append(raw.labels[i])
        allowed.append([c in row.allowed for c in DISCOURSE_CATEGORIES])
        group.append(raw.groups[i])
        seen.append(raw.seen)
        split_rows.setdefault(raw.split, []).append(i)
    return Assembled(
        texts,
        np.array(source),
        np.array(label),
        np.array(allowed, dtype=bool),
        np.array(group),
        np.array(seen, dtype=bool),
        {k: np.array(v) for k, v in split_rows.items()},
    )


def mapping_table() -> list[dict[str, object]]:
    """The mapping as plain records (for the model card and the docs)."""
    return [
        {
            "source": m.source,
            "label": m.label,
            "question_mark": {None: "any", True: "yes", False: "no"}[m.question_mark],
            "categories": list(m.allowed),
            "why": m.why,
        }
        for m in MAPPING
    ]
