"""Every lens metric of METRICS.md (lenses 1-3 and ``coordinated_share``) on a tiny real store
whose expected values are worked out by hand from the table of posts in ``lens_campaign.py``.

The campaign (window 10:00-12:00, host @Host = 900), audience posts of P (in the window, not by
the host; reposts apart):

    id    author time  relation      category           '?'  RT  lang
    2001  101    10:05 direct_reply  question_critical  yes   4  en
    2002  102    10:10 direct_reply  question_genuine   yes   0  en
    2003  103    10:15 direct_reply  mockery            yes   2  en
    2004  104    10:20 direct_reply  support            no    1  en
    2005  105    10:25 hashtag_only  mockery            no    6  fr
    2006  101    10:30 hashtag_only  abuse              no    0  en
    2007  106    10:35 hashtag_only  support            no    3  de
    2008  107    10:40 mention       question_genuine   yes   0  en
    2009  102    10:45 thread_reply  other              no    0  en
    2010  101    11:00 direct_reply  other              no    0  en
    2011  102    11:15 direct_reply  other              no    0  en

Host posts in P: 1000 (10:00, opening, #AskT), 3001 (10:50, answers 2001), 3002 (11:10, answers
2002), 3003 (11:50, answers 2008), 3004 (11:20, answers the follow-up 2010), 3005 (11:30, "Join
us ... freedom #AskT"). Outside P: 2100 (a repost of 1000) and 2012 (12:30, after the window).
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, datetime, timedelta

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
from lens_campaign import CAMPAIGN, POSTS, SEED, analysed_store, audience_rows

import askscope
from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.classify.quantify import Validation
from askscope.lenses import authenticity as authenticity_module
from askscope.lenses import engagement as engagement_module
from askscope.lenses import stats
from askscope.lenses.audience import Spec, summarise
from askscope.lenses.authenticity import authenticity
from askscope.lenses.backfire import _time_to_backlash, backfire
from askscope.lenses.common import LensInput, bucket_for, campaign_span, load_input
from askscope.lenses.engagement import engagement
from askscope.lenses.framing import framing
from askscope.reports import report


@pytest.fixture
def open_store(tmp_path):
    """Opens a fresh copy of an analysed store (``"campaign"`` or ``"history"``)."""
    opened = []

    def _open(variant: str = "campaign") -> askscope.Store:
        path = tmp_path / f"{variant}.duckdb"
        shutil.copyfile(analysed_store(variant), path)
        store = askscope.open_store(str(path))
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


class Lenses(dict):
    """Lenses 1-3 computed by the code under test when a test first asks for one (a test of lens
    1 runs no lens 2 code: mutation testing then runs only the tests of the mutated lens)."""

    LENSES = {"backfire": backfire, "engagement": engagement, "framing": lambda inp: framing(inp, "10 minutes")}

    def __init__(self, inp: LensInput) -> None:
        super().__init__()
        self.inp = inp

    def __missing__(self, lens: str) -> dict:
        self[lens] = self.LENSES[lens](self.inp)
        return self[lens]


@pytest.fixture
def lenses(open_store):
    """The lenses of the campaign store."""
    return Lenses(load_input(open_store("campaign"), SEED))


@pytest.fixture
def with_history(open_store):
    """The lenses of the same campaign plus posts from before it, with the question label's error
    rates (tpr 0.9, fpr 0.1) known."""
    return Lenses(load_input(open_store("history"), SEED))


def share(value: dict) -> tuple[int, int, float]:
    return value["k"], value["n"], value["value"]


def test_volume(lenses):
    volume = lenses["backfire"]["volume"]
    # |P| = 11 audience posts + 6 host posts = 17 (the repost 2100 and 2012, after the window, are
    # not in P); the window is 2 h, so 17 / 2 = 8.5 posts per hour
    assert (volume["posts"], volume["audience_posts"], volume["host_posts"]) == (17, 11, 6)
    assert (volume["hours"], volume["posts_per_hour"]) == (2.0, 8.5)
    # peak hour 10:00-11:00: 1000, 2001-2009 and 3001 = 11 posts (11:00-12:00 holds the other 6)
    assert volume["peak_hour"] == {"start": "2021-05-18T10:00:00Z", "posts": 11}
    # |U| = authors 101-107 (108 only reposted); one repost of a host post
    assert (volume["authors"], volume["reposts"]) == (7, 1)


def test_hostile_mockery_and_category_shares(lenses):
    backfire = lenses["backfire"]
    # hostile = critical 2001 + mockery 2003, 2005 + abuse 2006 = 4 of 11
    assert share(backfire["hostile_share"]) == (4, 11, round(4 / 11, 6))
    assert share(backfire["mockery_share"]) == (2, 11, round(2 / 11, 6))
    expected = {"question_critical": 1, "question_genuine": 2, "mockery": 2, "abuse": 1, "support": 2, "other": 3}
    assert {c: (v["k"], v["n"]) for c, v in backfire["category_shares"].items()} == {
        c: (k, 11) for c, k in expected.items()
    }
    # no error rates for the discourse labels: nothing to correct
    assert backfire["hostile_share"]["corrected"] is None


def test_virality_gap(lenses):
    gap = lenses["backfire"]["virality_gap"]
    # hostile posts' reposts 4, 2, 6, 0 (mean 3); supportive 1, 3 (mean 2): gap 3 / 2 = 1.5
    assert gap["mean_reposts_hostile"]["value"] == 3.0 and gap["mean_reposts_supportive"]["value"] == 2.0
    assert gap["ratio"]["value"] == 1.5 and gap["ratio"]["n"] == [4, 2]
    # repost-weighted: sum over hostile of 1 + RT = 5 + 3 + 7 + 1 = 16; over all 11 posts
    # 11 + (4 + 2 + 1 + 6 + 3) = 27; 16 / 27
    assert gap["repost_weighted_hostile_share"]["value"] == round(16 / 27, 6)
    low, high = gap["ratio"]["ci"]
    assert low < 1.5 < high


def test_host_ratio(lenses):
    ratio = lenses["backfire"]["host_ratio"]
    # Rep / (L + RT): 1000 9/(1+5) = 1.5; 3001 1/(2+3) = 0.2; 3002 1/0 = inf (replies, no
    # endorsement); 3003 0/0 left out (no engagement); 3004 0/4 = 0; 3005 2/(1+1) = 1.0.
    # Sorted 0, 0.2, 1.0, 1.5, inf: median 1.0; above 1: 1.5 and inf = 2 of 5
    assert (ratio["host_posts"], ratio["with_engagement"]) == (6, 5)
    assert ratio["median"]["value"] == 1.0
    assert share(ratio["share_above_1"]) == (2, 5, 0.4)


def test_capture(lenses):
    capture = lenses["backfire"]["capture"]
    # hashtag_only and not supportive: 2005 (mockery), 2006 (abuse); 2007 is support: 2 of 11
    assert share(capture["hashtag_only_not_supportive"]) == (2, 11, round(2 / 11, 6))
    # tagged posts in the window (reposts apart): 1000, 2005, 2006, 2007, 3005; the host's: 1000, 3005
    assert share(capture["host_share_of_hashtag"]) == (2, 5, 0.4)


def test_time_to_backlash_in_the_campaign(lenses):
    # at most 10 audience posts in any hour, of which never more than 4 hostile (10:05-11:00:
    # 2001-2010, hostile 2001, 2003, 2005, 2006 = 0.4): no backlash
    backlash = lenses["backfire"]["time_to_backlash"]
    assert backlash["at"] is None and backlash["minutes_after_start"] is None


START = datetime(2021, 5, 18, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "events, expected",
    [
        # 10 posts 5 min apart, the first 4 supportive then hostile: at the 10th post (45 min) the hour
        # holds 10 posts, 6 hostile (0.6 > 0.5): backlash at 45 min
        ([(5 * i, i >= 4) for i in range(10)], 45.0),
        # 5 hostile of 10: exactly one half is not more than half
        ([(5 * i, i >= 5) for i in range(10)], None),
        # 9 posts, all hostile: fewer than the 10 posts a rolling hour needs
        ([(5 * i, True) for i in range(9)], None),
        # 11 hostile posts 7 min apart (0..70 min): an hour ending at a post keeps the posts at most
        # 60 min older, so at 63 min it holds 7..63 (9 posts) and at 70 min 14..70 (9): never 10
        ([(7 * i, True) for i in range(11)], None),
        # posts before the start count in the rolling hour but backlash is only reported after it:
        # 10 hostile posts at -45..0 min: the 10th, at 0 min, qualifies: 0 minutes after the start
        ([(-45 + 5 * i, True) for i in range(10)], 0.0),
        # 12 posts 5 min apart: the first 6 support, then hostile. At 50 min: 11 posts, 5 hostile; at
        # 55 min: 12 posts, 6 hostile (0.5, not more); none later: None
        ([(5 * i, i >= 6) for i in range(12)], None),
        # the same with a 13th hostile post at 60 min: the hour 0..60 holds 13 posts (both ends in),
        # 7 hostile > 6.5: backlash at 60 min
        ([(5 * i, i >= 6) for i in range(13)], 60.0),
        # the first row 20 s later: 45 min 20 s after the start, reported to two decimals (45.33)
        ([(5 * i + 1 / 3, i >= 4) for i in range(10)], 45.33),
        # 8 hostile posts a minute apart, then three supportive ones at the same time (8 min): the
        # first of them makes 9 posts, the second 10 with 8 hostile (> half): backlash at 8 min,
        # found inside a group of equal (time, hostile), not at its first post
        ([(i, True) for i in range(8)] + [(8, False)] * 3, 8.0),
    ],
)
def test_time_to_backlash_table(events, expected):
    times = [START + timedelta(minutes=m) for m, _ in events]
    categories = ["mockery" if hostile else "support" for _, hostile in events]
    table = audience_rows(categories, created_at=times)
    inp = LensInput(
        store=None, seed=0, window_start=START, window_end=START + timedelta(hours=3), rates={}, labeled=True
    )  # type: ignore[arg-type]
    result = _time_to_backlash(inp, summarise(table, Spec()))
    assert result["minutes_after_start"] == expected
    assert (result["rolling_window_minutes"], result["min_posts"]) == (60, 10)
    if expected is not None:
        at = next(t for t in times if round((t - START).total_seconds() / 60, 2) == expected)
        assert result["at"] == at.isoformat().replace("+00:00", "Z")
    else:
        assert result["at"] is None


def _backlash_one_by_one(times, hostile, start):
    """The rolling hour written as a loop over the posts in (time, hostile) order: the
    definition the vectorised lens must give."""
    events = sorted(zip(times, hostile))
    for i, (t, _) in enumerate(events):
        window = [h for u, h in events[: i + 1] if u >= t - timedelta(hours=1)]
        if t >= start and len(window) >= 10 and sum(window) / len(window) > 0.5:
            return t
    return None


@pytest.mark.parametrize("seed", range(6))
def test_time_to_backlash_equals_the_loop_on_random_streams(seed):
    # 400 posts over 5 hours on a one-minute grid (many at the same minute, hostile or not),
    # the hostile share rising over time; the start 30 minutes in
    rng = np.random.default_rng(seed)
    minutes = np.sort(rng.integers(0, 300, size=400))
    hostile = [bool(h) for h in rng.random(400) < 0.2 + minutes / 400]
    times = [START + timedelta(minutes=int(m)) for m in minutes]
    order = rng.permutation(400)  # the table is not in time order
    start = START + timedelta(minutes=30)
    inp = LensInput(
        store=None,  # type: ignore[arg-type]  # the rolling window reads no table
        seed=0,
        window_start=start,
        window_end=START + timedelta(hours=5),
        rates={},
        labeled=True,
    )
    table = audience_rows(["abuse" if hostile[i] else "support" for i in order], created_at=[times[i] for i in order])
    result = _time_to_backlash(inp, summarise(table, Spec()))
    expected = _backlash_one_by_one(times, hostile, start)
    # the hostile share passes one half about two hours in: every seed's stream has a backlash
    assert expected is not None
    assert result["at"] == expected.isoformat().replace("+00:00", "Z")
    assert result["minutes_after_start"] == round((expected - start).total_seconds() / 60, 2)


def test_time_to_backlash_skips_posts_without_a_time():
    times = [START + timedelta(minutes=i) for i in range(10)]
    table = audience_rows(["abuse"] * 12, created_at=[None, *times, None])
    inp = LensInput(
        store=None,  # type: ignore[arg-type]  # the rolling window reads no table
        seed=0,
        window_start=None,
        window_end=None,
        rates={},
        labeled=True,
    )
    # ten hostile posts a minute apart (the two without a time left out): backlash at the tenth,
    # 9 minutes after the first post (no window: the first post is the start)
    result = _time_to_backlash(inp, summarise(table, Spec()))
    assert result["at"] == "2021-05-18T10:09:00Z" and result["minutes_after_start"] == 9.0
    assert _time_to_backlash(inp, summarise(audience_rows(["abuse"]), Spec()))["at"] is None


def test_answer_rates(lenses):
    engagement = lenses["engagement"]
    # Q = questions addressed to the host: 2001, 2002, 2003, 2008 (2009 is no question and names
    # nobody); answered: 2001 (3001), 2002 (3002), 2008 (3003): 3 of 4
    assert share(engagement["answer_rate"]) == (3, 4, 0.75)
    # weighted by 1 + RT: answered 5 + 1 + 1 = 7 of 5 + 1 + 3 + 1 = 10
    assert engagement["answer_rate_weighted"]["value"] == 0.7
    # its interval: a bootstrap over the 4 questions seeded by the metric's name
    weights = np.array([5.0, 1.0, 3.0, 1.0])
    answered = weights * np.array([1, 1, 0, 1])
    idx = _generator(SEED, "answer_rate_w").integers(0, 4, size=(2000, 4))
    assert engagement["answer_rate_weighted"]["ci"] == _percentiles(
        answered[idx].sum(axis=1) / weights[idx].sum(axis=1)
    )
    # hostile questions (critical, mocking): 2001 answered, 2003 not: 1 of 2; ratio 0.5 / 0.75
    assert share(engagement["hostile_answer_rate"]) == (1, 2, 0.5)
    assert engagement["hostile_to_overall_ratio"]["value"] == round(0.5 / 0.75, 6)
    assert {c: (v["k"], v["n"]) for c, v in engagement["by_category"].items()} == {
        "question_critical": (1, 1),
        "question_genuine": (2, 2),
        "mockery": (0, 1),
    }
    assert engagement["answer_rate"]["corrected"] is None  # no question error rates


def test_answer_rate_corrected_for_question_errors(with_history):
    rate = with_history["engagement"]["answer_rate"]
    # E = addressed audience posts: the 6 direct replies, the mention 2008 and the 3 hashtag_only
    # posts (2009 names nobody) = 10. D = labelled questions = 4; A = answered posts = 2001, 2002,
    # 2008 and 2010 (3004 replies to it) = 4; A_D = 3. With tpr 0.9, fpr 0.1:
    # T = (4 - 0.1 * 10) / 0.8 = 3.75, A_T = (3 - 0.1 * 4) / 0.8 = 3.25, rate = 3.25 / 3.75
    assert rate["corrected"]["value"] == round(3.25 / 3.75, 6)
    assert rate["corrected"]["n"] == 10


def test_answer_latency(lenses):
    latency = lenses["engagement"]["answer_latency"]
    # 2001 -> 3001: 45 min; 2002 -> 3002: 60 min; 2008 -> 3003: 70 min
    assert latency["answered"] == 3
    assert latency["median_s"]["value"] == 3600.0
    # p90 by linear interpolation: position 0.9 * (3 - 1) = 1.8: 3600 + 0.8 * (4200 - 3600) = 4080
    assert latency["p90_s"]["value"] == 4080.0
    # within 60 min (inclusive): 2700 and 3600: 2 of 3
    assert share(latency["within_60_min"]) == (2, 3, round(2 / 3, 6))


def test_host_reply_share_interactions_and_layers(lenses):
    engagement = lenses["engagement"]
    # host posts in the window: 1000 (original), 3001-3004 (replies), 3005 (original): 4 of 6
    assert share(engagement["host_reply_share"]) == (4, 6, round(4 / 6, 6))
    # RT + L + Rep + QT: 1000 5+1+9 = 15; 3001 3+2+1 = 6; 3002 1; 3003 0; 3004 4; 3005 1+1+2 = 4
    # -> 30 / 6 = 5
    assert engagement["host_interactions"]["value"] == 5.0
    layers = engagement["host_output_layers"]
    # dialogue: the 4 replies; collaboration: 3005 ("Join us"); broadcast: 1000; no reposts
    assert {layer: layers[layer]["k"] for layer in layers} == {
        "broadcast": 1,
        "dialogue": 4,
        "collaboration": 1,
        "amplification": 0,
    }


def _reply_graph() -> nx.DiGraph:
    """The campaign's directed reply graph rebuilt from the table of posts (independently of the
    store): an edge from each in-window reply's author to its parent's author."""
    by_id = {r[0]: r for r in POSTS}
    graph = nx.DiGraph()
    for _post_id, author, when, parent, *_ in POSTS:
        if parent is not None and len(when) == 5 and "10:00" <= when < "12:00" and by_id[parent][1] != author:
            graph.add_edge(author, by_id[parent][1])
    return graph


def test_reciprocity_against_networkx(lenses):
    reciprocity = lenses["engagement"]["reciprocity"]
    # edges: 101->900, 102->900, 103->900, 104->900, 102->101, 900->101, 900->102, 900->107 = 8;
    # mutual: 101<->900 and 102<->900 = 4 edges: 4 / 8. Touching the host: all but 102->101: 4 / 7
    assert share(reciprocity["all"]) == (4, 8, 0.5)
    assert share(reciprocity["touching_host"]) == (4, 7, round(4 / 7, 6))
    graph = _reply_graph()
    assert reciprocity["all"]["value"] == pytest.approx(nx.reciprocity(graph))
    touching = graph.edge_subgraph([e for e in graph.edges if "900" in e])
    assert reciprocity["touching_host"]["value"] == pytest.approx(nx.reciprocity(touching), abs=1e-6)


def test_dialogue_depth_and_follow_ups(lenses):
    depth = lenses["engagement"]["dialogue_depth"]
    # threads with posts in P: 1000 (1000 > 2001 > 3001 > 2010 > 3004: depth 4), 2008 (> 3003: 1),
    # and the single posts 2005, 2006, 2007, 3005 (0): mean 5 / 6, max 4
    assert depth["threads"] == 6
    assert depth["mean_depth"]["value"] == round(5 / 6, 6)
    assert depth["max_depth"] == 4
    # follow-ups: 2010 (to 3001, answered by 3004) and 2011 (to 3002, unanswered): 1 of 2
    assert share(depth["follow_up_rate"]) == (1, 2, 0.5)


def test_audience_size_and_diversity(lenses):
    engagement = lenses["engagement"]
    size = engagement["audience_size"]
    # followers of 101-106: 10 + 20 + 30 + 40 + 50 + 0 = 150; 107 has no count
    assert (size["authors"], size["potential_reach"], size["authors_with_follower_counts"]) == (7, 150, 6)
    diversity = engagement["diversity"]
    # languages: en x5 (101-104, 107), fr (105), de (106):
    # -(5/7 ln 5/7 + 2/7 ln 1/7) / ln 3 = (0.240337 + 0.555974) / 1.098612 = 0.724834
    assert diversity["language"]["value"] == 0.724834 and diversity["language"]["categories"] == 3
    # locations: "Paris" and " paris " are one place, "London": (2, 1):
    # -(2/3 ln 2/3 + 1/3 ln 1/3) / ln 2 = 0.918296
    assert diversity["location"]["value"] == 0.918296 and diversity["location"]["authors_with_location"] == 3
    # posts per author: 101: 3, 102: 3, the other five: 1 (11 posts). Gini = sum |xi - xj| /
    # (2 n^2 mean) = (2 * 2 * 5 * 2) / (2 * 49 * 11/7) = 40 / 154
    assert diversity["gini_posts_per_author"] == round(40 / 154, 6)
    # the top 1% of 7 authors is 1 author (at least one): 3 of 11 posts
    assert diversity["top_1pct_share_of_posts"] == round(3 / 11, 6)


def test_newcomer_share_not_measurable_without_history(lenses):
    newcomers = lenses["engagement"]["newcomer_share"]
    # the store's earliest post is the campaign's own (10:00): no 30-day history
    assert newcomers["value"] is None and newcomers["note"].startswith("not measurable")


def test_newcomer_share_with_history(with_history):
    newcomers = with_history["engagement"]["newcomer_share"]
    # horizon = start - 30 days = 2021-04-18. 101 mentioned the host on 04-25 (inside): not new;
    # 102's reply to the host on 04-01 is older than the horizon and 103's post of 05-08 does
    # not address the host: both new. Newcomers: 6 of the 7 participants
    assert share(newcomers) == (6, 7, round(6 / 7, 6))


def test_framing_shares(lenses):
    assert lenses["framing"]["embedder"] == "none (keyword-only frames)"  # the one the store was scored with
    frame = lenses["framing"]["frames"]["freedom"]
    assert frame["calibration"] == {
        "keywords": ["freedom"],
        "examples": 0,
        "threshold": None,
        "examples_similarity": None,
        "background_p95": None,
    }
    # keyword "freedom": host 3005 (1 of the 6 host posts), participants 2004 (1 of 11) in the
    # window; after the window 2012 uses it (1 of 1)
    assert share(frame["host"]) == (1, 6, round(1 / 6, 6))
    assert share(frame["participants"]) == (1, 11, round(1 / 11, 6))
    assert share(frame["participants_by_period"]["after"]) == (1, 1, 1.0)
    assert "before" not in frame["participants_by_period"] and set(frame["host_by_period"]) == {"during"}
    # over time (10-minute buckets for a 2 h campaign): 2004 (10:20) and 2005 (10:25) share one
    over_time = {point["t"]: (point["n"], point["value"]) for point in frame["participants_over_time"]}
    assert over_time["2021-05-18T10:20:00Z"] == (2, 0.5)
    assert sum(n for n, _ in over_time.values()) == 11
    # the host's posts, one per bucket: 3005 (11:30) uses the frame
    host_over_time = {point["t"]: (point["n"], point["value"]) for point in frame["host_over_time"]}
    assert host_over_time == {
        "2021-05-18T10:00:00Z": (1, 0.0),
        "2021-05-18T10:50:00Z": (1, 0.0),
        "2021-05-18T11:10:00Z": (1, 0.0),
        "2021-05-18T11:20:00Z": (1, 0.0),
        "2021-05-18T11:30:00Z": (1, 1.0),
        "2021-05-18T11:50:00Z": (1, 0.0),
    }
    assert set(frame["participants_over_time"][0]) == {"t", "value", "ci", "n"}


def test_coordinated_share_and_lenses_without_coordinated_accounts(open_store):
    store = open_store("campaign")
    # 101 is in two networks (counted once), 105 in one
    store.con.execute(
        "INSERT INTO coordinated_accounts VALUES ('x', '101', 'co_post', 1), "
        "('x', '101', 'co_reply', 2), ('x', '105', 'co_link', 3)"
    )
    inp = load_input(store, SEED)
    lens = authenticity(inp, {"backfire": backfire(inp), "engagement": engagement(inp)})
    shares = lens["coordinated_share"]
    # 101 wrote 2001, 2006, 2010; 105 wrote 2005: any = 4 of 11; per network 3, 3, 1, 0, 0
    assert share(shares["any"]) == (4, 11, round(4 / 11, 6))
    assert {k: v["k"] for k, v in shares.items()} == {
        "any": 4,
        "co_post": 3,
        "co_reply": 3,
        "co_link": 1,
        "co_repost": 0,
        "co_similar": 0,
    }
    assert lens["coordinated_accounts"] == 2
    # the networks' rows as the authenticity stage wrote them (the fixed 60 s window here)
    assert set(lens["networks"]) == {"co_repost", "co_post", "co_similar", "co_link", "co_reply"}
    assert lens["networks"]["co_post"]["tau_seconds"] == 60.0 and "network" not in lens["networks"]["co_post"]
    without = lens["without_coordinated"]
    # without 101 and 105: 7 posts by 5 authors; hostile only 2003 (1 of 7)
    assert (without["backfire"]["audience_posts"], without["backfire"]["authors"]) == (7, 5)
    assert share(without["backfire"]["hostile_share"]) == (1, 7, round(1 / 7, 6))
    assert share(without["backfire"]["mockery_share"]) == (1, 7, round(1 / 7, 6))
    assert without["backfire"]["category_shares"]["support"]["k"] == 2
    # questions without 101's 2001: 2002, 2003, 2008, answered 2002 and 2008; latencies 3600, 4200
    engagement_without = without["engagement"]
    assert share(engagement_without["answer_rate"]) == (2, 3, round(2 / 3, 6))
    assert share(engagement_without["hostile_answer_rate"]) == (0, 1, 0.0)
    assert engagement_without["answer_latency"]["median_s"]["value"] == 3900.0
    with_all = lens["with_all"]
    assert with_all["backfire"]["audience_posts"] == 11
    assert math.isclose(with_all["backfire"]["hostile_share"]["value"], 4 / 11, abs_tol=1e-6)
    assert math.isclose(with_all["backfire"]["mockery_share"]["value"], 2 / 11, abs_tol=1e-6)
    assert with_all["engagement"]["answer_rate"]["k"] == 3
    # the temporary exclusion table is gone afterwards
    assert not store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = '_lens_coordinated'"
    ).fetchall()[0][0]


def test_no_coordination_found(open_store):
    inp = load_input(open_store("campaign"), SEED)
    lens = authenticity(inp, {})
    # nothing flagged in this campaign: 0 of the 11 audience posts, no recomputed lenses
    assert share(lens["coordinated_share"]["any"]) == (0, 11, 0.0)
    assert lens["coordinated_accounts"] == 0 and "without_coordinated" not in lens


def _answers_again(store: askscope.Store) -> list[tuple]:
    """Re-runs the answers stage (the code under test) on an analysed store."""
    store.con.execute("DROP TABLE answers")
    store.con.execute("DROP TABLE answered_posts")
    analyze(store, parse_campaign(CAMPAIGN), only=["answers"])
    return store.con.execute(
        "SELECT question_id, answer_id, latency_s, asker_id, relation, question_reposts, answer_kind, answered_by, "
        "follow_up_id, follow_up_answer_id, category FROM answers ORDER BY question_id"
    ).fetchall()


def test_answers_stage_summary(open_store):
    store = open_store("campaign")
    store.con.execute("DROP TABLE answers")
    summary = analyze(store, parse_campaign(CAMPAIGN), only=["answers"])["answers"]
    # 4 questions, 3 answered (latencies 2700, 3600, 4200: median 3600), all by direct reply;
    # follow-ups 2010 (answered by 3004) and 2011
    assert summary == {
        "questions": 4,
        "answered": 3,
        "median_latency_s": 3600.0,
        "by_kind": {"reply": 3, "quote": 0, "thread": 0},
        "follow_ups": 2,
        "follow_ups_answered": 1,
    }


def test_answers_stage(open_store):
    store = open_store("campaign")
    # questions addressed to the host (see the table above); the first host reply to each, its
    # latency in seconds, the asker's follow-up to the answer and the host's reply to that
    assert _answers_again(store) == [
        ("2001", "3001", 2700.0, "101", "direct_reply", 4, "reply", "900", "2010", "3004", "question_critical"),
        ("2002", "3002", 3600.0, "102", "direct_reply", 0, "reply", "900", "2011", None, "question_genuine"),
        ("2003", None, None, "103", "direct_reply", 2, None, None, None, None, "mockery"),
        ("2008", "3003", 4200.0, "107", "mention", 0, "reply", "900", None, None, "question_genuine"),
    ]
    answered = store.con.execute(
        "SELECT post_id, relation, addressed, is_question, answered, answer_id, answer_kind, latency_s, "
        "host_replied_directly FROM answered_posts ORDER BY post_id"
    ).fetchall()
    # every audience post of P: addressed unless it is 2009 (a thread reply naming nobody); the
    # host replied directly to 2001, 2002, 2008 and to the follow-up 2010 (20 min later)
    assert answered == [
        ("2001", "direct_reply", True, True, True, "3001", "reply", 2700.0, True),
        ("2002", "direct_reply", True, True, True, "3002", "reply", 3600.0, True),
        ("2003", "direct_reply", True, True, False, None, None, None, False),
        ("2004", "direct_reply", True, False, False, None, None, None, False),
        ("2005", "hashtag_only", True, False, False, None, None, None, False),
        ("2006", "hashtag_only", True, False, False, None, None, None, False),
        ("2007", "hashtag_only", True, False, False, None, None, None, False),
        ("2008", "mention", True, True, True, "3003", "reply", 4200.0, True),
        ("2009", "thread_reply", False, False, False, None, None, None, False),
        ("2010", "direct_reply", True, False, True, "3004", "reply", 1200.0, True),
        ("2011", "direct_reply", True, False, False, None, None, None, False),
    ]


@pytest.mark.parametrize(
    "change, expected",
    [
        # the host quotes 2003 at 10:30 instead of ignoring it: a 'quote' answer after 15 min
        (
            "INSERT INTO posts (platform, id, author_id, created_at, kind, quoted_id, text, is_context) VALUES "
            "('x', '3100', '900', TIMESTAMPTZ '2021-05-18 10:30:00+00', 'quote', '2003', 'quoting you', false)",
            ("2003", "3100", 900.0, "quote"),
        ),
        # 105 replies to 2003 at 10:20 and the host replies to 105 at 10:55: the host answered 2003
        # further down its thread ('thread', 10:15 -> 10:55 = 40 min)
        (
            "INSERT INTO posts (platform, id, author_id, created_at, kind, text, is_context, in_reply_to_id) VALUES "
            "('x', '2200', '105', TIMESTAMPTZ '2021-05-18 10:20:00+00', 'reply', 'me too', false, '2003'), "
            "('x', '3200', '900', TIMESTAMPTZ '2021-05-18 10:55:00+00', 'reply', 'to both', false, '2200')",
            ("2003", "3200", 2400.0, "thread"),
        ),
        # a host reply to 2003 written before it (clock skew) is no answer
        (
            "INSERT INTO posts (platform, id, author_id, created_at, kind, text, is_context, in_reply_to_id) VALUES "
            "('x', '3300', '900', TIMESTAMPTZ '2021-05-18 10:14:00+00', 'reply', 'early', false, '2003')",
            ("2003", None, None, None),
        ),
    ],
)
def test_answer_kinds(open_store, change, expected):
    store = open_store("campaign")
    store.con.execute(change)
    analyze(store, parse_campaign(CAMPAIGN), only=["reply_trees", "relations"])
    rows = {r[0]: (r[0], r[1], r[2], r[6]) for r in _answers_again(store)}
    assert rows["2003"] == expected
    # the other questions keep their answers
    assert rows["2001"] == ("2001", "3001", 2700.0, "reply")


def test_report_shows_the_lens_results(tmp_path):
    path = str(tmp_path / "copy.duckdb")
    shutil.copyfile(analysed_store("campaign"), path)
    doc = json.loads(report(path, format="json"))
    assert share(doc["lenses"]["backfire"]["hostile_share"]) == (4, 11, round(4 / 11, 6))
    assert share(doc["lenses"]["engagement"]["answer_rate"]) == (3, 4, 0.75)


@pytest.mark.parametrize(
    "hours, bucket",
    [
        (None, "1 hour"),
        (0.5, "10 minutes"),
        (6, "10 minutes"),
        (6.01, "1 hour"),
        (48, "1 hour"),
        (48.5, "6 hours"),
        (24 * 14, "6 hours"),
        (24 * 14 + 1, "1 day"),
    ],
)
def test_time_buckets_follow_the_window_length(hours, bucket):
    end = None if hours is None else START + timedelta(hours=hours)
    assert bucket_for(START if hours is not None else None, end) == bucket


def test_campaign_span_and_window(open_store):
    store = open_store("campaign")
    # P's first post is the host's opening (10:00), its last the answer 3003 (11:50)
    assert campaign_span(store) == (START, START + timedelta(minutes=110))
    inp = load_input(store, SEED)
    assert (inp.window_start, inp.window_end) == (START, START + timedelta(hours=2))
    assert inp.labeled and inp.exclude is None
    assert inp.authors_filter("p") == "true"


def test_framing_before_the_window(with_history):
    frame = with_history["framing"]["frames"]["freedom"]
    # before the start: the participants' 0001 (a mention) and 0002 (a reply to the host's 0003),
    # neither using "freedom"; the host's 0003. 0004 addresses nobody: not scored
    assert share(frame["participants_by_period"]["before"]) == (0, 2, 0.0)
    assert share(frame["host_by_period"]["before"]) == (0, 1, 0.0)
    # the window's shares are those of the campaign alone
    assert share(frame["participants"]) == (1, 11, round(1 / 11, 6))


def _generator(seed: int, name: str) -> np.random.Generator:
    """The per-metric seeding of stats.rng_for, written out again (sum of (position + 1) * byte)."""
    return np.random.default_rng([seed, sum((i + 1) * b for i, b in enumerate(name.encode()))])


def _percentiles(draws: np.ndarray) -> list[float]:
    finite = draws[np.isfinite(draws)]
    return [round(float(x), 6) for x in np.percentile(finite, [2.5, 97.5])]


def _bootstrap_mean_ci(values: list[float], seed: int, name: str) -> list[float]:
    data = np.asarray(values, dtype=float)
    return _percentiles(data[_generator(seed, name).integers(0, len(data), size=(2000, len(data)))].mean(axis=1))


def test_virality_intervals_are_the_seeded_bootstraps(lenses):
    gap = lenses["backfire"]["virality_gap"]
    hostile, support = [4, 2, 6, 0], [1, 3]
    # each interval is a percentile bootstrap seeded by the metric's own name (seed 7)
    assert gap["mean_reposts_hostile"]["ci"] == _bootstrap_mean_ci(hostile, SEED, "reposts:hostile")
    assert gap["mean_reposts_supportive"]["ci"] == _bootstrap_mean_ci(support, SEED, "reposts:support")
    a = np.asarray(hostile, float)[_generator(SEED, "virality_gap:a").integers(0, 4, size=(2000, 4))].mean(axis=1)
    b = np.asarray(support, float)[_generator(SEED, "virality_gap:b").integers(0, 2, size=(2000, 2))].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert gap["ratio"]["ci"] == _percentiles(a / b)
    assert gap["ratio"]["method"] == "ratio of means, bootstrap"


def test_hostile_to_overall_ratio_interval(lenses):
    ratio = lenses["engagement"]["hostile_to_overall_ratio"]
    # parametric bootstrap: hostile answered 1 of 2, all 3 of 4, binomial draws from one generator
    rng = _generator(SEED, "hostile_answer_ratio")
    hostile = rng.binomial(2, 0.5, size=2000) / 2
    overall = rng.binomial(4, 0.75, size=2000) / 4
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = _percentiles(hostile / overall)
    assert ratio == {
        "value": round(0.5 / 0.75, 6),
        "ci": expected,
        "n": [2, 4],
        "method": "ratio of shares, parametric bootstrap",
    }


def test_host_output_layers_of_every_kind(open_store):
    inp = load_input(open_store("campaign"), SEED)
    # (id, kind, text, mentions, RT, likes, replies, quotes, quoted id)
    rows = [
        ("1", "post", "Join us tomorrow", 0, 1, 0, 0, 0, None),  # a call to act together: collaboration
        ("2", "repost", "RT something", 0, 0, 2, 0, 0, None),  # amplification
        ("3", "quote", "our answer", 0, 0, 0, 3, 0, "99"),  # a quote of a question: dialogue
        ("4", "quote", "a quote of nothing", 0, 0, 0, 0, 4, None),  # no quoted post: broadcast
        ("5", "reply", "help us, please", 1, 0, 0, 0, 0, None),  # a reply (even with a call): dialogue
    ]
    out = engagement_module._host_output(inp, rows)
    assert out["host_posts"] == 5
    assert share(out["host_reply_share"]) == (1, 5, 0.2)  # replies only
    assert {layer: value["k"] for layer, value in out["host_output_layers"].items()} == {
        "broadcast": 1,
        "dialogue": 2,
        "collaboration": 1,
        "amplification": 1,
    }
    # interactions 1, 2, 3, 4, 0: mean 2
    assert out["host_interactions"]["value"] == 2.0


def test_undetermined_languages_are_left_out(open_store):
    store = open_store("campaign")
    store.con.execute("UPDATE labels SET label = 'und' WHERE task = 'language' AND post_id = '2008'")
    language = engagement(load_input(store, SEED))["diversity"]["language"]
    # 107's only post is 'und': en 4 (101-104), fr, de: -(4/6 ln 4/6 + 2/6 ln 1/6) / ln 3
    # = (0.666667 * 0.405465 + 0.333333 * 1.791759) / 1.098612 = 0.867563 / 1.098612 = 0.789690
    assert language["top"] == {"en": 4, "fr": 1, "de": 1}
    assert language["value"] == pytest.approx(0.789690, abs=1e-6)


def test_audience_fields(lenses):
    engagement_lens = lenses["engagement"]
    assert engagement_lens["audience_size"]["note"] == "reach is an upper bound: audiences overlap"
    assert engagement_lens["diversity"]["language"]["top"] == {"en": 5, "fr": 1, "de": 1}
    # the reply network (101, 102, 103, 104, 107 and the host; 6 accounts) is one community
    community = engagement_lens["diversity"]["reply_community"]
    assert (community["value"], community["categories"], community["n"], community["largest_community_share"]) == (
        0.0,
        1,
        6,
        1.0,
    )
    assert engagement_lens["host_posts"] == 6 and lenses["backfire"]["labeled"] is True
    assert lenses["engagement"]["newcomer_share"]["note"] == (
        "not measurable: the store holds no posts from the 30 days before the start"
    )


def test_newcomer_note_with_history(with_history):
    assert with_history["engagement"]["newcomer_share"]["note"] == (
        "participants with no reply to or mention of a host in the 30 days before the start"
    )


def test_authenticity_extras(open_store):
    store = open_store("campaign")
    store.con.execute(
        "INSERT INTO duplicate_clusters VALUES (1, 2, 2, 'x', '2005', '105', "
        "TIMESTAMPTZ '2021-05-18 10:25:00+00', TIMESTAMPTZ '2021-05-18 10:25:30+00', 30, 'lol')"
    )
    store.con.execute(
        "INSERT INTO bursts VALUES ('hostile', 1, TIMESTAMPTZ '2021-05-18 10:05:00+00', "
        "TIMESTAMPTZ '2021-05-18 10:35:00+00', 4, 8.0)"
    )
    extra = authenticity_module._extra(load_input(store, SEED))
    assert extra["largest_duplicate_clusters"] == [
        {
            "cluster_id": 1,
            "size": 2,
            "accounts": 2,
            "first_platform": "x",
            "first_post_id": "2005",
            "first_author_id": "105",
            "first_at": "2021-05-18T10:25:00+00:00",
            "last_at": "2021-05-18T10:25:30+00:00",
            "spread_seconds": 30,
            "text": "lol",
        }
    ]
    assert extra["bursts"] == [
        {
            "series": "hostile",
            "level": 1,
            "start": "2021-05-18T10:05:00+00:00",
            "end": "2021-05-18T10:35:00+00:00",
            "posts": 4,
        }
    ]
    # burstiness (sigma - mu) / (sigma + mu) of the gaps: hostile posts at 10:05, 10:15, 10:25,
    # 10:30: gaps 600, 600, 300 s, mean 500, sd 141.421 -> -358.579 / 641.421 = -0.559038. All 17
    # posts of P: sixteen gaps (twelve of 5 min, three of 10, one of 20): mean 412.5 s, sd 234.187
    # -> -178.313 / 646.687 = -0.275732
    assert extra["burstiness"] == {
        "all": {"posts": 17, "burstiness": -0.275732},
        "hostile": {"posts": 4, "burstiness": -0.559038},
    }
    assert extra["max_crowd"] == 50 and extra["population"]["posts"] == 17
    assert extra["account_signals"]["all"]["accounts"] == 9


def test_a_coordinated_host_does_not_count_among_campaign_posts(open_store):
    store = open_store("campaign")
    store.con.execute("INSERT INTO coordinated_accounts VALUES ('x', '900', 'co_post', 1)")
    inp = load_input(store, SEED)
    lens = authenticity(inp, {"backfire": backfire(inp), "engagement": engagement(inp)})
    # the coordinated share is over the audience's posts: the host's own posts are not among them
    assert share(lens["coordinated_share"]["any"]) == (0, 11, 0.0)
    assert lens["coordinated_accounts"] == 1


def test_lens_input_rates_and_exclusion():
    rates = {
        "question": {"classes": {"question": {"tpr": 0.9, "fpr": 0.1}, "partial": {"tpr": 0.9}}},
        "discourse": {"classes": {}, "confusion": {"labels": ["a", "b"], "matrix": [[1, 0], [0, 1]]}},
    }
    inp = LensInput(store=None, seed=0, window_start=None, window_end=None, rates=rates, labeled=True, exclude="_gone")  # type: ignore[arg-type]
    assert inp.rate("question", "question") == {"tpr": 0.9, "fpr": 0.1}
    assert inp.rate("question", "partial") is None  # an fpr is needed too
    assert inp.rate("question", "absent") is None
    assert inp.rate("irony", "irony") is None  # a task without rates
    assert inp.confusion("discourse") == {"labels": ["a", "b"], "matrix": [[1, 0], [0, 1]]}
    assert inp.confusion("question") is None and inp.confusion("irony") is None
    assert inp.authors_filter("p") == (
        "NOT EXISTS (SELECT 1 FROM _gone x WHERE x.platform = p.platform AND x.author_id = p.author_id)"
    )
    assert inp.authors_filter("a", "asker_id").endswith("AND x.author_id = a.asker_id)")


def test_corrected_answer_rate_without_excluded_authors_and_when_not_estimable(open_store):
    from dataclasses import replace

    store = open_store("history")
    store.con.execute("CREATE TEMP TABLE _gone AS SELECT 'x' AS platform, '101' AS author_id")
    inp = replace(load_input(store, SEED), exclude="_gone")
    rate = engagement_module.engagement_core(inp)["answer_rate"]["corrected"]
    # without 101 (2001, 2006, 2010): E = 7 addressed posts, D = 3 questions (2002, 2003, 2008),
    # A = 2 answered (2002, 2008), both labelled questions; U = the other 5, 1 labelled (2003).
    # The estimator's shares (tpr 0.9, fpr 0.1): pi_A = (2/2 - 0.1) / 0.8 = 1.125, clipped to 1
    # (a share), so A_T = 2; pi_U = (1/5 - 0.1) / 0.8 = 0.125, U_T = 0.625: 2 / 2.625
    assert rate["value"] == round(2 / 2.625, 6) and rate["n"] == 7
    # a false-positive rate (0.8) above both groups' labelled shares (3/4 and 1/6): no true
    # question is left in either group, T = 0 and there is no estimate
    noisy_rows = Validation(
        "question",
        ("not-question", "question"),
        np.array([0] * 10 + [1] * 10),
        np.array([0] * 2 + [1] * 8 + [0] + [1] * 9),
    )
    noisy = replace(load_input(store, SEED), validations={"question": noisy_rows})
    assert engagement_module._corrected_answer_rate(noisy)["value"] is None


@pytest.mark.parametrize(
    "end, hours, per_hour",
    [
        (timedelta(seconds=30), round(1 / 60, 6), 1020.0),  # under a minute counts as one: 17 * 60
        (timedelta(minutes=30), 0.5, 34.0),
        (None, None, None),  # no window end: no rate
    ],
)
def test_volume_rate_over_short_and_open_windows(open_store, end, hours, per_hour):
    from dataclasses import replace

    from askscope.lenses.backfire import _volume, audience_summary

    inp = load_input(open_store("campaign"), SEED)
    inp = replace(inp, window_end=None if end is None else START + end)
    volume = _volume(inp, audience_summary(inp))
    assert (volume["hours"], volume["posts_per_hour"]) == (hours, per_hour)


def _same_summary(a, b) -> None:
    """Two audience summaries of the same posts: every count the same."""

    assert (a.posts, a.no_author, a.author_count()) == (b.posts, b.no_author, b.author_count())
    assert sorted(a.authors.to_pylist()) == sorted(b.authors.to_pylist())
    assert a.categories == b.categories
    for name in ("reposts", "times"):
        mine, theirs = getattr(a, name), getattr(b, name)
        assert mine.keys.tolist() == theirs.keys.tolist() and mine.counts.tolist() == theirs.counts.tolist(), name


@pytest.mark.parametrize("part", [1, 3, 7, 100])
def test_the_audience_read_in_parts_is_the_audience_read_at_once(open_store, monkeypatch, part):
    # a large campaign's audience is read in parts (ranges of (platform, post_id)), each part's
    # joins within DuckDB's memory, and summarised part by part: the parts are the rows, in order,
    # of one query, and their merged summary is the summary of the whole
    from collections import Counter

    from askscope.lenses import backfire

    inp = load_input(open_store("campaign"), SEED)
    store = inp.store
    # a second platform whose post ids sort before and after the first's: a range crosses platforms
    store.con.execute(
        "INSERT INTO posts SELECT * REPLACE ('mastodon' AS platform, id || 'm' AS id) FROM posts WHERE id IN ('2002', '2009')"
    )
    store.con.execute(
        "INSERT INTO relations SELECT * REPLACE ('mastodon' AS platform, post_id || 'm' AS post_id) FROM relations "
        "WHERE post_id IN ('2002', '2009')"
    )
    store.con.execute(
        "INSERT INTO labels SELECT * REPLACE ('mastodon' AS platform, post_id || 'm' AS post_id) FROM labels "
        "WHERE post_id IN ('2002', '2009')"
    )
    inp = load_input(store, SEED)
    whole = backfire.read_audience(inp, "true")
    at_once = backfire.audience_summary(inp)
    con = inp.store.con
    direct = con.execute("SELECT count(*) FROM relations WHERE in_campaign AND relation <> 'host'").fetchall()[0][0]
    assert whole.num_rows == direct == at_once.posts > 7  # the audience posts of P (the hosts' left out)
    assert set(whole["platform"].to_pylist()) == {"x", "mastodon"}
    # the summary counts what the rows hold
    assert at_once.category_counts() == dict(Counter(whole["category"].to_pylist()))
    assert at_once.author_count() == len(set(whole["author_id"].to_pylist()))
    seen: list[tuple[object, object]] = []
    real = backfire.audience_sql

    def counted(filter: str, low=None, high=None, flag="false"):
        seen.append((low, high))
        return real(filter, low, high, flag)

    monkeypatch.setattr(backfire, "AUDIENCE_PART", part)
    monkeypatch.setattr(backfire, "audience_sql", counted)
    assert backfire.audience_summary(inp) is at_once and not seen  # read once per stage run (inp.cache)
    fresh = load_input(inp.store, SEED)
    parted = backfire.audience_summary(fresh)
    parts = -(-direct // part)
    assert len(seen) == parts  # that many parts, each read once, the ranges end to end
    assert seen[0][0] is None and seen[-1][1] is None
    assert all(seen[i][1] == seen[i + 1][0] for i in range(parts - 1))
    keys = list(zip(whole["platform"].to_pylist(), whole["post_id"].to_pylist()))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert [low for low, _ in seen[1:]] == keys[part::part]  # each part starts at its post
    assert backfire.read_audience(fresh, "true").equals(whole)
    _same_summary(parted, at_once)
    assert backfire.backfire(fresh) == backfire.backfire(inp)


@pytest.mark.parametrize("part", [1, 4])
def test_the_audience_without_coordinated_authors_is_the_sql_filters(open_store, monkeypatch, part):
    # the authenticity lens's second backfire, without the coordinated accounts, is summarised in
    # the same pass as the first (their posts flagged); the SQL filter (NOT EXISTS over the
    # excluded accounts) read afresh gives the same summary
    from dataclasses import replace

    from askscope.lenses import backfire
    from askscope.lenses.common import COORDINATED

    monkeypatch.setattr(backfire, "AUDIENCE_PART", part)
    store = open_store("campaign")
    # a coordinated account on another platform with the same id, and a post without an author
    store.con.execute("UPDATE posts SET author_id = NULL WHERE id = '2004'")
    store.con.execute(
        "CREATE OR REPLACE TABLE coordinated_accounts AS SELECT * FROM (VALUES ('x', '101', 'co_reply'), "
        "('x', '105', 'co_reply'), ('x', '105', 'co_repost'), ('mastodon', '102', 'co_reply'), ('x', NULL, 'co_reply')) "
        "v(platform, author_id, network)"
    )
    inp = load_input(store, SEED)
    whole = backfire.audience_summary(inp)
    store.con.execute(
        f"CREATE TEMP TABLE {COORDINATED} AS SELECT DISTINCT platform, author_id FROM coordinated_accounts"
    )
    reads: list[str] = []
    real = backfire.audience_sql
    monkeypatch.setattr(backfire, "audience_sql", lambda *a, **k: reads.append("read") or real(*a, **k))
    flagged = backfire.audience_summary(replace(inp, exclude=COORDINATED))
    assert not reads  # summarised in the first pass
    by_sql = backfire.audience_summary(replace(load_input(store, SEED), exclude=COORDINATED))
    assert reads  # a fresh input reads the parts with the SQL filter
    _same_summary(flagged, by_sql)
    # 101 wrote 2001, 2006, 2010; 105 wrote 2005: gone; 102's 2002 stays (another platform), and
    # 2004, without an author, stays
    assert whole.posts - flagged.posts == 4 and flagged.no_author
    assert not {"101", "105"} & set(flagged.authors.to_pylist()) and "102" in flagged.authors.to_pylist()
    assert backfire.backfire(replace(inp, exclude=COORDINATED)) == backfire.backfire(
        replace(load_input(store, SEED), exclude=COORDINATED)
    )


def test_bursts_with_open_ends(open_store):
    store = open_store("campaign")
    store.con.execute(
        "INSERT INTO bursts VALUES ('all', 1, NULL, TIMESTAMPTZ '2021-05-18 10:35:00+00', 3, 6.0), "
        "('all', 2, TIMESTAMPTZ '2021-05-18 10:05:00+00', NULL, 4, 8.0)"
    )
    bursts = authenticity_module._extra(load_input(store, SEED))["bursts"]
    # ordered by series, start (NULL last), level; a missing end or start stays missing
    assert bursts == [
        {"series": "all", "level": 2, "start": "2021-05-18T10:05:00+00:00", "end": None, "posts": 4},
        {"series": "all", "level": 1, "start": None, "end": "2021-05-18T10:35:00+00:00", "posts": 3},
    ]


def test_reply_communities_without_igraph(open_store, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "igraph", None)  # importing it now fails
    inp = load_input(open_store("campaign"), SEED)
    assert engagement_module._communities(inp) == {
        "value": None,
        "categories": 0,
        "n": 0,
        "method": "igraph not installed",
    }


def _two_cliques() -> list[tuple[str, str, str, int]]:
    """Two groups of five accounts, each replying within itself, joined by one reply."""
    edges = []
    for group in ("a", "b"):
        members = [f"{group}{i}" for i in range(5)]
        edges += [("x", u, v, 2) for i, u in enumerate(members) for v in members[i + 1 :]]
    return edges + [("x", "a0", "b0", 1)]


def _edges_table(inp, edges: list[tuple[str, str, str, int]]) -> str:
    """``edges`` as the lens's reply-edges table (platform, source, target, replies)."""
    inp.store.con.execute(
        "CREATE OR REPLACE TEMP TABLE _test_edges (platform VARCHAR, source VARCHAR, target VARCHAR, replies BIGINT)"
    )
    inp.store.con.executemany("INSERT INTO _test_edges VALUES (?, ?, ?, ?)", edges)
    return "_test_edges"


