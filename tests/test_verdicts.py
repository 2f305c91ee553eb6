"""The verdicts' words follow the intervals, branch by branch, and every sentence cites the
number of report.json it rests on."""

from __future__ import annotations

import copy
import re

import pytest

from askscope.reports.verdicts import (
    authenticity,
    backfire,
    best,
    engagement,
    framing,
    interval,
    pct,
    ratio_phrase,
    share_phrase,
    share_words,
    verdicts,
)


@pytest.mark.parametrize(
    "low, high, words",
    [
        # the two cases: neither may be "about half"
        (0.08, 0.27, "clearly less than a third"),  # 15% (8-27%): under 1/3, reaches below 10%
        (0.20, 0.40, "about a third"),  # 30% (20-40%): holds 1/3, from 20% up
        # wholly below 10%
        (0.0, 0.099, "a small minority (under 10%)"),
        (0.02, 0.06, "a small minority (under 10%)"),
        # 10% is not under 10%: the next band
        (0.02, 0.10, "clearly less than a quarter"),
        # about a quarter: from 10% up, holds 25%, under a third (both ends inclusive at 10% and 25%)
        (0.10, 0.25, "about a quarter"),
        (0.18, 0.30, "about a quarter"),
        (0.10, 0.3333, "about a quarter"),
        # ... but reaching a third, from 20% up: about a third (a third itself included)
        (0.20, 1 / 3, "about a third"),
        (1 / 3, 0.45, "about a third"),
        (0.25, 0.49, "about a third"),
        # reaching a third but starting under 20%: only "between a tenth and half"
        (0.19, 0.34, "between a tenth and half"),
        (0.12, 0.45, "between a tenth and half"),
        # starting under 10%: "clearly less than" the first fraction above the interval
        (0.05, 0.20, "clearly less than a quarter"),
        (0.05, 0.40, "clearly less than half"),
        (0.0, 0.499, "clearly less than half"),
        # between two fractions, holding neither a quarter nor a third
        (0.11, 0.24, "between a tenth and a quarter"),
        (0.26, 0.33, "between a quarter and a third"),
        (0.34, 0.49, "between a third and half"),
        # holding one half (both ends inclusive): nothing can be said
        (0.30, 0.50, "not distinguishable from half"),
        (0.50, 0.70, "not distinguishable from half"),
        (0.0, 1.0, "not distinguishable from half"),
        (0.5, 0.5, "not distinguishable from half"),
        # above half, the mirror images
        (0.501, 0.60, "between half and two thirds"),  # mirror (0.40, 0.499): between a third and half
        (0.60, 0.80, "about two thirds"),  # mirror (0.20, 0.40): about a third
        (0.70, 0.90, "about three quarters"),  # mirror (0.10, 0.30): about a quarter
        (0.75, 0.90, "about three quarters"),  # mirror (0.10, 0.25): both ends inclusive
        (0.73, 0.92, "clearly more than two thirds"),  # mirror (0.08, 0.27)
        (0.55, 0.95, "clearly more than half"),  # mirror (0.05, 0.45)
        (0.76, 0.89, "between three quarters and nine tenths"),  # mirror (0.11, 0.24)
        (0.901, 1.0, "nearly all (over 90%)"),  # mirror (0, 0.099)
        (0.90, 1.0, "clearly more than three quarters"),  # mirror (0, 0.10): 90% is not over 90%
    ],
)
def test_share_words(low, high, words):
    assert share_words(low, high) == words
    # the point estimate plays no part: the same words for any point inside the interval
    for point in (low, (low + high) / 2, high):
        assert share_phrase({"value": point, "ci": [low, high]}) == words


@pytest.mark.parametrize(
    "share, words",
    [
        (None, "not measurable"),
        ({}, "not measurable"),
        ({"value": None, "ci": [None, None]}, "not measurable"),
        # a share without an interval (or with half of one) supports no "clearly"
        ({"value": 0.05}, "not distinguishable from half"),
        ({"value": 0.05, "ci": [None, 0.08]}, "a small minority (under 10%)"),  # the low end is 0 at worst
        ({"value": 0.05, "ci": [0.01, None]}, "not distinguishable from half"),
    ],
)
def test_share_phrase_without_a_full_interval(share, words):
    assert share_phrase(share) == words


