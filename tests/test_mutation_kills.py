"""Lens metrics that the mutation run (setup.cfg [mutmut], docs/benchmarks.md "Mutation testing")
showed untested: the store, posts and timeline lenses (computed by the lenses stage into the
cached test store, so no test re-ran them), the latency histogram's bin edges, participants per
language, the corrected shares through ``backfire()``, the capture share without hashtag-only
posts and the rolling hour of the time to backlash.

Expected values are worked out by hand from the table of posts in ``lens_campaign.py`` (see
tests/test_lens_metrics.py's docstring for it) and, for Wilson intervals, from statsmodels.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from lens_campaign import SEED, analysed_store, audience_rows
from statsmodels.stats.proportion import proportion_confint

import askscope
import askscope.classify
from askscope.classify.quantify import Validation, quantify
from askscope.lenses.audience import Spec, summarise
from askscope.lenses.backfire import _time_to_backlash, backfire, timeline
from askscope.lenses.common import LensInput, load_input, quantified
from askscope.lenses.engagement import _audience, _reciprocity, latency_histogram
from askscope.lenses.posts import top_posts
from askscope.lenses.store import store_summary
from askscope.vocabulary import CATEGORIES


@pytest.fixture
def store(tmp_path):
    """A fresh copy of the analysed lens campaign (``"campaign"`` variant)."""
    path = tmp_path / "campaign.duckdb"
    shutil.copyfile(analysed_store("campaign"), path)
    opened = askscope.open_store(str(path))
    yield opened
    opened.close()


def _wilson(k: int, n: int) -> list[float]:
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return [round(float(low), 6), round(float(high), 6)]


def _at(hh_mm: str) -> str:
    return f"2021-05-18T{hh_mm}:00Z"


# --- the store lens -----------------------------------------------------------------------------


def test_store_summary_counts_window_hosts_and_classifiers(store):
    con = store.con
    # one post turned into context, a reject, an API error, a second host not found
    con.execute("UPDATE posts SET is_context = true WHERE id = '2012'")
    con.execute("INSERT INTO rejects (source_file, source_line, reason) VALUES ('f', 3, 'bad_json')")
    con.execute("INSERT INTO api_errors (source_file, title) VALUES ('f', 'Not Found Error')")
    con.execute("INSERT INTO hosts VALUES ('x', NULL, 'Absent', 'host', 'Absent')")
    summary = store_summary(load_input(store, SEED))
    assert summary["synthetic"] is False
    assert summary["window"] == {"start": _at("10:00"), "end": _at("12:00"), "from_campaign_file": True}
    # ordered by role, then handle: 'Absent' < 'Host'
    assert summary["hosts"] == [
        {"platform": "x", "author_id": None, "handle": "Absent", "role": "host", "found": False},
        {"platform": "x", "author_id": "900", "handle": "Host", "role": "host", "found": True},
    ]
    # 19 posts in lens_campaign.POSTS (1000, 2001-2011, 2100, 3001-3005, 2012); one of them now context;
    # one input file
    assert summary["counts"] == {"posts": 19, "matched": 18, "context": 1, "rejects": 1, "inputs": 1}
    assert summary["api_errors"] == 1
    # the marker labeler gives no error rates and is not the bundled one (no validation figures)
    assert summary["classifiers"]["discourse"] == {
        "model": "markers-discourse@1",
        "labeler": "markers",
        "error_rates": {},
    }
    assert sorted(summary["classifiers"]) == [
        "discourse",
        "emotion",
        "hate",
        "irony",
        "language",
        "offensive",
        "question",
        "sentiment",
    ]


def test_store_summary_flags_simulated_inputs(store):
    store.con.execute("UPDATE ingests SET source_file = 'synthetic:campaign'")
    assert store_summary(load_input(store, SEED))["synthetic"] is True


def test_store_summary_error_rates_in_both_shapes_rounded(store):
    con = store.con
    rates = {"classes": {"question": {"tpr": 0.912345678, "fpr": 0.1, "support": 40}, "note": "x"}}
    con.execute("UPDATE label_models SET error_rates = ? WHERE task = 'question'", [json.dumps(rates)])
    # the older flat shape (labels at the top level), one rate missing
    con.execute(
        "UPDATE label_models SET error_rates = ? WHERE task = 'irony'", [json.dumps({"irony": {"fpr": 0.33333333}})]
    )
    classifiers = store_summary(load_input(store, SEED))["classifiers"]
    # rounded to 4 places; 'support' and the non-dict 'note' left out; a missing rate left out
    assert classifiers["question"]["error_rates"] == {"question": {"tpr": 0.9123, "fpr": 0.1}}
    assert classifiers["irony"]["error_rates"] == {"irony": {"fpr": 0.3333}}


def test_store_summary_bundled_models_show_their_validation_figures(store, monkeypatch):
    cards = {"irony": {"validation": {"data": "d", "metric": "F1", "value": 0.7, "score": 70, "n": 955}}}

    def model_info(task: str) -> dict[str, Any]:
        return cards[task]  # KeyError for the other tasks: their figures stand without a card

    monkeypatch.setattr(askscope.classify, "model_info", model_info)
    store.con.execute("UPDATE label_models SET labeler = 'bundled' WHERE task IN ('irony', 'hate')")
    classifiers = store_summary(load_input(store, SEED))["classifiers"]
    # only data, metric, value and score are kept
    assert classifiers["irony"] == {
        "model": "markers-irony@1",
        "labeler": "bundled",
        "validation": {"data": "d", "metric": "F1", "value": 0.7, "score": 70},
        "error_rates": {},
    }
    assert classifiers["hate"] == {"model": "markers-hate@1", "labeler": "bundled", "error_rates": {}}


def test_store_summary_without_label_models(store):
    store.con.execute("DROP TABLE label_models")
    assert store_summary(load_input(store, SEED))["classifiers"] == {}


# --- the posts lens ------------------------------------------------------------------------------


def _post(pid: str, author: str, hh_mm: str, text: str, reposts: int, likes: int, category: str | None) -> dict:
    return {
        "id": pid,
        "author": author,
        "created_at": _at(hh_mm),
        "text": text,
        "reposts": reposts,
        "likes": likes,
        "category": category,
    }


def test_top_posts_by_hand(store):
    posts = top_posts(load_input(store, SEED))
    # mocking audience posts of P: 2005 (6 RT) before 2003 (2 RT); 2012 is after the window
    assert posts["mocking_posts"] == [
        _post("2005", "u105", "10:25", "lol #AskT [mock] [fr]", 6, 0, "mockery"),
        _post("2003", "u103", "10:15", "@Host do you even sneeze? [mock]", 2, 0, "mockery"),
    ]
    # the host's answers to questions: 3001 (3 RT, 2 likes), then 3002 and 3003 (0, 0) by id
    assert posts["host_answers"] == [
        _post("3001", "Host", "10:50", "@u101 because we had to", 3, 2, None),
        _post("3002", "Host", "11:10", "@u102 like this", 0, 0, None),
        _post("3003", "Host", "11:50", "@u107 in town", 0, 0, None),
    ]
    # questions: 2003 (mocking) unanswered; answered: critical 2001 first, then the genuine 2002 and
    # 2008 (0 RT each, by id); latencies 45, 60 and 70 min
    assert posts["unanswered_questions"] == [
        {
            **_post("2003", "u103", "10:15", "@Host do you even sneeze? [mock]", 2, 0, "mockery"),
            "answer_id": None,
            "latency_s": None,
            "answer_kind": None,
        }
    ]
    assert [
        (q["id"], q["category"], q["answer_id"], q["latency_s"], q["answer_kind"]) for q in posts["answered_questions"]
    ] == [
        ("2001", "question_critical", "3001", 2700.0, "reply"),
        ("2002", "question_genuine", "3002", 3600.0, "reply"),
        ("2008", "question_genuine", "3003", 4200.0, "reply"),
    ]
    assert posts["answered_questions"][0]["text"] == "@Host why did you do it? [crit]"


def test_top_posts_limits(store):
    posts = top_posts(load_input(store, SEED), top=1, questions=2)
    assert [p["id"] for p in posts["mocking_posts"]] == ["2005"]
    assert [p["id"] for p in posts["host_answers"]] == ["3001"]
    assert [q["id"] for q in posts["answered_questions"]] == ["2001", "2002"]
    assert [q["id"] for q in posts["unanswered_questions"]] == ["2003"]


# --- the timeline ----------------------------------------------------------------------------------


def test_timeline_by_hand(store):
    result = timeline(load_input(store, SEED))
    # P spans 10:00-11:50 (under 6 hours): 10-minute buckets
    assert result["bucket"] == "10 minutes"

    def point(t: str, counts: dict[str, int], hostile: int, host: int | None = None) -> dict[str, Any]:
        n = sum(counts.values())
        out: dict[str, Any] = {
            "t": _at(t),
            "counts": counts,
            "posts": n,
            "hostile_share": round(hostile / n, 6) if n else None,
            "hostile_ci": _wilson(hostile, n) if n else [None, None],
        }
        if host is not None:
            out["host_posts"] = host
        return out

    # audience posts per bucket (categories in CATEGORIES order), hostile = critical + mockery + abuse;
    # host posts: 1000 (10:00), 3001 (10:50), 3002 (11:10), 3004 (11:20), 3005 (11:30), 3003 (11:50)
    assert result["points"] == [
        point("10:00", {"question_critical": 1}, 1, host=1),  # 2001
        point("10:10", {"question_genuine": 1, "mockery": 1}, 1),  # 2002, 2003
        point("10:20", {"mockery": 1, "support": 1}, 1),  # 2004, 2005
        point("10:30", {"abuse": 1, "support": 1}, 1),  # 2006, 2007
        point("10:40", {"question_genuine": 1, "other": 1}, 0),  # 2008, 2009
        point("10:50", {}, 0, host=1),
        point("11:00", {"other": 1}, 0),  # 2010
        point("11:10", {"other": 1}, 0, host=1),  # 2011
        point("11:20", {}, 0, host=1),
        point("11:30", {}, 0, host=1),
        point("11:50", {}, 0, host=1),
    ]


def test_timeline_counts_unlabelled_posts_and_leaves_excluded_authors_out(store):
    store.con.execute("DELETE FROM labels WHERE task = 'discourse' AND post_id = '2002'")
    store.con.execute("CREATE TEMP TABLE _gone AS SELECT 'x' AS platform, '103' AS author_id")
    result = timeline(replace(load_input(store, SEED), exclude="_gone"))
    first = {p["t"]: p for p in result["points"]}[_at("10:10")]
    # 2002 without a label, 2003 by an excluded author: one unlabelled post, no hostile one
    assert first["counts"] == {"unlabelled": 1} and first["posts"] == 1 and first["hostile_share"] == 0.0


# --- engagement ------------------------------------------------------------------------------------


def test_latency_histogram_edges():
    # minutes: 0, 0.98 -> [0, 1); exactly 1 -> [1, 5); 4.99 -> [1, 5); 5 -> [5, 15); 1440 and more
    # -> the open last bin [1440, None)
    seconds = [0, 59, 60, 299.4, 300, 86_400, 100_000]
    bins = latency_histogram(seconds)
    assert [(b["from_min"], b["to_min"], b["answers"]) for b in bins] == [
        (0, 1, 2),
        (1, 5, 2),
        (5, 15, 1),
        (15, 30, 0),
        (30, 60, 0),
        (60, 120, 0),
        (120, 240, 0),
        (240, 480, 0),
        (480, 1440, 0),
        (1440, None, 2),
    ]
    assert sum(b["answers"] for b in latency_histogram([])) == 0


def test_participants_by_language(store):
    audience = _audience(load_input(store, SEED))
    # participants (audience authors of P) with their posts: 101 (2001, 2006, 2010), 102 (2002,
    # 2009, 2011), 103 (2003), 104 (2004), 107 (2008) in English; 105 (2005) French, 106 (2007)
    # German. Sorted by participants, then language.
    assert audience["participants_by_language"] == [
        {"language": "en", "participants": 5, "posts": 9},
        {"language": "de", "participants": 1, "posts": 1},
        {"language": "fr", "participants": 1, "posts": 1},
    ]


def test_participants_without_a_language_and_no_language_codes_in_diversity(store):
    # 'zxx' (no linguistic content) and 'und' are no languages for the diversity entropy
    store.con.execute("UPDATE labels SET label = 'zxx' WHERE task = 'language' AND post_id = '2005'")
    store.con.execute("UPDATE labels SET label = 'und' WHERE task = 'language' AND post_id = '2007'")
    audience = _audience(load_input(store, SEED))
    assert audience["diversity"]["language"]["top"] == {"en": 5}
    assert {e["language"]: e["participants"] for e in audience["participants_by_language"]} == {
        "en": 5,
        "zxx": 1,
        "und": 1,
    }


def test_reciprocity_note(store):
    note = _reciprocity(load_input(store, SEED))["note"]
    assert note == "share of directed reply edges (author -> replied author) that are reciprocated"


# --- backfire --------------------------------------------------------------------------------------


def _perfect(labels: tuple[str, ...]) -> Validation:
    """A validation set without errors (two rows per class): ACC then returns the counted shares."""
    gold = np.repeat(np.arange(len(labels)), 2)
    return Validation("discourse", labels, gold, gold.copy(), data="perfect rows")


def test_backfire_corrects_the_shares_with_the_discourse_validation(store):
    inp = replace(load_input(store, SEED), validations={"discourse": _perfect(CATEGORIES)})
    result = backfire(inp)
    # no error in the validation data: each corrected share is the counted one (hostile 4 of 11:
    # 2001, 2003, 2005, 2006; support 2 of 11)
    hostile = result["hostile_share"]["corrected"]
    assert hostile["value"] == round(4 / 11, 6) and hostile["n"] == 11
    assert result["category_shares"]["support"]["corrected"]["value"] == round(2 / 11, 6)
    assert hostile["validation"]["data"] == "perfect rows"
    # the same estimate as quantify on the 11 labels, with the seed the lens derives from its name
    categories = ["question_critical", "question_genuine", "mockery", "support", "mockery", "abuse", "support"]
    categories += ["question_genuine", "other", "other", "other"]  # 2001-2011 in id order
    ids = np.array([CATEGORIES.index(c) for c in categories])
    digest = sum((i + 1) * b for i, b in enumerate(b"category_shares"))
    expected = quantify(_perfect(CATEGORIES), predicted=ids, method="acc", seed=SEED * 1_000_003 + digest)
    assert hostile == quantified(expected, ["question_critical", "mockery", "abuse"])


def test_quantified_shape_and_rounding():
    labels = ("a", "b")
    validation = Validation("t", labels, np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), data="rows")
    shares = quantify(validation, predicted=np.array([0, 1, 1, 0, 1, 1, 1]), method="acc", seed=5)
    value, low, high = shares.combined(["b"])
    result = quantified(shares, ["b"])
    assert result == {
        "value": round(value, 6),
        "ci": [round(low, 6), round(high, 6)],
        "n": 7,
        "method": "acc: adjusted classify and count (Forman 2005), bootstrap of posts and validation data",
        "validation": {"data": "rows", "n": 4, "per_class": {"a": 2, "b": 2}},
    }


def test_capture_without_hashtag_only_posts(store):
    # leave out the authors of the hashtag_only posts 2005 (105), 2006 (101) and 2007 (106): no
    # post used the hashtag alone, so the share is 0 whatever the classifier's errors
    store.con.execute("CREATE TEMP TABLE _gone AS SELECT 'x' AS platform, unnest(['101', '105', '106']) AS author_id")
    capture = backfire(replace(load_input(store, SEED), exclude="_gone"))["capture"]
    # the audience's posts left: 2002, 2003, 2004, 2008, 2009, 2011 = 6
    assert capture["hashtag_only_not_supportive"]["corrected"] == {
        "value": 0.0,
        "ci": [0.0, 0.0],
        "n": 6,
        "method": "no hashtag_only posts: nothing to estimate",
    }


def test_time_to_backlash_drops_old_posts_one_by_one():
    start = datetime(2021, 5, 18, 10, 0, tzinfo=UTC)
    # hostile posts at minutes 0-9, supportive ones at 61-75; backlash counts from minute 61. At 61
    # the rolling hour [1, 61] holds the hostile posts 1-9 and the supportive 61: 10 posts, 9
    # hostile (> half): backlash at 61, 0 minutes after the start. (Dropping the old posts two at a
    # time would leave 9 posts in that hour and find it a minute later.)
    minutes = [(m, True) for m in range(10)] + [(61 + m, False) for m in range(15)]
    times = [start + timedelta(minutes=m) for m, _ in minutes]
    categories = ["abuse" if hostile else "support" for _, hostile in minutes]
    inp = LensInput(
        store=None,  # type: ignore[arg-type]  # the rolling window reads no table
        seed=0,
        window_start=start + timedelta(minutes=61),
        window_end=start + timedelta(hours=3),
        rates={},
        labeled=True,
    )
    result = _time_to_backlash(inp, summarise(audience_rows(categories, created_at=times), Spec()))
    assert result["at"] == "2021-05-18T11:01:00Z" and result["minutes_after_start"] == 0.0


# --- what every lens reads (lenses/common.py) -------------------------------------------------------


def test_load_input_reads_the_validation_rows_and_whether_posts_are_labelled(tmp_path):
    path = tmp_path / "history.duckdb"
    shutil.copyfile(analysed_store("history"), path)
    with askscope.open_store(str(path)) as store:
        inp = load_input(store, SEED)
        # the rated labeler's question rows (lens_campaign.QuestionRatedLabeler.validation): 10
        # non-questions of which 1 labelled a question, 10 questions of which 9
        validation = inp.validations["question"]
        assert validation.labels == ("not-question", "question") and validation.data == "test rows"
        assert validation.gold.tolist() == [0] * 10 + [1] * 10
        assert validation.predicted.tolist() == [0] * 9 + [1] + [0] + [1] * 9
        assert set(inp.validations) == {"question"}  # the other tasks have none
        assert inp.labeled is True
        store.con.execute("DELETE FROM labels")
        assert load_input(store, SEED).labeled is False


def test_normalise_rates_shapes():
    from askscope.lenses.common import normalise_rates

    confusion_only = {"confusion": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]}}
    assert normalise_rates(confusion_only) == confusion_only
    with_classes = {"classes": {"a": {"tpr": 0.5, "fpr": 0.1}}}
    assert normalise_rates(with_classes) == with_classes
    # the flat shape: the labels' rates kept, anything else dropped
    assert normalise_rates({"a": {"tpr": 0.5, "fpr": 0.1}, "b": {"support": 3}, "note": "x"}) == {
        "classes": {"a": {"tpr": 0.5, "fpr": 0.1}}
    }


def test_ngram_embeddings_are_unit_float32_rows():
    from askscope.classify.frames import NgramEmbedder

    vectors = NgramEmbedder().embed(["freedom for all", ""])
    assert vectors.dtype == np.float32
    # a text's row has unit length; the empty text's padded form " " has no 3-gram: a zero row
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0) and not vectors[1].any()


def test_load_input_reads_the_error_rates(tmp_path):
    path = tmp_path / "history.duckdb"
    shutil.copyfile(analysed_store("history"), path)
    with askscope.open_store(str(path)) as store:
        rates = load_input(store, SEED).rates
    # lens_campaign.QuestionRatedLabeler.error_rates, in the one shape normalise_rates gives
    assert rates["question"] == {"classes": {"question": {"tpr": 0.9, "fpr": 0.1}}}
    assert rates["irony"] == {"classes": {}}


def test_lens_shares_seed_follows_the_metric_name():
    # each metric's bootstrap has its own seed: seed * 1,000,003 + sum((i + 1) * byte_i) of its name
    labels = ("a", "b")
    validation = Validation(
        "t", labels, np.array([0] * 20 + [1] * 20), np.array([0] * 17 + [1] * 3 + [0] * 4 + [1] * 16)
    )
    inp = LensInput(
        store=None,  # type: ignore[arg-type]  # shares() reads no table
        seed=3,
        window_start=None,
        window_end=None,
        rates={},
        labeled=True,
        validations={"t": validation},
    )
    posts = ["a"] * 130 + ["b"] * 70 + [None] * 5  # unlabelled posts are left out
    shares = inp.shares("t", posts, name="xy")
    # "xy": 1 * 120 + 2 * 121 = 362
    expected = quantify(validation, predicted=np.array([0] * 130 + [1] * 70), method="acc", seed=3 * 1_000_003 + 362)
    assert shares.n == 200
    assert np.array_equal(shares.draws, expected.draws) and np.array_equal(shares.estimate, expected.estimate)
    assert inp.shares("t", [None, None], name="xy") is None
    assert inp.shares("other task", posts, name="xy") is None


def test_quantified_rounds_both_bounds_to_six_places():
    labels = ("a", "b")
    validation = Validation(
        "t", labels, np.array([0] * 20 + [1] * 20), np.array([0] * 17 + [1] * 3 + [0] * 4 + [1] * 16)
    )
    shares = quantify(validation, predicted=np.array([0] * 130 + [1] * 70), method="acc", seed=11)
    _, low, high = shares.combined(["b"])
    assert round(low, 7) != round(low, 6) and round(high, 7) != round(high, 6)  # the case tells them apart
    assert quantified(shares, ["b"])["ci"] == [round(low, 6), round(high, 6)]


def test_hostile_answer_ratio_is_a_parametric_bootstrap():
    from askscope.lenses import stats
    from askscope.lenses.engagement import _ratio_interval

    result = _ratio_interval(6, 30, 60, 100, seed=5)
    # (6/30) / (60/100) = 1/3; draws: binomial shares of both groups, from the metric's own generator
    rng = stats.rng_for(5, "hostile_answer_ratio")
    a = rng.binomial(30, 0.2, size=stats.BOOTSTRAP) / 30
    b = rng.binomial(100, 0.6, size=stats.BOOTSTRAP) / 100
    low, high = np.quantile(a / b, [0.025, 0.975])
    assert result == {
        "value": round(1 / 3, 6),
        "ci": [round(float(low), 6), round(float(high), 6)],
        "n": [30, 100],
        "method": "ratio of shares, parametric bootstrap",
    }


def test_reply_communities(store):
    from askscope.lenses.engagement import _communities

    inp = load_input(store, SEED)
    communities = _communities(inp)
    assert communities["method"] == "Leiden communities of the reply network (modularity)"
    store.con.execute("DELETE FROM threads")
    assert _communities(inp) == {"value": None, "categories": 0, "n": 0, "method": "no reply edges"}


def test_newcomers_measurable_from_exactly_thirty_days_before(store):
    from askscope.lenses.engagement import _newcomers

    # the earliest post exactly at the horizon (start - 30 days = 2021-04-18 10:00): the 30 days
    # are covered. 2012 (moved there) addresses no host, so all 7 participants are new
    store.con.execute("UPDATE posts SET created_at = TIMESTAMPTZ '2021-04-18 10:00:00+00' WHERE id = '2012'")
    share = _newcomers(load_input(store, SEED))
    assert (share["k"], share["n"], share["value"]) == (7, 7, 1.0)
    # a second later, they are not
    store.con.execute("UPDATE posts SET created_at = TIMESTAMPTZ '2021-04-18 10:00:01+00' WHERE id = '2012'")
    assert _newcomers(load_input(store, SEED))["value"] is None


def test_corrected_answer_rate_uses_the_label_form_for_probability_methods(store):
    from askscope.lenses.engagement import _corrected_answer_rate

    # a validation set whose chosen method needs probabilities: the answers hold labels only, so the
    # label-count form (acc) is used
    gold = np.array([0] * 10 + [1] * 10)
    predicted = np.array([0] * 9 + [1] + [0] + [1] * 9)
    probabilities = np.eye(2)[predicted]
    validation = Validation("question", ("not-question", "question"), gold, predicted, probabilities, method="pacc")
    rate = _corrected_answer_rate(replace(load_input(store, SEED), validations={"question": validation}))
    assert rate["method"].startswith("answered true questions / true questions, each estimated by acc: ")
    # the lens campaign: E = 10 addressed posts; A = 4 (3 labelled questions), U = 6 (1):
    # (0.75 - 0.1) / 0.8 * 4 = 3.25 and (1/6 - 0.1) / 0.8 * 6 = 0.5: 3.25 / 3.75
    assert rate["value"] == round(3.25 / 3.75, 6)


def test_a_post_without_text_uses_no_keyword():
    from askscope.campaign import Frame
    from askscope.classify.frames import NgramEmbedder, calibrate, score

    # a keyword that a placeholder text could contain: a missing text is searched as ""
    (calibrated,) = calibrate((Frame("x", keywords=("xxxx",)),), NgramEmbedder(), background=["a"])
    uses, _ = score([None, "XXXX here"], [calibrated], NgramEmbedder())["x"]  # type: ignore[list-item]
    assert uses == [False, True]


def test_backfire_passes_the_probability_vectors_to_the_estimator(store):
    # probability-based estimation (pacc): the validation rows and the posts carry probability
    # vectors; the lens must hand the posts' vectors to the estimator (without them it falls back
    # to acc, which gives another estimate here)
    k = len(CATEGORIES)
    rng = np.random.default_rng(0)
    gold = np.repeat(np.arange(k), 10)
    val_probs = rng.dirichlet(np.ones(k), size=len(gold)) * 0.5 + np.eye(k)[gold] * 0.5
    validation = Validation(
        "discourse", CATEGORIES, gold, val_probs.argmax(axis=1), val_probs, method="pacc", data="soft rows"
    )
    posts = store.con.execute(
        "SELECT l.post_id, l.label FROM labels l JOIN relations r ON r.platform = l.platform AND r.post_id = l.post_id "
        "WHERE l.task = 'discourse' AND r.in_campaign AND r.relation <> 'host' ORDER BY l.post_id"
    ).fetchall()
    vectors = {}
    for i, (post, label) in enumerate(posts):
        vector = np.full(k, 0.1 / (k - 1))
        vector[CATEGORIES.index(label)] = 0.9 - 0.05 * (i % 3)
        vector /= vector.sum()
        vectors[post] = vector
        store.con.execute(
            "UPDATE labels SET probabilities = ? WHERE task = 'discourse' AND post_id = ?", [vector.tolist(), post]
        )
    result = backfire(replace(load_input(store, SEED), validations={"discourse": validation}))
    ids = np.array([CATEGORIES.index(label) for _, label in posts])
    matrix = np.array([vectors[p] for p, _ in posts], dtype=np.float32).astype(np.float64)  # stored as FLOAT[]
    digest = sum((i + 1) * b for i, b in enumerate(b"category_shares"))
    expected = quantify(validation, predicted=ids, probabilities=matrix, seed=SEED * 1_000_003 + digest)
    assert expected.method == "pacc"
    hostile = quantified(expected, ["question_critical", "mockery", "abuse"])
    assert result["hostile_share"]["corrected"] == hostile
    label_only = quantify(validation, predicted=ids, method="acc", seed=SEED * 1_000_003 + digest)
    assert quantified(label_only, ["question_critical", "mockery", "abuse"])["value"] != hostile["value"]