def _communities_in_python(inp, edges: list[tuple[str, str, str, int]]) -> dict:
    """The communities as the lens computed them before it numbered the accounts in DuckDB:
    names ``platform:author`` sorted by Python (code points), edges in sorted order."""
    import igraph

    from askscope.communities import leiden_membership
    from askscope.lenses import stats

    edges = sorted(edges)
    names = sorted({f"{p}:{a}" for p, a, _, _ in edges} | {f"{p}:{b}" for p, _, b, _ in edges})
    index = {name: i for i, name in enumerate(names)}
    graph = igraph.Graph(n=len(names), edges=[(index[f"{p}:{a}"], index[f"{p}:{b}"]) for p, a, b, _ in edges])
    graph.es["weight"] = [w for *_, w in edges]
    sizes = [int(n) for n in np.bincount(leiden_membership(graph, inp.seed))]
    return {
        **stats.entropy(sizes),
        "method": "Leiden communities of the reply network (modularity)",
        "largest_community_share": stats._round(max(sizes) / len(names)),
    }


def test_reply_communities_number_accounts_as_python_sorts_them(open_store):
    # accounts numbered in DuckDB (ORDER BY platform || ':' || author): the same numbers as Python's
    # sort of the names (code points), on ids in several scripts, cases and two platforms
    rng = np.random.default_rng(11)
    ids = ["a", "B", "Z", "z", "é", "É", "ß", "Ünï", "日本", "😀", "a b", "a:b", "0", "10", "9", "_"]
    edges = {}
    for a, b, w, platform in zip(
        rng.integers(0, 16, 300), rng.integers(0, 16, 300), rng.integers(1, 5, 300), rng.integers(0, 2, 300)
    ):
        if a != b:
            edges[(("x", "mastodon")[platform], ids[a], ids[b])] = int(w)
    edges = [(*k, w) for k, w in edges.items()]
    inp = load_input(open_store("campaign"), SEED)
    a, b, w, accounts = engagement_module.reply_graph(inp.store.con, _edges_table(inp, edges))
    names = sorted({f"{p}:{x}" for p, x, _, _ in edges} | {f"{p}:{y}" for p, _, y, _ in edges})
    index = {name: i for i, name in enumerate(names)}
    by_python = [(index[f"{p}:{x}"], index[f"{p}:{y}"], r) for p, x, y, r in sorted(edges)]
    assert accounts == len(names) and list(zip(a.tolist(), b.tolist(), w.tolist())) == by_python
    assert engagement_module._communities(inp, _edges_table(inp, edges)) == _communities_in_python(inp, edges)
    planted = _two_cliques()
    assert engagement_module._communities(inp, _edges_table(inp, planted)) == _communities_in_python(inp, planted)


