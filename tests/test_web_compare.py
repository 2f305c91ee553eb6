"""Campaigns side by side: the difference intervals against statsmodels and scipy, the headline
numbers of two real campaigns (the demo's Uber Sydney thread and a RumourEval Ferguson thread)
against counts taken from the stores directly, the /compare page and API, and the page in
Chromium."""

from __future__ import annotations

import json
import math

import duckdb
import numpy as np
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from web_campaigns import campaign_store
from web_server import chromium, needs_browser, served

from askscope.store.core import table_names
from askscope.vocabulary import HOSTILE
from askscope.web.compare import (
    HEADLINES,
    Baseline,
    bootstrap_median_difference,
    compare,
    mover,
    newcombe,
    parse_baseline,
    read_campaign,
    wilson,
)

# -- intervals ---------------------------------------------------------------------------------

PAIRS = [
    (12, 81, 10, 48),  # the two real campaigns' hostile shares
    (9, 12, 2, 12),  # their answer rates
    (0, 81, 0, 48),  # nothing in either: the interval still has width
    (22, 22, 4, 5),  # a share of 1
    (1, 1, 0, 7),
    (150, 300, 274, 300),  # Al-Monitor's #AskHamas sample: mocking vs opposed
]


@pytest.mark.parametrize("k1,n1,k2,n2", PAIRS)
def test_newcombe_matches_statsmodels(k1, n1, k2, n2):
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    found = newcombe(k1, n1, k2, n2)
    assert found.value == pytest.approx(k1 / n1 - k2 / n2, abs=1e-12)
    assert (found.low, found.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    assert found.method.startswith("Newcombe")


@pytest.mark.parametrize("k,n", [(0, 5), (12, 81), (81, 81), (1, 2), (500, 1000)])
def test_wilson_matches_statsmodels(k, n):
    assert wilson(k, n) == pytest.approx(proportion_confint(k, n, method="wilson"), abs=1e-12)


def test_mover_by_hand():
    # 0.5 [0.4, 0.6] minus 0.3 [0.2, 0.4]: d = 0.2; L = 0.2 - sqrt(0.1² + 0.1²) = 0.058579;
    # U = 0.2 + sqrt(0.1² + 0.1²) = 0.341421
    found = mover((0.5, 0.4, 0.6), (0.3, 0.2, 0.4))
    assert (found.value, found.low, found.high) == (
        pytest.approx(0.2),
        pytest.approx(0.2 - math.sqrt(0.02)),
        pytest.approx(0.2 + math.sqrt(0.02)),
    )
    # asymmetric: 0.1 [0.0, 0.3] minus 0.2 [0.15, 0.22]: L = -0.1 - sqrt(0.1² + 0.02²) = -0.201980,
    # U = -0.1 + sqrt(0.2² + 0.05²) = 0.106155
    found = mover((0.1, 0.0, 0.3), (0.2, 0.15, 0.22))
    assert found.low == pytest.approx(-0.1 - math.sqrt(0.0104)) and found.high == pytest.approx(
        -0.1 + math.sqrt(0.0425)
    )


def test_bootstrap_of_medians_agrees_with_scipy():
    from scipy.stats import bootstrap

    rng = np.random.default_rng(3)
    a = rng.exponential(3600, size=40)
    b = rng.exponential(900, size=25)
    found = bootstrap_median_difference(a, b, draws=20000, seed=1)
    reference = bootstrap(
        (a, b),
        lambda x, y, axis: np.median(x, axis=axis) - np.median(y, axis=axis),
        n_resamples=20000,
        method="percentile",
        random_state=np.random.default_rng(2),
        vectorized=True,
    ).confidence_interval
    width = reference.high - reference.low
    assert found.value == pytest.approx(np.median(a) - np.median(b))
    # two independent Monte-Carlo runs of the same percentile bootstrap: within 5% of the width
    assert abs(found.low - reference.low) < 0.05 * width and abs(found.high - reference.high) < 0.05 * width
    # seeded: the same values give the same interval
    assert bootstrap_median_difference(a, b, draws=500, seed=4) == bootstrap_median_difference(a, b, draws=500, seed=4)
    assert bootstrap_median_difference([5.0], b).low is None  # one value: no interval


def test_parse_baseline():
    assert parse_baseline("backfire.hostile_share:0.67") == Baseline("backfire.hostile_share", 0.67)
    assert parse_baseline("engagement.answer_rate:0.42:0.3:0.5") == Baseline("engagement.answer_rate", 0.42, 0.3, 0.5)
    for bad, words in [
        ("backfire.nothing:0.5", "unknown metric"),
        ("backfire.hostile_share", "METRIC:VALUE"),
        ("backfire.hostile_share:x", "numbers"),
        ("backfire.hostile_share:0.5:0.6:0.7", "hold the value"),
        ("backfire.hostile_share:nan", "finite"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_baseline(bad)


# -- two real campaigns ------------------------------------------------------------------------


def _read(name: str):
    con = duckdb.connect(str(campaign_store(name)), read_only=True)
    try:
        return read_campaign(con, name, table_names(con)), _counts(con)
    finally:
        con.close()


def _counts(con) -> dict[str, tuple[int, int]]:
    """Hostile and answered counts straight from the tables, independently of the lenses."""
    hostile = con.execute(
        "SELECT count(*) FILTER (WHERE l.label IN (SELECT unnest(?::VARCHAR[]))), count(*) FROM relations r "
        "LEFT JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'discourse' "
        "WHERE r.in_campaign AND r.relation <> 'host'",
        [sorted(HOSTILE)],
    ).fetchone()
    answered = con.execute("SELECT count(answer_id), count(*) FROM answers").fetchone()
    return {"hostile": (int(hostile[0]), int(hostile[1])), "answered": (int(answered[0]), int(answered[1]))}


@pytest.fixture(scope="module")
def campaigns():
    return {name: _read(name) for name in ("uber", "ferguson")}


def test_headlines_of_two_real_campaigns(campaigns):
    uber, uber_counts = campaigns["uber"]
    ferguson, ferguson_counts = campaigns["ferguson"]
    assert uber.title == "Uber Sydney during the Sydney siege"
    assert ferguson.title == "andybankertv on the Ferguson store video"
    # the demo: 103 posts, 81 by the audience (tests/test_demo.py); Ferguson: 53 posts of 17 accounts
    assert uber.stats["backfire.volume.posts"].value == 103
    assert ferguson.stats["backfire.volume.posts"].value == 53
    for campaign, counts in ((uber, uber_counts), (ferguson, ferguson_counts)):
        hostile = campaign.stats["backfire.hostile_share"]
        assert (hostile.k, hostile.n) == counts["hostile"]
        answered = campaign.stats["engagement.answer_rate"]
        assert (answered.k, answered.n) == counts["answered"]
        # the stored Wilson interval is Wilson's (to the stored 6 decimals)
        assert (hostile.low, hostile.high) == pytest.approx(
            proportion_confint(hostile.k, hostile.n, method="wilson"), abs=1e-6
        )
        # the stored median latency is the median of the stored latencies the bootstrap resamples
        latencies = campaign.values["engagement.answer_latency.median_s"]
        assert campaign.stats["engagement.answer_latency.median_s"].value == pytest.approx(float(np.median(latencies)))


def test_comparison_of_two_real_campaigns(campaigns):
    uber, counts_u = campaigns["uber"][0], campaigns["uber"][1]
    ferguson, counts_f = campaigns["ferguson"][0], campaigns["ferguson"][1]
    result = compare([uber, ferguson])
    assert result.reference == "uber"
    rows = {r.headline.key: r for r in result.rows}
    assert [r.headline.key for r in result.rows] == [h.key for h in HEADLINES]
    hostile = rows["backfire.hostile_share"].differences["ferguson"]
    k1, n1 = counts_f["hostile"]
    k2, n2 = counts_u["hostile"]
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert (hostile.value, hostile.low, hostile.high) == (
        pytest.approx(k1 / n1 - k2 / n2),
        pytest.approx(low),
        pytest.approx(high),
    )
    corrected = rows["backfire.hostile_share.corrected"]
    a, b = corrected.stats["ferguson"], corrected.stats["uber"]
    assert corrected.differences["ferguson"] == mover((a.value, a.low, a.high), (b.value, b.low, b.high))
    latency = rows["engagement.answer_latency.median_s"].differences["ferguson"]
    assert latency.method.startswith("bootstrap") and latency.low <= latency.value <= latency.high
    assert rows["backfire.volume.posts"].differences["ferguson"].value == 53 - 103
    assert rows["backfire.volume.posts"].differences["ferguson"].low is None
    # the other way round: the baseline store is the reference, every difference changes sign
    flipped = {r.headline.key: r for r in compare([uber, ferguson], reference="ferguson").rows}
    back = flipped["backfire.hostile_share"].differences["uber"]
    assert back.value == pytest.approx(-hostile.value)
    assert (back.low, back.high) == (pytest.approx(-hostile.high), pytest.approx(-hostile.low))


def test_supplied_baseline(campaigns):
    uber = campaigns["uber"][0]
    # Topsy's #AskJPM figure, "at least two thirds": 0.67 without an interval -> the campaign's own
    # interval shifted by 0.67
    rows = {r.headline.key: r for r in compare([uber], baselines=[Baseline("backfire.hostile_share", 0.67)]).rows}
    row = rows["backfire.hostile_share"]
    s = uber.stats["backfire.hostile_share"]
    d = row.baseline_differences["uber"]
    assert (d.value, d.low, d.high) == (
        pytest.approx(s.value - 0.67),
        pytest.approx(s.low - 0.67),
        pytest.approx(s.high - 0.67),
    )
    # with an interval: MOVER from both intervals
    base = Baseline("backfire.hostile_share", 0.5, 0.4, 0.6)
    row = {r.headline.key: r for r in compare([uber], baselines=[base]).rows}["backfire.hostile_share"]
    assert row.baseline_differences["uber"] == mover((s.value, s.low, s.high), (0.5, 0.4, 0.6))
    assert row.as_dict()["baseline"]["value"] == 0.5


# -- the page and the API ----------------------------------------------------------------------


def _app(tmp_path):
    from askscope.web.app import create_app

    return create_app([str(campaign_store("uber")), str(campaign_store("ferguson"))], snapshot_dir=tmp_path / "snaps")


def _cell(html: str, metric: str) -> str:
    return html.split(f'<tr data-metric="{metric}">')[1].split("</tr>")[0]


def test_compare_page_and_api(campaigns, tmp_path):
    from fastapi.testclient import TestClient

    uber, ferguson = campaigns["uber"][0], campaigns["ferguson"][0]
    expected = compare([uber, ferguson])
    with TestClient(_app(tmp_path)) as client:
        page = client.get("/compare", headers={"accept": "text/html"})
        api = client.get("/api/compare").json()
        based = client.get("/compare?baseline=backfire.hostile_share:0.67", headers={"accept": "text/html"})
        flipped = client.get("/api/compare?baseline_store=ferguson").json()
        bad = client.get("/api/compare?baseline=backfire.hostile_share:lots")
        unknown = client.get("/api/compare?db=nowhere")
        one = client.get("/api/compare?db=ferguson").json()
        blank = client.get("/api/compare?baseline=&baseline_store=")  # the form's empty fields
    assert page.status_code == 200
    assert (
        "Uber Sydney during the Sydney siege" in page.text and "andybankertv on the Ferguson store video" in page.text
    )
    assert api == json.loads(json.dumps(expected.as_dict()))
    # the hostile share row: both campaigns' shares and Newcombe's difference, as the page formats them
    row = _cell(page.text, "backfire.hostile_share")
    hostile = expected.rows[[h.key for h in HEADLINES].index("backfire.hostile_share")]
    d = hostile.differences["ferguson"]
    assert f"{hostile.stats['uber'].value * 100:.1f}%" in row and f"{hostile.stats['ferguson'].value * 100:.1f}%" in row
    assert f"[{d.low * 100:+.1f} pts, {d.high * 100:+.1f} pts]" in row
    assert "no interval" in _cell(page.text, "backfire.volume.posts")
    assert 'class="baseline"' in based.text and "baseline (supplied): 67.0%" in based.text
    assert flipped["reference"] == "ferguson" and set(flipped["rows"][2]["differences"]) == {"uber"}
    assert bad.status_code == 400 and "numbers" in bad.json()["detail"]
    assert unknown.status_code == 404
    assert blank.status_code == 200 and blank.json() == api
    assert [c["name"] for c in one["campaigns"]] == ["ferguson"] and one["rows"][2]["differences"] == {}


@needs_browser
def test_comparing_two_real_campaigns_in_chromium_shows_both(tmp_path):
    with served(_app(tmp_path)) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        assert page.goto(base + "/compare").status == 200
        headers = page.eval_on_selector_all("#comparison th.campaign a", "links => links.map(a => a.textContent)")
        assert headers == ["Uber Sydney during the Sydney siege", "andybankertv on the Ferguson store video"]
        cells = page.eval_on_selector_all(
            "tr[data-metric='engagement.answer_rate'] td", "tds => tds.map(td => td.textContent.trim())"
        )
        # answer rates counted from each store's answers table (the bundled question model decides
        # which replies are questions, so the counts are read, not pinned), and their difference
        rates = {}
        for name in ("uber", "ferguson"):
            with duckdb.connect(str(campaign_store(name)), read_only=True) as con:
                k, n = con.execute("SELECT count(answer_id), count(*) FROM answers").fetchone()
            rates[name] = k / n
        assert cells[0].startswith(f"{rates['uber'] * 100:.1f}%")
        assert cells[1].startswith(f"{rates['ferguson'] * 100:.1f}%")
        difference = (rates["ferguson"] - rates["uber"]) * 100
        assert cells[2].startswith(f"{difference:+.1f} pts")
        # choose the Ferguson thread as the baseline in the form
        page.select_option("select[name=baseline_store]", "ferguson")
        page.click("form.filters button[type=submit]")
        page.wait_for_selector("th.campaign .tag")
        assert "baseline" in page.inner_text("th.campaign[data-store=ferguson]")
        cells = page.eval_on_selector_all(
            "tr[data-metric='engagement.answer_rate'] td", "tds => tds.map(td => td.textContent.trim())"
        )
        assert cells[2].startswith(f"{-difference:+.1f} pts")
        # the campaign titles link to each store's overview
        page.click("th.campaign[data-store=uber] a")
        page.wait_for_load_state()
        assert "db=uber" in page.url
        assert problems == []
