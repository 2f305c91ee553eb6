"""The web app through Starlette's TestClient: the headers on every response, the token, the
CSRF check, every drill-down count against the number that links to it, the filters' populations
worked out by hand on tests/lens_campaign.py, keyset pages against an independent query, the
API, and the serve command's refusals."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli
from fastapi import Depends
from fastapi.testclient import TestClient
from lens_campaign import analysed_store

import askscope
from askscope.web import postquery
from askscope.web.app import create_app
from askscope.web.filters import safe_url
from askscope.web.security import CSP, check_csrf

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def campaign_db(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("web")
    db = folder / "campaign.duckdb"
    shutil.copyfile(analysed_store("campaign"), db)
    return str(db)


@pytest.fixture(scope="module")
def client(campaign_db) -> Any:
    with TestClient(create_app([campaign_db])) as c:
        yield c


def ids(client: TestClient, **params: str) -> list[str]:
    data = client.get("/api/posts", params={**params, "limit": "200"}).json()
    assert data["count"] == len(data["posts"]), data
    return sorted(p["id"] for p in data["posts"])


def test_every_response_carries_the_security_headers(client) -> None:
    for path in ("/", "/posts", "/posts/x/2001", "/api/lenses", "/api/posts", "/static/app.css", "/nope", "/api/docs"):
        response = client.get(path, headers=HTML)
        assert response.headers["content-security-policy"] == CSP, path
        assert "script-src 'self'" in CSP and "'unsafe-inline'" not in CSP
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path
    assert client.get("/nope").status_code == 404


def test_pages_have_no_inline_script_or_style(client) -> None:
    for path in ("/", "/posts", "/posts?set=questions", "/posts/x/2001", "/api/docs"):
        text = client.get(path, headers=HTML).text
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, path
        assert "<style" not in text and " style=" not in text, path
        assert re.search(r"\son[a-z]+=", text) is None, path


def test_the_hand_worked_populations(client) -> None:
    # tests/lens_campaign.py: the audience's posts of P are the 11 non-host posts of 10:00-12:00
    # (the repost 2100 and the post 2012 after the window are not in P)
    audience = ["2001", "2002", "2003", "2004", "2005", "2006", "2007", "2008", "2009", "2010", "2011"]
    assert ids(client) == audience
    # hostile = question_critical, mockery, abuse: 2001 [crit], 2003 [mock], 2005 [mock], 2006 [abuse]
    assert ids(client, category="hostile") == ["2001", "2003", "2005", "2006"]
    # capture: hashtag_only posts (2005, 2006, 2007) not labelled support: 2005, 2006
    assert ids(client, relation="hashtag_only", not_category="support") == ["2005", "2006"]
    # questions to the host: 2001, 2002, 2003, 2008; the host answered 2001, 2002, 2008 (3001-3003)
    assert ids(client, set="questions") == ["2001", "2002", "2003", "2008"]
    assert ids(client, set="questions", answered="no") == ["2003"]
    # the host's posts in the window: 1000, 3001-3005; replies among them: 3001-3004
    assert ids(client, set="host") == ["1000", "3001", "3002", "3003", "3004", "3005"]
    assert ids(client, set="host", kind="reply") == ["3001", "3002", "3003", "3004"]
    # the 10:00 hour's hostile posts, as a bucket of the timeline: 2001 (10:05), 2003, 2005, 2006
    assert ids(client, category="hostile", start="2021-05-18T10:00:00Z", bucket="1 hour") == [
        "2001",
        "2003",
        "2005",
        "2006",
    ]
    # [fr] marks 2005's language; u101 wrote 2001, 2006, 2010
    assert ids(client, language="fr") == ["2005"]
    assert ids(client, account="u101") == ["2001", "2006", "2010"]
    # the framing lens's participants: audience posts in the window scored for 'freedom'; 2004 uses it
    assert ids(client, set="window", frame="freedom", frame_use="yes") == ["2004"]
    # no account is coordinated in this campaign
    assert ids(client, coordinated="yes") == []
    assert ids(client, coordinated="no") == audience


def test_every_count_on_the_overview_equals_the_posts_it_links_to(client) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    links = re.findall(r'href="(/posts\?[^"]+)"[^>]*data-count="(\d+)"', page.text)
    # every lens's counts and shares link somewhere: at least the 4 counts, hostile share and the
    # 6 categories of backfire, and the answer rate of engagement
    assert len(links) >= 20
    lenses = askscope.lens_results(client.app.state.stores["campaign"].path)
    assert f'data-count="{lenses["backfire"]["hostile_share"]["k"]}"' in page.text
    for href, number in links:
        target = html.unescape(href)
        api = client.get("/api" + target)
        assert api.status_code == 200, (target, api.text)
        assert api.json()["count"] == int(number), target
        shown = client.get(target, headers=HTML).text
        assert f'id="post-count" data-count="{number}"' in shown, target


def test_the_reports_lists_and_charts_on_the_overview_lead_to_their_posts(client) -> None:
    text = client.get("/", headers=HTML).text
    # tests/lens_campaign.py, by hand: the mocking posts 2005 (6 reposts) then 2003 (2), of 2
    # mockery posts; the unanswered question 2003; the answered ones 2001, 2002, 2008
    for key, posts, count in (
        ("mocking_posts", ["2005", "2003"], 2),
        ("unanswered_questions", ["2003"], 1),
        ("answered_questions", ["2001", "2002", "2008"], 3),
    ):
        section = text.split(f'id="list-{key}"', 1)[1].split("</section>", 1)[0]
        assert re.findall(r'href="/posts/x/(\d+)\?db=campaign"', section) == posts, key
        assert f'data-count="{count}"' in section, key
    # each post's author links to the account page, which answers
    for href in set(re.findall(r'class="author" href="(/accounts/[^"]+)"', text)):
        assert client.get(html.unescape(href), headers=HTML).status_code == 200, href
    # the most active accounts: u101 and u102 wrote 3 audience posts each (2001, 2006, 2010; 2002, 2009, 2011)
    accounts = text.split('id="top-accounts"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r"@(u\d+)</a>", accounts)[:2] == ["u101", "u102"]
    assert re.findall(r'data-count="(\d+)"', accounts)[:2] == ["3", "3"]
    # the charts: hover text (<title>) says the number the bar links to
    bars = re.findall(r'<a href="([^"]+)" class="bar-link" data-count="(\d+)"><title>([^<]*)</title>', text)
    assert len(bars) >= 8
    for href, number, title in bars:
        assert f": {number} " in html.unescape(title), title
        assert client.get("/api" + html.unescape(href)).json()["count"] == int(number), href
    # the latency bins by hand: 2001 answered after 45 min ([30, 60) min), 2002 and 2008 after 60 and 70 ([60, 120))
    latency = text.split('id="chart-latency"', 1)[1].split("</figure>", 1)[0]
    found = {
        html.unescape(h): int(n)
        for h, n, _ in re.findall(
            r'<a href="([^"]+)" class="bar-link" data-count="(\d+)"><title>([^<]*)</title>', latency
        )
    }
    assert sorted(found.values()) == [1, 2]
    assert ids(client, set="questions", answered="yes", latency_from="1800", latency_to="3600") == ["2001"]
    assert ids(client, set="questions", answered="yes", latency_from="3600", latency_to="7200") == ["2002", "2008"]
    # dialogue depth by hand: the thread under 1000 is 4 replies deep (2001 -> 3001 -> 2010 -> 3004),
    # the one under the mention 2008 one reply deep (3003)
    assert ids(client, set="threads", thread_depth="4") == ["1000"]
    assert ids(client, set="threads", thread_depth="1") == ["2008"]
    depth = text.split('id="chart-depth"', 1)[1].split("</figure>", 1)[0]
    assert re.findall(r'data-count="(\d+)"', depth) == ["4", "1", "1"]  # the lens's histogram: depths 0, 1, 4
    # the form keeps such a filter, also when it is 0
    form = client.get("/posts?set=threads&thread_depth=0", headers=HTML).text
    assert 'name="thread_depth" value="0"' in form and 'data-count="4"' in form
    # the report downloads
    for fmt in ("html", "md", "json"):
        assert f'href="/export/report.{fmt}?db=campaign"' in text


def test_the_api_gives_lenses_as_stored(client, campaign_db) -> None:
    data = client.get("/api/lenses").json()
    assert data["lenses"] == askscope.lens_results(campaign_db)  # as stored, never recomputed
    assert set(data["verdicts"]) == {"backfire", "engagement", "framing", "authenticity"}
    hostile = next(s for s in data["numbers"]["backfire"]["shares"] if s["label"] == "hostile share")
    assert (hostile["k"], hostile["n"]) == (4, 11)
    # the report's lists as on the overview: the unanswered question 2003, of 1
    unanswered = next(x for x in data["lists"] if x["key"] == "unanswered_questions")
    assert [p["id"] for p in unanswered["posts"]] == ["2003"] and unanswered["count"] == 1
    assert {c["id"] for c in data["charts"]} >= {"chart-categories", "chart-latency"}
    schema = client.get("/api/openapi.json").json()
    assert {"/api/lenses", "/api/posts", "/api/posts/{platform}/{post_id}"} <= set(schema["paths"])
    docs = client.get("/api/docs", headers=HTML).text
    assert "/api/posts/{platform}/{post_id}" in docs


def test_a_post_with_its_labels_thread_and_answer(client) -> None:
    data = client.get("/api/posts/x/2001").json()
    assert data["post"]["text"] == "@Host why did you do it? [crit]"
    labels = {row["task"]: row["label"] for row in data["labels"]}
    assert labels["discourse"] == "question_critical"
    assert data["answer"]["answer_id"] == "3001" and data["answer"]["latency_s"] == 2700.0  # 10:05 -> 10:50
    # the thread: parent 1000 above; below, the answer 3001, the reply 2009, then 2010 (to 3001), 3004 (to 2010)
    thread = [(p["rel"], p["id"]) for p in data["thread"]]
    assert thread == [(-1, "1000"), (0, "2001"), (1, "2009"), (1, "3001"), (2, "2010"), (3, "3004")]
    page = client.get("/posts/x/2001", headers=HTML).text
    assert len(re.findall(r'class="post[^"]*\banswer\b', page)) == 1 and "the host's answer</span>" in page
    assert client.get("/api/posts/x/nope").status_code == 404


@pytest.mark.parametrize("sort", ["time", "-time", "reposts", "likes"])
def test_keyset_pages_cover_the_set_once_in_order(client, campaign_db, sort) -> None:
    key = {
        "time": "p.created_at",
        "-time": "p.created_at",
        "reposts": "coalesce(p.repost_count, 0)",
        "likes": "coalesce(p.like_count, 0)",
    }[sort]
    direction = "ASC" if sort == "time" else "DESC"
    # independent: the same order from a plain query on the store
    expected = [
        r["id"]
        for r in askscope.query(
            campaign_db,
            f"SELECT p.id FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
            f"WHERE r.in_campaign ORDER BY {key} {direction}, p.platform {direction}, p.id {direction}",
        ).to_pylist()
    ]
    seen: list[str] = []
    after = None
    while True:
        params = {"set": "campaign", "sort": sort, "limit": "4"}
        if after:
            params["after"] = after
        data = client.get("/api/posts", params=params).json()
        assert data["count"] == len(expected)
        seen += [p["id"] for p in data["posts"]]
        after = data["next"]
        if after is None:
            break
    assert seen == expected


def test_text_search_binds_its_parameter(client) -> None:
    assert ids(client, q="FREEDOM") == ["2004"]  # ILIKE: case-insensitive
    assert ids(client, q="'; DROP TABLE posts; --") == []
    assert ids(client, q="%") == []  # a literal percent sign, not a wildcard
    assert ids(client, q="_") == []
    assert client.get("/api/posts", params={"set": "all"}).json()["count"] == 19  # nothing dropped


def test_bad_filters_are_400_with_the_reason(client) -> None:
    for params, words in (
        ({"set": "bogus"}, "set='bogus'"),
        ({"category": "evil"}, "category='evil'"),
        ({"start": "yesterday"}, "not a time"),
        ({"bucket": "1 hour"}, "bucket needs start"),
        ({"after": "garbage"}, "cursor"),
        ({"limit": "100000"}, "limit"),
    ):
        response = client.get("/api/posts", params=params)
        assert response.status_code == 400 and words in response.json()["detail"], (params, response.text)
    page = client.get("/posts?set=bogus", headers=HTML)
    assert page.status_code == 400 and "set=&#39;bogus&#39;" in page.text


def test_a_token_is_required_when_set(campaign_db) -> None:
    with TestClient(create_app([campaign_db], token="s3cret-token")) as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/lenses").status_code == 401
        assert c.get("/static/app.css").status_code == 401
        assert c.get("/?token=wrong-token").status_code == 401
        assert c.get("/api/lenses", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
        # the token in the URL is traded for a cookie and leaves the address bar
        first = c.get("/posts?token=s3cret-token&category=hostile", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/posts?category=hostile"
        assert "askscope_token=s3cret-token" in first.headers["set-cookie"]
        assert "HttpOnly" in first.headers["set-cookie"]
        assert c.get("/posts?category=hostile").status_code == 200  # the cookie now


def test_csrf_check_for_state_changing_requests(campaign_db) -> None:
    app = create_app([campaign_db])

    @app.post("/test-change", dependencies=[Depends(check_csrf)])
    def change() -> dict[str, bool]:
        return {"changed": True}

    with TestClient(app, base_url="http://testserver") as c:
        token = c.get("/").cookies["askscope_csrf"]
        origin = {"origin": "http://testserver"}
        assert c.post("/test-change", headers={**origin, "x-csrf-token": token}).status_code == 200
        assert c.post("/test-change", data={"csrf_token": token}, headers=origin).status_code == 200
        assert c.post("/test-change", headers={"x-csrf-token": token}).status_code == 403  # no origin
        evil = {"origin": "http://evil.example", "x-csrf-token": token}
        assert c.post("/test-change", headers=evil).status_code == 403
        assert c.post("/test-change", headers={**origin, "x-csrf-token": "forged"}).status_code == 403


def test_only_http_urls_become_links() -> None:
    assert safe_url("https://x.com/u/status/1") == "https://x.com/u/status/1"
    assert safe_url("http://example.org/a?b=c") == "http://example.org/a?b=c"
    for bad in (
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<b>",
        "//evil.example/",
        "https://",
        None,
        3,
    ):
        assert safe_url(bad) is None, bad
    assert safe_url("https://ok.example/\nx") is None


def test_filters_round_trip_through_their_parameters() -> None:
    f = postquery.parse(
        {"set": "questions", "category": "hostile_questions", "answered": "no", "start": "2021-05-18T10:00Z"}
    )
    assert postquery.parse(f.params()) == f
    words = postquery.describe(f)
    assert words.startswith("questions addressed to the host") and "left unanswered" in words


def test_serve_refuses_a_public_address_without_a_token(campaign_db) -> None:
    proc = run_cli("serve", campaign_db, "--host", "0.0.0.0")
    assert proc.returncode == 1 and proc.stderr.startswith("Error:") and "--token" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("serve", campaign_db, "--host", "0.0.0.0", "--token", "short")
    assert proc.returncode == 1 and proc.stderr.startswith("Error:")
    proc = run_cli("serve", str(Path(campaign_db).with_name("missing.duckdb")))
    assert proc.returncode == 1 and proc.stderr.startswith("Error: no store at")


FILTERS = [
    {},
    {"category": "hostile"},
    {"category": "unlabelled"},
    {"relation": "hashtag_only", "not_category": "support"},
    {"set": "questions"},
    {"set": "questions", "answered": "no"},
    {"set": "questions", "category": "hostile_questions", "answered": "yes"},
    {"set": "campaign", "answered": "yes"},
    {"set": "host", "kind": "reply"},
    {"set": "window"},
    {"set": "all"},
    {"set": "all", "q": "host"},
    {"category": "hostile", "start": "2021-05-18T10:00Z", "bucket": "10 minutes"},
    {"language": "fr"},
    {"coordinated": "no", "category": "hostile"},
    {"account": "@U101"},
    {"set": "questions", "answered": "yes", "latency_from": "3600", "latency_to": "7200"},
    {"set": "threads"},
    {"set": "threads", "thread_depth": "0", "q": "#askt"},
]


@pytest.mark.parametrize("params", FILTERS, ids=[str(f) for f in FILTERS])
def test_the_explorer_table_and_the_joins_select_the_same_posts(campaign_db, params) -> None:
    # two implementations of every filter: joins on the store's tables, and one precomputed table
    app = create_app([campaign_db])
    handle = app.state.stores["campaign"]
    f = postquery.parse(params)
    with handle.reading() as r:
        explore = handle.explore(r)
        assert explore is not None
        joined = postquery.count(r.con, f, r.tables)
        assert postquery.count(r.con, f, r.tables, explore) == joined
        for sort in postquery.SORTS:
            by_joins, _ = postquery.page(r.con, f, r.tables, sort=sort, limit=200)
            by_table, _ = postquery.page(r.con, f, r.tables, sort=sort, limit=200, explore=explore)
            assert by_table == by_joins and len(by_joins) == joined
        explore.close()
    handle.close()


@pytest.mark.parametrize("post_id", ["1000", "2001", "2009", "3004", "2005"])
def test_a_thread_walked_on_the_edges_equals_the_recursive_query(campaign_db, post_id) -> None:
    from askscope.web.routes.posts import thread

    app = create_app([campaign_db])
    handle = app.state.stores["campaign"]
    with handle.reading() as r:
        explore = handle.explore(r)
        walked = thread(r, "x", post_id, explore)
        recursive = thread(r, "x", post_id)
        explore.close()
    handle.close()
    assert walked == recursive and any(row["id"] == post_id and row["rel"] == 0 for row in walked)


@pytest.mark.parametrize("sort", ["time", "-time"])
@pytest.mark.parametrize("params", FILTERS[:8], ids=[str(f) for f in FILTERS[:8]])
def test_time_pages_read_in_small_windows_equal_one_query(campaign_db, monkeypatch, params, sort) -> None:
    # windows of 2 rows (doubling): every page crosses windows; pages of 3 through the cursor
    monkeypatch.setattr(postquery, "WINDOW", 2)
    app = create_app([campaign_db])
    handle = app.state.stores["campaign"]
    f = postquery.parse(params)
    with handle.reading() as r:
        explore = handle.explore(r)
        whole, _ = postquery.page(r.con, f, r.tables, sort=sort, limit=200)
        paged: list[dict[str, Any]] = []
        after = None
        while True:
            rows, after = postquery.page(r.con, f, r.tables, sort=sort, limit=3, after=after, explore=explore)
            paged += rows
            if after is None:
                break
        explore.close()
    handle.close()
    assert paged == whole


def test_serve_on_a_public_address_asks_for_its_generated_token(campaign_db) -> None:
    import os
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from web_server import free_port

    port = free_port()
    askscope_bin = os.path.join(os.path.dirname(sys.executable), "askscope")
    proc = subprocess.Popen(
        [askscope_bin, "serve", campaign_db, "--host", "0.0.0.0", "--port", str(port), "--token", "auto"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "askscope serving DB at http://0.0.0.0:PORT/?token=..."
        token = re.search(r"\?token=([A-Za-z0-9_-]{16,})", line)
        assert token is not None, line
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=5)
                raise AssertionError("served without the token")
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "askscope serve did not start"
                time.sleep(0.1)
        request = urllib.request.Request(base + "/api/lenses", headers={"Authorization": f"Bearer {token.group(1)}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and json.loads(response.read())["db"] == "campaign"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
