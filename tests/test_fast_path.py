"""The vectorised X v2 path must give exactly the reader's result (same posts, context posts,
accounts, API errors, rejects and counts), on every real fixture and on synthetic campaigns,
including blocks where some pages need the reader (edits, broken lines, users pages)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from askscope.batch import Batch
from askscope.ingestion import parse_block
from askscope.readers.x_v2 import XV2Reader
from askscope.readers.x_v2_fast import parse_pages
from askscope.store import now_utc
from askscope.synthetic.twarc2 import load_texts, write_twarc2
from conftest import fixture, shared

OBSERVED = now_utc()


def _slow(block: bytes) -> Batch:
    import askscope.ingestion as ingestion

    saved = ingestion.FAST_PATH
    ingestion.FAST_PATH = False
    try:
        return parse_block(XV2Reader(), "f.jsonl", block, 1, 0, OBSERVED)
    finally:
        ingestion.FAST_PATH = saved


def _sorted(table: pa.Table, keys: list[str]) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda row: tuple(str(row[k]) for k in keys))


def assert_same(block: bytes) -> Batch:
    fast = parse_pages(XV2Reader(), "f.jsonl", block, 1, 0, OBSERVED)
    assert fast is not None, "the block should take the fast path"
    slow = _slow(block)
    for name in ("matches", "context", "accounts", "account_records"):
        assert _sorted(getattr(fast, name), ["platform", "id"]) == _sorted(getattr(slow, name), ["platform", "id"]), name
    assert _sorted(fast.api_errors, ["source_line", "resource_id", "title"]) == _sorted(
        slow.api_errors, ["source_line", "resource_id", "title"])
    assert _sorted(fast.rejects, ["source_line", "item"]) == _sorted(slow.rejects, ["source_line", "item"])
    assert (fast.match_records, fast.account_record_count, fast.records) == (
        slow.match_records, slow.account_record_count, slow.records)
    assert sorted(map(tuple, fast.edit_chains)) == sorted(map(tuple, slow.edit_chains))
    return fast


PAGE_FIXTURES = ["2sets.jsonl", "brexit.jsonl", "cashtags.jsonl", "cotweet.jsonl", "entities_test.jsonl",
                 "geo_tweets.jsonl", "kpop.jsonl", "many_urls.jsonl", "media_policy_violation_off.jsonl",
                 "media_policy_violation_on.jsonl", "media_tweet.jsonl", "mentions_tweet.jsonl", "noflat.jsonl",
                 "quoted_edit.jsonl", "two_tweets.jsonl", "verified_type.jsonl", "withheld.jsonl",
                 "edited.jsonl", "edited_before.jsonl", "counts.jsonl", "lists.jsonl", "users.jsonl"]


@pytest.mark.parametrize("name", PAGE_FIXTURES)
def test_real_fixture_pages(name):
    assert_same(shared("fixtures", "x-v2", name).read_bytes())


def test_all_real_pages_in_one_block():
    block = b"".join(shared("fixtures", "x-v2", name).read_bytes().rstrip(b"\n") + b"\n" for name in PAGE_FIXTURES)
    assert_same(block)


def test_streaming_pages():
    lines = fixture("x-v2", "streaming_output_with_error.jsonl")
    block = b"\n".join(open(lines, "rb").read().splitlines()[:7]) + b"\n"
    assert_same(block)


def test_broken_line_falls_back_to_the_reader():
    block = open(fixture("x-v2", "streaming_output_with_error.jsonl"), "rb").read()
    assert parse_pages(XV2Reader(), "f.jsonl", block, 1, 0, OBSERVED) is None
    assert parse_block(XV2Reader(), "f.jsonl", block, 1, 0, OBSERVED).rejects.num_rows == 1


def test_flattened_lines_fall_back_to_the_reader():
    block = shared("fixtures", "x-v2", "flat.jsonl").read_bytes()
    assert parse_pages(XV2Reader(), "f.jsonl", block, 1, 0, OBSERVED) is None


@pytest.mark.parametrize("seed", [1, 2])
def test_synthetic_campaign(tmp_path, seed):
    path = tmp_path / "c.jsonl"
    write_twarc2(path, 3000, load_texts(shared()), seed=seed)
    block = path.read_bytes()
    fast = assert_same(block)
    assert fast.matches.num_rows == 3000


def test_tied_observations_take_the_later_page(tmp_path):
    # Two pages retrieved in the same second with different counts: the later page wins, as
    # in the reader; one of them needs the reader (an edit), so the merge is exercised too.
    page = json.loads(open(fixture("x-v2", "media_tweet.jsonl")).read())
    first = json.dumps(page)
    page["data"][0]["public_metrics"]["like_count"] = 1000
    second = json.dumps(page)
    edited = open(fixture("x-v2", "edited.jsonl"), "rb").read().rstrip(b"\n")
    block = (first + "\n" + edited.decode() + "\n" + second + "\n").encode()
    fast = assert_same(block)
    assert dict(zip(fast.matches.column("id").to_pylist(), fast.matches.column("like_count").to_pylist()))[
        "1558553189766631429"] == 1000