def test_reply_communities_find_the_planted_groups(open_store):
    import random

    inp = load_input(open_store("campaign"), SEED)
    random.seed(5)
    expected_draw = random.random()
    random.seed(5)
    found = engagement_module._communities(inp, _edges_table(inp, _two_cliques()))
    # two communities of 5: entropy of [5, 5] over ln 2 = 1; the largest holds half
    assert (found["value"], found["categories"], found["n"], found["largest_community_share"]) == (1.0, 2, 10, 0.5)
    assert found["method"] == "Leiden communities of the reply network (modularity)"
    # seeded: the same call gives the same result, and it drew nothing from the global generator
    assert random.random() == expected_draw
    assert engagement_module._communities(inp, _edges_table(inp, _two_cliques())) == found


def test_reply_communities_are_the_same_for_a_seed_on_a_larger_network(open_store):
    rng = np.random.default_rng(3)
    edges = [
        ("x", f"u{a}", f"u{b}", int(w))
        for a, b, w in zip(rng.integers(0, 400, 1500), rng.integers(0, 400, 1500), rng.integers(1, 4, 1500))
        if a != b
    ]
    inp = load_input(open_store("campaign"), SEED)
    first = engagement_module._communities(inp, _edges_table(inp, edges))
    assert engagement_module._communities(inp, _edges_table(inp, edges)) == first
    assert first["categories"] > 1 and first["n"] == len({e[1] for e in edges} | {e[2] for e in edges})


