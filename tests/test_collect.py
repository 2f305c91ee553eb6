"""Live collectors against a loopback server replaying real recorded responses, with faults.

The figure to hold: under 429s, 5xx, slow responses, truncated bodies and dropped connections,
every collector ends with exactly the posts (and accounts, and thread stubs) of a clean run;
stopping half-way and resuming gives the same; nothing is stored twice.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from conftest import fixture as fixture_path
from conftest import one, rows, run_cli
from conftest import shared as shared_path
from loopback import ReplayServer, Reply, Seen
from recorded_apis import (
    BLUESKY_QUERY,
    MASTODON_ROOT,
    MASTODON_TAG,
    REDDIT_THREAD,
    X_QUERY,
    X_TOKEN,
    bluesky,
    mastodon,
    reddit_edges,
    reddit_thread,
    x_search,
)

import askscope
from askscope.collect.bluesky import BlueskySearch, BlueskyThread
from askscope.collect.completeness import completeness
from askscope.collect.http import CredentialsError, HttpClient, Limits, Request
from askscope.collect.mastodon import MastodonContext, MastodonHashtag
from askscope.collect.plan import Plan
from askscope.collect.reddit import RedditThread
from askscope.collect.runner import collect
from askscope.collect.x import XSearch

SNAPSHOT = {
    "posts": "SELECT platform, id, author_id, author_handle, created_at, text, kind, in_reply_to_id, "
    "in_reply_to_author_id, conversation_id, quoted_id, reposted_id, hashtags, mentions, urls, like_count, "
    "repost_count, reply_count, is_context, withheld FROM posts ORDER BY platform, id",
    "accounts": "SELECT platform, id, handle, name, followers_count FROM accounts ORDER BY platform, id",
    "stubs": "SELECT resource_type, resource_id, detail, count(*) FROM api_errors GROUP BY ALL ORDER BY ALL",
}
#: Every kind of fault, spread over the first requests (request numbers count retries too).
FAULTS = {1: "429", 2: "503", 3: "slow", 5: "truncated", 7: "drop", 8: "cut", 10: "500", 12: "ratelimit", 14: "502"}

# platform -> (routes factory taking the server URL, plan factory taking the server URL, headers)
PlanFactory = Callable[[str], Plan]
SCENARIOS: dict[str, tuple[Callable[[str], Any], PlanFactory, dict[str, str] | None]] = {
    # A 560-comment Reddit thread: 1 page, 12 morechildren, 6 "continue this thread" pages.
    "reddit": (lambda url: reddit_thread(), lambda url: RedditThread(REDDIT_THREAD, api_url=url), None),
    # 20 statuses of a hashtag, 7 a page, Link headers; then an empty page.
    "mastodon": (mastodon, lambda url: MastodonHashtag(url, MASTODON_TAG), None),
    # 25 search results, 10 a page, cursors.
    "bluesky": (lambda url: bluesky(), lambda url: BlueskySearch(BLUESKY_QUERY, api_url=url), None),
    # Two twarc2 pages chained by next_token, bearer token required.
    "x": (lambda url: x_search(), lambda url: XSearch(X_QUERY, api_url=url), {"Authorization": f"Bearer {X_TOKEN}"}),
}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line with extra environment variables."""
    full = dict(os.environ, PYTHONIOENCODING="utf-8", **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "askscope", *args], capture_output=True, env=full, timeout=120)
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )


def fast_client(platform: str, headers: dict[str, str] | None = None, **kwargs: Any) -> HttpClient:
    return HttpClient(
        platform=platform, headers=headers, limits=Limits(tries=8, backoff=0.01, timeout=0.5, max_wait=5), **kwargs
    )


_PORT = re.compile(r"127\.0\.0\.1:\d+")


def _unport(value: Any) -> Any:
    """Mastodon ids carry the instance host, here the loopback server's random port."""
    if isinstance(value, str):
        return _PORT.sub("HOST", value)
    if isinstance(value, (list, tuple)):
        return type(value)(_unport(v) for v in value)
    return value


def snapshot(path: str) -> dict[str, list[tuple[Any, ...]]]:
    with askscope.open_store(path, read_only=True) as store:
        return {name: sorted(_unport(tuple(r)) for r in rows(store, sql)) for name, sql in SNAPSHOT.items()}


