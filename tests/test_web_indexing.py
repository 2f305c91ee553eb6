"""The explorer table is built in the background when the app starts: meanwhile pages answer
through the direct queries (the same counts) and say that the posts are being indexed; once it
is built, pages read it and the banner is gone."""

from __future__ import annotations

import shutil
import threading
import time

from fastapi.testclient import TestClient
from lens_campaign import analysed_store

from askscope.web import textindex
from askscope.web.app import create_app
from askscope.web.routes import overview

HTML = {"accept": "text/html"}


def _ready(handle) -> bool:
    with handle.reading() as r:
        cursor = handle.explore(r, wait=False)
    if cursor is None:
        return False
    cursor.close()
    return True


def test_pages_answer_while_the_explorer_is_built_then_use_it(tmp_path, monkeypatch) -> None:
    db = tmp_path / "campaign.duckdb"
    shutil.copyfile(analysed_store("campaign"), db)
    release = threading.Event()
    build = textindex.build

    def held_build(memory) -> None:  # the background build waits until the test lets it finish
        assert release.wait(120)
        build(memory)

    monkeypatch.setattr(textindex, "build", held_build)
    monkeypatch.setattr(overview, "WAIT_FOR_EXPLORER", 0)  # the overview treats the store as large
    with TestClient(create_app([str(db)])) as client:
        handle = client.app.state.stores["campaign"]
        assert handle.indexing is not None  # started with the app
        # tests/lens_campaign.py: 4 hostile posts (2001, 2003, 2005, 2006), answered by the direct query
        page = client.get("/posts?category=hostile", headers=HTML)
        assert page.status_code == 200 and 'data-count="4"' in page.text
        assert 'id="indexing"' in page.text and "Indexing the posts" in page.text
        assert client.get("/api/posts", params={"q": "freedom"}).json()["count"] == 1  # 2004
        assert not _ready(handle)
        # the overview: the stored lists now, what is counted on the explorer table once it is built
        first = client.get("/", headers=HTML).text
        assert 'id="list-mocking_posts"' in first and 'id="drilldown-pending"' in first
        assert 'id="top-accounts"' not in first and 'id="chart-languages"' not in first
        release.set()
        deadline = time.monotonic() + 120
        while handle.indexing is not None:
            assert time.monotonic() < deadline, "the background build did not end"
            time.sleep(0.05)
        assert _ready(handle)
        page = client.get("/posts?category=hostile", headers=HTML)
        assert 'data-count="4"' in page.text and 'id="indexing"' not in page.text
        assert client.get("/api/posts", params={"q": "freedom"}).json()["count"] == 1
        after = client.get("/", headers=HTML).text
        assert 'id="top-accounts"' in after and 'id="chart-languages"' in after
        assert 'id="drilldown-pending"' not in after


def test_no_background_build_when_not_asked(tmp_path) -> None:
    db = tmp_path / "campaign.duckdb"
    shutil.copyfile(analysed_store("campaign"), db)
    with TestClient(create_app([str(db)], index_on_start=False)) as client:
        handle = client.app.state.stores["campaign"]
        assert handle.indexing is None
        assert client.get("/", headers=HTML).status_code == 200
        assert handle.indexing is None  # the overview reads the stored results, not the explorer