def test_newcomers_without_a_campaign_start(open_store):
    from dataclasses import replace

    inp = replace(load_input(open_store("campaign"), SEED), window_start=None)
    assert engagement_module._newcomers(inp) == {"value": None, "note": "not measurable: no campaign start"}


def test_a_whole_analysis_leaves_no_temporary_table_in_the_connection(tmp_path):
    # DuckDB keeps temporary tables in memory until the connection closes and cannot spill them;
    # a stage that leaves its work tables behind takes memory from every stage after it (at 10M
    # posts the authenticity stage's left the lenses stage out of memory). Every stage, re-run on
    # an open store: nothing temporary is left, and the results are there
    from lens_campaign import MarkerLabeler, NoVectors

    copy = tmp_path / "store.duckdb"
    shutil.copy(analysed_store("campaign"), copy)
    with askscope.open_store(copy) as store:
        summaries = analyze(
            store,
            parse_campaign(CAMPAIGN),
            settings={"labeler": MarkerLabeler(), "seed": SEED, "embedder": NoVectors()},
        )
        assert {"answers", "authenticity", "lenses"} <= set(summaries)
        temporary = store.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
        assert temporary == []
        assert store.con.execute("SELECT count(*) FROM answers").fetchall()[0][0] > 0


def test_participants_aggregated_in_duckdb_are_a_counter_over_the_participants(open_store):
    # the engagement lens aggregates its participants in DuckDB (PARTICIPANTS_SQL's grouping
    # sets): the figures are those of a Counter and numpy over one row per participant in
    # (platform, author_id) order, ties among the top languages in order of first participant
    import random
    from collections import Counter

    from askscope.lenses import engagement as lens

    store = open_store("campaign")
    con = store.con
    rng = random.Random(4)
    # 300 more participants on two platforms, each with 1-4 posts of P in languages that tie,
    # some without a language, some with an empty one; locations and follower counts, some missing
    for _ in range(300):
        platform, author = rng.choice(["x", "mastodon"]), f"p{rng.randint(0, 10**6):07d}"
        con.execute(
            "INSERT INTO accounts (platform, id, handle, followers_count, location) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [platform, author, author, rng.choice([None, 10, 250]), rng.choice([None, "", " Paris ", "gaza", "GAZA"])],
        )
        for j in range(rng.randint(1, 4)):
            post = f"{author}-{j}"
            con.execute(
                "INSERT INTO posts SELECT * REPLACE (? AS platform, ? AS id, ? AS author_id, ? AS lang) "
                "FROM posts WHERE id = '2002'",
                [platform, post, author, rng.choice([None, "", "en", "fr", "und"])],
            )
            con.execute(
                "INSERT INTO relations SELECT * REPLACE (? AS platform, ? AS post_id) FROM relations WHERE post_id = '2002'",
                [platform, post],
            )
            language = rng.choice([None, "ar", "he", "zxx", "en"])
            if language:
                con.execute(
                    "INSERT INTO labels SELECT * REPLACE (? AS platform, ? AS post_id, ? AS label) FROM labels "
                    "WHERE post_id = '2002' AND task = 'language'",
                    [platform, post, language],
                )
    # a tie the top languages must break by first participant: 'zu' (mastodon:m1, x:z9) and 'yo'
    # (mastodon:m2, x:a1) twice each; 'zu' has the first participant, 'yo' the first last one
    for platform, author, language in (
        ("mastodon", "m1", "zu"),
        ("x", "z9", "zu"),
        ("mastodon", "m2", "yo"),
        ("x", "a1", "yo"),
    ):
        con.execute(
            "INSERT INTO posts SELECT * REPLACE (? AS platform, ? AS id, ? AS author_id, NULL AS lang) "
            "FROM posts WHERE id = '2002'",
            [platform, f"{author}-tie", author],
        )
        con.execute(
            "INSERT INTO relations SELECT * REPLACE (? AS platform, ? AS post_id) FROM relations WHERE post_id = '2002'",
            [platform, f"{author}-tie"],
        )
        con.execute(
            "INSERT INTO labels SELECT * REPLACE (? AS platform, ? AS post_id, ? AS label) FROM labels "
            "WHERE post_id = '2002' AND task = 'language'",
            [platform, f"{author}-tie", language],
        )
    # one row per participant, as the lens read them before (the reference)
    rows = con.execute(
        "WITH per_post AS (SELECT p.platform, p.author_id, coalesce(l.label, p.lang) AS language "
        "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "LEFT JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'language' "
        "WHERE r.in_campaign AND r.relation <> 'host' AND p.author_id IS NOT NULL), "
        "langs AS (SELECT platform, author_id, language, count(*) AS n FROM per_post WHERE language IS NOT NULL "
        "GROUP BY platform, author_id, language "
        "QUALIFY row_number() OVER (PARTITION BY platform, author_id ORDER BY n DESC, language) = 1), "
        "posts_per AS (SELECT platform, author_id, count(*) AS posts FROM per_post GROUP BY ALL) "
        "SELECT pp.posts, lg.language, a.followers_count, nullif(lower(trim(a.location)), '') "
        "FROM posts_per pp LEFT JOIN langs lg USING (platform, author_id) "
        "LEFT JOIN accounts a ON a.platform = pp.platform AND a.id = pp.author_id ORDER BY pp.platform, pp.author_id"
    ).fetchall()
    assert len(rows) > 250
    languages = Counter(lang for _, lang, _, _ in rows if lang and lang not in ("und", "zxx"))
    locations = Counter(loc for *_, loc in rows if loc)
    posts = np.array([r[0] for r in rows], dtype=float)
    followers = [f for _, _, f, _ in rows if f is not None]
    main = Counter()
    main_posts = Counter()
    for n, lang, _, _ in rows:
        main[lang or "und"] += 1
        main_posts[lang or "und"] += n
    out = lens._audience(load_input(store, SEED))
    assert out["audience_size"]["authors"] == len(rows)
    assert out["audience_size"]["potential_reach"] == sum(followers)
    assert out["audience_size"]["authors_with_follower_counts"] == len(followers)
    assert out["diversity"]["language"] == {
        **stats.entropy(list(languages.values())),
        "top": dict(languages.most_common(8)),
    }
    assert list(out["diversity"]["language"]["top"]) == [k for k, _ in languages.most_common(8)]
    top_languages = list(out["diversity"]["language"]["top"])
    assert languages["zu"] == languages["yo"] == 2 and top_languages.index("zu") < top_languages.index("yo")
    assert out["diversity"]["location"] == {
        **stats.entropy(list(locations.values())),
        "authors_with_location": sum(locations.values()),
    }
    assert out["diversity"]["gini_posts_per_author"] == stats._round(stats.gini(posts))
    top = int(np.ceil(len(posts) * 0.01))
    assert out["diversity"]["top_1pct_share_of_posts"] == stats._round(
        float(np.sort(posts)[::-1][:top].sum() / posts.sum())
    )
    assert out["participants_by_language"] == [
        {"language": k, "participants": n, "posts": main_posts[k]}
        for k, n in sorted(main.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def test_virality_of_a_large_audience_from_its_counts_is_the_one_from_its_posts():
    # 30,000 audience posts in three parts: the reposts of hostile and supportive posts summed as
    # counts over the parts give the figures the posts' values give (the bootstraps go through
    # value counts for samples this large, so the draws are the same); nothing is read again
    from askscope.lenses.audience import AudienceSummary
    from askscope.lenses.backfire import _virality, _virality_figures

    rng = np.random.default_rng(11)
    n = 30_000
    categories = rng.choice(["mockery", "abuse", "support", "other", None], size=n).tolist()
    reposts = rng.choice([0, 1, 2, 5, 30, 400], size=n, p=[0.6, 0.2, 0.1, 0.06, 0.03, 0.01])
    table = audience_rows(categories, reposts=reposts.tolist())
    parts = [summarise(table.slice(a, b - a), Spec()) for a, b in ((0, 7_000), (7_000, 7_001), (7_001, n))]
    inp = LensInput(store=None, seed=4, window_start=None, window_end=None, rates={}, labeled=True)  # type: ignore[arg-type]
    from_counts = _virality(inp, AudienceSummary.merge(parts))
    hostile = np.isin(np.array(categories, dtype=object), ["mockery", "abuse", "question_critical"])
    support = np.array([c == "support" for c in categories])
    expected = _virality_figures(
        inp, reposts[hostile], reposts[support], (np.where(hostile, 1 + reposts, 0), 1 + reposts)
    )
    assert from_counts == expected
    assert from_counts["mean_reposts_hostile"]["n"] == hostile.sum() > 5_000
    assert from_counts["mean_reposts_hostile"]["value"] == round(float(reposts[hostile].mean()), 6)


def test_an_audience_summary_by_hand():
    # seven posts in two chunks (as a part read from DuckDB may come): the counts worked out by hand
    t0 = datetime(2021, 5, 18, 10, 0, tzinfo=UTC)
    table = audience_rows(
        ["mockery", "support", None, "mockery", "abuse", "support", "other"],
        relation=["hashtag_only", "hashtag_only", "direct_reply", "hashtag_only", "direct_reply", "quote", "quote"],
        author_id=["a", "b", None, "a", "c", "d", None],
        reposts=[3, 0, 0, 3, 7, 0, 1],
        created_at=[t0, t0, None, t0 + timedelta(seconds=1), t0, t0, t0 + timedelta(seconds=1)],
    )
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=4))
    assert chunked.column("category").num_chunks == 2
    summary = summarise(chunked, Spec())
    assert summary.posts == 7 and summary.author_count() == 5  # a, b, c, d and the missing author
    assert summary.categories == {
        (True, "mockery"): 2,
        (True, "support"): 1,
        (False, None): 1,
        (False, "abuse"): 1,
        (False, "support"): 1,
        (False, "other"): 1,
    }
    assert summary.hashtag_only() == (3, 2)
    assert summary.category_counts() == {"mockery": 2, "support": 2, None: 1, "abuse": 1, "other": 1}
    # reposts by (reposts, hostile, supportive): 0 supportive x2, 0 unlabelled, 1 other, 3 hostile
    # x2, 7 hostile; key reposts * 4 + hostile * 2 + supportive
    assert dict(zip(summary.reposts.keys.tolist(), summary.reposts.counts.tolist())) == {
        0 * 4 + 1: 2,
        0 * 4: 1,
        1 * 4: 1,
        3 * 4 + 2: 2,
        7 * 4 + 2: 1,
    }
    # times (one missing): at t0 two hostile (mockery, abuse) and two not; at t0 + 1 s one of each
    micros = int(t0.timestamp()) * 1_000_000
    assert dict(zip(summary.times.keys.tolist(), summary.times.counts.tolist())) == {
        micros * 2: 2,
        micros * 2 + 1: 2,
        (micros + 1_000_000) * 2: 1,
        (micros + 1_000_000) * 2 + 1: 1,
    }
    # two parts of it merged: the whole's counts
    from askscope.lenses.audience import AudienceSummary

    merged = AudienceSummary.merge([summarise(table.slice(0, 3), Spec()), summarise(table.slice(3), Spec())])
    assert merged.categories == summary.categories and merged.author_count() == 5
    assert merged.times.keys.tolist() == summary.times.keys.tolist()
    assert merged.times.counts.tolist() == summary.times.counts.tolist()