def run(
    platform: str, path: str, faults: dict[int, str] | None = None, max_requests: int | None = None, port: int = 0
) -> Any:
    make_routes, make_plan, headers = SCENARIOS[platform]
    holder: dict[str, Any] = {}
    with ReplayServer(lambda seen: holder["routes"](seen), faults, port=port) as server:
        holder["routes"] = make_routes(server.url)
        client = fast_client(platform, headers)
        try:
            result = collect(path, make_plan(server.url), client, max_requests=max_requests)
        finally:
            client.close()
        result.server_port = server.port  # type: ignore[attr-defined]
    return result


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("clean")
    out = {}
    for platform in SCENARIOS:
        path = str(folder / f"{platform}.duckdb")
        result = run(platform, path)
        assert result.done and not result.retries, (platform, result.retries)
        out[platform] = (result, snapshot(path))
    return out


def test_clean_runs_store_every_recorded_post(clean):
    # Hand counts: 1 submission + 476 comments on the first page + 65 more from the stubs; 20
    # statuses; 25 search results; 100 + 100 tweets.
    expected = {"reddit": 542, "mastodon": 20, "bluesky": 25, "x": 200}
    for platform, count in expected.items():
        result, snap = clean[platform]
        matches = [p for p in snap["posts"] if not p[18]]
        assert len(matches) == count, platform
        assert result.responses == {"reddit": 19, "mastodon": 4, "bluesky": 3, "x": 2}[platform]


@pytest.mark.parametrize("platform", sorted(SCENARIOS))
def test_faults_end_with_exactly_the_posts_of_a_clean_run(platform, clean, tmp_path):
    path = str(tmp_path / "faulty.duckdb")
    result = run(platform, path, faults=FAULTS)
    assert result.done
    assert snapshot(path) == clean[platform][1]
    assert sum(result.retries.values()) >= 4, result.retries
    with askscope.open_store(path, read_only=True) as store:
        # One raw record per response, no more: retries stored nothing twice.
        assert one(store, "SELECT sum(records) FROM raw") == clean[platform][0].responses


def test_every_fault_kind_is_retried(tmp_path):
    result = run("reddit", str(tmp_path / "r.duckdb"), faults=FAULTS)
    assert set(result.retries) == {
        "http_429",
        "http_500",
        "http_502",
        "http_503",
        "timeout",
        "connection",
        "truncated",
    }, result.retries


@pytest.mark.parametrize("platform", sorted(SCENARIOS))
def test_stop_and_resume_gives_the_clean_posts(platform, clean, tmp_path):
    path = str(tmp_path / "resume.duckdb")
    first = run(platform, path, max_requests=1)
    assert not first.done
    second = run(platform, path, port=first.server_port)  # the same instance URL (Mastodon ids hold it)
    assert second.resumed and second.done
    assert first.responses + second.responses == clean[platform][0].responses
    assert snapshot(path) == clean[platform][1]
    with askscope.open_store(path, read_only=True) as store:
        assert one(store, "SELECT sum(records) FROM raw") == clean[platform][0].responses
        assert one(store, "SELECT status FROM collect_checkpoints") == "done"


def test_rerun_after_done_fetches_only_newer_posts(clean, tmp_path):
    path = str(tmp_path / "again.duckdb")
    run("x", path)
    make_routes, make_plan, headers = SCENARIOS["x"]
    with ReplayServer(make_routes("")) as server:
        client = fast_client("x", headers)
        result = collect(path, make_plan(server.url), client)
        client.close()
        assert server.seen[0].query["since_id"] == "1440717170493689866"  # newest id of the first pass
    assert result.counts.new == 0
    assert snapshot(path) == clean["x"][1]


def test_reddit_thread_is_stitched_edge_for_edge(clean):
    _, snap = clean["reddit"]
    stored = {(p[7], p[1]) for p in snap["posts"] if p[7]}
    assert stored == reddit_edges()
    assert all(p[9] == "t3_3hahrw" for p in snap["posts"])  # one conversation


