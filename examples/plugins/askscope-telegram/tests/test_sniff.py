"""The sniff is strict: every ingest asks it, so it must take Telegram exports and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from askscope_telegram.reader import TelegramExportReader
from conftest import EXPORT, REPO, SHARED_DATA

from askscope.ingestion.inputs import OpenedInput, expand_paths
from askscope.readers.records import HEAD_BYTES, make_head


def heads(folder: Path) -> list[tuple[str, bytes]]:
    """(name, decompressed head) of every input askscope would read in ``folder``."""
    if not folder.exists():
        pytest.fail(f"{folder} is missing (the tests need ../shared/data beside the checkout)")
    out = []
    for source in expand_paths([str(folder)]):
        with OpenedInput(source, HEAD_BYTES) as opened:
            out.append((source.name, opened.head))
    return out


def test_the_recorded_export_and_a_truncated_copy_are_taken() -> None:
    data = EXPORT.read_bytes()
    assert TelegramExportReader().sniff(make_head(data))
    assert TelegramExportReader().sniff(make_head(data[:700]))  # the head of a longer export


@pytest.mark.parametrize(
    "folder",
    [REPO / "tests" / "fixtures", SHARED_DATA / "fixtures"],
    ids=["askscope-tests-fixtures", "shared-data-fixtures"],
)
def test_no_other_fixture_is_taken_for_telegram(folder: Path) -> None:
    found = heads(folder)
    assert len(found) > 50  # the folders hold 60 and 236 files: make sure they were read
    taken = [name for name, head in found if TelegramExportReader().sniff(make_head(head))]
    assert taken == []


# Near misses, each refused for the reason in its comment.
NEAR_MISSES = [
    # a whole-account export: the chats are under "chats": {"list": [...]}, no top-level messages
    b'{"about": "x", "chats": {"about": "y", "list": [{"name": "a", "type": "public_channel", "id": 1, '
    b'"messages": []}]}}',
    # Slack's conversation shape: its ids are strings ("C123"), not numbers
    b'{"name": "general", "type": "public_channel", "id": "C123", "messages": []}',
    # an unknown chat type
    b'{"name": "x", "type": "newsletter", "id": 1, "messages": []}',
    # the first message has neither a Telegram message type nor a date
    b'{"name": "x", "type": "public_channel", "id": 1, "messages": [{"id": 1, "text": "hi"}]}',
    # a list, not an export
    b'[{"name": "x", "type": "public_channel", "id": 1, "messages": []}]',
]


@pytest.mark.parametrize("data", NEAR_MISSES)
def test_near_misses_are_refused(data: bytes) -> None:
    assert not TelegramExportReader().sniff(make_head(data))


def test_an_empty_export_is_taken() -> None:
    # a chat exported before its first message: still an export (and zero records)
    assert TelegramExportReader().sniff(
        make_head(b'{\n "name": "x",\n "type": "private_group",\n "id": 5,\n "messages": []\n}\n')
    )
