"""The web app in a real browser (Debian's Chromium through Playwright) on a real server (uvicorn
on a free port): every page loads without a CSP violation; from every number on the overview a
click leads to a page whose count is that number; hostile payloads in posts, names, URLs, the
campaign's name and its frames run nothing; the overview fits 1400 px and 420 px widths; the
token is asked for and then kept in a cookie."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from lens_campaign import analysed_store
from web_server import chromium, needs_browser, served, xss_store

from askscope.web.app import create_app

pytestmark = needs_browser  # every wait below has a timeout: TIMEOUT_MS, and the server start (web_server.served)

TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def campaign_db(tmp_path_factory) -> str:
    db = tmp_path_factory.mktemp("web-browser") / "campaign.duckdb"
    shutil.copyfile(analysed_store("campaign"), db)
    return str(db)


def _page(browser: Any, width: int = 1400) -> tuple[Any, list[str]]:
    """A page that records dialogs, console errors (a CSP violation is one) and failed requests."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    return page, problems


def test_each_page_loads_without_a_policy_violation(campaign_db) -> None:
    with served(create_app([campaign_db])) as base, chromium() as browser:
        page, problems = _page(browser)
        for path, heading in (
            ("/", "AskT"),
            ("/posts", "Posts"),
            ("/posts?set=questions&answered=no", "Posts"),
            ("/posts/x/2001", "Post by @u101"),
            ("/api/docs", "JSON API"),
        ):
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            assert page.inner_text("h1") == heading, path
        # the chart images load (served as SVG images)
        page.goto(base + "/")
        page.wait_for_load_state("networkidle")
        widths = page.eval_on_selector_all(".charts img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
        assert widths and all(w and w > 0 for w in widths), widths
        assert problems == []


def test_every_number_on_the_overview_leads_to_as_many_posts(campaign_db) -> None:
    with served(create_app([campaign_db])) as base, chromium() as browser:
        page, problems = _page(browser)
        page.goto(base + "/")
        numbers = page.eval_on_selector_all(
            "a.count-link, svg.bars a, figure.hbars a", "links => links.map(a => a.getAttribute('data-count'))"
        )
        assert len(numbers) >= 20
        # the charts' bars: the tooltip (the SVG <title> shown on hover) says the number clicked
        tips = page.eval_on_selector_all(
            "figure.hbars a",
            "links => links.map(a => [a.getAttribute('data-count'), a.querySelector('title').textContent])",
        )
        assert len(tips) >= 8 and all(f": {count} " in tip for count, tip in tips), tips
        for i, number in enumerate(numbers):
            page.goto(base + "/")
            link = page.locator("a.count-link, svg.bars a, figure.hbars a").nth(i)
            with page.expect_navigation():
                link.click()
            shown = page.get_attribute("#post-count", "data-count")
            assert shown == number, (i, page.url, shown, number)
            # the list shows as many posts as the count (up to a page: 50)
            assert page.locator("ol.posts > li").count() == min(int(number), 50), page.url
            assert page.inner_text("#filter-words")  # the filter in words
        assert problems == []


def test_hostile_payloads_run_nothing(tmp_path) -> None:
    db = xss_store(tmp_path)
    with served(create_app([db])) as base, chromium() as browser:
        page, problems = _page(browser)
        paths = ["/", "/posts", "/posts?set=all", "/posts?set=host", "/api/docs"]
        paths += [f"/posts/x/{i}" for i in ("1000", "2000", "2001", "2002", "2003", "2004", "2005", "2006", "3000")]
        for path in paths:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            for element in page.query_selector_all("a, td, div.text, h1, span")[:150]:
                if element.is_visible():
                    element.hover(timeout=5_000)
            assert page.evaluate("typeof window.__xss") == "undefined", path
            # nothing the payloads would create: only the app's own script, no frame, no injected image
            scripts = page.eval_on_selector_all("script", "s => s.map(x => x.getAttribute('src'))")
            assert scripts == ["/static/app.js"], (path, scripts)
            assert page.evaluate("document.querySelectorAll('iframe, svg [onload], img[src=\"x\"], style').length") == 0
            assert page.evaluate("document.querySelectorAll('a[href^=\"javascript\" i]').length") == 0, path
        # the payloads are shown, as text
        page.goto(base + "/posts?set=all")
        assert "<script>window.__xss = 1</script>" in page.inner_text("body")
        page.goto(base + "/")
        assert "Ask <script>window.__xss=9</script>" in page.inner_text("h1")
        assert problems == [], problems


@pytest.mark.parametrize("width", [1400, 420])
def test_the_overview_fits_the_width(campaign_db, tmp_path, width) -> None:
    with served(create_app([campaign_db])) as base, chromium() as browser:
        page, problems = _page(browser, width)
        page.goto(base + "/")
        page.wait_for_load_state("networkidle")
        shot = tmp_path / f"overview-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, (width, scroll, inner)
        for path in ("/posts", "/posts/x/2001"):
            page.goto(base + path)
            scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll <= inner, (path, width, scroll, inner)
        assert problems == []


def test_the_token_is_asked_for_then_kept_in_a_cookie(campaign_db) -> None:
    with served(create_app([campaign_db], token="browser-token-1")) as base, chromium() as browser:
        page, _ = _page(browser)
        response = page.goto(base + "/")
        assert response is not None and response.status == 401
        response = page.goto(base + "/?token=browser-token-1")
        assert response is not None and response.status == 200
        assert page.url == base + "/"  # the token left the address bar
        response = page.goto(base + "/posts?category=hostile")
        assert response is not None and response.status == 200
        assert page.get_attribute("#post-count", "data-count") == "4"
