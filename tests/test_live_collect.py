"""The live console collecting (``--source``) against the loopback server of tests/test_collect.py.

The collectors' fault tests extended to the live path: under 429s, 5xx, slow, truncated and cut
responses and dropped connections, and when the session is stopped half-way and started again,
the live store ends with exactly the posts of a clean ``collect`` run, and the console has
processed every one of them.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from loopback import ReplayServer
from test_collect import FAULTS, SCENARIOS, fast_client, snapshot

from askscope.collect.runner import collect
from askscope.live.console import LiveConsole
from askscope.live.intake import CollectIntake

PLATFORMS = ("reddit", "mastodon")


class _StopAfter:
    """A client that sets ``stop`` after ``n`` responses (the session stopped mid-way)."""

    def __init__(self, client: Any, stop: threading.Event, n: int) -> None:
        self.client, self.stop, self.n = client, stop, n
        self.retries = client.retries

    def fetch(self, request: Any) -> Any:
        response = self.client.fetch(request)
        self.n -= 1
        if self.n <= 0:
            self.stop.set()
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _campaign(tmp_path: Any) -> str:
    path = tmp_path / "c.toml"
    path.write_text('name = "collected"\nhosts = ["nobody_hosts_this"]\n')
    return str(path)


def _live(
    platform: str, db: str, campaign: str, faults: dict[int, str] | None, stop_after: int | None, port: int = 0
) -> tuple[int, int]:
    """Run one live collection session over the loopback server (on ``port``: Mastodon ids carry
    the instance's host); returns the posts the console holds and the server's port."""
    make_routes, make_plan, headers = SCENARIOS[platform]
    holder: dict[str, Any] = {}
    stop = threading.Event()
    with ReplayServer(lambda seen: holder["routes"](seen), faults, port=port) as server:
        holder["routes"] = make_routes(server.url)
        client: Any = fast_client(platform, headers)
        if stop_after is not None:
            client = _StopAfter(client, stop, stop_after)
        console = LiveConsole.open(db, campaign)
        try:
            CollectIntake(make_plan(server.url), client, poll_s=0.01, max_passes=1).run(console, stop)
            held = len(console.model.posts)
        finally:
            console.close()
            client.close()
        return held, server.port


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("clean-collect")
    out = {}
    for platform in PLATFORMS:
        path = str(folder / f"{platform}.duckdb")
        make_routes, make_plan, headers = SCENARIOS[platform]
        holder: dict[str, Any] = {}
        with ReplayServer(lambda seen, holder=holder: holder["routes"](seen)) as server:
            holder["routes"] = make_routes(server.url)
            client = fast_client(platform, headers)
            try:
                assert collect(path, make_plan(server.url), client).done
            finally:
                client.close()
        out[platform] = snapshot(path)
    return out


@pytest.mark.parametrize("platform", PLATFORMS)
def test_live_collection_under_faults_stores_the_clean_posts(platform, clean, tmp_path):
    db = str(tmp_path / "live.duckdb")
    held, _ = _live(platform, db, _campaign(tmp_path), FAULTS, None)
    assert snapshot(db) == clean[platform]
    assert held == len(clean[platform]["posts"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_live_collection_stopped_and_restarted_stores_the_clean_posts(platform, clean, tmp_path):
    db, campaign = str(tmp_path / "live.duckdb"), _campaign(tmp_path)
    first, port = _live(platform, db, campaign, None, 2)
    assert 0 < first < len(clean[platform]["posts"])
    held, _ = _live(platform, db, campaign, FAULTS, None, port)
    assert snapshot(db) == clean[platform]
    assert held == len(clean[platform]["posts"])
