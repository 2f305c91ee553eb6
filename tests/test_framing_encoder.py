"""Frames scored with the bundled sentence encoder (issue 10, part 6): on a real campaign store the
encoder scores the frames and says so; a paraphrase without any keyword is caught by the
encoder's similarity; the n-gram vectors only stand in when the encoder cannot load."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

import askscope
from askscope.analysis import analyze
from askscope.campaign import load_campaign
from askscope.classify import embed, models
from askscope.classify import frames as framing
from askscope.classify.frames import BundledEmbedder, NgramEmbedder, calibrate, default_embedder, score
from askscope.reports import report

# The demo's campaign (@Uber_Sydney during the Sydney siege) with four example sentences per frame,
# written for this test (none of them is a post of the demo).
CAMPAIGN = """
name = "Uber Sydney during the Sydney siege"
hosts = ["Uber_Sydney"]
hashtags = ["sydneysiege"]
start = 2014-12-15T03:00:00Z
end = 2014-12-16T03:00:00Z

[frames.free_rides]
keywords = ["free", "covering the cost", "get home safely"]
examples = ["Uber trips out of the CBD are free to help people get home safely",
            "Uber is paying for every ride out of the city today, passengers pay nothing",
            "Rides are on us tonight: no charge for anyone leaving the area",
            "The company will cover the fare so riders do not pay"]

[frames.price_gouging]
keywords = ["surge", "gouging", "profit", "exploit", "disgusting", "shameful"]
examples = ["charging surge prices during a hostage crisis is exploiting a tragedy for profit",
            "Uber quadrupled its fares while people were trying to flee the siege",
            "Making money off people's fear during an emergency is disgusting",
            "Jacking up prices when people are desperate to get home"]
"""

# Says the free-rides frame with none of its keywords ("free", "covering the cost", "get home safely").
PARAPHRASE = "Uber is not charging riders for trips out of the CBD today"
UNRELATED = "What a lovely sunny afternoon at the beach"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("framing")
    campaign_file = folder / "campaign.toml"
    campaign_file.write_text(CAMPAIGN, encoding="utf-8")
    store = str(folder / "demo.duckdb")
    with resources.as_file(resources.files("askscope.demo").joinpath("uber_sydney.zip")) as data:
        assert askscope.ingest(store, [str(data)]).reconciles
    summaries = analyze(store, str(campaign_file))
    return store, load_campaign(campaign_file), summaries


def test_the_bundled_encoder_scores_the_frames_of_a_real_campaign(demo_store):
    store, campaign, summaries = demo_store
    assert summaries["classify"]["frames"]["embedder"] == "bundled sentence encoder"
    with askscope.open_store(store, read_only=True) as db:
        _, calibration = db.query("SELECT frame, embedder, calibration FROM frame_calibration ORDER BY frame")
        _, scored = db.query(
            "SELECT frame, count(*), count(similarity), count(*) FILTER (WHERE uses) "
            "FROM frame_scores GROUP BY 1 ORDER BY 1"
        )
        _, posts = db.query("SELECT count(*) FROM relations WHERE relation NOT IN ('none', 'repost')")
    assert [(f, e) for f, e, _ in calibration] == [
        ("free_rides", "bundled sentence encoder"),
        ("price_gouging", "bundled sentence encoder"),
    ]
    # every scored post has an encoder similarity (the n-gram-free path leaves none empty)
    assert [(f, n, s) for f, n, s, _ in scored] == [
        ("free_rides", posts[0][0], posts[0][0]),
        ("price_gouging", posts[0][0], posts[0][0]),
    ]
    # 20 of the 22 host posts say "free" or "covering the cost": the frame is used, not everywhere
    uses = {f: u for f, _, _, u in scored}
    assert 20 <= uses["free_rides"] < posts[0][0]

    # the framing lens reports the same embedder
    document = json.loads(report(store, format="json"))
    assert document["lenses"]["framing"]["embedder"] == "bundled sentence encoder"

    # the stored calibration is the encoder's: the same examples against the same background
    # give the same threshold again (and not the n-gram one, on a different scale)
    encoder = default_embedder()
    assert isinstance(encoder, BundledEmbedder)
    again = {c.frame.name: c for c in calibrate(campaign.frames, encoder)}
    ngram = {c.frame.name: c for c in calibrate(campaign.frames, NgramEmbedder())}
    for frame, _, stored in calibration:
        threshold = json.loads(stored)["threshold"]
        assert threshold == pytest.approx(again[frame].threshold, abs=1e-4)
        assert abs(threshold - ngram[frame].threshold) > 0.1


def test_a_paraphrase_without_keywords_is_caught_by_the_encoder(demo_store):
    _, campaign, _ = demo_store
    encoder = default_embedder()
    calibrated = calibrate(campaign.frames, encoder)
    free_rides = next(c for c in calibrated if c.frame.name == "free_rides")
    assert free_rides.pattern is not None and not free_rides.pattern.search(PARAPHRASE)
    # one post at a time: int8 activations are scaled per batch, so batch-mates move a vector ~1e-2
    (uses, sims), (other_uses, other_sims) = (
        score([text], calibrated, encoder)["free_rides"] for text in (PARAPHRASE, UNRELATED)
    )
    assert free_rides.threshold is not None
    assert sims[0] >= free_rides.threshold > other_sims[0]
    assert uses == [True] and other_uses == [False]
    # the similarity is the encoder's: the cosine of the post's vector and the examples' centroid
    vector = embed([PARAPHRASE])[0]
    assert sims[0] == pytest.approx(float(vector @ free_rides.centroid), abs=1e-5)


def test_links_and_mentions_are_left_out_of_the_encoder_vectors():
    encoder = BundledEmbedder()
    with_noise, post_only, empty = encoder.embed(
        ["@Uber_Sydney @mtats free rides home http://t.co/UIwoom25Bm", "@Uber_Sydney http://t.co/x", ""]
    )
    np.testing.assert_allclose(with_noise, embed(["free rides home"])[0], atol=1e-6)
    assert np.linalg.norm(with_noise) == pytest.approx(1.0, abs=1e-5)
    # nothing left to embed: a zero vector, similarity 0 to any frame
    assert not post_only.any() and not empty.any() and post_only.shape == (framing.DIM_ENCODER,)


def test_ngrams_stand_in_only_when_the_encoder_cannot_load(monkeypatch):
    def missing() -> None:
        raise FileNotFoundError("encoder.onnx")

    monkeypatch.setattr(models, "encoder", missing)
    fallback = default_embedder()
    assert isinstance(fallback, NgramEmbedder)
    assert fallback.name == (
        "hashed character 3-5-grams (the bundled sentence encoder could not load: FileNotFoundError: encoder.onnx)"
    )
    vectors = fallback.embed(["free rides", "free rides"])
    assert vectors.shape == (2, framing.DIM) and float(vectors[0] @ vectors[1]) == pytest.approx(1.0)


class CountingKeys(BundledEmbedder):
    """The bundled encoder, recording the keys it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def embed_keys(self, stripped: list[str]) -> np.ndarray:
        self.asked += stripped
        return super().embed_keys(stripped)


