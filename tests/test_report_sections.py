"""The report renders what the lenses stored, through registered sections (issue 12, item 3):
no SQL on the campaign's tables in ``askscope.reports``, the numbers shown are the stored ones,
Markdown and HTML show the same sections in the same order, a plugin's section appears in both
(escaped), and a section whose lens is absent shows nothing."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
from lens_campaign import analysed_store
from statsmodels.stats.proportion import proportion_confint

import askscope
from askscope import registry
from askscope.hookspecs import hookimpl
from askscope.reports import document, report, to_html, to_markdown
from askscope.reports.builtin_sections import AUTHENTICITY_TITLE as AUTHENTICITY
from askscope.reports.builtin_sections import SECTIONS
from askscope.reports.sections import Section
from askscope.reports.verdicts import pct

REPORTS = Path(askscope.__file__).parent / "reports"
#: The campaign's tables: only lenses (and stages) may read them.
CAMPAIGN_TABLES = ("posts", "relations", "labels", "answers", "threads", "thread_roots")
SQL_ON_CAMPAIGN = re.compile(r"\b(FROM|JOIN)\s+(" + "|".join(CAMPAIGN_TABLES) + r")\b", re.IGNORECASE)


def campaign_sql(text: str) -> list[str]:
    """The SQL fragments in ``text`` that read a campaign table."""
    return [m.group(0) for m in SQL_ON_CAMPAIGN.finditer(text)]


def test_the_grep_finds_sql_on_campaign_tables():
    # the check below is only as good as this pattern: it must see the SQL the report used to run
    assert campaign_sql('"SELECT count(*) FROM relations r JOIN posts p ON p.id = r.post_id"') == [
        "FROM relations",
        "JOIN posts",
    ]
    assert campaign_sql("SELECT tr.max_depth FROM thread_roots tr") == ["FROM thread_roots"]
    assert campaign_sql("select * from\n  answers") == ["from\n  answers"]
    assert campaign_sql("SELECT results FROM lens_results; the posts from the lens") == []


def test_reports_run_no_sql_on_the_campaign_tables():
    files = sorted(REPORTS.rglob("*.py")) + sorted(REPORTS.rglob("*.html"))
    assert any(f.name == "document.py" for f in files)
    found = {str(f.relative_to(REPORTS)): campaign_sql(f.read_text()) for f in files}
    assert {name: sql for name, sql in found.items() if sql} == {}
    # stricter: the one table the report's own SQL reads is lens_results (the stage runs come
    # through askscope.stages.base.last_runs)
    tables = {m.group(1) for f in files for m in re.finditer(r"\b(?:FROM|JOIN)\s+(\w+)", f.read_text())}
    assert tables == {"lens_results"}


@pytest.fixture(scope="module")
def store() -> str:
    return str(analysed_store("campaign"))


def wilson(k: int, n: int) -> list[float]:
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return [round(float(low), 6), round(float(high), 6)]


def test_the_timeline_is_the_backfire_lens_series_worked_out_by_hand(store):
    # The hand-made campaign (tests/lens_campaign.py), two hours, so 10-minute buckets. Audience
    # posts of P by bucket: 10:00 2001 crit | 10:10 2002 genq, 2003 mock | 10:20 2004 sup, 2005
    # mock | 10:30 2006 abuse, 2007 sup | 10:40 2008 genq, 2009 oth | 11:00 2010 oth | 11:10 2011
    # oth. Host posts: 10:00 1000, 10:50 3001, 11:10 3002, 11:20 3004, 11:30 3005, 11:50 3003.
    # Hostile = critical, mockery, abuse; intervals are Wilson's (statsmodels).
    doc = json.loads(report(store, format="json"))
    timeline = doc["lenses"]["backfire"]["timeline"]
    assert timeline["bucket"] == "10 minutes"
    got = {p["t"][11:16]: (p["counts"], p["posts"], p.get("host_posts")) for p in timeline["points"]}
    assert got == {
        "10:00": ({"question_critical": 1}, 1, 1),
        "10:10": ({"question_genuine": 1, "mockery": 1}, 2, None),
        "10:20": ({"mockery": 1, "support": 1}, 2, None),
        "10:30": ({"abuse": 1, "support": 1}, 2, None),
        "10:40": ({"question_genuine": 1, "other": 1}, 2, None),
        "10:50": ({}, 0, 1),
        "11:00": ({"other": 1}, 1, None),
        "11:10": ({"other": 1}, 1, 1),
        "11:20": ({}, 0, 1),
        "11:30": ({}, 0, 1),
        "11:50": ({}, 0, 1),
    }
    shares = {p["t"][11:16]: (p["hostile_share"], p["hostile_ci"]) for p in timeline["points"]}
    assert shares["10:00"] == (1.0, wilson(1, 1))
    assert shares["10:20"] == (0.5, wilson(1, 2))
    assert shares["10:40"] == (0.0, wilson(0, 2))
    assert shares["10:50"] == (None, [None, None])  # host posts only: no audience share
    # the audience posts of the timeline add up to the lens's audience
    assert sum(p["posts"] for p in timeline["points"]) == doc["lenses"]["backfire"]["volume"]["audience_posts"] == 11


def test_histograms_come_from_the_engagement_lens_worked_out_by_hand(store):
    engagement = json.loads(report(store, format="json"))["lenses"]["engagement"]
    # first answers after 45 min (2001 -> 3001), 60 min (2002 -> 3002), 70 min (2008 -> 3003)
    bins = {(b["from_min"], b["to_min"]): b["answers"] for b in engagement["latency_histogram"]}
    assert {k: v for k, v in bins.items() if v} == {(30, 60): 1, (60, 120): 2}
    assert sum(bins.values()) == engagement["answer_latency"]["answered"] == 3
    # threads: 1000 -> 2001 -> 3001 -> 2010 -> 3004 (depth 4); 2008 -> 3003 (1); 2005, 2006,
    # 2007 and 3005 stand alone (0)
    assert engagement["dialogue_depth"]["histogram"] == [
        {"depth": 0, "threads": 4},
        {"depth": 1, "threads": 1},
        {"depth": 4, "threads": 1},
    ]
    assert engagement["dialogue_depth"]["threads"] == 6 and engagement["dialogue_depth"]["max_depth"] == 4


def test_the_report_shows_the_stored_results(store):
    with askscope.open_store(store, read_only=True) as db:
        stored = json.loads(db.con.execute("SELECT results FROM lens_results").fetchall()[0][0])
    doc = json.loads(report(store, format="json"))
    # every lens result in the report is the stored one; the store lens becomes top-level keys
    assert doc["lenses"] == {name: value for name, value in stored.items() if name != "store"}
    assert doc["store"] == stored["store"]["counts"] and doc["classifiers"] == stored["store"]["classifiers"]
    assert doc["window"] == stored["store"]["window"] and doc["hosts"] == stored["store"]["hosts"]
    assert doc["coverage"]["api_errors"] == stored["store"]["api_errors"]
    # the numbers the Markdown and HTML show are those stored values
    hostile = stored["backfire"]["hostile_share"]
    low, high = hostile["ci"]
    markdown = report(store, format="md")
    assert f"| hostile | {pct(hostile['value'])} | {pct(low)}–{pct(high)} |" in markdown
    page = report(store, format="html")
    assert f'<td class="num">{pct(hostile["value"])}</td><td class="ci">{pct(low)}–{pct(high)}</td>' in page
    # posts listed are the posts lens's: 2005 (6 reposts) and 2003 (2) are the mocking posts
    assert [p["id"] for p in stored["posts"]["mocking_posts"]] == ["2005", "2003"]
    assert "- 6 reposts, @u105: lol \\#AskT \\[mock\\] \\[fr\\]" in markdown


def test_a_changed_stored_value_is_what_the_report_shows(store, tmp_path):
    # the report computes nothing: edit the stored timeline and the report follows it
    copy = tmp_path / "c.duckdb"
    shutil.copy(store, copy)
    with askscope.open_store(str(copy)) as db:
        results = json.loads(db.con.execute("SELECT results FROM lens_results").fetchall()[0][0])
        results["backfire"]["timeline"]["points"][0]["posts"] = 12345
        results["posts"]["mocking_posts"][0]["text"] = "edited in lens_results"
        db.con.execute("UPDATE lens_results SET results = ?", [json.dumps(results)])
    doc = json.loads(report(str(copy), format="json"))
    assert doc["lenses"]["backfire"]["timeline"]["points"][0]["posts"] == 12345
    assert "edited in lens\\_results" in report(str(copy), format="md")


def titles(markdown: str, page: str) -> tuple[list[str], list[str]]:
    md = [re.sub(r"\\(.)", r"\1", line[3:]) for line in markdown.splitlines() if line.startswith("## ")]
    return md, [html.unescape(t) for t in re.findall(r"<h2>(.*?)</h2>", page)]


def builtin(shown: list[str]) -> list[str]:
    """The built-in sections' titles among ``shown`` (installed plugins may add their own)."""
    return [title for title in shown if title in {section.title for section in SECTIONS}]


