"""Property-based tests: corrupted and truncated records, fed to every reader, end as posts or
rejects (never an exception), and whole corrupted files ingest with counts that reconcile or
fail with a typed askscope error."""

from __future__ import annotations

import json
import os
from typing import Any

from conftest import fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import askscope
from askscope.readers import make_head
from askscope.readers.base import RawRecord, Sink
from askscope.readers.csv import CsvReader
from askscope.readers.x_v1 import XV1Reader
from askscope.readers.x_v2 import XV2Reader
from askscope.store.batch import build_batch

V2_LINES = [
    line
    for name in (
        "two_tweets.jsonl",
        "quoted_edit.jsonl",
        "mentions_tweet.jsonl",
        "edited.jsonl",
        "streaming_output_with_error.jsonl",
        "counts.jsonl",
    )
    for line in open(fixture("x-v2", name), "rb").read().splitlines()[:3]
    if line.strip()
]
V1_LINES = [json.dumps(t).encode() for t in json.load(open(fixture("x-v1", "search_tweets.json")))["statuses"][:5]]
V1_LINES += [open(fixture("x-v1", "status.json"), "rb").read(), open(fixture("x-v1", "lookup_users.json"), "rb").read()]
CSV_TEXT = open(fixture("csv", "mentions_tweet.csv"), "rb").read()

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value[:5]):
            out += _paths(child, prefix + (index,))
    return out


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        copy[head] = _replace(value[head], rest, new)
        return copy
    copy_list = list(value)
    copy_list[head] = _replace(value[head], rest, new)
    return copy_list


@st.composite
def mutated_json(draw, lines: list[bytes]) -> bytes:
    line = draw(st.sampled_from(lines))
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "retype", "retype", "retype"]))
    if kind == "truncate":
        return line[: draw(st.integers(0, max(len(line) - 1, 0)))]
    if kind == "flip":
        position = draw(st.integers(0, len(line) - 1))
        return line[:position] + bytes([draw(st.integers(0, 255))]) + line[position + 1 :]
    if kind == "insert":
        position = draw(st.integers(0, len(line)))
        return line[:position] + draw(st.binary(min_size=1, max_size=8)) + line[position:]
    value = json.loads(line)
    path = draw(st.sampled_from(_paths(value)))
    return json.dumps(_replace(value, path, draw(JSON_VALUES))).encode()


def _check(reader, raw: bytes) -> Sink:
    sink = Sink(source_file="fuzz")
    reader.parse(RawRecord(1, 0, raw), sink)
    build_batch(sink)  # the rows must also convert to the store's column types
    for p in sink.matches + sink.context:
        assert isinstance(p.id, str) and p.id
        assert p.kind in ("post", "reply", "quote", "repost")
    return sink


FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(mutated_json(V2_LINES))
def test_x_v2_reader_never_raises(raw):
    _check(XV2Reader(), raw)


@FUZZ
@given(mutated_json(V1_LINES))
def test_x_v1_reader_never_raises(raw):
    sink = _check(XV1Reader(), raw)
    assert sink.records >= 1 or raw.strip() in (b"[]",) or b"statuses" in raw or raw.strip().startswith(b"[")


@FUZZ
@given(st.integers(0, len(CSV_TEXT)), st.binary(max_size=6), st.integers(0, len(CSV_TEXT)))
def test_csv_reader_never_raises(cut, noise, position):
    text = CSV_TEXT[:position] + noise + CSV_TEXT[position:]
    text = text[: max(cut, text.find(b"\n") + 1)]
    reader = CsvReader()
    import io

    head = make_head(text[:65536])
    if not reader.sniff(head):
        return
    sink = Sink(source_file="fuzz")
    for record in reader.records(io.BytesIO(text), head):
        before = sink.records
        reader.parse(record, sink)
        assert sink.records == before + 1  # each row: one post or one reject
    build_batch(sink)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(mutated_json(V2_LINES + V1_LINES), min_size=1, max_size=6))
def test_corrupted_files_reconcile_or_fail_typed(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "input.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    try:
        result = askscope.ingest(str(folder / "s.duckdb"), [str(path)], workers=0)
    except askscope.AskscopeError:
        return
    assert result.reconciles