def test_the_stage_scores_each_post_as_the_frames_alone_do(demo_store):
    """``frame_scores`` written by the classify stage (distinct texts matched once, distinct keys
    embedded once, joined back in SQL) against each scored post's text embedded and matched on
    its own, here: the same uses, the same similarities; and each distinct key of the demo's
    posts went to the encoder exactly once."""
    store, campaign, _ = demo_store
    with askscope.open_store(store, read_only=True) as db:
        _, stored = db.query(
            "SELECT f.platform, f.post_id, f.frame, f.uses, f.similarity, coalesce(p.text, '') FROM frame_scores f "
            "JOIN posts p ON p.platform = f.platform AND p.id = f.post_id ORDER BY 1, 2, 3"
        )
        _, expected_posts = db.query("SELECT count(*) FROM relations WHERE relation NOT IN ('none', 'repost')")
    encoder = BundledEmbedder()
    calibrated = {c.frame.name: c for c in calibrate(campaign.frames, encoder)}
    assert len(stored) == 2 * expected_posts[0][0]
    vectors: dict[str, np.ndarray] = {}
    for _, _, frame, uses, similarity, text in stored:
        if text not in vectors:
            vectors[text] = encoder.embed([text])[0]  # this text alone, no key, no page
        c = calibrated[frame]
        expected_similarity = float(np.dot(vectors[text].astype(np.float64), c.centroid.astype(np.float64)))
        assert similarity == pytest.approx(expected_similarity, abs=1e-5)
        keyword = bool(c.pattern.search(text))
        assert uses == (keyword or similarity >= c.threshold)
        if abs(expected_similarity - c.threshold) > 1e-5:
            assert uses == (keyword or expected_similarity >= c.threshold)
    # a post that differs only in the account it mentions or its link shares its key
    keys = {framing._strip(text) for *_, text in stored}
    assert len(keys) < len(vectors)
    counting = CountingKeys()
    analyze(store, campaign, only=["classify"], settings={"embedder": counting})
    background = len(framing.background_texts())
    examples = sum(len(f.examples) for f in campaign.frames)
    asked = counting.asked[background + examples :]  # the calibration's texts come first
    assert sorted(asked) == sorted(keys)
    with askscope.open_store(store, read_only=True) as db:
        _, again = db.query("SELECT platform, post_id, frame, uses, similarity FROM frame_scores ORDER BY 1, 2, 3")
    assert again == [row[:5] for row in stored]


def test_the_stage_runs_again_in_the_same_connection_and_leaves_no_temporary_table(demo_store, tmp_path):
    """The classify stage's working tables (``_cls_*``, ``_frm_*``) are dropped when it ends: a
    second run in the same connection (the labels reused, the frames scored again) succeeds and
    writes the same ``frame_scores``."""
    import shutil

    from askscope.stages import Context, run_stages

    store, campaign, _ = demo_store
    copy = tmp_path / "again.duckdb"
    shutil.copy(store, copy)
    with askscope.open_store(store, read_only=True) as db:
        _, before = db.query("SELECT platform, post_id, frame, uses, similarity FROM frame_scores ORDER BY 1, 2, 3")
    with askscope.open_store(copy) as db:
        for _ in range(2):
            summary = run_stages(Context(db, campaign), only=["classify"])["classify"]
            assert summary["classified_now"] == 0
            left = db.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary AND "
                "(table_name LIKE '\\_cls\\_%' ESCAPE '\\' OR table_name LIKE '\\_frm\\_%' ESCAPE '\\')"
            ).fetchall()
            assert left == []
            _, after = db.query("SELECT platform, post_id, frame, uses, similarity FROM frame_scores ORDER BY 1, 2, 3")
            assert after == before