@pytest.mark.parametrize(
    "ratio, words",
    [
        ({"value": 1.5, "ci": [1.1, 2.0]}, "clearly above 1"),
        ({"value": 1.5, "ci": [1.0, 2.0]}, "not distinguishable from 1"),  # 1 inside (inclusive)
        ({"value": 0.6, "ci": [0.2, 0.99]}, "clearly below 1"),
        ({"value": 0.6, "ci": [0.2, 1.0]}, "not distinguishable from 1"),
        ({"value": 0.9, "ci": [0.5, 1.4]}, "not distinguishable from 1"),
        ({"value": 3.0, "ci": [1.2, None]}, "clearly above 1"),  # unbounded above (an infinite draw)
        ({"value": 0.5, "ci": [None, 0.8]}, "clearly below 1"),
        ({"value": 3.0, "ci": [None, None]}, "not distinguishable from 1"),
        ({"value": 3.0}, "not distinguishable from 1"),
        ({"value": None, "ci": [None, None]}, "not measurable"),
        (None, "not measurable"),
    ],
)
def test_ratio_phrase(ratio, words):
    assert ratio_phrase(ratio) == words


def test_best_prefers_the_corrected_share():
    raw = {"value": 0.4, "ci": [0.3, 0.5]}
    assert best(raw, "a.b") == (raw, "a.b")
    with_none = {**raw, "corrected": None}
    assert best(with_none, "a.b") == (with_none, "a.b")
    empty = {**raw, "corrected": {"value": None, "ci": [None, None]}}
    assert best(empty, "a.b") == (empty, "a.b")
    corrected = {"value": 0.2, "ci": [0.1, 0.3]}
    assert best({**raw, "corrected": corrected}, "a.b") == (corrected, "a.b.corrected")
    # a hand-coded sample's (prediction-powered) share comes before the model's corrected one
    validated = {"value": 0.25, "ci": [0.2, 0.3], "basis": "validated against 300 hand-coded posts"}
    assert best({**raw, "corrected": corrected, "validated": validated}, "a.b") == (validated, "a.b.validated")
    unset = {"value": None, "ci": [None, None]}
    assert best({**raw, "corrected": corrected, "validated": unset}, "a.b") == (corrected, "a.b.corrected")


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "n/a"),
        (0.0, "0%"),
        (0.004, "0.4%"),
        (0.01, "1%"),
        (0.126, "13%"),
        (0.99, "99%"),
        (0.996, "99.6%"),
        (1.0, "100%"),
    ],
)
def test_pct(value, text):
    assert pct(value) == text


@pytest.mark.parametrize(
    "seconds, text",
    [
        (None, "n/a"),
        (0, "0 min"),
        (90, "2 min"),
        (3540, "59 min"),
        (3599, "60 min"),
        (3600, "1.0 h"),
        (5400, "1.5 h"),
    ],
)
def test_minutes(seconds, text):
    from askscope.reports.verdicts import _minutes

    assert _minutes(seconds) == text


def test_interval_text():
    assert interval(None) == "n/a"
    assert interval({"value": None}) == "n/a"
    assert interval({"value": 0.15}) == "15%"
    assert interval({"value": 0.15, "ci": [0.08, None]}) == "15%"
    assert interval({"value": 0.15, "ci": [0.08, 0.27]}) == "15% (95% CI 8%–27%)"


def _share(k: int, n: int, low: float, high: float, corrected=None) -> dict:
    return {"value": k / n if n else None, "ci": [low, high], "k": k, "n": n, "corrected": corrected}


DOC = {
    "lenses": {
        "backfire": {
            "volume": {"audience_posts": 200, "authors": 150},
            "hostile_share": _share(30, 200, 0.08, 0.27),
            "mockery_share": _share(12, 200, 0.03, 0.09),
            "category_shares": {},
            "virality_gap": {"ratio": {"value": 2.0, "ci": [1.3, 3.1]}},
        },
        "engagement": {
            "answer_rate": _share(60, 100, 0.50, 0.69),
            "hostile_answer_rate": _share(6, 30, 0.09, 0.37),
            "hostile_to_overall_ratio": {"value": 0.3333, "ci": [0.15, 0.62]},
            "answer_latency": {
                "answered": 60,
                "median_s": {"value": 1800.0},
                "within_60_min": _share(45, 60, 0.62, 0.84),
            },
            "host_reply_share": _share(70, 80, 0.78, 0.94),
            "audience_size": {"authors": 150, "potential_reach": 12000},
        },
        "framing": {
            "frames": {"liberation": {"host": _share(5, 10, 0.2, 0.8), "participants": _share(1, 190, 0.0, 0.03)}}
        },
        "authenticity": {
            "coordinated_share": {"any": _share(20, 200, 0.07, 0.15)},
            "coordinated_accounts": 4,
            "without_coordinated": {
                "backfire": {"hostile_share": _share(25, 180, 0.09, 0.2)},
                "engagement": {"answer_rate": _share(55, 90, 0.5, 0.7)},
            },
        },
    }
}