def test_markdown_and_html_show_the_same_sections_in_the_same_order(store):
    md, page = titles(report(store, format="md"), report(store, format="html"))
    assert md == page
    # in the registry's order: every built-in section has something to show for this campaign
    registered = [section.title for section in registry.report_sections()]
    assert md == [title for title in registered if title in md]
    assert builtin(md) == [section.title for section in SECTIONS]
    assert md[0] == "Verdicts" and md[-2:] == ["Methods and caveats", "Glossary"] and len(SECTIONS) == 7


def _md(doc):
    text = doc["lenses"]["backfire"]["hostile_share"]
    return f"## A <script>plugin</script> section\n\nhostile share {text['value']} <script>alert(1)</script>"


def _html(doc):
    from markupsafe import Markup

    value = doc["lenses"]["backfire"]["hostile_share"]["value"]
    return Markup("<h2>{}</h2><p>hostile share {} {}</p>").format(
        "A <script>plugin</script> section", value, "<script>alert(1)</script>"
    )


class SectionPlugin:
    @hookimpl
    def askscope_report_sections(self) -> list[Section]:
        return [Section(name="plugin", title="A <script>plugin</script> section", order=45, markdown=_md, html=_html)]


def test_a_plugin_section_appears_in_both_formats_escaped(store):
    doc = document(store)
    value = doc["lenses"]["backfire"]["hostile_share"]["value"]
    registry.register(SectionPlugin(), name="test-section")
    try:
        markdown, page = to_markdown(doc), to_html(doc)
    finally:
        registry.unregister("test-section")
    assert f"hostile share {value} " in markdown
    assert f"<p>hostile share {value} &lt;script&gt;alert(1)&lt;/script&gt;</p>" in page
    assert "<script" not in page
    # in order: after framing (40), before authenticity (50)
    md, shown = titles(markdown, page)
    assert md == shown
    assert shown.index("Framing") < shown.index("A <script>plugin</script> section") < shown.index(AUTHENTICITY)
    # unregistered, it is gone
    assert "plugin" not in to_html(doc) and "hostile share " + str(value) not in to_markdown(doc)


