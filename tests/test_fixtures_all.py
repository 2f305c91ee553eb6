"""Every post in every recorded Mastodon, Bluesky and Reddit response of ../shared/data is
parsed: the cassettes are ingested as they are, and the stored post ids are compared with the
ids found by walking the raw JSON independently of the readers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from cassettes import exchanges
from conftest import one, rows, shared

import askscope
from askscope.collect.completeness import completeness

#: Mastodon.py cassettes holding binary uploads (media), which are not text: not post responses.
BINARY = {
    "test_account_update_credentials.yaml",
    "test_account_update_credentials_no_avatar.yaml",
    "test_account_update_credentials_no_header.yaml",
    "test_status_delete_media.yaml",
}


def _cassettes(platform: str) -> list[str]:
    folder = shared("fixtures", platform)
    return sorted(
        str(p)
        for p in folder.iterdir()
        if p.suffix in (".yaml", ".yml", ".json") and p.name not in BINARY and p.stat().st_size > 0
    )


def _walk(value: Any, visit: Any) -> None:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            visit(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _truth(platform: str) -> set[str]:
    ids: set[str] = set()
    for path in _cassettes(platform):
        for e in exchanges(path):
            if not 200 <= e.status < 300 or not e.body.strip().startswith((b"{", b"[")):
                continue
            host = urlsplit(e.url).netloc

            def visit(node: dict[str, Any], host: str = host) -> None:
                if platform == "reddit" and node.get("kind") in ("t1", "t3") and isinstance(node.get("data"), dict):
                    ids.add(node["data"]["name"])
                elif (
                    platform == "mastodon"
                    and "content" in node
                    and isinstance(node.get("account"), dict)
                    and node.get("id")
                ):
                    ids.add(f"{host}:{node['id']}")
                elif (
                    platform == "bluesky"
                    and str(node.get("uri", "")).split("/")[3:4] == ["app.bsky.feed.post"]
                    and (isinstance(node.get("record"), dict) or isinstance(node.get("value"), dict))
                ):
                    ids.add(node["uri"])

            _walk(json.loads(e.body), visit)
    return ids


def test_every_recorded_post_of_every_platform_is_stored(store_path):
    for platform in ("mastodon", "bluesky", "reddit"):
        result = askscope.ingest(store_path, _cassettes(platform))
        assert result.reconciles and {f.format for f in result.files} == {"cassette"}
        with askscope.open_store(store_path, read_only=True) as store:
            # Bluesky reposts are not post objects (feed reposts get made ids, notified reposts
            # are app.bsky.feed.repost records): compared apart below.
            stored = {
                r[0]
                for r in rows(
                    store,
                    "SELECT id FROM posts WHERE platform = ? AND id NOT LIKE '%#repost-by-%' "
                    "AND id NOT LIKE '%/app.bsky.feed.repost/%'",
                    [platform],
                )
            }
            reposts = one(store, "SELECT count(*) FROM posts WHERE platform = ? AND kind = 'repost'", [platform])
            reasons = {r[0] for r in rows(store, "SELECT DISTINCT reason FROM rejects")}
            tree = completeness(store, platform)
        assert stored == _truth(platform), platform
        # Hand counts: 5 Mastodon reblogs; Bluesky 7 + 3 reposts in the author feed and the
        # timeline, 2 repost notifications; Reddit has none.
        assert reposts == {"mastodon": 5, "bluesky": 12, "reddit": 0}[platform]
        assert reasons <= {"not_a_post"}  # tokens, accounts, lists, errors: nothing broken
        assert tree.posts >= len(stored)