def _path_exists(doc: dict, path: str) -> bool:
    node = doc
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def test_every_sentence_cites_a_number_of_the_report():
    for lens, text in verdicts(DOC).items():
        sentences = [s for s in re.split(r"(?<=\.)\s+(?=[A-Z0-9“])", text) if s]
        for sentence in sentences:
            if lens == "authenticity" and sentence.startswith("Coordination is not"):
                continue  # the closing caveat states no number
            cited = re.findall(r"\[([a-z0-9_.]+)\]", sentence)
            assert cited, (lens, sentence)
            assert all(_path_exists(DOC, path) for path in cited), (lens, sentence, cited)


def test_backfire_words_follow_the_intervals():
    text = backfire(DOC)
    assert text == (
        "Of 200 posts by 150 participants [lenses.backfire.volume], the share that was hostile (mockery, abuse or "
        "critical questions) is clearly less than a third: 15% (95% CI 8%–27%) [lenses.backfire.hostile_share]. "
        "Mockery alone: a small minority (under 10%), 6% (95% CI 3%–9%) [lenses.backfire.mockery_share]. "
        "Hostile posts were reposted 2.00× (95% CI 1.30–3.10) as often as supportive ones: clearly above 1 "
        "[lenses.backfire.virality_gap.ratio]."
    )
    assert "about half" not in text


@pytest.mark.parametrize(
    "ci, words",
    [
        # the demo's virality gap since infinite draws count: no upper bound, and it says so
        (
            [0.48, None],
            "3.21× (95% CI from 0.48, no upper bound) as often as supportive ones: not distinguishable from 1",
        ),
        ([1.3, None], "3.21× (95% CI from 1.30, no upper bound) as often as supportive ones: clearly above 1"),
        ([None, 0.9], "3.21× (95% CI up to 0.90) as often as supportive ones: clearly below 1"),
        ([None, None], "3.21× as often as supportive ones: not distinguishable from 1"),
    ],
)
def test_backfire_says_when_the_virality_interval_is_one_sided(ci, words):
    doc = copy.deepcopy(DOC)
    doc["lenses"]["backfire"]["virality_gap"]["ratio"] = {"value": 3.21, "ci": ci}
    assert f"Hostile posts were reposted {words} [lenses.backfire.virality_gap.ratio]." in backfire(doc)


def test_backfire_uses_the_corrected_share_when_there_is_one():
    doc = copy.deepcopy(DOC)
    doc["lenses"]["backfire"]["hostile_share"]["corrected"] = {"value": 0.62, "ci": [0.55, 0.7]}
    doc["lenses"]["backfire"]["virality_gap"]["ratio"] = {"value": None, "ci": [None, None]}
    text = backfire(doc)
    # [55%, 70%] mirrors to [30%, 45%]: about a third, so about two thirds
    assert (
        "the share that was hostile (mockery, abuse or critical questions) (corrected for classifier error) is "
        "about two thirds: 62% (95% CI 55%–70%) [lenses.backfire.hostile_share.corrected]."
    ) in text
    assert "The virality gap is not measurable [lenses.backfire.virality_gap.ratio]." in text
    doc["lenses"]["backfire"]["volume"]["audience_posts"] = 0
    assert backfire(doc) == "No audience posts were found for this campaign in the window."


def test_backfire_rests_on_the_validated_share_and_says_its_basis():
    doc = copy.deepcopy(DOC)
    doc["lenses"]["backfire"]["hostile_share"]["corrected"] = {"value": 0.62, "ci": [0.55, 0.7]}
    doc["lenses"]["backfire"]["hostile_share"]["validated"] = {
        "value": 0.4,
        "ci": [0.3, 0.45],
        "basis": "validated against 300 hand-coded posts (2 coders), α = 0.81",
    }
    text = backfire(doc)
    # [30%, 45%] lies below one half and holds a third: about a third
    assert (
        "the share that was hostile (mockery, abuse or critical questions) (validated against 300 hand-coded "
        "posts (2 coders), α = 0.81) is about a third: 40% (95% CI 30%–45%) "
        "[lenses.backfire.hostile_share.validated]."
    ) in text


def test_engagement_words_follow_the_intervals():
    text = engagement(DOC)
    assert text == (
        # answer rate [50%, 69%] holds one half; hostile [9%, 37%] starts under 10% and ends under
        # half; the ratio's interval is under 1; within an hour [62%, 84%] mirrors to [16%, 38%]
        # (between a tenth and half); reply share [78%, 94%] mirrors to [6%, 22%] (under a quarter)
        "The host answered 60 of 100 questions; the share answered is not distinguishable from half: "
        "60% (95% CI 50%–69%) [lenses.engagement.answer_rate]. Of 30 critical or mocking questions it answered "
        "clearly less than half: 20% (95% CI 9%–37%) [lenses.engagement.hostile_answer_rate]. Hostile questions "
        "were answered 0.33× (95% CI 0.15–0.62) as often as questions overall: clearly below 1 "
        "[lenses.engagement.hostile_to_overall_ratio]. Median time to answer: 30 min "
        "[lenses.engagement.answer_latency.median_s]; answered within an hour: between half and nine tenths, 75% "
        "(95% CI 62%–84%) [lenses.engagement.answer_latency.within_60_min]. Of the host's 80 posts, the share that "
        "were replies (dialogue rather than broadcast) is clearly more than three quarters: 88% (95% CI 78%–94%) "
        "[lenses.engagement.host_reply_share]. 150 people took part, with up to 12,000 followers between them "
        "[lenses.engagement.audience_size]."
    )


