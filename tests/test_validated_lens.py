"""lenses/validated.py: the coded-sample estimates the lenses report, on a tiny store built here.

The store holds only what the estimates read: a campaign set of ten audience posts and one host
post with the model's discourse labels, a coded sample of six of the audience posts (two coders
and an adjudicator) and its design. Every expected value is worked out by hand below or taken
from statsmodels (Wilson intervals) and the ``krippendorff`` package (α).

Model labels (the frame: a0-a9; the host post h0 is not in the discourse frame):
    a0 mockery, a1 abuse, a2 support, a3 other, a4 question_critical,
    a5 mockery, a6 mockery, a7 other, a8 support, a9 question_genuine        (h0 support)
Codes (ann, bob; the adjudicator settles a5):
    a0 mockery/mockery, a1 abuse/abuse, a2 support/support, a3 other/other,
    a4 question_critical/question_critical, a5 mockery/support -> adjudication mockery
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import duckdb
import krippendorff
import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from askscope.coding import reliability
from askscope.coding.tables import CODE_SAMPLES_DDL, CODES_DDL
from askscope.lenses import validated
from askscope.lenses.validated import has_codes, validated_shares

#: α's bootstrap resamples here (the default 1,000 takes seconds per call; the wrapper passes
#: the seed through either way)
RESAMPLES = 60

MODEL = {
    "a0": "mockery",
    "a1": "abuse",
    "a2": "support",
    "a3": "other",
    "a4": "question_critical",
    "a5": "mockery",
    "a6": "mockery",
    "a7": "other",
    "a8": "support",
    "a9": "question_genuine",
}
CODES = {
    "a0": ("mockery", "mockery"),
    "a1": ("abuse", "abuse"),
    "a2": ("support", "support"),
    "a3": ("other", "other"),
    "a4": ("question_critical", "question_critical"),
    "a5": ("mockery", "support"),
}


@pytest.fixture(autouse=True)
def _fewer_resamples(monkeypatch):
    def agreement(*args: Any, **kwargs: Any) -> reliability.Agreement:
        return reliability.agreement(*args, bootstrap=RESAMPLES, **kwargs)

    monkeypatch.setattr(validated, "agreement", agreement)


def _store(
    *, coders: tuple[str, ...] = ("ann", "bob"), adjudicate: bool = True, frame_size: int = 10, task: str = "discourse"
) -> Any:
    con = duckdb.connect()
    con.execute("CREATE TABLE relations (platform VARCHAR, post_id VARCHAR, relation VARCHAR, in_campaign BOOLEAN)")
    con.execute("CREATE TABLE posts (platform VARCHAR, id VARCHAR, lang VARCHAR)")
    con.execute(
        "CREATE TABLE labels (platform VARCHAR, post_id VARCHAR, task VARCHAR, label VARCHAR, probabilities DOUBLE[])"
    )
    for post, label in [*MODEL.items(), ("h0", "support")]:
        con.execute(
            "INSERT INTO relations VALUES ('x', ?, ?, true)", [post, "host" if post == "h0" else "direct_reply"]
        )
        con.execute("INSERT INTO posts VALUES ('x', ?, 'en')", [post])
        con.execute("INSERT INTO labels VALUES ('x', ?, 'discourse', ?, NULL)", [post, label])
    con.execute(CODE_SAMPLES_DDL)
    con.execute(CODES_DDL)
    for row, post in enumerate(CODES, start=1):
        con.execute(
            "INSERT INTO code_samples VALUES ('s1', ?, 'x', ?, ?, NULL, 'all', ?, 6, ?, ?, 1, now())",
            [task, post, row, frame_size, frame_size / 6, frame_size],
        )
        for coder, code in zip(coders, CODES[post]):
            con.execute("INSERT INTO codes VALUES ('x', ?, ?, ?, ?, now(), 's1')", [post, task, coder, code])
    if adjudicate:
        con.execute("INSERT INTO codes VALUES ('x', 'a5', ?, 'adjudication', 'mockery', now(), 's1')", [task])
    return SimpleNamespace(con=con, path="tiny.duckdb")


def _wilson(k: int, n: int) -> dict[str, float]:
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return {"estimate": round(k / n, 6), "low": round(float(low), 6), "high": round(float(high), 6)}


def test_shares_coders_alpha_and_basis_by_hand():
    result = validated_shares(_store(), seed=3)
    assert result is not None
    assert (result["task"], result["sample_id"], result["stratify_by"]) == ("discourse", "s1", None)
    # six coded posts of the ten audience posts (the host's post is not in the discourse frame)
    assert (result["n_coded"], result["n_total"]) == (6, 10)
    # the adjudicator is not a coder
    assert result["coders"] == ["ann", "bob"]
    # Krippendorff's α (nominal), ann and bob over the six posts: 12 pairable values, the
    # coincidences are 2 on the diagonal per agreed post and o[mockery, support] = o[support,
    # mockery] = 1 for a5. Marginals: mockery 3, support 3, abuse 2, other 2, question_critical 2.
    # D_o = 2/12; D_e = (12^2 - (9 + 9 + 4 + 4 + 4)) / (12 * 11) = 114/132;
    # α = 1 - (2/12) / (114/132) = 1 - 11/57 = 46/57 = 0.80702
    assert result["alpha"] == round(46 / 57, 4) == 0.807
    reference = krippendorff.alpha(
        reliability_data=[[0, 1, 2, 3, 4, 0], [0, 1, 2, 3, 4, 2]], level_of_measurement="nominal"
    )
    assert result["alpha"] == round(reference, 4)
    expected_interval = reliability.agreement(_store(), "discourse", "s1", seed=3, bootstrap=RESAMPLES).alpha_interval
    assert result["alpha_interval"] == [round(x, 4) for x in expected_interval]
    assert result["basis"] == "validated against 6 hand-coded posts (2 coders), α = 0.81"
    assert result["method"] == (
        "prediction-powered inference (Angelopoulos et al. 2023, power-tuned as PPI++), 95% intervals"
    )
    assert result["notes"] == []
    shares = result["shares"]
    # every label plus the hostile group (question_critical + mockery + abuse)
    assert set(shares) == {
        "question_genuine",
        "question_critical",
        "mockery",
        "abuse",
        "support",
        "other",
        "hostile",
    }
    # coded only (a simple random sample: Wilson on the six codes, a5 counting as mockery):
    # mockery a0, a5 = 2 of 6; hostile a0, a1, a4, a5 = 4 of 6; support a2 = 1 of 6
    assert shares["mockery"]["coded_only"] == _wilson(2, 6)
    assert shares["hostile"]["coded_only"] == _wilson(4, 6)
    assert shares["support"]["coded_only"] == _wilson(1, 6)
    # model only (Wilson over the ten labelled posts): mockery a0, a5, a6 = 3; hostile + a1, a4 = 5
    assert shares["mockery"]["model_only"] == _wilson(3, 10)
    assert shares["hostile"]["model_only"] == _wilson(5, 10)
    for share in shares.values():
        assert set(share) == {"ppi", "coded_only", "model_only"}
        assert 0 <= share["ppi"]["low"] <= share["ppi"]["estimate"] <= share["ppi"]["high"] <= 1


def test_the_seed_reaches_the_agreement_bootstrap():
    intervals = {tuple(validated_shares(_store(), seed=s)["alpha_interval"]) for s in (1, 2, 3, 4)}
    assert len(intervals) > 1


def test_disagreement_without_adjudication_counts_half():
    result = validated_shares(_store(adjudicate=False))
    # a5 unadjudicated counts half mockery, half support: mockery (1 + 0.5) / 6 = 0.25
    assert result["shares"]["mockery"]["coded_only"]["estimate"] == 0.25
    assert result["coders"] == ["ann", "bob"]


def test_one_coder_has_no_alpha():
    result = validated_shares(_store(coders=("ann",), adjudicate=False))
    assert result["coders"] == ["ann"]
    assert result["alpha"] is None and result["alpha_interval"] is None
    assert result["basis"] == "validated against 6 hand-coded posts (1 coder)"
    # ann's codes: mockery a0, a5 = 2 of 6
    assert result["shares"]["mockery"]["coded_only"] == _wilson(2, 6)


def test_a_changed_frame_is_noted():
    # the sample says it was drawn from 12 posts; the frame now has 10
    result = validated_shares(_store(frame_size=12))
    assert result["notes"] == [
        "the frame has 10 posts, the sample was drawn from 12: the campaign changed since; draw a new sample"
    ]


def test_a_stratum_without_codes_gives_the_error_and_its_hint():
    store = _store()
    # a second stratum whose only sampled post (a6) was never coded
    store.con.execute("UPDATE code_samples SET stratify_by = 'relation', stratum = 'direct_reply', stratum_size = 8")
    store.con.execute(
        "INSERT INTO code_samples VALUES ('s1', 'discourse', 'x', 'a6', 7, 'relation', 'mention', 2, 1, 2.0, 10, 1, now())"
    )
    result = validated_shares(store)
    assert result == {
        "task": "discourse",
        "error": "sample s1 has strata without coded posts: mention",
        "hint": "code at least two posts of every stratum (the file lists each post's stratum)",
    }


def test_other_tasks_have_no_hostile_group():
    store = _store(task="question")
    store.con.execute("UPDATE labels SET task = 'question', label = 'question'")
    store.con.execute(
        "UPDATE codes SET code = CASE WHEN post_id IN ('a0', 'a1') THEN 'question' ELSE 'not-question' END"
    )
    result = validated_shares(store, task="question")
    assert set(result["shares"]) == {"not-question", "question"}
    # the question frame is every post of P, the host's included: 11
    assert (result["task"], result["n_coded"], result["n_total"]) == ("question", 6, 11)
    # all codes agree: a0, a1 questions, 2 of 6
    assert result["shares"]["question"]["coded_only"] == _wilson(2, 6)
    assert validated_shares(store) is None  # no discourse codes


@pytest.mark.parametrize("drop", ["codes", "code_samples"])
def test_no_coding_tables_no_estimates(drop):
    store = _store()
    store.con.execute(f"DROP TABLE {drop}")
    assert has_codes(store, "discourse") is False
    assert validated_shares(store) is None


def test_has_codes_per_task():
    store = _store()
    assert has_codes(store, "discourse") is True
    assert has_codes(store, "question") is False
    store.con.execute("DELETE FROM codes")
    assert has_codes(store, "discourse") is False


def test_alpha_rounding_keeps_four_digits():
    # 46/57 = 0.807017...: four digits, not three or five
    value = validated_shares(_store())["alpha"]
    assert value == 0.807 and np.isclose(value, 46 / 57, atol=5e-5)
