"""A report a comms team can read (issue 16, the report items): every metric row is a plain label,
a value and a 95% interval (nothing else in that column), every label has a glossary entry, no
``None``/``n/a``/degenerate interval anywhere, the Markdown has every table of the HTML, times
are in the campaign's time zone with the year, the reply-community row is left out without
igraph, and printing keeps headings with their content.

Checked on two stores: the hand-made campaign of tests/lens_campaign.py and the bundled demo
(``askscope demo``, real posts and the bundled classifiers)."""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import run_cli
from lens_campaign import CAMPAIGN, analysed_store

from askscope.campaign import CampaignError, parse_campaign
from askscope.reports import document, to_html, to_json, to_markdown
from askscope.reports.blocks import PostList
from askscope.reports.builtin_sections import LEIDEN_NOTE, glossary_terms, tables
from askscope.reports.charts import hostile_over_time, timeline
from askscope.reports.format import ci, when
from askscope.reports.glossary import GLOSSARY
from askscope.reports.tables import METRIC_COLUMNS

#: An interval cell: "low–high" with a unit (%, h, min, ×) or nothing at all.
INTERVAL = re.compile(r"^(-?[\d.,]+(?:%| h| min|×)?)–(-?[\d.,]+(?:%| h| min|×)?)$")


@pytest.fixture(scope="module")
def lens_doc() -> dict[str, Any]:
    return document(str(analysed_store("campaign")))


@pytest.fixture(scope="module")
def demo_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("demo") / "demo"
    proc = run_cli("demo", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return document(str(out / "demo.duckdb"))


@pytest.fixture(params=["lens", "demo"])
def doc(request: pytest.FixtureRequest) -> dict[str, Any]:
    found: dict[str, Any] = request.getfixturevalue(f"{request.param}_doc")
    return found


# --- 1. tables a reader understands ---------------------------------------------------------------


def test_the_interval_columns_hold_intervals_only(doc):
    checked = 0
    for table in tables(doc):
        for row in table.rows:
            assert len(row) == len(table.columns), (table.title, row)
            for index in table.intervals:
                cell = row[index]
                if cell:
                    match = INTERVAL.match(cell)
                    assert match, (table.title, row)
                    assert match.group(1) != match.group(2), (table.title, row)  # never "15.00–15.00"
                    checked += 1
    assert checked > 10


def test_metric_tables_are_label_value_interval_notes(doc):
    metric = [t for t in tables(doc) if t.columns == METRIC_COLUMNS]
    assert {t.title for t in metric} >= {"Volume", "Signs of backlash", "Answers", "Dialogue", "Audience"}
    labels = [row[0] for t in metric for row in t.rows]
    # what used to share the interval column is a row of its own: "campaign posts 103 | 81 / 22",
    # "posts per hour 4.29 | 51 at ...", "participants 29 | 74,905"
    assert {"posts by participants", "posts by the host", "busiest hour"} <= set(labels)
    for t in metric:
        for label, value, interval, _ in t.rows:
            assert value and "/" not in interval and " at " not in interval, (t.title, label)


def test_every_label_has_a_glossary_entry_shown_in_both_formats(doc):
    terms = glossary_terms(doc)
    assert [term for term, meaning in terms if not meaning] == []
    labels = {row[0] for t in tables(doc) if t.glossed for row in t.rows}
    assert labels <= set(GLOSSARY) and labels <= {term for term, _ in terms}
    markdown, page = to_markdown(doc), html.unescape(to_html(doc))
    assert "## Glossary" in markdown and "<h2>Glossary</h2>" in page
    for term, meaning in terms:
        assert f"<td>{term}</td><td>{meaning}</td>" in page
    assert "| virality gap | How many times as often hostile posts were reposted" in markdown


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_no_none_no_na_no_degenerate_interval_in_either_format(doc, fmt):
    text = to_markdown(doc) if fmt == "md" else html.unescape(to_html(doc))
    assert "None" not in text
    assert "n/a" not in text and "nan" not in re.findall(r"\bnan\b", text)
    degenerate = re.findall(r"(?<![\d.,])(-?[\d.,]+(?:%| h| min)?)–\1(?![\d.,%])", text)
    assert degenerate == []


def test_no_jargon_in_the_tables(doc):
    for table in tables(doc):
        if table.texts:  # post texts are as written
            continue
        for row in table.rows:
            assert not re.search(r"[a-z]_[a-z]", row[0]), (table.title, row)  # no snake_case label
    markdown = to_markdown(doc)
    assert "co reply" not in markdown and "Goh–Barabási" not in html.unescape(to_html(doc))
    assert "replies to the same post" in markdown


def test_frame_names_are_shown_without_snake_case(lens_doc):
    doc = copy.deepcopy(lens_doc)
    frames = doc["lenses"]["framing"]["frames"]
    frames["free_rides"] = frames.pop("freedom")
    markdown, page = to_markdown(doc), to_html(doc)
    assert "| free rides | " in markdown and "<td>free rides</td>" in page
    assert "free_rides" not in page.split("<h2>Framing</h2>")[1].split("</table>")[0]


def test_plurals_are_right():
    one = PostList("t", [{"author": "a", "text": "x", "reposts": 1}, {"author": "b", "text": "y", "reposts": 2}])
    assert one.markdown().splitlines()[2:] == ["- 1 repost, @a: x", "- 2 reposts, @b: y"]


def test_the_markdown_has_every_table_of_the_html(doc):
    markdown, page = to_markdown(doc), to_html(doc)
    md = [
        re.sub(r"\\(.)", r"\1", line.lstrip("#").strip())
        for line in markdown.splitlines()
        if line.startswith(("## ", "### "))
    ]
    # the HTML's h2 and h3 headings, leaving out the verdict cards (one per lens: bullets in Markdown)
    shown = [
        html.unescape(m.group(2))
        for m in re.finditer(r"(<section class=\"verdict\">)?<h[23]>(.*?)</h[23]>", page)
        if not m.group(1)
    ]
    assert md == shown
    assert {"Classifiers", "Coverage", "Volume", "Answers", "What the labels mean"} <= set(md)


# --- 2. times in the campaign's time zone -----------------------------------------------------------


def test_when_shows_the_zone_and_the_year():
    # 03:00 UTC on 15 Dec 2014 is 14:00 in Sydney (daylight saving, UTC+11: AEDT)
    assert when("2014-12-15T03:00:00Z", ZoneInfo("Australia/Sydney")) == "15 Dec 2014 14:00 AEDT"
    # 10:00 UTC on 18 May 2021 is 06:00 in New York (EDT, UTC-4)
    assert when("2021-05-18T10:00:00+00:00", ZoneInfo("America/New_York")) == "18 May 2021 06:00 EDT"
    assert when("2021-05-18T10:00:00Z", ZoneInfo("UTC")) == "18 May 2021 10:00 UTC"
    assert when(None, ZoneInfo("UTC")) == ""


def test_the_timezone_key_of_the_campaign_file():
    assert parse_campaign(CAMPAIGN).timezone == "UTC"
    sydney = parse_campaign({**CAMPAIGN, "timezone": "Australia/Sydney"})
    assert sydney.timezone == "Australia/Sydney" and sydney.as_dict()["timezone"] == "Australia/Sydney"
    for bad in ("Mars/Olympus_Mons", "", 11, "../../etc/passwd"):
        with pytest.raises(CampaignError) as error:
            parse_campaign({**CAMPAIGN, "timezone": bad}, source="c.toml")
        assert str(error.value).startswith("c.toml: 'timezone'")
        assert 'timezone = "Australia/Sydney"' in error.value.hint


def test_an_unknown_timezone_is_an_error_on_the_command_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nhosts = ["h"]\ntimezone = "Sydney"\n')
    proc = run_cli("analyze", str(tmp_path / "none.duckdb"), "--campaign", str(bad))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"Error: {bad}: 'timezone' is not a known time zone: 'Sydney'")


