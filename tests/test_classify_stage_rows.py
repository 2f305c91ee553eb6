"""What the classify stage stores, checked against the library and not against the stage's own
labeler: every ``labels`` row of a real campaign is what ``askscope.classify.classify`` gives the
post's text (label, the chosen label's probability, the vector over the task's classes, the
language's distribution); a ``label_map`` in the settings is the one that labels (the archive's
Dask map is one); and a labeler of no bundled model set still gets the bundled encoder's frames.

The campaign: real recorded X API v2 search pages (``brexit``, ``kpop``), a frame on them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import shared

from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.classify import classify
from askscope.classify.text import normalise
from askscope.ingestion.engine import ingest
from askscope.stages.labeling import BundledLabeler
from askscope.store.core import open_store
from askscope.vocabulary import TASKS

CAMPAIGN = {
    "name": "Brexit and K-pop",
    "hosts": ["itsLIVEofficial"],
    "hashtags": ["brexit", "kpop", "lisa"],
    "start": "2021-06-01T00:00:00Z",
    "end": "2021-09-30T00:00:00Z",
    "frames": {"leaving": {"keywords": ["leave"], "examples": ["Britain should leave the European Union"]}},
}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stage-rows")
    db = folder / "base.duckdb"
    files = [str(shared("fixtures", "x-v2", name)) for name in ("brexit.jsonl", "kpop.jsonl")]
    assert ingest(str(db), files).reconciles
    analyze(str(db), parse_campaign(CAMPAIGN), only=["reply_trees", "relations", "classify"])
    return db


def _rows(db: Path) -> list[tuple[Any, ...]]:
    with open_store(str(db), read_only=True) as store:
        return store.con.execute(
            "SELECT l.platform, l.post_id, coalesce(p.text, ''), l.task, l.label, l.probability, l.probabilities "
            "FROM labels l JOIN posts p ON p.platform = l.platform AND p.id = l.post_id ORDER BY 1, 2, 4"
        ).fetchall()


def test_every_stored_label_is_the_librarys_for_the_posts_text(analysed: Path) -> None:
    rows = _rows(analysed)
    texts = sorted({text for _, _, text, *_ in rows})
    assert len(rows) == len({(p, i) for p, i, *_ in rows}) * len(TASKS) > 0
    results = classify(texts)  # the library, all tasks (a post's outputs depend on its text alone)
    at = {text: i for i, text in enumerate(texts)}
    for _, _, text, task, label, probability, probabilities in rows:
        result, i = results[task], at[text]
        assert label == result.names[i]
        if result.probabilities is None:  # language: the chosen code's share of the distribution
            assert probabilities is None
            assert probability == pytest.approx(result.distributions[i][label], abs=1e-12)
        else:
            expected = np.asarray(result.probabilities[i], dtype=np.float64)
            assert probabilities is not None and len(probabilities) == len(result.classes)
            np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)  # stored as FLOAT
            assert probability == pytest.approx(expected[result.classes.index(label)], abs=1e-12)


def test_the_label_map_of_the_settings_labels_the_chunks(analysed: Path, tmp_path: Path) -> None:
    """The stage hands its chunks to ``settings["label_map"]`` (how an archive's classify runs on
    Dask) and stores what the map gives back."""
    db = tmp_path / "mapped.duckdb"
    shutil.copyfile(analysed, db)
    with open_store(str(db)) as store:
        store.con.execute("DELETE FROM labels")
    chunks: list[int] = []
    keys_seen: list[tuple[tuple[str, str], str]] = []

    def recording(labeler: Any, requests: Iterable[tuple[list[str], Any]]) -> Iterator[dict[str, Any]]:
        for texts, keys in requests:
            chunks.append(len(texts))
            keys_seen.extend(zip(keys, texts))
            yield labeler.label(texts, keys)

    summary = analyze(str(db), parse_campaign(CAMPAIGN), only=["classify"], settings={"label_map": recording})
    assert chunks and sum(chunks) == summary["classify"]["distinct_texts"]
    rows = _rows(db)
    assert rows == _rows(analysed)
    # each text goes with the key of a post that has it: (platform, post id), what a labeler
    # that looks posts up (the simulated campaign's) is given
    posts = {(platform, post_id): text for platform, post_id, text, *_ in rows}
    assert len(keys_seen) == sum(chunks)
    assert all(normalise(posts[key]) == normalise(text) for key, text in keys_seen)


class Delegating:
    """A labeler that is no bundled model set's (a plugin wrapping the bundled models)."""

    name = "delegating"

    def __init__(self) -> None:
        self.inner = BundledLabeler()

    def versions(self) -> dict[str, str]:
        return {task: f"delegating-{v}" for task, v in self.inner.versions().items()}

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
        return self.inner.label(texts, keys)

    def error_rates(self) -> dict[str, Any]:
        return self.inner.error_rates()


def test_a_labeler_of_no_bundled_set_gets_the_bundled_encoders_frames(analysed: Path, tmp_path: Path) -> None:
    db = tmp_path / "delegating.duckdb"
    shutil.copyfile(analysed, db)
    summary = analyze(str(db), parse_campaign(CAMPAIGN), only=["classify"], settings={"labeler": Delegating()})
    assert summary["classify"]["labeler"] == "delegating"
    assert summary["classify"]["frames"]["embedder"] == "bundled sentence encoder"
    with open_store(str(db), read_only=True) as store, open_store(str(analysed), read_only=True) as before:
        query = "SELECT platform, post_id, frame, uses, similarity FROM frame_scores ORDER BY 1, 2, 3"
        again, first = store.con.execute(query).fetchall(), before.con.execute(query).fetchall()
        assert [e for (e,) in store.con.execute("SELECT DISTINCT embedder FROM frame_calibration").fetchall()] == [
            "bundled sentence encoder"
        ]
    assert again == first and len(first) > 0


def test_pages_of_a_few_texts_store_the_same_rows(analysed: Path, tmp_path: Path, monkeypatch) -> None:
    """The stage reads its texts, its label chunks and its frame keys from the store a page at a
    time (50,000 texts, 16 chunks of 2,048, 20,000 keys: one page for this campaign). With pages
    of a few rows every loop runs many pages and the stored rows are the same."""
    from askscope.stages import labeling

    db = tmp_path / "paged.duckdb"
    shutil.copyfile(analysed, db)
    with open_store(str(db)) as store:
        store.con.execute("DELETE FROM labels")  # every post classified again
    for name, value in (("TEXT_PAGE", 13), ("BATCH", 7), ("PAGE_CHUNKS", 2), ("FRAME_PAGE", 11)):
        monkeypatch.setattr(labeling, name, value)
    summary = analyze(str(db), parse_campaign(CAMPAIGN), only=["classify"])["classify"]
    assert summary["distinct_texts"] > 3 * 7 * 2  # more than three pages of chunks
    assert _rows(db) == _rows(analysed)
    query = "SELECT platform, post_id, frame, uses, similarity FROM frame_scores ORDER BY 1, 2, 3"
    with open_store(str(db), read_only=True) as paged, open_store(str(analysed), read_only=True) as whole:
        again, first = paged.con.execute(query).fetchall(), whole.con.execute(query).fetchall()
        keys = whole.con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT coalesce(p.text, '') FROM relations r JOIN posts p "
            "ON p.platform = r.platform AND p.id = r.post_id WHERE r.relation NOT IN ('none', 'repost'))"
        ).fetchall()[0][0]
    assert keys > 3 * 13 and again == first
