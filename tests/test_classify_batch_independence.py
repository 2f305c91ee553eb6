"""A post's encoder outputs and labels are a function of its own text (issue 10).

The bundled encoder is dynamically quantised to int8, and ``DynamicQuantizeLinear`` takes one
activation scale per input tensor: in a padded batch a post's activations were rounded on a grid
set by its neighbours, so the live console (one post at a time) and ``askscope analyze`` (a whole
campaign) could label the same post differently. These tests classify real posts from
``../shared/data`` alone, together, and in other compositions and orders, and require the same
logits, pooled vectors and labels (to 1e-6; in practice bitwise).
"""

from __future__ import annotations

import numpy as np
from conftest import shared

from askscope.classify import classify
from askscope.classify.models import encoder

TOL = 1e-6


def real_texts(n: int) -> list[str]:
    """The first ``n`` non-empty tweets of TweetEval offensive train, of varied lengths."""
    lines = shared("tweeteval", "offensive", "train_text.txt").read_text(encoding="utf-8").split("\n")
    texts = [line for line in lines if line.strip()][:n]
    assert len(texts) == n
    return texts


def test_logits_and_pooled_do_not_depend_on_the_other_posts() -> None:
    texts = real_texts(40)
    enc = encoder()
    together, pooled_together = enc.run(texts)
    # alone: one call per post
    alone = [enc.run([text]) for text in texts]
    # another composition and order: reversed, with each post interleaved with an unrelated
    # long post, so that padding and the batch's activation range would change if they mattered
    filler = "x " * 60 + "a much longer post that would set the padded width and the int8 range"
    mixed: list[str] = []
    for text in reversed(texts):
        mixed += [filler, text]
    shuffled, pooled_shuffled = enc.run(mixed)
    for head in together:
        alone_rows = np.vstack([logits[head] for logits, _ in alone])
        shuffled_rows = shuffled[head][1::2][::-1]
        assert np.abs(together[head] - alone_rows).max() <= TOL, head
        assert np.abs(together[head] - shuffled_rows).max() <= TOL, head
        assert (together[head].argmax(1) == alone_rows.argmax(1)).all(), head
    pooled_alone = np.vstack([pooled for _, pooled in alone])
    assert np.abs(pooled_together - pooled_alone).max() <= TOL
    assert np.abs(pooled_together - pooled_shuffled[1::2][::-1]).max() <= TOL


def test_labels_alone_equal_labels_in_a_campaign() -> None:
    texts = real_texts(24)
    together = classify(texts)
    other = real_texts(60)[24:]
    in_other_batch = classify(other[:18] + texts[::-1] + other[18:])
    alone = [classify([text]) for text in texts]
    j_of = {i: len(other[:18]) + len(texts) - 1 - i for i in range(len(texts))}
    for task, result in together.items():
        for i, text in enumerate(texts):
            single, j = alone[i][task], j_of[i]
            assert single.labels[0] == result.labels[i], (task, text)
            assert in_other_batch[task].labels[j] == result.labels[i], (task, text)
            if result.probabilities is not None:  # None for language (no encoder)
                assert single.probabilities is not None
                assert np.abs(single.probabilities[0] - result.probabilities[i]).max() <= TOL, (task, text)
                other_probabilities = in_other_batch[task].probabilities
                assert other_probabilities is not None
                assert np.abs(other_probabilities[j] - result.probabilities[i]).max() <= TOL, (task, text)


def test_probabilities_are_bitwise_the_same_in_any_grouping() -> None:
    """Not only to 1e-6: the small heads over the encoder's outputs (irony, question, discourse)
    multiply a matrix of the posts they are given, and BLAS rounds a row's dot product differently
    for another number of rows, so a post's probabilities moved in their last bits with the posts
    scored beside it; the embedded store and the Dask archive (which group texts differently) then
    stored labels differing at 1e-16 (docs/benchmarks.md, "2M posts both ways"). Now bitwise."""
    texts = real_texts(120)
    whole = classify(texts)
    chunks = [classify(texts[i : i + 7]) for i in range(0, len(texts), 7)]
    alone = [classify([text]) for text in texts[:20]]
    for task, result in whole.items():
        if result.probabilities is None:  # language: no probabilities matrix
            continue
        in_chunks = np.vstack([c[task].probabilities for c in chunks])
        assert np.array_equal(in_chunks, result.probabilities), task
        one_by_one = np.vstack([a[task].probabilities for a in alone])
        assert np.array_equal(one_by_one, result.probabilities[:20]), task