def test_the_report_shows_times_in_the_campaign_zone_and_json_keeps_utc(lens_doc):
    doc = copy.deepcopy(lens_doc)
    doc["campaign"]["timezone"] = "America/New_York"
    markdown, page = to_markdown(doc), to_html(doc)
    # the window 10:00-12:00 UTC on 18 May 2021 is 06:00-08:00 EDT
    assert "Window: 18 May 2021 06:00 EDT to 18 May 2021 08:00 EDT" in markdown
    assert "Window 18 May 2021 06:00 EDT to 18 May 2021 08:00 EDT" in page
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", markdown + page)  # no raw ISO time shown
    assert json.loads(to_json(doc))["window"]["start"] == "2021-05-18T10:00:00Z"
    # by default (and for stores analysed before the key): UTC
    del doc["campaign"]["timezone"]
    assert "Window: 18 May 2021 10:00 UTC to 18 May 2021 12:00 UTC" in to_markdown(doc)


def test_the_demo_is_in_sydney_time(demo_doc):
    markdown = to_markdown(demo_doc)
    assert "Window: 15 Dec 2014 14:00 AEDT to 16 Dec 2014 14:00 AEDT" in markdown
    assert re.search(r"\| busiest hour \| 51 \|  \| posts from 15 Dec 2014 15:00 AEDT \|", markdown)


def test_chart_time_axes_are_in_the_campaign_zone(lens_doc):
    doc = copy.deepcopy(lens_doc)
    doc["campaign"]["timezone"] = "America/New_York"
    svg = (timeline(doc, "svg") or b"").decode()
    assert "time (America/New_York)" in svg
    # the posts run from 10:00 to 11:50 UTC: 06:00 to 07:50 in New York; no tick at a UTC hour
    ticks = re.findall(r"18 May 2021 (\d\d):(\d\d)", svg)
    assert ticks and all(6 <= int(h) <= 8 for h, _ in ticks)


