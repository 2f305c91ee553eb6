"""Cutting an export into its messages: the fast path (msgspec, for valid exports) and the token
walk (for broken ones) agree, and both give each message's exact bytes and line."""

from __future__ import annotations

import json

import msgspec
import pytest
from askscope_telegram.scan import scan, scan_tokens
from conftest import EXPORT

DATA = EXPORT.read_bytes()
MINIFIED = json.dumps(json.loads(DATA), ensure_ascii=False).encode()
# a nested "messages" array before the real one, holding a copy of the first message: the fast
# path must not take it for the real array
NESTED = (
    b'{"name": "x", "type": "public_channel", "id": 7,\n'
    b' "meta": {"messages": [{"id": 1, "type": "message", "date": "2023-01-01T00:00:00", "text": "a"}, 9]},\n'
    b' "messages": [\n  {"id": 1, "type": "message", "date": "2023-01-01T00:00:00", "text": "a"},\n'
    b'  {"id": 2, "type": "message", "date": "2023-01-01T00:00:01", "text": "b"}\n ]\n}\n'
)
NUMBER = DATA.replace(b'"messages": [\n', b'"messages": [\n\t\t42,\n', 1)
EMPTY = b'{"name": "x", "type": "private_group", "id": 5, "messages": []}'


@pytest.mark.parametrize(
    "data", [DATA, MINIFIED, NESTED, NUMBER, EMPTY], ids=["recorded", "minified", "nested", "number", "empty"]
)
def test_both_ways_agree_and_cut_exact_messages(data: bytes) -> None:
    found = scan(data)
    assert found == scan_tokens(data)
    assert found.tail is None and found.has_messages
    # the messages are the document's own, byte for byte, on the lines where they open
    expected = json.loads(data)["messages"]
    assert [msgspec.json.decode(data[s.start : s.end]) for s in found.messages] == expected
    assert [s.line for s in found.messages] == [data.count(b"\n", 0, s.start) + 1 for s in found.messages]


def test_the_header_of_the_recorded_export() -> None:
    # lines 2-4 of the file
    assert scan(DATA).header == {"name": "Teknologi Umum v2.0", "type": "public_supergroup", "id": 1712691810}
    assert scan(NESTED).header == {"name": "x", "type": "public_channel", "id": 7}


def test_a_truncated_export_keeps_its_complete_messages_and_says_where_the_rest_starts() -> None:
    cut = DATA[: DATA.index(b"udah request quota")]  # inside the third message
    found = scan(cut)
    assert len(found.messages) == 2
    third = DATA.index(b'"id": 269048') - DATA[: DATA.index(b'"id": 269048')][::-1].index(b"{") - 1
    assert found.tail == (third, DATA.count(b"\n", 0, third) + 1)
    assert found.messages[1].end < third


def test_not_an_export() -> None:
    found = scan(b"[1, 2, 3]")
    assert not found.has_messages and found.messages == []