def test_answer_rates_from_counts_are_the_rates_from_the_questions(open_store, monkeypatch):
    # the engagement lens counts the questions by (category, answered, reposts) in DuckDB; the
    # reposts-weighted rate resamples those counts when there are many questions, and reads the
    # questions in order otherwise: both give what the per-question arrays give
    from askscope.lenses import engagement as lens

    store = open_store("campaign")
    con = store.con
    con.execute(
        "CREATE OR REPLACE TABLE answers AS SELECT 'x' AS platform, lpad(i::VARCHAR, 6, '0') AS question_id, "
        "'a' || (i % 997)::VARCHAR AS asker_id, "
        "CASE WHEN hash(i, 1) % 3 = 0 THEN 'r' || i::VARCHAR END AS answer_id, "
        "CASE WHEN hash(i, 2) % 5 = 0 THEN NULL ELSE (hash(i, 3) % 7)::INTEGER END AS question_reposts, "
        "['question_genuine', 'question_critical', 'mockery', NULL][(hash(i, 4) % 4)::INTEGER + 1] AS category "
        "FROM range(12000) t(i)"
    )
    rows = con.execute(
        "SELECT answer_id IS NOT NULL, coalesce(question_reposts, 0), category FROM answers ORDER BY platform, question_id"
    ).fetchall()
    answered = np.array([r[0] for r in rows])
    weights = 1 + np.array([r[1] for r in rows])
    categories = [r[2] for r in rows]
    hostile = np.array([c in ("question_critical", "mockery") for c in categories])
    inp = load_input(store, SEED)
    out = lens._answer_rates(inp)
    assert (out["answer_rate"]["k"], out["answer_rate"]["n"]) == (int(answered.sum()), 12000)
    assert out["hostile_answer_rate"]["k"] == int(answered[hostile].sum())
    assert out["hostile_answer_rate"]["n"] == int(hostile.sum())
    assert out["by_category"]["mockery"]["k"] == sum(1 for a, c in zip(answered, categories) if a and c == "mockery")
    expected = stats.weighted_share(np.where(answered, weights, 0), weights, seed=SEED, name="answer_rate_w")
    assert out["answer_rate_weighted"] == expected
    # with the bootstrap picking questions one by one, the questions are read in order: the same
    monkeypatch.setattr(stats.Counted, "by_counts", property(lambda self: False))
    assert lens._answer_rates(inp)["answer_rate_weighted"] == expected
