"""The live console's web page (/live) and its JSON, actions and event stream (issue 14), on the
real :class:`askscope.live.console.LiveConsole` fed by its replay intake: the bundled demo
thread through the TestClient; in Chromium, two browser contexts on one served session while
a replay adds posts with hostile payloads in their text and author, and the pages reconnecting
after the server restarts."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from web_server import XSS, chromium, free_port, needs_browser

import askscope
from askscope.live.console import LiveConsole
from askscope.live.intake import ReplayIntake, run_in_thread
from askscope.web.app import create_app
from askscope.web.routes.live import stop_streams

DEMO = resources.files("askscope.demo")
ORIGIN = {"origin": "http://testserver"}
#: the session's clock once the replay is done, so that waiting times do not move between reads
NOW = datetime(2014, 12, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def labeler() -> Any:
    """The bundled classifiers, loaded once for the module (every console classifies with them)."""
    from askscope.stages.labeling import BundledLabeler

    return BundledLabeler()


def replayed(db: Path, campaign: Any, source: str, labeler: Any, *, speed: float = 1e6) -> LiveConsole:
    """A console on ``db`` after replaying ``source`` to the end; its clock then stands at NOW."""
    console = LiveConsole.open(db, campaign, labeler=labeler, now=lambda: NOW)
    thread, _ = run_in_thread(console, ReplayIntake(source, speed))
    thread.join(timeout=300)
    assert not thread.is_alive(), "the replay did not end"
    assert console.pulse()["intake"]["error"] is None
    console.set_clock(lambda: None)  # the replay's clock runs on; NOW from here on
    return console


def plain(value: Any) -> Any:
    """``value`` as it comes back from JSON."""
    return json.loads(json.dumps(value))


@contextmanager
def client_for(console: LiveConsole | None, db: Path, tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    app = create_app([str(db)], snapshot_dir=tmp_path / "snaps", live=console)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def actions_logged(console: LiveConsole) -> list[tuple[Any, ...]]:
    with console.locked():
        return console.store.con.execute(
            'SELECT member, item_id, action, assignee, note FROM live_actions ORDER BY "at", rowid'
        ).fetchall()


def events(text: str) -> list[dict[str, Any]]:
    """The ``changed`` events of an event-stream body, their data parsed."""
    out = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if "event: changed" in lines:
            out.append(json.loads(next(line[6:] for line in lines if line.startswith("data: "))))
    return out


# -- without a live session ---------------------------------------------------------------------


def test_without_a_live_session_the_live_routes_say_how_to_start_one(tmp_path):
    db = tmp_path / "plain.duckdb"
    askscope.open_store(str(db)).close()
    with client_for(None, db, tmp_path) as client:
        page = client.get("/live", headers={"accept": "text/html"})
        assert page.status_code == 404 and "not a live session: start one with askscope live" in page.text
        # no "Live" entry in the navigation of a plain askscope serve
        assert '<a href="/live?' not in client.get("/", headers={"accept": "text/html"}).text
        for path in (
            "/api/live/queue",
            "/api/live/pulse",
            "/api/live/alerts",
            "/api/live/items/x:1",
            "/api/live/events",
        ):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert answer.json()["detail"].startswith("not a live session"), path


# -- the demo thread through the TestClient ------------------------------------------------------


@pytest.fixture()
def demo(tmp_path, labeler) -> Iterator[tuple[LiveConsole, Path]]:
    db = tmp_path / "live.duckdb"
    console = replayed(db, str(DEMO / "campaign.toml"), str(DEMO / "uber_sydney.zip"), labeler)
    try:
        yield console, db
    finally:
        console.close()


def test_the_json_endpoints_give_the_consoles_queue_pulse_alerts_and_items(demo, tmp_path):
    console, db = demo
    everything = console.queue(status="all", show_abuse=True)
    assert len(everything) >= 5  # the demo's questions to @Uber_Sydney
    with client_for(console, db, tmp_path) as client:
        version = console.version
        queue = client.get("/api/live/queue").json()
        assert queue == {
            "version": version,
            "status": "open",
            "show_abuse": False,
            "assignee": None,
            "abuse_hidden": len(console.queue(show_abuse=True)) - len(console.queue()),
            "total": len(console.queue()),
            "limit": None,
            "brief": False,
            "items": plain(console.queue()),
        }
        # brief (the page's list): the same items without their members, labels and answer
        brief = client.get("/api/live/queue?brief=true&status=all").json()["items"]
        heavy = ("members", "labels", "answer")
        assert brief == [{k: v for k, v in i.items() if k not in heavy} for i in plain(console.queue(status="all"))]
        assert all(set(i) == set(everything[0]) - set(heavy) for i in brief)
        # the highest ranked items only, with the total
        top = client.get("/api/live/queue?status=all&limit=2").json()
        assert top["items"] == plain(console.queue(status="all")[:2])
        ranked = console.queue(status="all")
        assert top["total"] == len(ranked) and top["limit"] == 2
        assert client.get("/api/live/queue?limit=0").status_code == 422
        # a live session puts its page in every page's navigation
        assert '<a href="/live?db=live">Live</a>' in client.get("/posts", headers={"accept": "text/html"}).text
        one = client.get("/live?status=all&limit=1").text
        assert f"the 1 highest ranked of {len(ranked)} items" in one
        assert one.count('<li class="item') == 1 and f'data-item="{ranked[0]["item"]}"' in one
        for params, kwargs in (
            ("abuse=true", {"show_abuse": True}),
            ("status=all", {"status": "all"}),
            ("status=answered&abuse=true", {"status": "answered", "show_abuse": True}),
            ("status=skipped", {"status": "skipped"}),
        ):
            assert client.get(f"/api/live/queue?{params}").json()["items"] == plain(console.queue(**kwargs)), params
        wrong = client.get("/api/live/queue?status=closed")
        assert wrong.status_code == 400 and "give one of open, all, answered, skipped" in wrong.json()["detail"]
        assert client.get("/api/live/pulse").json() == {"version": version, **plain(console.pulse())}
        assert client.get("/api/live/alerts").json() == {"version": version, "alerts": plain(console.alerts())}
        for found in everything:
            one = client.get(f"/api/live/items/{found['item']}")
            assert one.status_code == 200 and one.json() == plain(console.item(found["item"]))
            assert one.json()["thread"], "every item has its thread (at least its own post)"
        missing = client.get("/api/live/items/x:0")
        assert missing.status_code == 404 and missing.json()["detail"] == "no item 'x:0' in this live session"
        # an item id with slashes (a Bluesky post's id is its at:// URI) reaches the console whole
        uri = "bluesky:at://did:plc:abc/app.bsky.feed.post/3k2"
        for path in (uri, uri.replace("/", "%2F")):
            missing = client.get(f"/api/live/items/{path}")
            assert missing.status_code == 404 and missing.json()["detail"] == f"no item {uri!r} in this live session"
        # the page: every open item's post, escaped, in rank order; and each item's own page
        page = client.get("/live")
        assert page.status_code == 200 and '<script src="/static/live.js" defer></script>' in page.text
        assert f'data-version="{version}"' in page.text
        positions = [page.text.index(f'data-item="{item["item"]}"') for item in queue["items"]]
        assert positions == sorted(positions)
        for item in queue["items"]:
            assert str(escape(item["post"]["text"])) in page.text
        assert f"{len(queue['items'])} item" in page.text
        first = queue["items"][0]
        detail = client.get(f"/live/items/{first['item']}")
        assert detail.status_code == 200
        for post in console.item(first["item"])["thread"]:
            assert str(escape(post["text"])) in detail.text
        # no inline script, style or handler; the app's headers
        for text in (page.text, detail.text):
            assert re.search(r"<script(?![^>]*\bsrc=)", text) is None
            assert "<style" not in text and " style=" not in text
            assert re.search(r"\son[a-z]+=", text) is None
        assert "script-src 'self'" in page.headers["content-security-policy"]
        # the JSON endpoints are in the OpenAPI schema
        paths = client.get("/api/openapi.json").json()["paths"]
        for path in ("queue", "pulse", "alerts", "items/{item_id}", "items/{item_id}/actions", "events"):
            assert f"/api/live/{path}" in paths, path
        assert "post" in paths["/api/live/items/{item_id}/actions"]


def test_actions_need_the_csrf_token_and_this_origin_are_logged_and_change_the_queue(demo, tmp_path):
    console, db = demo
    waiting = [item["item"] for item in console.queue()]
    first = waiting[0]
    second, third = [item["item"] for item in console.queue(status="all", show_abuse=True) if item["item"] != first][:2]
    with client_for(console, db, tmp_path) as client:
        token = client.get("/live").cookies["askscope_csrf"]
        act = {"action": "answered", "member": "ana"}
        url = f"/api/live/items/{first}/actions"
        # no token, a wrong one, a foreign origin: refused, nothing done or logged
        assert client.post(url, json=act, headers=ORIGIN).status_code == 403
        assert client.post(url, json=act, headers={**ORIGIN, "x-csrf-token": "forged"}).status_code == 403
        forged = client.post(url, json=act, headers={"origin": "http://evil.example", "x-csrf-token": token})
        assert forged.status_code == 403 and forged.json()["detail"] == "cross-origin request refused"
        assert actions_logged(console) == []
        assert console.item(first)["status"] == "open"
        ok = {**ORIGIN, "x-csrf-token": token}
        before = console.version
        done = client.post(url, json=act, headers=ok)
        assert done.status_code == 200
        assert done.json()["item"]["status"] == "answered" and done.json()["item"]["closed_by"] == "ana"
        assert done.json()["version"] > before
        open_now = [item["item"] for item in client.get("/api/live/queue").json()["items"]]
        assert first not in open_now and open_now == [i for i in waiting if i != first]
        answered = client.get("/api/live/queue?status=answered&abuse=true").json()["items"]
        assert [(i["item"], i["closed_by"]) for i in answered if i["item"] == first] == [(first, "ana")]
        # assign: to the name given, or to the member acting when none is given
        assert (
            client.post(
                f"/api/live/items/{second}/actions",
                json={"action": "assign", "member": "ana", "assignee": " bo "},
                headers=ok,
            ).json()["item"]["assigned_to"]
            == "bo"
        )
        assert (
            client.post(
                f"/api/live/items/{third}/actions", json={"action": "assign", "member": "  cy  "}, headers=ok
            ).json()["item"]["assigned_to"]
            == "cy"
        )
        mine = client.get("/api/live/queue?assignee=bo&status=all&abuse=true").json()["items"]
        assert [i["item"] for i in mine] == [second]
        # pin: the pinned item ranks first; unpin; skip and reopen
        client.post(f"/api/live/items/{third}/actions", json={"action": "pin", "member": "bo"}, headers=ok)
        assert client.get("/api/live/queue?status=all&abuse=true").json()["items"][0]["item"] == third
        client.post(f"/api/live/items/{third}/actions", json={"action": "unpin", "member": "bo"}, headers=ok)
        assert not client.get(f"/api/live/items/{third}").json()["pinned"]
        client.post(
            f"/api/live/items/{second}/actions",
            json={"action": "skip", "member": "bo", "note": "off topic"},
            headers=ok,
        )
        assert client.get(f"/api/live/items/{second}").json()["status"] == "skipped"
        client.post(url, json={"action": "reopen", "member": "bo"}, headers=ok)
        assert client.get(f"/api/live/items/{first}").json()["status"] == "open"
        # user errors: 400 with a message, nothing logged
        logged = len(actions_logged(console))
        for body, item, message in (
            ({"action": "pin", "member": "  "}, first, "enter your name"),
            ({"action": "pin"}, first, "enter your name"),
            ({"action": "delete", "member": "ana"}, first, "unknown action 'delete'"),
            ({"action": "pin", "member": "ana"}, "x:0", "no item 'x:0'"),
            (
                {"action": "pin", "member": "ana"},
                "bluesky:at://did:plc:a/app.bsky.feed.post/1",
                "no item 'bluesky:at://did",
            ),
            ({"action": "pin", "member": "a" * 81}, first, "at most 80 characters"),
        ):
            wrong = client.post(f"/api/live/items/{item}/actions", json=body, headers=ok)
            assert wrong.status_code == 400 and message in wrong.json()["detail"], body
        assert len(actions_logged(console)) == logged
    assert actions_logged(console) == [
        ("ana", first, "answered", None, None),
        ("ana", second, "assign", "bo", None),
        ("cy", third, "assign", "cy", None),
        ("bo", third, "pin", None, None),
        ("bo", third, "unpin", None, None),
        ("bo", second, "skip", None, "off topic"),
        ("bo", first, "reopen", None, None),
    ]


def test_the_event_stream_sends_the_version_and_then_each_change(demo, tmp_path):
    console, db = demo
    item = console.queue()[0]["item"]
    with client_for(console, db, tmp_path) as client:
        token = client.get("/live").cookies["askscope_csrf"]
        first = client.get("/api/live/events?limit=1")
        assert first.status_code == 200 and first.headers["content-type"].startswith("text/event-stream")
        assert first.headers["cache-control"] == "no-store"
        assert first.text.startswith("retry: 2000\n\n")
        (sent,) = events(first.text)
        assert sent["version"] == console.version and sent["instance"]
        # a client that has this version hears of the next change: an action by another member
        client.post(
            f"/api/live/items/{item}/actions",
            json={"action": "pin", "member": "ana"},
            headers={**ORIGIN, "x-csrf-token": token},
        )
        (changed,) = events(client.get(f"/api/live/events?since={sent['version']}&limit=1").text)
        assert changed == {"version": console.version, "instance": sent["instance"]}
        assert changed["version"] > sent["version"]


def test_abuse_is_set_aside_behind_the_toggle_and_the_payloads_are_escaped(tmp_path, labeler):
    from askscope.campaign import parse_campaign

    source, spec = xss_replay(tmp_path)
    db = tmp_path / "live.duckdb"
    console = replayed(db, parse_campaign(spec), str(source), labeler)
    try:
        with client_for(console, db, tmp_path) as client:
            shown = client.get("/api/live/queue").json()
            every = client.get("/api/live/queue?abuse=true").json()
            # the abusive question (2007) is an item of its own, only with abuse=true
            abusive = [item for item in every["items"] if item["abuse"]]
            assert [(i["post"]["id"], i["category"]) for i in abusive] == [("2007", "abuse")]
            assert shown["abuse_hidden"] == 1 and every["abuse_hidden"] == 0
            assert [i["item"] for i in shown["items"]] == [i["item"] for i in every["items"] if not i["abuse"]]
            assert len(shown["items"]) >= 3
            page = client.get("/live").text
            assert "1 abusive item set aside" in page and 'data-item="x:2007"' not in page
            aside = client.get("/live?abuse=true").text
            assert 'data-item="x:2007"' in aside and "set aside: abuse" in aside
            # the coordinated group's alert, with its posts, in the JSON and on the page
            alerts = client.get("/api/live/alerts").json()["alerts"]
            assert alerts == plain(console.alerts())
            group = [a for a in alerts if a["kind"] == "coordinated_group"]
            assert len(group) == 1 and sorted(p["id"] for p in group[0]["posts"]) == ["2500", "2501", "2502"]
            assert group[0]["href"].startswith("/posts?")
            assert f'data-alert="{group[0]["id"]}"' in page and str(escape(group[0]["message"])) in page
            assert f'<a class="alert-posts" href="{escape(group[0]["href"])}">its 3 posts</a>' in page
            # the payloads are escaped in the page (text and author), never markup
            for payload in (XSS[1], XSS[2], XSS[4]):
                assert payload not in page and str(escape(payload)) in page
    finally:
        console.close()


# -- in Chromium: two team members on one served session ----------------------------------------


def xss_replay(folder: Path) -> tuple[Path, dict[str, Any]]:
    """A recorded campaign (an X API v2 page) whose questions carry the payloads of
    :data:`web_server.XSS` in their text and their author's handle and name, and an abusive one
    (set aside), and three accounts posting the same text (an alert of a coordinated group); the
    host answers the first question (an item the console closes by itself).
    One post a minute from 10:00."""
    host = {"id": "900", "username": "HostHandle", "name": "The Host", "created_at": "2015-01-01T00:00:00.000Z"}
    tweets: list[dict[str, Any]] = [
        {
            "id": "1000",
            "text": "Ask me anything about the new fares #AskXSS",
            "author_id": "900",
            "created_at": "2021-05-18T10:00:00.000Z",
            "conversation_id": "1000",
            "entities": {"hashtags": [{"tag": "AskXSS"}]},
            "public_metrics": {"retweet_count": 5, "reply_count": 9, "like_count": 1, "quote_count": 0},
        }
    ]
    users = [host]
    questions = [
        "why did the fares go up this month?",
        "when will the new timetable be published?",
        "how do I get a refund for a cancelled trip?",
        "what is the plan for the night buses?",
        "is the station going to be accessible for wheelchairs?",
        "who decided to close the ticket office?",
        "where can I read the full report on delays?",
    ]
    for i, (payload, question) in enumerate(zip(XSS, questions)):
        uid = str(100 + i)
        users.append({"id": uid, "username": payload, "name": payload, "created_at": "2015-01-01T00:00:00.000Z"})
        tweets.append(
            {
                "id": str(2000 + i),
                "text": f"@HostHandle {question} {payload} Can you answer?",
                "author_id": uid,
                "created_at": f"2021-05-18T10:{1 + i:02d}:00.000Z",
                "conversation_id": "1000",
                "in_reply_to_user_id": "900",
                "referenced_tweets": [{"type": "replied_to", "id": "1000"}],
                "entities": {"hashtags": [{"tag": "AskXSS"}], "mentions": [{"username": "HostHandle", "id": "900"}]},
                "public_metrics": {"retweet_count": 10 - i, "reply_count": 1, "like_count": 0, "quote_count": 0},
            }
        )
    abusive = "why are you such a stupid worthless idiot? Can you answer?"
    users.append({"id": "107", "username": "rude", "name": "Rude", "created_at": "2015-01-01T00:00:00.000Z"})
    tweets.append(
        {
            "id": "2007",
            "text": f"@HostHandle {abusive}",
            "author_id": "107",
            "created_at": "2021-05-18T10:09:00.000Z",
            "conversation_id": "1000",
            "in_reply_to_user_id": "900",
            "referenced_tweets": [{"type": "replied_to", "id": "1000"}],
            "entities": {"mentions": [{"username": "HostHandle", "id": "900"}]},
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
        }
    )
    # three accounts post the same text within three minutes: a coordinated group (an alert)
    for j in range(3):
        users.append({"id": f"11{j}", "username": f"same{j}", "name": "Same", "created_at": "2015-01-01T00:00:00.000Z"})
        tweets.append(
            {
                "id": f"250{j}",
                "text": f"@HostHandle These fares are a scam <b onmouseover=window.__xss=7>resign</b> now #AskXSS {'!' * j}",
                "author_id": f"11{j}",
                "created_at": f"2021-05-18T10:1{j}:00.000Z",
                "conversation_id": "1000",
                "in_reply_to_user_id": "900",
                "referenced_tweets": [{"type": "replied_to", "id": "1000"}],
                "entities": {"hashtags": [{"tag": "AskXSS"}], "mentions": [{"username": "HostHandle", "id": "900"}]},
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
            }
        )
    tweets.append(
        {
            "id": "3000",
            "text": f"@{XSS[0]} The fares follow inflation: 3% this year. {XSS[1]}",
            "author_id": "900",
            "created_at": "2021-05-18T10:20:00.000Z",
            "conversation_id": "1000",
            "in_reply_to_user_id": "100",
            "referenced_tweets": [{"type": "replied_to", "id": "2000"}],
            "public_metrics": {"retweet_count": 3, "reply_count": 0, "like_count": 2, "quote_count": 0},
        }
    )
    source = folder / "xss-session.jsonl"
    # one record a post, so that the replay emits them one by one at their times
    lines = [json.dumps({"data": [t], "includes": {"users": users}}) for t in tweets]
    source.write_text("\n".join(lines) + "\n")
    campaign = {"name": "Ask <script>window.__xss=9</script>", "hosts": ["HostHandle"], "hashtags": ["AskXSS"]}
    return source, campaign


@contextmanager
def serving(app: Any, port: int) -> Iterator[str]:
    """``app`` served by uvicorn on ``port`` in a thread; stopped as ``askscope live`` stops it:
    the event streams are ended first (a server waits for its open responses)."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_streams(app)
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive(), "the server did not stop"