def test_engagement_edge_cases():
    doc = copy.deepcopy(DOC)
    lens = doc["lenses"]["engagement"]
    lens["answer_rate"]["corrected"] = {"value": 0.8, "ci": [0.7, 0.9]}
    lens["hostile_to_overall_ratio"] = None
    lens["answer_latency"] = {"answered": 0}
    lens["host_reply_share"] = _share(0, 0, None, None)
    lens["audience_size"] = {"authors": 3, "potential_reach": None}
    text = engagement(doc)
    assert text.startswith(
        "The host answered 60 of 100 questions; the share answered (corrected for "
        "question-detection error) is about three quarters: 80% (95% CI 70%–90%) "
        "[lenses.engagement.answer_rate.corrected]."
    )
    assert "as often as questions overall" not in text and "Median time" not in text and "host's" not in text
    assert text.endswith(" 3 people took part [lenses.engagement.audience_size].")
    lens["hostile_answer_rate"] = _share(0, 0, None, None)
    assert "critical or mocking" not in engagement(doc)
    lens["answer_rate"] = _share(0, 0, None, None)
    assert engagement(doc) == (
        "No questions addressed to the host were found; the answer rate is not measurable "
        "[lenses.engagement.answer_rate]."
    )


def test_framing_and_authenticity_sentences():
    assert framing(DOC) == (
        "Share of posts using each frame — “liberation”: host 50% (95% CI 20%–80%) "
        "[lenses.framing.frames.liberation.host], participants 0.5% (95% CI 0%–3%) "
        "[lenses.framing.frames.liberation.participants]."
    )
    assert framing({"lenses": {}}) == "No frames were declared in the campaign file, so framing was not measured."
    assert authenticity(DOC) == (
        "10% (95% CI 7%–15%) of campaign posts came from 4 accounts in groups that acted together (the same "
        "reposts, texts, links or reply targets within seconds) more often than chance: clearly less than a "
        "quarter [lenses.authenticity.coordinated_share.any]. Without them the hostile share is 14% (95% CI "
        "9%–20%) [lenses.authenticity.without_coordinated.backfire.hostile_share] and the answer rate 61% (95% CI "
        "50%–70%) [lenses.authenticity.without_coordinated.engagement.answer_rate]. Coordination is not "
        "inauthenticity: open mobilisation is coordinated too."
    )
    doc = copy.deepcopy(DOC)
    doc["lenses"]["authenticity"]["coordinated_accounts"] = 0
    doc["lenses"]["authenticity"]["coordinated_share"]["any"] = _share(0, 200, 0.0, 0.009)
    assert authenticity(doc) == (
        "No group of accounts acted together (the same reposts, texts, links or reply targets within seconds) "
        "more often than chance: 0 of 200 campaign posts (95% CI up to 0.9%) "
        "[lenses.authenticity.coordinated_share.any]."
    )
    doc["lenses"]["authenticity"]["coordinated_share"]["any"] = _share(0, 0, None, None)
    assert authenticity(doc) == (
        "There were no campaign posts to test for coordination [lenses.authenticity.coordinated_share.any]."
    )
    del doc["lenses"]["authenticity"]
    assert authenticity(doc) == "Coordination was not measured (run the authenticity stage)."
    doc = copy.deepcopy(DOC)
    del doc["lenses"]["authenticity"]["without_coordinated"]
    assert authenticity(doc).endswith(
        "[lenses.authenticity.coordinated_share.any]. Coordination is not "
        "inauthenticity: open mobilisation is coordinated too."
    )


@pytest.mark.parametrize("n, noun", [(1, "question"), (2, "questions"), (30, "questions")])
def test_engagement_counts_hostile_questions_in_the_right_number(n, noun):
    # "Of 1 critical or mocking question", "Of 2 ... questions": the plural from 2 on
    doc = copy.deepcopy(DOC)
    doc["lenses"]["engagement"]["hostile_answer_rate"] = _share(1, n, 0.0, 1.0)
    assert f" Of {n} critical or mocking {noun} it answered " in engagement(doc)
