"""The classify stage sends each distinct text once to a labeler that depends on the text alone.

The store: real recorded X API v2 search pages (``brexit``, ``kpop``, ``2sets``: 145 reposts,
which are never in P) plus a CSV of copy-pasted posts (new ids and authors, the exact texts of
real #Brexit posts of the store, so P holds exact duplicates, as copy-paste campaigns do).

The bundled encoder quantises activations per batch (``classify/encoder.py``), so a post's
probabilities move by ~1e-2 with the posts it is batched with; to compare labels *exactly* with
and without the sharing, the labeler under test runs the real bundled models on one text at a
time (then a text's labels depend on that text alone, bit for bit).
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import shared

from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.classify.text import normalise
from askscope.ingestion.engine import ingest
from askscope.stages.labeling import BundledLabeler, is_text_only, text_hash_of, text_key_of
from askscope.store.core import open_store

CAMPAIGN = {
    "name": "Brexit and K-pop",
    "hosts": ["itsLIVEofficial"],
    "hashtags": ["brexit", "kpop", "lisa"],
    "start": "2021-06-01T00:00:00Z",
    "end": "2021-09-30T00:00:00Z",
}
COPIES = 3  # each of the first two real #Brexit posts' texts posted again by 3 new accounts
# ... and again by 2 more, each addressed to someone else and with its own link: the same text
# up to mentions and links (what the bundled models see: askscope.classify.text.normalise)
VARIANTS = 2
NEAR = 1  # ... and by one more that adds a question at the end: a text of its own


class OneAtATime:
    """The bundled models, one text per call (exact per-text labels), recording every text."""

    name = "bundled"

    def __init__(self, text_only: bool) -> None:
        self.inner = BundledLabeler()
        self.text_only = text_only
        self.seen: list[str] = []
        self.given: dict[tuple[str, str], tuple[str, float]] = {}  # (text, task) -> label, probability

    def versions(self) -> dict[str, str]:
        return self.inner.versions()

    def error_rates(self) -> dict[str, Any]:
        return self.inner.error_rates()

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
        self.seen += texts
        parts = [self.inner.label([t], [k]) for t, k in zip(texts, keys)]
        for text, part in zip(texts, parts):
            for task, (names, chosen, *_) in part.items():
                self.given[(text, task)] = (names[0], float(chosen[0]))
        out: dict[str, tuple[Any, ...]] = {}
        for task in parts[0]:
            names = [n for p in parts for n in p[task][0]]
            chosen = np.concatenate([p[task][1] for p in parts])
            full = None if parts[0][task][2] is None else np.concatenate([p[task][2] for p in parts])
            out[task] = (names, chosen, full)
        return out


class Counting(BundledLabeler):
    """The bundled labeler as the stage uses it (batches), recording every text it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
        self.seen += texts
        return super().label(texts, keys)


