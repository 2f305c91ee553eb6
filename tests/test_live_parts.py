"""The live console's parts on hand-made inputs: near-duplicate matching, alerts, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from askscope.campaign import CampaignError, load_campaign
from askscope.live.alerts import AlertEngine
from askscope.live.console import live_settings
from askscope.live.duplicates import DuplicateIndex, jaccard, normalise, shingles

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_normalise_drops_mentions_links_punctuation_and_case():
    text = "@Uber_Sydney Are you STILL charging?? http://t.co/x1 #CBD  now"
    assert normalise(text) == "are you still charging cbd now"


def test_shingles_and_jaccard_by_hand():
    # "abcdef" -> abcd, bcde, cdef ; "abcdeg" -> abcd, bcde, cdeg: 2 shared of 4 distinct = 0.5
    a, b = shingles("abcdef"), shingles("abcdeg")
    assert a == {"abcd", "bcde", "cdef"}
    assert jaccard(a, b) == 0.5
    assert shingles("abc") == {"abc"} and jaccard(frozenset(), a) == 0.0


def test_index_finds_the_paraphrase_and_not_a_different_question():
    index = DuplicateIndex()
    index.add("x:1", "@host When will the trains run again tonight?")
    index.add("x:2", "@host Who pays for the damage to the stations?")
    key, score = index.best("When will the trains run again TONIGHT??? @host")
    assert key == "x:1" and score == 1.0  # the same text once normalised
    key, score = index.best("@host when will the trains be running again tonight")
    assert key == "x:1" and 0.5 <= score < 1.0
    assert index.best("@host Is the airport open on Sunday morning?") == (None, 0.0)
    assert index.best("@host why?") == (None, 0.0)  # too short to compare
    # only the keys accepted (items open at the question's time) are candidates
    assert index.best("When will the trains run again tonight?", accept=lambda key: key == "x:2") == (None, 0.0)
    index.remove("x:1")
    assert index.best("When will the trains run again tonight?")[0] is None


def _posts(engine: AlertEngine, start: int, minute: int, count: int, text: str = "", author: str | None = None):
    items = [
        (
            ("x", f"{minute}-{i}-{start}"),
            author or f"u{minute}-{i}",
            T0 + timedelta(minutes=minute, seconds=i),
            text or f"post {minute} {i}",
        )
        for i in range(count)
    ]
    return engine.posts(items)


def test_burst_against_the_running_baseline():
    engine = AlertEngine()
    # six quiet minutes of 2 posts: the baseline is 12 / 6 = 2 a minute
    for minute in range(6):
        assert _posts(engine, 0, minute, 2) == []
    # minute 6: the threshold is max(10, 3 x 2) = 10 posts; the 10th raises one alert
    alerts = _posts(engine, 0, 6, 12)
    assert [a.kind for a in alerts] == ["burst"]
    assert len(alerts[0].posts) == 10 and "10 posts" in alerts[0].message
    # the next minute is the same burst going on: no second alert
    assert _posts(engine, 0, 7, 15) == []
    d = alerts[0].as_dict()
    assert d["href"].startswith("/posts?set=all&start=2024-05-01T12:06:00Z")


def test_no_burst_before_a_baseline():
    engine = AlertEngine()
    assert _posts(engine, 0, 0, 40) == []  # the first minute has nothing to compare with


def test_coordinated_group_of_three_accounts_within_ten_minutes():
    engine = AlertEngine()
    text = "Free rides are just a PR stunt by @Uber_Sydney, shameful!!"
    items = [
        (("x", "1"), "a", T0, text),
        (("x", "2"), "b", T0 + timedelta(minutes=3), text.upper()),
        (("x", "3"), "a", T0 + timedelta(minutes=4), "Free rides are just a PR stunt by @Uber_Sydney... shameful"),
    ]
    assert engine.posts(items) == []  # two accounts only
    alerts = engine.posts([(("x", "4"), "c", T0 + timedelta(minutes=8), "free rides are just a PR stunt, shameful")])
    assert [a.kind for a in alerts] == ["coordinated_group"]
    assert alerts[0].posts == [("x", "1"), ("x", "2"), ("x", "3"), ("x", "4")]
    # the group growing raises nothing new
    assert engine.posts([(("x", "5"), "d", T0 + timedelta(minutes=9), text)]) == []


def test_no_group_when_the_posts_are_far_apart():
    engine = AlertEngine()
    text = "Free rides are just a PR stunt by Uber, shameful"
    items = [(("x", str(i)), f"u{i}", T0 + timedelta(minutes=11 * i), text) for i in range(4)]
    assert engine.posts(items) == []


def test_hostility_crossing_the_threshold_once_until_it_falls_back():
    engine = AlertEngine(hostility_threshold=0.5)
    keys = [("x", str(i)) for i in range(40)]
    times = [T0 + timedelta(seconds=i) for i in range(40)]
    assert engine.hostility(10, 20, T0, lambda: (keys[:10], times[:10])) == []  # 10/20 = 0.5: not above
    alerts = engine.hostility(11, 20, T0, lambda: (keys[:11], times[:11]))  # 11/20 = 0.55
    assert [a.kind for a in alerts] == ["hostility"] and "55% of 20" in alerts[0].message
    assert engine.hostility(12, 21, T0, lambda: (keys[:12], times[:12])) == []  # still above: no new alert
    assert engine.hostility(12, 30, T0, lambda: (keys[:12], times[:12])) == []  # 0.40: re-armed
    assert len(engine.hostility(20, 30, T0, lambda: (keys[:20], times[:20]))) == 1  # 0.67 again
    assert engine.hostility(19, 19, T0, lambda: (keys[:19], times[:19])) == []  # under 20 posts: never


def test_live_settings_default_and_checked(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('name = "c"\nhosts = ["h"]\n')
    assert live_settings(load_campaign(path)) == {"hostility_threshold": 0.5}
    path.write_text('name = "c"\nhosts = ["h"]\n[live]\nhostility_threshold = 0.3\n')
    assert live_settings(load_campaign(path)) == {"hostility_threshold": 0.3}
    path.write_text('name = "c"\nhosts = ["h"]\n[live]\nthreshold = 0.3\n')
    with pytest.raises(CampaignError, match="unknown key 'live.threshold'"):
        live_settings(load_campaign(path))
