"""Helpers of the web app's tests: a real uvicorn server on a free port (in a thread), Debian's
Chromium through Playwright, and a store with hostile payloads in every text it shows."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import shared
from test_report import RuleLabeler

import askscope
from askscope.analysis import analyze
from askscope.campaign import parse_campaign

#: Every browser test is skipped without Chromium, unless CI requires it (.ci/run sets the variable).
needs_browser = pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("ASKSCOPE_REQUIRE_BROWSER"),
    reason="needs Debian's chromium (.ci/run installs it and sets ASKSCOPE_REQUIRE_BROWSER)",
)

XSS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss=2">',
    '"><svg onload=window.__xss=3>',
    "javascript:window.__xss=4",
    '<iframe src="javascript:window.__xss=5"></iframe>',
    "</textarea><style>body{display:none}</style>",
    "{{ 7*7 }}' onmouseover='window.__xss=6",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app served by uvicorn in a thread; yields its base URL (``http://127.0.0.1:PORT``)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
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
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's) driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
            timeout=60_000,
        )
        try:
            yield browser
        finally:
            browser.close()


def xss_store(folder: Path) -> str:
    """An analysed store whose post texts, author names and handles, URLs, campaign name and frame
    name hold the payloads of :data:`XSS`."""
    page = json.loads(open(shared("fixtures", "x-v2", "two_tweets.jsonl")).read())
    host = {"id": "900", "username": "HostHandle", "name": XSS[2], "created_at": "2015-01-01T00:00:00.000Z"}
    tweets: list[dict[str, Any]] = [
        {
            "id": "1000",
            "text": "Ask me anything #AskXSS",
            "author_id": "900",
            "created_at": "2021-05-18T10:00:00.000Z",
            "entities": {"hashtags": [{"tag": "AskXSS"}]},
            "public_metrics": {"retweet_count": 5, "reply_count": 9, "like_count": 1, "quote_count": 0},
        }
    ]
    users = [host]
    for i, payload in enumerate(XSS):
        uid = str(100 + i)
        users.append({"id": uid, "username": f"u{i}", "name": payload, "created_at": "2015-01-01T00:00:00.000Z"})
        tweets.append(
            {
                "id": str(2000 + i),
                "text": f"@HostHandle {payload} why? lol http://evil.example/{i}?q=<b>x</b> #AskXSS",
                "author_id": uid,
                "created_at": f"2021-05-18T10:{10 + i}:00.000Z",
                "conversation_id": "1000",
                "in_reply_to_user_id": "900",
                "referenced_tweets": [{"type": "replied_to", "id": "1000"}],
                "entities": {
                    "hashtags": [{"tag": "AskXSS"}],
                    "mentions": [{"username": "HostHandle", "id": "900"}],
                    "urls": [{"url": "https://t.co/x", "expanded_url": f"javascript:alert({i})//<script>"}],
                },
                "public_metrics": {"retweet_count": 10 - i, "reply_count": 1, "like_count": 0, "quote_count": 0},
            }
        )
        tweets.append(
            {
                "id": str(3000 + i),
                "text": f"@u{i} {payload} thank you",
                "author_id": "900",
                "created_at": f"2021-05-18T10:{30 + i}:00.000Z",
                "conversation_id": "1000",
                "in_reply_to_user_id": uid,
                "referenced_tweets": [{"type": "replied_to", "id": str(2000 + i)}],
                "public_metrics": {"retweet_count": 3, "reply_count": 0, "like_count": 2, "quote_count": 0},
            }
        )
    page.update({"data": tweets, "includes": {"users": users}})
    source = folder / "xss.jsonl"
    source.write_text(json.dumps(page) + "\n")
    db = str(folder / "xss.duckdb")
    askscope.ingest(db, [str(source)])
    campaign = parse_campaign(
        {
            "name": "Ask <script>window.__xss=9</script>",
            "hosts": ["HostHandle"],
            "hashtags": ["AskXSS"],
            "frames": {"<b onmouseover=window.__xss=8>frame</b>": {"keywords": ["why"]}},
        }
    )
    analyze(db, campaign, settings={"labeler": RuleLabeler()})
    # a planted non-http URL on one post (readers build URLs from ids; a store from elsewhere may not)
    with askscope.open_store(db) as store:
        store.con.execute("UPDATE posts SET url = 'javascript:window.__xss=10' WHERE id = '2000'")
        store.con.execute("UPDATE posts SET author_handle = '<img src=x onerror=window.__xss=11>' WHERE id = '2001'")
    return db


def texts_store(folder: Path, texts: list[str]) -> str:
    """An analysed store whose audience posts (replies to the host's opening post, ids 2000,
    2001, ...) have the given texts, in that order."""
    page = json.loads(open(shared("fixtures", "x-v2", "two_tweets.jsonl")).read())
    host = {"id": "900", "username": "HostHandle", "name": "Host", "created_at": "2015-01-01T00:00:00.000Z"}
    tweets: list[dict[str, Any]] = [
        {
            "id": "1000",
            "text": "Ask me anything #AskTexts",
            "author_id": "900",
            "created_at": "2021-05-18T10:00:00.000Z",
            "entities": {"hashtags": [{"tag": "AskTexts"}]},
            "public_metrics": {"retweet_count": 0, "reply_count": len(texts), "like_count": 0, "quote_count": 0},
        }
    ]
    users = [host]
    for i, text in enumerate(texts):
        uid = str(100 + i)
        users.append({"id": uid, "username": f"u{i}", "name": f"u{i}", "created_at": "2015-01-01T00:00:00.000Z"})
        tweets.append(
            {
                "id": str(2000 + i),
                "text": text,
                "author_id": uid,
                "created_at": f"2021-05-18T10:{(10 + i) % 60:02d}:00.000Z",
                "conversation_id": "1000",
                "in_reply_to_user_id": "900",
                "referenced_tweets": [{"type": "replied_to", "id": "1000"}],
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
            }
        )
    page.update({"data": tweets, "includes": {"users": users}})
    source = folder / "texts.jsonl"
    source.write_text(json.dumps(page) + "\n")
    db = str(folder / "texts.duckdb")
    askscope.ingest(db, [str(source)])
    analyze(db, parse_campaign({"name": "texts", "hosts": ["HostHandle"]}), settings={"labeler": RuleLabeler()})
    return db