@pytest.fixture(scope="module")
def related(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of real recorded posts + copy-pasted duplicates, analysed up to ``relations``."""
    folder = tmp_path_factory.mktemp("dedup")
    db = folder / "base.duckdb"
    files = [str(shared("fixtures", "x-v2", name)) for name in ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl")]
    assert ingest(str(db), files).reconciles
    with open_store(str(db), read_only=True) as store:
        originals = store.con.execute(
            "SELECT text, created_at FROM posts WHERE kind = 'post' AND NOT is_context AND list_contains("
            "list_transform(hashtags, lambda h: lower(h)), 'brexit') AND text LIKE '%https://t.co/%' ORDER BY id LIMIT 2"
        ).fetchall()
    assert len(originals) == 2
    copies = folder / "copies.csv"
    with copies.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "author_id", "screen_name", "text"])
        for n, (text, created) in enumerate(originals):
            for k in range(COPIES):
                writer.writerow([f"9{n}{k}", created.isoformat(), f"77{n}{k}", f"copier{n}{k}", text])
            for k in range(VARIANTS):
                variant = re.sub(r"@\w+", f"@someone_{n}{k}", text)
                variant = re.sub(r"https://t[.]co/[A-Za-z0-9]+", f"https://t.co/v{n}{k}", variant)
                assert variant != text
                writer.writerow([f"8{n}{k}", created.isoformat(), f"66{n}{k}", f"variant{n}{k}", variant])
            # and one near copy: the same text and a question after it, which is a text of its own
            writer.writerow([f"70{n}", created.isoformat(), f"55{n}", f"asker{n}", f"{text} Who decided this?"])
    assert ingest(str(db), [str(copies)]).reconciles
    analyze(str(db), parse_campaign(CAMPAIGN), only=["reply_trees", "relations"])
    return db


def _classify(related: Path, name: str, labeler: Any) -> Path:
    db = related.parent / name
    shutil.copyfile(related, db)
    analyze(str(db), parse_campaign(CAMPAIGN), only=["classify"], settings={"labeler": labeler})
    return db


def _p_texts(db: Path) -> list[str]:
    with open_store(str(db), read_only=True) as store:
        return [
            t or ""
            for (t,) in store.con.execute(
                "SELECT p.text FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
                "WHERE r.in_campaign"
            ).fetchall()
        ]


def test_the_bundled_labeler_declares_it_depends_on_text_alone() -> None:
    assert is_text_only(BundledLabeler())
    from askscope.synthetic.campaign import TruthLabeler

    # the simulated labeler looks the truth up by key: never shared
    assert not is_text_only(TruthLabeler)


def test_labels_are_identical_with_and_without_sharing_and_each_text_is_labelled_once(related: Path) -> None:
    texts = _p_texts(related)
    # 111 posts of the recorded pages in P (checked with askscope sql) + 2 x 3 copies + 2 x 2
    # variants + 2 near copies
    assert len(texts) == 111 + 2 * (COPIES + VARIANTS + NEAR)
    assert len(set(texts)) == 111 + 2 * (VARIANTS + NEAR)
    shared_run, every_post = OneAtATime(text_only=True), OneAtATime(text_only=False)
    a = _classify(related, "shared.duckdb", shared_run)
    b = _classify(related, "every.duckdb", every_post)
    # the labeler saw each distinct text once with sharing, every post without
    assert sorted(shared_run.seen) == sorted(set(texts))
    assert sorted(every_post.seen) == sorted(texts)
    with open_store(str(a)) as store:
        store.con.execute(f"ATTACH '{b}' AS other (READ_ONLY)")
        n = store.con.execute("SELECT count(*) FROM labels").fetchall()[0][0]
        assert n == len(texts) * 8  # one row per post and task, 8 tasks
        for first, second in (("labels", "other.labels"), ("other.labels", "labels")):
            diff = store.con.execute(f"SELECT count(*) FROM (FROM {first} EXCEPT ALL FROM {second})").fetchall()
            assert diff[0][0] == 0
        # every post's row is what the models gave its text (read from the labeler's calls)
        stored = store.con.execute(
            "SELECT p.text, l.task, l.label, l.probability FROM labels l JOIN posts p "
            "ON p.platform = l.platform AND p.id = l.post_id"
        ).fetchall()
        assert len(stored) == n
        for text, task, label, probability in stored:
            name, chosen = shared_run.given[(text or "", task)]
            assert label == name
            assert probability == pytest.approx(chosen, abs=1e-12, nan_ok=True) or (
                probability is None and np.isnan(chosen)
            )
        # the copies carry their original's labels, under their own keys
        copied = store.con.execute("SELECT count(DISTINCT post_id) FROM labels WHERE post_id LIKE '9__'").fetchall()
        assert copied[0][0] == 2 * COPIES


def test_posts_that_differ_in_mentions_and_links_share_the_labels_each_would_get_alone(related: Path) -> None:
    # the bundled labeler declares its key (normalise): the stage sends it each distinct
    # normalised text once, and every post gets exactly the labels the models give its own text
    labeler, alone = Counting(), OneAtATime(text_only=False)
    assert text_key_of(labeler) is not None and text_key_of(alone) is None
    keyed = _classify(related, "keyed.duckdb", labeler)
    every = _classify(related, "every-alone.duckdb", alone)
    texts = _p_texts(keyed)
    keys = {normalise(t) for t in texts}
    # the 2 x 2 variants normalise to their originals' texts: 4 texts fewer to classify
    assert len(keys) <= len(set(texts)) - 2 * VARIANTS
    assert len(labeler.seen) == len(keys)
    assert len({normalise(t) for t in texts if t.endswith("Who decided this?")}) == 2 * NEAR
    assert {normalise(t) for t in labeler.seen} == keys
    assert sorted(alone.seen) == sorted(texts)
    with open_store(str(keyed)) as store:
        store.con.execute(f"ATTACH '{every}' AS other (READ_ONLY)")
        assert store.con.execute("SELECT count(*) FROM labels").fetchall()[0][0] == len(texts) * 8
        # the same rows: labels, models and text hashes exactly; probabilities to 1e-12 (numpy sums
        # a batch of texts in another order than one text: differences of ~1e-16 were measured)
        joined = store.con.execute(
            "SELECT a.label IS NOT DISTINCT FROM b.label AND a.model = b.model AND a.text_hash = b.text_hash, "
            "coalesce(abs(a.probability - b.probability), 0), "
            "coalesce(list_max(list_transform(list_zip(a.probabilities, b.probabilities), "
            "lambda z: abs(z[1] - z[2]))), 0), (a.probability IS NULL) = (b.probability IS NULL) "
            "FROM labels a JOIN other.labels b USING (platform, post_id, task)"
        ).fetchall()
        assert len(joined) == len(texts) * 8
        assert all(same and both_null for same, _, _, both_null in joined)
        assert max(max(d1, d2) for _, d1, d2, _ in joined) < 1e-12
        # each post's text_hash is its own text's, not its group's (so a re-run reuses every label)
        stored = store.con.execute(
            "SELECT p.text, l.text_hash FROM labels l JOIN posts p ON p.platform = l.platform AND p.id = l.post_id"
        ).fetchall()
        assert all(h == text_hash_of(t or "") for t, h in stored)
    again = Counting()
    analyze(str(keyed), parse_campaign(CAMPAIGN), only=["classify"], settings={"labeler": again})
    assert again.seen == []


def test_the_stage_sends_the_bundled_labeler_distinct_texts_and_never_reposts(related: Path) -> None:
    labeler = Counting()
    db = _classify(related, "counting.duckdb", labeler)
    texts = _p_texts(db)
    assert len(labeler.seen) == len(set(labeler.seen)) == len({normalise(t) for t in texts})
    with open_store(str(db), read_only=True) as store:
        reposts = store.con.execute(
            "SELECT count(*) FROM labels l JOIN posts p ON p.platform = l.platform AND p.id = l.post_id "
            "WHERE p.kind = 'repost'"
        ).fetchall()[0][0]
        per_post = store.con.execute("SELECT count(*), count(DISTINCT (platform, post_id)) FROM labels").fetchall()[0]
    assert reposts == 0
    assert per_post == (len(texts) * 8, len(texts))