def test_reddit_completeness_is_reported(clean, tmp_path):
    result, _ = clean["reddit"]
    c = result.completeness
    # 18 stubs: 12 with children, 6 "continue this thread"; every one was fetched, but one
    # morechildren answer left out 2 of its 4 children (deleted comments are not returned).
    assert (c.more_stubs, c.more_stubs_open, c.comments_not_loaded, c.orphans) == (18, 1, 2, 0)
    assert not c.complete
    path = str(tmp_path / "first-page.duckdb")
    run("reddit", path, max_requests=1)
    with askscope.open_store(path, read_only=True) as store:
        first = completeness(store, "reddit")
    assert (first.more_stubs, first.more_stubs_open, first.comments_not_loaded) == (18, 18, 24)


def test_mastodon_context_collects_the_replies(tmp_path):
    path = str(tmp_path / "context.duckdb")
    holder: dict[str, Any] = {}
    with ReplayServer(lambda seen: holder["routes"](seen)) as server:
        holder["routes"] = mastodon(server.url)
        client = fast_client("mastodon")
        result = collect(path, MastodonContext(server.url, MASTODON_ROOT), client)
        client.close()
    host = server.url.split("//")[1]
    assert result.done and result.responses == 2
    with askscope.open_store(path, read_only=True) as store:
        got = rows(store, "SELECT id, kind, in_reply_to_id, conversation_id FROM posts ORDER BY id")
    assert got == [
        (f"{host}:117020583245459824", "post", None, f"{host}:117020583245459824"),
        (f"{host}:117020583258292382", "reply", f"{host}:117020583245459824", f"{host}:117020583245459824"),
    ]


def test_reparse_replays_collected_responses(clean, tmp_path):
    path = str(tmp_path / "reparse.duckdb")
    run("mastodon", path)
    run("bluesky", path)
    before = snapshot(path)
    proc = run_cli("reparse", path)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(path) == before


