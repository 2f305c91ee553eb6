"""Accounts and networks: the account page and the coordinated groups of a real campaign (the
RumourEval Ferguson thread) with SYNTHETIC planted coordination (askscope.authenticity.planting:
five made-up accounts replying to the same real posts within seconds), against the tables
directly; the network drawn by cytoscape.js in Chromium under the app's Content-Security-Policy."""

from __future__ import annotations

import shutil
from itertools import combinations

import pytest
from fastapi.testclient import TestClient
from web_campaigns import FERGUSON_CAMPAIGN, campaign_store
from web_server import chromium, needs_browser, served

import askscope
from askscope.analysis import analyze
from askscope.authenticity.planting import plant_groups
from askscope.campaign import parse_campaign
from askscope.web.app import create_app


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The Ferguson thread with two planted groups (co_post, co_reply), analysed again."""
    folder = tmp_path_factory.mktemp("accounts")
    db = str(folder / "planted.duckdb")
    shutil.copyfile(campaign_store("ferguson"), db)
    with askscope.open_store(db) as store:
        plant = plant_groups(
            store, groups_per_behaviour=1, size=5, events=6, behaviours=("co_post", "co_reply"), seed=1
        )
    analyze(db, parse_campaign(FERGUSON_CAMPAIGN))
    return db, plant


def _query(db: str, sql: str, params=None):
    with askscope.open_store(db, read_only=True) as store:
        return store.con.execute(sql, params or []).fetchall()


def test_networks_api_shows_the_coordinated_groups(planted, tmp_path):
    db, plant = planted
    groups = _query(
        db, "SELECT network, group_id, list(author_id ORDER BY author_id) FROM coordinated_accounts GROUP BY ALL"
    )
    # the planted co_reply group is found whole, and nothing else (the real thread has no group)
    co_reply = sorted(plant.groups[next(g for g, b in plant.behaviour.items() if b == "co_reply")])
    assert [g[2] for g in groups if g[0] == "co_reply"] == [co_reply]
    with TestClient(create_app([db], snapshot_dir=tmp_path / "snaps")) as client:
        data = client.get("/api/networks").json()
        only = client.get("/api/networks?network=co_reply").json()
        bad = client.get("/api/networks?network=co_nothing")
    assert data["analysed"] is True and "co_reply" in data["networks"]
    assert sorted(n["id"] for n in data["nodes"]) == sorted(a for g in groups for a in g[2])
    assert [(g["network"], g["members"], [a for _, a in g["accounts"]]) for g in data["groups"]] == [
        (g[0], len(g[2]), g[2]) for g in sorted(groups, key=lambda g: (-len(g[2]), g[0], g[1]))
    ]
    # every pair of the 5 members acted together significantly: C(5, 2) = 10 pairs
    pairs = {frozenset((e["source"], e["target"])) for e in only["edges"] if e["network"] == "co_reply"}
    assert pairs == {frozenset(p) for p in combinations(co_reply, 2)}
    significant = _query(
        db,
        "SELECT count(*) FROM coaction_edges WHERE network = 'co_reply' AND significant "
        "AND source_id IN (SELECT author_id FROM coordinated_accounts) "
        "AND target_id IN (SELECT author_id FROM coordinated_accounts)",
    )[0][0]
    assert len(only["edges"]) == significant
    assert all(n["posts"] > 0 for n in data["nodes"])
    assert bad.status_code == 400 and "co_nothing" in bad.json()["detail"]


def test_account_pages(planted, tmp_path):
    db, plant = planted
    co_reply = sorted(plant.groups[next(g for g, b in plant.behaviour.items() if b == "co_reply")])
    member = co_reply[0]
    host_posts, host_id = _query(
        db,
        "SELECT count(*), any_value(author_id) FROM posts WHERE lower(author_handle) = 'andybankertv' AND NOT is_context",
    )[0]
    with TestClient(create_app([db], snapshot_dir=tmp_path / "snaps")) as client:
        host = client.get("/api/accounts/x/andybankertv").json()
        by_id = client.get(f"/api/accounts/x/{host_id}").json()
        page = client.get("/accounts/x/andybankertv", headers={"accept": "text/html"})
        planted_account = client.get(f"/api/accounts/x/{member}").json()
        missing = client.get("/api/accounts/x/nobody-at-all")
    # the host: its profile as collected, all its posts, its categories summing to them
    assert host["id"] == host_id == by_id["id"] and host["handle"] == "andybankertv"
    assert host["posts_total"] == host_posts == 5  # the source post and 4 replies in its own thread
    assert sum(n for _, n in host["categories"]) == host_posts
    assert len(host["posts"]) == host_posts and not host["more_posts"]
    assert host["signals"]["posts"] >= 1 and host["groups"] == []
    assert page.status_code == 200 and "@andybankertv" in page.text
    # a planted account: in the co_reply group with the 4 others as its partners
    assert [(g["network"], g["members"]) for g in planted_account["groups"]] == [("co_reply", 5)]
    partners = {p["partner"] for p in planted_account["partners"] if p["network"] == "co_reply" and p["significant"]}
    assert partners == set(co_reply) - {member}
    assert planted_account["signals"]["coordinated"] is True
    assert missing.status_code == 404


@needs_browser
def test_the_network_is_drawn_in_chromium(planted, tmp_path):
    db, plant = planted
    nodes = _query(db, "SELECT count(DISTINCT author_id) FROM coordinated_accounts")[0][0]
    with served(create_app([db], snapshot_dir=tmp_path / "snaps")) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        assert page.goto(base + "/networks").status == 200
        page.wait_for_selector("#network[data-ready]", timeout=30_000)
        assert page.get_attribute("#network", "data-ready") == str(nodes)
        assert page.eval_on_selector("#network canvas", "c => c.width > 0")
        # the table links every account to its page
        member = sorted(plant.groups[next(g for g, b in plant.behaviour.items() if b == "co_reply")])[0]
        page.locator(f"#groups a[href^='/accounts/x/{member}?']").click()
        page.wait_for_load_state()
        assert page.inner_text("h1").startswith("@planted_g")
        assert problems == []


@needs_browser
def test_hostile_payloads_run_nothing_on_these_pages(tmp_path):
    from web_server import XSS, xss_store

    from askscope.coding import draw_sample

    db = xss_store(tmp_path)
    with askscope.open_store(db) as store:
        sample = draw_sample(store, "discourse", n=len(XSS), seed=1)
    paths = ["/networks", "/compare", "/coding", "/export/report.md"]
    paths += [f"/accounts/x/{100 + i}" for i in range(len(XSS))] + ["/accounts/x/HostHandle"]
    paths += [f"/coding/{sample.sample_id}/{row}?coder=%3Cscript%3Ewindow.__xss%3D12%3C/script%3E" for row in (1, 2, 3)]
    paths += [f"/coding/{sample.sample_id}/agreement", "/compare?baseline=backfire.hostile_share:0.5"]
    with served(create_app([db], snapshot_dir=tmp_path / "snaps")) as base, chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        events: list[str] = []
        page.on("dialog", lambda dialog: (events.append("dialog"), dialog.dismiss()))
        page.on("request", lambda request: None if request.url.startswith(base) else events.append(request.url))
        for path in paths:
            if path.startswith("/export/"):
                continue  # a download, not a page
            page.goto(base + path)
            for element in page.query_selector_all("td, a, div.text, h1")[:100]:
                element.hover()
            assert page.evaluate("typeof window.__xss") == "undefined", path
            planted = "main script:not([src^='/static/']), main iframe, main img, main [onerror], main [onload]"
            assert page.evaluate(f"document.querySelectorAll({planted!r}).length") == 0, path
        # the payloads are shown as text (the account page of the first author shows its name)
        page.goto(base + "/accounts/x/100")
        assert XSS[0] in page.inner_text("h1")
    assert events == []