# --- 3. reply communities without igraph ------------------------------------------------------------


def test_reply_community_row_is_left_out_without_igraph(lens_doc):
    doc = copy.deepcopy(lens_doc)
    doc["lenses"]["engagement"]["diversity"]["reply_community"] = {
        "value": None,
        "categories": 0,
        "n": 0,
        "method": "igraph not installed",
    }
    markdown, page = to_markdown(doc), html.unescape(to_html(doc))
    for text in (re.sub(r"\\(.)", r"\1", markdown), page):
        assert "reply-community diversity" not in text
        assert "not installed" not in text
        assert "pip install 'askscope[leiden]'" in text
    assert f"- {LEIDEN_NOTE}".replace("[", "\\[").replace("]", "\\]") in markdown
    # with the communities found, the row is there and the note is not
    doc["lenses"]["engagement"]["diversity"]["reply_community"] = {"value": 0.5, "categories": 3, "n": 9}
    markdown = to_markdown(doc)
    assert (
        "| reply-community diversity | 0.50 |  | 3 communities |" in markdown and "askscope\\[leiden\\]" not in markdown
    )


# --- 6. charts ------------------------------------------------------------------------------------


def test_the_hostile_share_chart_labels_the_half_line_and_states_the_minimum(demo_doc):
    svg = (hostile_over_time(demo_doc, "svg") or b"").decode()
    assert "half of the posts" in svg  # the 0.5 line, in the legend
    assert (
        "fewer than 10 participants&#39; posts are gaps" in svg or "fewer than 10 participants' posts are gaps" in svg
    )


def test_ci_leaves_out_a_degenerate_interval():
    assert ci({"value": 0.5, "ci": [0.2, 0.8]}) == "20%–80%"
    assert ci({"value": 15.0, "ci": [15.0, 15.0]}, percent=False) == ""
    assert ci({"value": 0.004, "ci": [0.001, 0.004]}) == "0.1%–0.4%"
    assert ci({"value": None, "ci": [None, None]}) == "" and ci(None) == ""


# --- 4. printing ----------------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("chromium") is None and not os.environ.get("ASKSCOPE_REQUIRE_BROWSER"),
    reason="needs Debian's chromium (.ci/run installs it and sets ASKSCOPE_REQUIRE_BROWSER)",
)
def test_printing_keeps_headings_with_their_content(demo_doc, tmp_path):
    import pypdf
    from playwright.sync_api import sync_playwright

    page_html = tmp_path / "report.html"
    page_html.write_text(to_html(demo_doc))
    pdf = tmp_path / "report.pdf"
    headings = [html.unescape(t) for t in re.findall(r"<h[23]>(.*?)</h[23]>", page_html.read_text())]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(page_html.as_uri())
        page.emulate_media(media="print")
        styles = page.evaluate(
            """() => ({
                h2: getComputedStyle(document.querySelector('h2')).breakAfter,
                h3: getComputedStyle(document.querySelector('div.block h3')).breakAfter,
                table: getComputedStyle(document.querySelector('table')).breakInside,
                figure: getComputedStyle(document.querySelector('figure')).breakInside,
                verdict: getComputedStyle(document.querySelector('.verdict')).breakInside,
            })"""
        )
        page.pdf(path=str(pdf), format="A4")
        browser.close()
    assert styles == {"h2": "avoid", "h3": "avoid", "table": "avoid", "figure": "avoid", "verdict": "avoid"}
    reader = pypdf.PdfReader(str(pdf))
    assert 2 <= len(reader.pages) <= 16
    for number, pdf_page in enumerate(reader.pages):
        lines = [line.strip() for line in (pdf_page.extract_text() or "").splitlines() if line.strip()]
        assert lines, number
        assert lines[-1] not in headings, f"page {number + 1} ends with the heading {lines[-1]!r}"


def test_the_print_stylesheet_exists():
    css = (Path(__file__).parent.parent / "src" / "askscope" / "reports" / "templates" / "report.html").read_text()
    assert "@media print" in css and "break-after: avoid" in css and "break-inside: avoid" in css


def test_verdict_citations_are_set_apart_and_escaped(lens_doc):
    doc = copy.deepcopy(lens_doc)
    doc["verdicts"]["framing"] = "A <b>frame</b> [lenses.framing.frames.free_rides.host], then words."
    page = to_html(doc)
    assert (
        'A &lt;b&gt;frame&lt;/b&gt;<span class="cite"> [lenses.framing.frames.free_rides.host]</span>, then words.'
        in page
    )
    # Markdown keeps the citation inline, escaped
    assert "A \\<b\\>frame\\</b\\> \\[lenses.framing.frames.free\\_rides.host\\], then words." in to_markdown(doc)
