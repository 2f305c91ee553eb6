"""The lens and the report section on a real analysis: ``askscope analyze`` and ``askscope report``
of a campaign on the recorded export, whose host is the group member who asked the question.

Worked out by hand from the file (host: user522266589, Muhammad Nasrul, 12 messages): the replies
whose parent is one of his messages are 269069, 269168, 269680, 270194, 270195, 270202 (all by
user311785123) = 6 direct replies; 269169 (-> 269168 -> 269080 -> 269069 -> 269047, his root) and
270196 (-> 270195 -> 270188 -> ... -> 269047) are deeper in his threads = 2 thread replies.
The other 18 messages reply to nobody of his and mention him nowhere. So the campaign's audience
is 8 posts, all Telegram messages, all replies, none with a photo, from 2 accounts
(user311785123: 7, user230072954: 1), in the window 18-21 Feb 2023.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from askscope_telegram.lens import compute
from askscope_telegram.section import TELEGRAM_SECTION
from conftest import EXPORT, rows, run_cli
from markupsafe import Markup
from statsmodels.stats.proportion import proportion_confint

import askscope
from askscope.lenses.common import LensInput

CAMPAIGN = """\
name = "GcpIngress"
platform = "telegram"
hosts = ["user522266589"]
start = 2023-02-18T00:00:00Z
end = 2023-02-21T00:00:00Z
"""


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One ingest + analyze + report (JSON, Markdown, HTML) through the real CLI."""
    folder = tmp_path_factory.mktemp("report")
    db = folder / "t.duckdb"
    (folder / "c.toml").write_text(CAMPAIGN, encoding="utf-8")
    assert run_cli("ingest", str(db), str(EXPORT)).returncode == 0
    result = run_cli("analyze", str(db), "--campaign", str(folder / "c.toml"))
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = {"db": db}
    for suffix in ("json", "md", "html"):
        path = folder / f"report.{suffix}"
        result = run_cli("report", str(db), "-o", str(path))
        assert result.returncode == 0, result.stderr
        out[suffix] = path.read_text(encoding="utf-8")
    out["doc"] = json.loads(out["json"])
    return out


def wilson(k: int, n: int) -> list[float]:
    """The 95% Wilson interval from statsmodels (an implementation independent of askscope's)."""
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return [round(float(low), 6), round(float(high), 6)]


def test_relations_are_those_worked_out_by_hand(analysed: dict[str, Any]) -> None:
    assert rows(
        analysed["db"],
        "SELECT relation, count(*) FROM relations WHERE in_campaign AND relation <> 'host' GROUP BY 1 ORDER BY 1",
    ) == [("direct_reply", 6), ("thread_reply", 2)]


def test_the_lens_is_stored_with_the_hand_worked_numbers(analysed: dict[str, Any]) -> None:
    lens = analysed["doc"]["lenses"]["telegram"]
    assert lens["posts"] == {"value": 8, "n": 8, "method": "count"}
    assert lens["authors"] == {"value": 2, "n": 8, "method": "count"}
    for key, k in (("share_of_campaign", 8), ("reply_share", 8), ("media_share", 0)):
        assert lens[key]["k"] == k and lens[key]["n"] == 8 and lens[key]["value"] == k / 8
        assert lens[key]["ci"] == pytest.approx(wilson(k, 8), abs=1e-6)
    # the chat of the export's first lines: "name", "type", "id"
    assert lens["chats"] == [{"id": "1712691810", "name": "Teknologi Umum v2.0", "type": "public_supergroup"}]
    stored = askscope.metrics(str(analysed["db"]), lens="telegram").to_pylist()
    assert {row["metric"]: row["value"] for row in stored}["posts"] == 8.0


def test_the_report_shows_the_section_in_both_formats(analysed: dict[str, Any]) -> None:
    doc = analysed["doc"]
    markdown = TELEGRAM_SECTION.markdown(doc)
    html = TELEGRAM_SECTION.html(doc)
    # the section's own rendering of the document is what the report holds
    assert markdown.strip() in analysed["md"]
    assert str(html) in analysed["html"]
    assert "8 of the campaign's 8 audience posts are Telegram messages: 100% (95% interval 68%–100%)" in markdown
    assert "0% carry a photo or a file (0%–32%)" in markdown
    assert "Teknologi Umum v2.0 (public\\_supergroup 1712691810)" in markdown
    assert "<li>Teknologi Umum v2.0 (public_supergroup 1712691810)</li>" in str(html)
    # order 60: after the authenticity section (50), before methods (90), in both formats
    md = analysed["md"]
    assert md.index("## Telegram") < md.index("## Methods")
    assert analysed["html"].index("<h2>Telegram</h2>") < analysed["html"].index("<h2>Methods")


def test_values_from_the_export_are_escaped(analysed: dict[str, Any]) -> None:
    doc = json.loads(analysed["json"])
    doc["lenses"]["telegram"]["chats"][0]["name"] = '<script>alert("x")</script>'
    html = str(TELEGRAM_SECTION.html(doc))
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "\\<script\\>" in TELEGRAM_SECTION.markdown(doc)


def test_without_the_lens_the_section_is_left_out(analysed: dict[str, Any]) -> None:
    doc = json.loads(analysed["json"])
    del doc["lenses"]["telegram"]
    assert TELEGRAM_SECTION.markdown(doc) == ""
    assert TELEGRAM_SECTION.html(doc) == Markup("")


def test_the_lens_leaves_out_excluded_accounts(analysed: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(analysed["db"], db)
    with askscope.open_store(str(db)) as store:
        store.con.execute("CREATE TABLE gone (platform VARCHAR, author_id VARCHAR)")

        def lens_without(*authors: str) -> dict[str, Any] | None:
            store.con.execute("DELETE FROM gone")
            for author in authors:
                store.con.execute("INSERT INTO gone VALUES ('telegram', ?)", [author])
            inp = LensInput(store, 0, None, None, {}, False, exclude="gone")
            return compute(inp, {})

        # without user230072954 (one audience post, 270196): 7 posts from 1 account
        without_one = lens_without("user230072954")
        assert without_one is not None
        assert (without_one["posts"]["value"], without_one["authors"]["value"]) == (7, 1)
        # without both audience accounts no campaign post is from Telegram: nothing to say
        assert lens_without("user230072954", "user311785123") is None