def test_a_section_whose_lens_is_absent_shows_nothing(store):
    doc = document(store)
    full_md, full_html = to_markdown(doc), to_html(doc)
    assert f"## {AUTHENTICITY}" in full_md and f"<h2>{AUTHENTICITY}</h2>" in full_html
    del doc["lenses"]["authenticity"]
    md, page = titles(to_markdown(doc), to_html(doc))
    assert md == page and AUTHENTICITY not in md and len(builtin(md)) == len(SECTIONS) - 1
    del doc["lenses"]["posts"]
    markdown, page = to_markdown(doc), to_html(doc)
    assert "Most reposted mocking posts" not in markdown and "Most reposted mocking posts" not in page
    assert "Unanswered questions" not in markdown and "Unanswered questions" not in page


def test_a_store_analysed_before_the_store_lens_is_an_error_with_a_hint(store, tmp_path):
    copy = tmp_path / "old.duckdb"
    shutil.copy(store, copy)
    with askscope.open_store(str(copy)) as db:
        results = json.loads(db.con.execute("SELECT results FROM lens_results").fetchall()[0][0])
        del results["store"]
        db.con.execute("UPDATE lens_results SET results = ?", [json.dumps(results)])
    from conftest import run_cli

    proc = run_cli("report", str(copy), "-o", str(tmp_path / "r.md"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: ") and "analysed by an older askscope" in proc.stderr
    assert "askscope analyze" in proc.stderr and "Traceback" not in proc.stderr


def test_docs_list_every_key_of_the_report(store):
    # docs/report.md's key table names each top-level key of the document and each lens under
    # `lenses.<name>`; a key added or dropped without the docs fails here
    table = Path(__file__).parent.parent / "docs" / "report.md"
    rows = [line.split("|")[1] for line in table.read_text().splitlines() if line.startswith("| `")]
    named = {key for cell in rows for key in re.findall(r"`([a-z_.\[\]]+)`", cell)}
    documented = {key.removesuffix("[]") for key in named}
    doc = json.loads(report(store, format="json"))
    assert set(doc) == {key for key in documented if "." not in key}
    lenses = {key.split(".", 1)[1] for key in documented if key.startswith("lenses.")}
    assert set(doc["lenses"]) <= lenses and {"posts", "validation"} <= lenses