def test_rate_limit_headers_and_retry_after_are_honoured():
    waits: list[float] = []
    calls = {"n": 0}

    def routes(seen: Seen) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return Reply(429, b"{}", {"Retry-After": "7"})
        if calls["n"] == 2:
            return Reply(200, b'{"ok": 1}', {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1700000060"})
        return Reply(200, b'{"ok": 2}')

    with ReplayServer(routes) as server:
        client = HttpClient(
            platform="x", limits=Limits(backoff=0.01), sleep=waits.append, clock=lambda: 1_700_000_000.0
        )
        assert client.fetch(Request("GET", server.url + "/a")).value == {"ok": 1}
        assert waits == [7.0]  # Retry-After, not the backoff
        assert client.fetch(Request("GET", server.url + "/b")).value == {"ok": 2}
        client.close()
    assert 60.0 <= waits[1] <= 61.0  # until the reset (plus up to 1 s of jitter)


def test_bad_credentials_fail_at_once_with_a_hint(tmp_path):
    with ReplayServer(x_search()) as server:
        client = fast_client("x", {"Authorization": "Bearer wrong-token-123"}, auth_hint="check the token")
        with pytest.raises(CredentialsError) as info:
            collect(str(tmp_path / "x.duckdb"), XSearch(X_QUERY, api_url=server.url), client)
        client.close()
        assert len(server.seen) == 1  # no retries
    assert "refused the credentials" in info.value.message and info.value.hint == "check the token"


def test_cli_bad_credentials_exit_1_and_are_never_written(tmp_path):
    path = str(tmp_path / "x.duckdb")
    with ReplayServer(x_search()) as server:
        proc = cli(
            "collect", "x", path, X_QUERY, "--api-url", server.url, env={"ASKSCOPE_X_BEARER_TOKEN": "secret-token-abc"}
        )
    assert proc.returncode == 1
    assert "Error: x: the API refused the credentials (HTTP 401" in proc.stderr
    assert "Hint: check ASKSCOPE_X_BEARER_TOKEN" in proc.stderr
    assert "Traceback" not in proc.stderr and "secret-token-abc" not in proc.stderr + proc.stdout
    with askscope.open_store(path, read_only=True) as store:
        text = " ".join(
            str(r) for table in ("ingests", "collect_checkpoints") for r in rows(store, f"SELECT * FROM {table}")
        )
    assert "secret-token-abc" not in text
    missing = cli("collect", "x", path, X_QUERY, env={"ASKSCOPE_X_BEARER_TOKEN": ""})
    assert missing.returncode == 1 and "Error: no X bearer token" in missing.stderr


def test_cli_collects_and_reports(tmp_path):
    path = str(tmp_path / "cli.duckdb")
    with ReplayServer(reddit_thread()) as server:
        proc = cli(
            "collect",
            "reddit",
            path,
            f"https://www.reddit.com/r/x/comments/{REDDIT_THREAD}/title/",
            "--api-url",
            server.url,
            env={"ASKSCOPE_COLLECT_BACKOFF": "0.01"},
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "reddit:thread:3hahrw: 19 responses stored, complete"
    assert "17 of 18 'more' stubs expanded (2 comments not loaded)" in proc.stdout
    status = run_cli("collect", "status", path)
    assert "reddit:thread:3hahrw: done, 19 responses, 542 new posts" in status.stdout


def test_bluesky_thread_resolves_the_handle_and_fetches_branches_cut_at_the_depth_limit(tmp_path):
    nested = open(fixture_path("bluesky", "thread_nested.json"), "rb").read()
    root = json.loads(nested)["thread"]["post"]
    leaf = json.loads(nested)["thread"]["replies"][0]["replies"][0]["post"]
    # The branch fetched again: the leaf with its parents; its one reply is not among the
    # recorded posts, so the API is made to answer with none (as for a deleted reply).
    branch = json.dumps({"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": leaf, "replies": []}})

    def routes(seen: Seen) -> Reply | None:
        if seen.path == "/xrpc/com.atproto.identity.resolveHandle" and seen.query["handle"] == "jemu.name":
            return Reply(body=json.dumps({"did": root["author"]["did"]}).encode())
        if seen.path == "/xrpc/app.bsky.feed.getPostThread":
            return Reply(body=nested if seen.query["uri"] == root["uri"] else branch.encode())
        return None

    path = str(tmp_path / "thread.duckdb")
    with ReplayServer(routes) as server:
        client = fast_client("bluesky")
        result = collect(
            path, BlueskyThread("https://bsky.app/profile/jemu.name/post/3lmubto55bc2n", api_url=server.url), client
        )
        client.close()
        asked = [(s.path.rsplit(".", 1)[-1], s.query.get("uri") or s.query.get("handle")) for s in server.seen]
    assert asked == [("resolveHandle", "jemu.name"), ("getPostThread", root["uri"]), ("getPostThread", leaf["uri"])]
    assert result.done and result.counts.new == 3
    c = result.completeness
    assert (c.replies, c.orphans, c.depth_limited, c.depth_limited_open) == (2, 0, 1, 1)


def test_x_conversation_fetches_the_first_post_then_searches(tmp_path):
    page = open(shared_path("fixtures", "x-v2", "cotweet.jsonl"), "rb").readline()

    def routes(seen: Seen) -> Reply | None:
        if seen.path == "/2/tweets" and seen.query.get("ids") == "1577318900085186562":
            return Reply(body=page)
        if seen.path == "/2/tweets/search/recent" and seen.query["query"] == "conversation_id:1577318900085186562":
            return Reply(body=b'{"meta":{"result_count":0}}')
        return None

    path = str(tmp_path / "conversation.duckdb")
    with ReplayServer(routes) as server:
        client = fast_client("x")
        result = collect(path, XSearch(None, conversation="1577318900085186562", api_url=server.url), client)
        client.close()
    assert result.done and result.responses == 2
    with askscope.open_store(path, read_only=True) as store:
        assert rows(store, "SELECT id, conversation_id FROM posts WHERE NOT is_context") == [
            ("1577318900085186562", "1577318900085186562")
        ]
        assert one(store, "SELECT count(*) FROM raw") == 2


def test_giving_up_exits_with_a_hint_and_the_next_run_resumes(clean, tmp_path):
    path = str(tmp_path / "gave-up.duckdb")
    with ReplayServer(reddit_thread(), {2: "503", 3: "502"}) as server:
        proc = cli(
            "collect",
            "reddit",
            path,
            REDDIT_THREAD,
            "--api-url",
            server.url,
            "--tries",
            "2",
            env={"ASKSCOPE_COLLECT_BACKOFF": "0.01"},
        )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "Error: reddit: /comments/3hahrw/_/cu61zil/.json failed 2 times (last: HTTP 502)" in proc.stderr
    assert "Hint: the API or the network is failing; run the same command again later" in proc.stderr
    with askscope.open_store(path, read_only=True) as store:
        assert rows(store, "SELECT status, read FROM ingests") == [("failed", 477)]  # the first page's posts
    result = run("reddit", path)
    assert result.resumed and result.done and result.responses == 18
    assert snapshot(path) == clean["reddit"][1]


def test_bluesky_app_password_opens_a_session_and_is_never_stored(tmp_path):
    posts = json.loads(open(fixture_path("bluesky", "search.json"), "rb").read())["posts"]

    def routes(seen: Seen) -> Reply | None:
        if seen.path == "/xrpc/com.atproto.server.createSession":
            if seen.form == {"identifier": "me.bsky.social", "password": "app-pass-1234"}:
                return Reply(body=b'{"accessJwt": "jwt-abc", "refreshJwt": "r", "did": "did:plc:me"}')
            return Reply(401, b'{"error": "AuthenticationRequired", "message": "Invalid identifier or password"}')
        if seen.path == "/xrpc/app.bsky.feed.searchPosts" and seen.headers.get("authorization") == "Bearer jwt-abc":
            return Reply(body=json.dumps({"posts": posts[:3]}).encode())
        return None

    path = str(tmp_path / "session.duckdb")
    with ReplayServer(routes) as server:
        bad = cli(
            "collect",
            "bluesky",
            path,
            "--search",
            "x",
            "--handle",
            "me.bsky.social",
            "--api-url",
            server.url,
            "--pds-url",
            server.url,
            env={"ASKSCOPE_BLUESKY_APP_PASSWORD": "wrong-pass"},
        )
        good = cli(
            "collect",
            "bluesky",
            path,
            "--search",
            "x",
            "--handle",
            "me.bsky.social",
            "--api-url",
            server.url,
            "--pds-url",
            server.url,
            env={"ASKSCOPE_BLUESKY_APP_PASSWORD": "app-pass-1234"},
        )
    assert bad.returncode == 1 and "Error: bluesky: the API refused the credentials (HTTP 401" in bad.stderr
    assert "wrong-pass" not in bad.stderr + bad.stdout
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines()[1].startswith("read 3 = new 3 + updated 0 + unchanged 0 + rejected 0")
    with open(path, "rb") as handle:
        stored = handle.read()
    assert b"app-pass-1234" not in stored and b"jwt-abc" not in stored


def test_reddit_app_credentials_get_a_token_used_for_every_request(tmp_path):
    thread = reddit_thread()
    tokens: list[str] = []

    def routes(seen: Seen) -> Reply | None:
        if seen.path == "/api/v1/access_token":
            # Basic base64("my-id:my-secret"); PRAW's recorded token answer.
            if seen.headers.get("authorization") == "Basic bXktaWQ6bXktc2VjcmV0" and seen.form == {
                "grant_type": "client_credentials"
            }:
                return Reply(
                    body=b'{"access_token": "tok-42", "token_type": "bearer", "expires_in": 3600, "scope": "*"}'
                )
            return Reply(401, b'{"message": "Unauthorized", "error": 401}')
        tokens.append(seen.headers.get("authorization", ""))
        return thread(seen)

    path = str(tmp_path / "oauth.duckdb")
    with ReplayServer(routes) as server:
        good = cli(
            "collect",
            "reddit",
            path,
            REDDIT_THREAD,
            "--api-url",
            server.url,
            "--token-url",
            server.url + "/api/v1/access_token",
            env={"ASKSCOPE_REDDIT_CLIENT_ID": "my-id", "ASKSCOPE_REDDIT_CLIENT_SECRET": "my-secret"},
        )
        bad = cli(
            "collect",
            "reddit",
            str(tmp_path / "bad.duckdb"),
            REDDIT_THREAD,
            "--api-url",
            server.url,
            "--token-url",
            server.url + "/api/v1/access_token",
            env={"ASKSCOPE_REDDIT_CLIENT_ID": "my-id", "ASKSCOPE_REDDIT_CLIENT_SECRET": "wrong"},
        )
    assert good.returncode == 0, good.stderr
    assert len(tokens) == 19 and set(tokens) == {"bearer tok-42"}
    assert bad.returncode == 1 and "Error: reddit: the API refused the credentials (HTTP 401" in bad.stderr
    assert "Hint: check ASKSCOPE_REDDIT_CLIENT_ID" in bad.stderr and "wrong" not in bad.stderr + bad.stdout
