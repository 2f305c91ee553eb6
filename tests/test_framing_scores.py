"""Frame scoring (metrics/framing.py) with hand-checkable vectors: keyword matching, the
threshold calibrated between the background and the examples, and the hashed n-gram vectors."""

from __future__ import annotations

import numpy as np
import pytest

from askscope.campaign import Frame
from askscope.classify import frames as framing
from askscope.classify.frames import NgramEmbedder, calibrate, score


class TableEmbedder:
    """Vectors looked up in a table: the test decides every similarity."""

    name = "table"

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.asarray([self.table[t] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _unit(angle_degrees: float) -> list[float]:
    a = np.radians(angle_degrees)
    return [float(np.cos(a)), float(np.sin(a))]


# background posts at 90, 80, ..., 0 degrees from the x axis; examples near the x axis
BACKGROUND = [f"b{i}" for i in range(10)]
TABLE = {f"b{i}": _unit(90 - 10 * i) for i in range(10)} | {
    "e1": _unit(-5),
    "e2": _unit(5),
    "far": _unit(60),
    "near": _unit(2),
    "edge": _unit(20),
}


def test_keywords_match_whole_words_in_any_case():
    frame = Frame("liberation", keywords=("liberation", "free people"))
    (calibrated,) = calibrate((frame,), TableEmbedder(TABLE), background=BACKGROUND)
    texts = ["A LIBERATION movement", "liberationist", "we are free people!", "free-people", "free  people", ""]
    uses, sims = score(texts, [calibrated], TableEmbedder(TABLE))["liberation"]
    # whole words only (not inside "liberationist" or across a hyphen... "free-people" has no space)
    assert uses == [True, False, True, False, False, False]
    assert all(np.isnan(s) for s in sims)  # no examples: no similarity
    assert calibrated.describe() == {
        "keywords": ["liberation", "free people"],
        "examples": 0,
        "threshold": None,
        "examples_similarity": None,
        "background_p95": None,
    }


def test_threshold_between_background_and_examples():
    frame = Frame("f", examples=("e1", "e2"))
    (calibrated,) = calibrate((frame,), TableEmbedder(TABLE), background=BACKGROUND)
    # centroid of e1, e2 (at -5 and +5 degrees): the x axis. Leave-one-out similarity: each
    # example against the other: cos 10 degrees = 0.984808. Background similarities cos(0..90):
    # their 95th percentile (linear) lies between cos 10 (0.984808, 9th of 10) and cos 0 (1):
    # position 0.95 * 9 = 8.55 -> 0.984808 + 0.55 * (1 - 0.984808) = 0.993163. The examples do
    # not stand above the background, so the threshold is its 99th percentile:
    # 0.984808 + 0.91 * 0.015192 = 0.998633
    assert calibrated.examples_similarity == pytest.approx(np.cos(np.radians(10)), abs=1e-6)
    assert calibrated.background_p95 == pytest.approx(0.993163, abs=1e-5)
    assert calibrated.threshold == pytest.approx(0.998633, abs=1e-5)
    np.testing.assert_allclose(calibrated.centroid, [1.0, 0.0], atol=1e-6)


def test_threshold_half_way_when_the_examples_stand_out():
    background = [f"b{i}" for i in range(8)]  # 90 .. 20 degrees: cos 20 = 0.939693 at most
    frame = Frame("f", keywords=("freedom",), examples=("e1", "e2"))
    (calibrated,) = calibrate((frame,), TableEmbedder(TABLE), background=background)
    # background p95: position 0.95 * 7 = 6.65 between cos 30 (0.866025) and cos 20 (0.939693):
    # 0.866025 + 0.65 * 0.073668 = 0.913909; threshold (0.913909 + 0.984808) / 2 = 0.949358
    assert calibrated.background_p95 == pytest.approx(0.913909, abs=1e-5)
    assert calibrated.threshold == pytest.approx(0.949358, abs=1e-5)
    uses, sims = score(["near", "edge", "far", "freedom"], [calibrated], TableEmbedder(TABLE | {"freedom": _unit(70)}))[
        "f"
    ]
    # near: cos 2 = 0.999391 >= threshold; edge: cos 20 = 0.939693 < threshold; far: cos 60 = 0.5;
    # "freedom" is far (cos 70) but names the keyword
    assert uses == [True, False, False, True]
    assert sims == pytest.approx([0.999391, 0.939693, 0.5, 0.342020], abs=1e-5)
    assert calibrated.describe()["threshold"] == round(calibrated.threshold, 4)


def test_one_example_is_compared_with_itself():
    (calibrated,) = calibrate((Frame("f", examples=("e1",)),), TableEmbedder(TABLE), background=BACKGROUND)
    assert calibrated.examples_similarity == pytest.approx(1.0, abs=1e-6)


def test_ngram_vectors():
    embedder = NgramEmbedder()
    vectors = embedder.embed(["Free the people http://x.y/z @someone", "free the   PEOPLE", "", "something else"])
    assert vectors.shape == (4, framing.DIM)
    norms = np.linalg.norm(vectors, axis=1)
    assert norms == pytest.approx([1.0, 1.0, 0.0, 1.0], abs=1e-6)
    # links and mentions are dropped, case and spaces normalised: the same text
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0, abs=1e-6)
    assert float(vectors[0] @ vectors[3]) < 0.5
    # " ab " has the 3-grams " ab", "ab " and the 4-gram " ab ": three n-grams of weight 1
    single = embedder.embed(["ab"])[0]
    assert np.count_nonzero(single) == 3 and single[single > 0] == pytest.approx([3**-0.5] * 3)
    # repeated n-grams weigh 1 + ln(count): "aaaaa" padded " aaaaa ": 3-grams " aa", "aaa" x3, "aa "
    weights = sorted(embedder.embed(["aaaaa"])[0][embedder.embed(["aaaaa"])[0] > 0])
    raw = sorted([1, 1 + np.log(3), 1, 1, 1 + np.log(2), 1, 1, 1, 1])  # 3-, 4-, 5-grams
    assert weights == pytest.approx(sorted(np.array(raw) / np.linalg.norm(raw)), abs=1e-6)


def test_long_inputs_are_embedded_in_blocks():
    embedder = NgramEmbedder()
    texts = [f"post number {i}" for i in range(2001)]
    vectors = embedder.embed(texts)
    assert vectors.shape == (2001, framing.DIM)
    np.testing.assert_allclose(vectors[2000], embedder.embed([texts[2000]])[0])


def test_normalise():
    assert framing._normalise("  Ａ  Link https://t.co/x  @Who   SAYS ") == "a link says"


class CountingEmbedder(TableEmbedder):
    """Vectors from the table (the x axis for texts it does not know), counting the calls."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        super().__init__(table)
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return super().embed(texts) if all(t in self.table for t in texts) else np.tile([1.0, 0.0], (len(texts), 1))


def test_the_bundled_background_is_used_by_default():
    background = framing.background_texts()
    # ordinary posts shipped with askscope, one per line, none empty
    assert len(background) == 400 and all(line.strip() for line in background)
    assert background[0] == "Dark Souls 3 April Launch Date Confirmed With New Trailer: Embrace the darkness."
    assert "\ufffd" not in "".join(background)  # read as UTF-8
    embedder = CountingEmbedder(TABLE)
    (calibrated,) = calibrate((Frame("f", examples=("e1", "e2")),), embedder)
    # every background post is on the x axis: p95 = 1, above the examples: the threshold is p99
    assert calibrated.background_p95 == pytest.approx(1.0) and calibrated.threshold == pytest.approx(1.0)
    # no frames: nothing is embedded, not even the background
    counting = CountingEmbedder(TABLE)
    assert calibrate((), counting) == [] and counting.calls == 0


def test_frames_with_only_examples_or_only_keywords_side_by_side():
    frames = (Frame("words", keywords=("straße",)), Frame("vectors", examples=("e1", "e2")))
    calibrated = calibrate(frames, TableEmbedder(TABLE), background=BACKGROUND[:8])
    texts = ["near", "edge"]
    table = TableEmbedder(TABLE | {"Die Straße": _unit(45)})
    result = score(texts + ["Die Straße"], calibrated, table)
    # the keyword frame knows nothing of vectors; its keyword is matched as written (ß is not SS)
    assert result["words"][0] == [False, False, True]
    assert all(np.isnan(s) for s in result["words"][1])
    # the example frame has no keywords: only similarity counts (threshold 0.949358, see above)
    assert result["vectors"][0] == [True, False, False]
    described = calibrated[1].describe()
    assert described == {
        "keywords": [],
        "examples": 2,
        "threshold": 0.9494,
        "examples_similarity": 0.9848,
        "background_p95": 0.9139,
    }


@pytest.mark.parametrize(
    "threshold, uses",
    [
        (1.0, True),  # a similarity equal to the threshold uses the frame
        (None, True),  # no threshold: 1.0, which the example itself reaches
        (0.5, True),
    ],
)
def test_similarity_at_the_threshold(threshold, uses):
    frame = framing.CalibratedFrame(
        Frame("f", examples=("e",)), None, np.array([1.0, 0.0], dtype=np.float32), threshold, 1.0, 0.5
    )
    embedder = TableEmbedder({"x": [1.0, 0.0], "y": [0.0, 1.0]})
    assert score(["x", "y"], [frame], embedder)["f"][0] == [uses, False]


def test_strip_keeps_case_and_punctuation():
    assert framing._strip("  Hi @you, see https://x.y/z?a=1  NOW! ") == "Hi , see NOW!"
    assert framing._strip("@only https://t.co/x") == ""


def test_bundled_embedder_normalises_and_gives_empty_posts_a_zero_vector(monkeypatch):
    import askscope.classify
    from askscope.classify import models

    seen: list[list[str]] = []

    def fake_embed(texts):
        seen.append(list(texts))
        return [[3.0, 4.0], [0.0, 2.0], [0.0, 0.0]][: len(texts)]

    monkeypatch.setattr(models, "encoder", lambda: None)
    monkeypatch.setattr(askscope.classify, "embed", fake_embed, raising=False)
    embedder = framing.BundledEmbedder()
    vectors = embedder.embed(["a @x", "@only https://t.co/x", None, "b", "c"])
    # only the posts with words left are embedded, stripped; each row to unit length: (3, 4) ->
    # (0.6, 0.8), (0, 2) -> (0, 1); a zero vector from the encoder stays zero; empty posts are zero
    assert seen == [["a", "b", "c"]]
    np.testing.assert_allclose(vectors, [[0.6, 0.8], [0, 0], [0, 0], [0, 1], [0, 0]], atol=1e-6)
    assert vectors.dtype == np.float32
    empty = embedder.embed(["@x", ""])
    assert empty.shape == (2, framing.DIM_ENCODER) and not empty.any()


def test_default_embedder_falls_back_with_the_reason(monkeypatch):
    from askscope.classify import models

    def broken():
        raise FileNotFoundError("encoder.onnx")

    monkeypatch.setattr(models, "encoder", broken)
    embedder = framing.default_embedder()
    assert isinstance(embedder, framing.FallbackNgramEmbedder)
    assert embedder.reason == "FileNotFoundError: encoder.onnx"
    assert embedder.name == (
        "hashed character 3-5-grams (the bundled sentence encoder could not load: FileNotFoundError: encoder.onnx)"
    )
    monkeypatch.setattr(models, "encoder", lambda: None)
    assert isinstance(framing.default_embedder(), framing.BundledEmbedder)


def test_a_texts_similarity_does_not_depend_on_the_texts_around_it():
    """Each row's similarity is its own float64 sum: the same in a page of 2,500 texts as alone
    (a float32 matrix-vector product gives rows in blocks, up to 1e-5 apart), and equal to the
    dot product computed here in float64."""
    rng = np.random.default_rng(0)
    table = {f"t{i}": list(rng.standard_normal(384) * 3) for i in range(2500)}  # blocks of 1,024 and a rest
    embedder = TableEmbedder(table)
    frame = framing.CalibratedFrame(
        Frame("f", examples=("x",)), None, rng.standard_normal(384).astype(np.float32), 0.1, 0.2, 0.0
    )
    keys = list(table)
    together = framing.similarities(keys, [frame], embedder)[:, 0]
    alone = np.array([framing.similarities([k], [frame], embedder)[0, 0] for k in keys])
    assert np.array_equal(together, alone)
    vectors = embedder.embed(keys).astype(np.float64)
    np.testing.assert_allclose(together, vectors @ frame.centroid.astype(np.float64), rtol=0, atol=1e-12)
    # a frame without examples: no similarity, and its keywords alone decide
    keywords_only = framing.CalibratedFrame(Frame("k", keywords=("x",)), None, None, None, None, None)
    assert np.isnan(framing.similarities(keys[:3], [keywords_only], embedder)).all()


class KeyOnly:
    """An embedder with a ``key`` but no ``embed_keys``: half of the keyed protocol."""

    name = "key only"

    def key(self, text: str) -> str:
        return text.upper()

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 2), dtype=np.float32) / np.sqrt(2)


def test_keyed_needs_both_key_and_embed_keys():
    """Only an embedder with both methods is keyed by its ``key``; one with a key but no way to
    embed keys gets each text as its own key and its ``embed`` (its key alone is no promise that
    texts with one key have one vector)."""
    half = KeyOnly()
    key, embed_keys = framing.keyed(half)
    assert key("Free @x") == "Free @x"
    assert embed_keys == half.embed
    ngrams = NgramEmbedder()
    key, embed_keys = framing.keyed(ngrams)
    assert key("Free @x http://t.co/a") == "free"
    assert embed_keys == ngrams.embed_keys


def test_a_post_with_no_words_left_is_similar_to_no_frame(monkeypatch):
    """An empty post and one that is only a mention and a link have the key "" and a zero
    vector: similarity 0 to every frame, keywords aside."""
    import askscope.classify
    from askscope.classify import models

    monkeypatch.setattr(models, "encoder", lambda: None)
    monkeypatch.setattr(askscope.classify, "embed", lambda texts: [[1.0, 0.0]] * len(texts), raising=False)
    embedder = framing.BundledEmbedder()
    assert embedder.key("") == "" and embedder.key("@x https://t.co/a") == ""
    frame = framing.CalibratedFrame(
        Frame("f", examples=("x",)), None, np.array([1.0, 0.0], dtype=np.float32), 0.5, 0.9, 0.1
    )
    uses, sims = score(["", "@x https://t.co/a", "words"], [frame], embedder)["f"]
    assert sims == [0.0, 0.0, 1.0] and uses == [False, False, True]