def item_ids(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#queue > li.item", "els => els.map(e => e.dataset.item)"))


def open_page(browser: Any, url: str, problems: list[str]) -> Any:
    """A page of its own browser context (a team member's browser) on ``url``, once its event
    stream is connected."""
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("#connection:has-text('updates: live')")
    return page


@needs_browser
def test_two_members_see_the_replay_and_each_others_actions_live_and_nothing_runs(tmp_path, labeler):
    from askscope.campaign import parse_campaign

    source, spec = xss_replay(tmp_path)
    campaign = parse_campaign(spec)
    db = tmp_path / "live.duckdb"
    port = free_port()
    problems: list[str] = []
    console = LiveConsole.open(db, campaign, labeler=labeler)
    with chromium() as browser:
        try:
            with serving(create_app([str(db)], snapshot_dir=tmp_path / "snaps", live=console), port) as base:
                a, b = (open_page(browser, base + "/live", problems) for _ in range(2))
                for page in (a, b):
                    assert item_ids(page) == [] and page.is_visible("#queue-empty")
                    page.evaluate("window.__marker = 'not reloaded'")
                # the replay starts once both pages are open: its items appear in both, pushed
                thread, _ = run_in_thread(console, ReplayIntake(str(source), speed=120))
                thread.join(timeout=300)
                assert not thread.is_alive() and console.pulse()["intake"]["error"] is None
                expected = sorted(item["item"] for item in console.queue())
                assert len(expected) >= 3, console.queue(status="all", show_abuse=True)
                for page in (a, b):
                    page.wait_for_selector("#live-status:has-text('stopped')")
                    page.wait_for_function(
                        "n => document.querySelectorAll('#queue > li.item').length === n", arg=len(expected)
                    )
                    assert sorted(item_ids(page)) == expected
                    assert not page.is_visible("#queue-empty")
                # the payloads are text: shown as written, nothing ran, no element made of them
                for page in (a, b):
                    text = page.inner_text("#queue")
                    assert XSS[1] in text and "@" + XSS[2] in text  # (XSS[0] asked the answered question)
                    assert page.evaluate("window.__xss") is None
                    made = "#live img, #live iframe, #live svg, #live script, #live style"
                    assert page.eval_on_selector_all(made, "e => e.length") == 0
                # the alert of the coordinated group, linking to its posts, in both pages
                (group,) = [alert for alert in console.alerts() if alert["kind"] == "coordinated_group"]
                for page in (a, b):
                    link = page.wait_for_selector(
                        f"#alerts li.alert.kind-coordinated_group[data-alert='{group['id']}'] a"
                    )
                    assert link.get_attribute("href") == group["href"] and link.inner_text() == "its 3 posts"
                # abuse is set aside, behind the toggle, never dropped
                abusive = [i["item"] for i in console.queue(show_abuse=True) if i["abuse"]]
                assert abusive == ["x:2007"] or len(abusive) == 1, abusive
                assert a.inner_text("#abuse-hidden") == "1 abusive item set aside"
                a.check("#show-abuse")
                a.wait_for_selector(f"#queue > li.item.abuse[data-item='{abusive[0]}'] .tag.abuse")
                assert sorted(item_ids(a)) == sorted(expected + abusive) and "abuse=true" in a.url
                a.uncheck("#show-abuse")
                a.wait_for_selector(f"#queue > li.item[data-item='{abusive[0]}']", state="detached")
                # a member acts in page A: page B sees it without a reload
                shown = item_ids(a)
                first, second = shown[0], shown[1]
                a.fill("#member", "ana")
                a.click(f"#queue > li.item[data-item='{first}'] button[data-action='answered']")
                b.wait_for_selector(f"#queue > li.item[data-item='{first}']", state="detached")
                a.fill(f"#queue > li.item[data-item='{second}'] input.assign-to", "bo")
                a.click(f"#queue > li.item[data-item='{second}'] button[data-action='assign']")
                b.wait_for_selector(f"#queue > li.item[data-item='{second}'] .assignee:has-text('assigned to bo')")
                assert sorted(item_ids(b)) == [i for i in expected if i != first]
                # the name is kept in the browser: A reloaded still acts as ana
                a.reload()
                a.wait_for_selector("#connection:has-text('updates: live')")
                assert a.input_value("#member") == "ana"
                # every item in B, answered ones too: the host's reply closed its question by itself
                b.select_option("#status", "all")
                closed = [i["item"] for i in console.queue(status="all") if i["closed_by"] == "auto"]
                assert closed, "the host answered the first question"
                auto = closed[0]
                status = "#queue > li.item[data-item='{}'] .status:has-text('{}')"
                b.wait_for_selector(status.format(auto, "answered by the host (detected)"))
                b.wait_for_selector(status.format(first, "answered by ana"))
                # the thread of the closed item opens in place, the host's answer highlighted
                b.click(f"#queue > li.item[data-item='{auto}'] button.thread-toggle")
                answer = b.wait_for_selector(f"#queue > li.item[data-item='{auto}'] .detail .post.host.answer")
                assert "The fares follow inflation" in answer.inner_text() and XSS[1] in answer.inner_text()
                assert b.evaluate("window.__marker") == "not reloaded"
                # a POST without the CSRF token, from the page itself, is refused
                refused = a.evaluate(
                    """id => fetch('/api/live/items/' + encodeURIComponent(id) + '/actions', {method: 'POST',
                        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({action: 'skip', member: 'eve'})})
                        .then(r => r.status)""",
                    second,
                )
                assert refused == 403
                assert problems == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]
                assert [row[:4] for row in actions_logged(console)] == [
                    ("ana", first, "answered", None),
                    ("ana", second, "assign", "bo"),
                ]
                b.select_option("#status", "open")
                b.wait_for_selector(f"#queue > li.item[data-item='{auto}']", state="detached")
        finally:
            console.close()
        # the session process restarts (a new console on the store, a new app, the same port): both
        # pages reconnect by themselves and draw the new server's state and its changes
        problems.clear()
        console = LiveConsole.open(db, campaign, labeler=labeler)
        try:
            assert console.item(second)["assigned_to"] == "bo"  # the actions were kept in the store
            with serving(create_app([str(db)], snapshot_dir=tmp_path / "snaps2", live=console), port):
                console.act(second, "pin", "cy")
                for page in (a, b):
                    page.wait_for_selector(f"#queue > li.item[data-item='{second}'].pinned")
                    page.wait_for_selector("#connection:has-text('updates: live')")
                    assert item_ids(page)[0] == second
                    assert page.evaluate("window.__xss") is None
                assert b.evaluate("window.__marker") == "not reloaded"
        finally:
            console.close()
    # while the server was down the streams failed to connect; nothing else went wrong
    assert all("ERR_CONNECTION_REFUSED" in p or "net::ERR" in p for p in problems), problems
