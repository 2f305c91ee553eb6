"""The discourse category: its validation mapping on real rows, its card, its shipped scorer.

Posts are real, quoted from the data sets in the shared data folder (the file is named beside
each one); every expected category is read off that data set's own label through the mapping
documented in docs/models/discourse.md, worked out by hand in the comment of each row.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from askscope.classify import DISCOURSE_CATEGORIES, classify, discourse, error_rates, model_info
from askscope.classify.models import MODELS_DIR
from training import discourse_data as dd

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
QG, QC, MOCK, ABUSE, SUPPORT, OTHER = DISCOURSE_CATEGORIES


def airline(tweet_id: str) -> tuple[str, str]:
    with (DATA / "airline" / "Tweets.csv").open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["tweet_id"] == tweet_id)
    return row["airline_sentiment"], row["text"]


def complaint(tweet_id: str) -> tuple[str, str]:
    with (DATA / "complaints" / "complaints-data.csv").open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.reader(handle) if r[0] == tweet_id)
    return ("complaint" if row[2] == "1" else "not_complaint"), row[1]


def tweeteval(task: str, number: int) -> tuple[str, str]:
    folder = DATA / "tweeteval" / task
    text = (folder / "val_text.txt").read_text(encoding="utf-8").split("\n")[number - 1]
    label = int((folder / "val_labels.txt").read_text(encoding="utf-8").split("\n")[number - 1])
    names = {
        "offensive": ("not-offensive", "offensive"),
        "hate": ("not-hate", "hate"),
        "irony": ("non_irony", "irony"),
    }[task]
    return names[label], text


def rumour(thread: str, tweet_id: str) -> tuple[str, str]:
    annotations = json.loads((DATA / "rumoureval" / "dev-annotations" / "subtaskA.json").read_text())
    path = next((DATA / "rumoureval" / "dev").glob(f"*/{thread}/replies/{tweet_id}.json"))
    return annotations[tweet_id], json.loads(path.read_text(encoding="utf-8"))["text"]


def sarcasm(text_start: str) -> tuple[str, str]:
    with (DATA / "isarcasmeval" / "train.En.csv").open(encoding="utf-8", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["tweet"].startswith(text_start))
    return ("sarcastic" if row["sarcastic"] == "1" else "not_sarcastic"), row["tweet"]


ANY_BUT_ABUSE = (QG, QC, MOCK, SUPPORT, OTHER)
ANY_BUT_MOCKERY = (QG, QC, ABUSE, SUPPORT, OTHER)
MAPPED = [
    # source, where the post is, categories it may be (one = a gold category), the working
    (
        "rumoureval",
        lambda: rumour("580319184652890113", "580358131080925184"),
        (QG,),
        "'what happened' replied to a crash report, labelled query: a genuine question",
    ),
    (
        "rumoureval",
        lambda: rumour("580339547269144576", "580340017886728192"),
        (QC,),
        "'Signalled 911? Called Mayday would be more appropriate', deny with '?': a critical question",
    ),
    (
        "rumoureval",
        lambda: rumour("580339547269144576", "580341019515883521"),
        (QC, MOCK, ABUSE, OTHER),
        "'... irresponsible reporting.', deny without '?': hostile or other, RumourEval cannot say which",
    ),
    (
        "rumoureval",
        lambda: rumour("580333763512705025", "580335772596858880"),
        (OTHER,),
        "'so sad, what made it.', comment: other",
    ),
    (
        "offensive",
        lambda: tweeteval("offensive", 2),
        (ABUSE,),
        "'I would put my money on sex with underage kids', labelled offensive: abuse",
    ),
    (
        "offensive",
        lambda: tweeteval("offensive", 3),
        ANY_BUT_ABUSE,
        "'Help me understand what is happening', labelled not offensive: anything but abuse",
    ),
    ("hate", lambda: tweeteval("hate", 11), (ABUSE,), "labelled hateful (slurs at a woman): abuse"),
    (
        "hate",
        lambda: tweeteval("hate", 7),
        None,
        "'Shut the fuck up you ... pervert' is labelled not hateful: HatEval's 'not hate' may still be "
        "abuse, so non-hate rows are left out",
    ),
    ("irony", lambda: tweeteval("irony", 4), (MOCK,), "'Can't wait to work with the dream team again', ironic"),
    ("irony", lambda: tweeteval("irony", 2), ANY_BUT_MOCKERY, "labelled not ironic: anything but mockery"),
    ("sarcasm", lambda: sarcasm("Friendly reminder you’re not vegan if"), (MOCK,), "sarcastic by its author: mockery"),
    (
        "complaints",
        lambda: complaint("902366794740113408"),
        (QC,),
        "'@GeorgiaPower what the hell is going on?', a complaint with '?': a critical question",
    ),
    (
        "complaints",
        lambda: complaint("88678936799756288"),
        (QG,),
        "'can I exchange ...?', not a complaint, with '?': a genuine question",
    ),
    (
        "complaints",
        lambda: complaint("25550410899005441"),
        None,
        "'@FC_Help i need to check my order', not a complaint, no '?': no category implied, left out",
    ),
    ("airline", lambda: airline("570285904809598977"), (SUPPORT,), "'@VirginAmerica Thanks!', positive"),
    ("airline", lambda: airline("570265883513384960"), (QC,), "negative, 'why are your fares ...???'"),
    (
        "airline",
        lambda: airline("570306133677760513"),
        (OTHER, SUPPORT, QG),
        "'What @dhepburn said.', neutral, no '?': the set's neutral holds praise and requests too, so partial",
    ),
    (
        "airline",
        lambda: airline("569961398890991617"),
        (QC,),
        "negative, 'Anyone home?? ...': a critical question (a mocking tone counts as critical here)",
    ),
]


@pytest.mark.parametrize(
    ("source", "post", "expected", "why"), MAPPED, ids=[f"{s}-{i}" for i, (s, *_) in enumerate(MAPPED)]
)
def test_mapping_table_on_real_rows(source: str, post, expected, why: str) -> None:
    label, text = post()
    row = dd.lookup(source, label, text)
    assert (row.allowed if row is not None else None) == expected, f"{why}: {text}"


def test_the_assembled_set_keeps_replies_unseen_and_one_copy() -> None:
    raws = dd.raw_sources(DATA)
    dev = next(r for r in raws if r.split == "rumoureval-dev")
    train = next(r for r in raws if r.split == "rumoureval-train")
    # RumourEval dev: 25 threads, so 25 source posts are not replies and never kept
    assert len(dev.texts) - sum(dev.keep) == 25
    # the demo's thread (@Uber_Sydney, 102 replies + the source post) is out of every use
    assert sum(g == "rumoureval/544329935943237632" and k for g, k in zip(train.groups, train.keep)) == 0
    assert sum(g == "rumoureval/544329935943237632" for g in train.groups) == 103
    assembled = dd.assemble(raws)
    assert not (assembled.scored & assembled.seen).any()
    assert set(assembled.source[assembled.seen]) == {"rumoureval-train"}
    keys = [dd.d.text_key(t) for t in assembled.texts]
    assert len(keys) == len(set(keys))
    # "@AmericanAir Thanks so much!" is in the airline file twice, labelled neutral and positive
    assert "@AmericanAir Thanks so much!" not in assembled.texts
    # each row's allowed set is what the table gives for its own source label
    for i in range(0, len(assembled.texts), 97):
        source = next(r.source for r in raws if r.split == assembled.source[i])
        row = dd.lookup(source, str(assembled.label[i]), assembled.texts[i])
        assert {c for c, a in zip(DISCOURSE_CATEGORIES, assembled.allowed[i]) if a} == set(row.allowed)


def test_card_confusion_matrix_rows_sum_to_the_support() -> None:
    info = model_info("discourse")
    validation = info["validation"]
    matrix = np.array(validation["confusion"])
    stored = np.load(MODELS_DIR / "validation" / "discourse.npz")
    gold, predicted = stored["gold"], stored["predicted"]
    assert matrix.shape == (6, 6) and matrix.sum() == validation["n"] == len(gold)
    # rows = gold: each row sums to that category's number of validation posts
    assert matrix.sum(axis=1).tolist() == np.bincount(gold, minlength=6).tolist()
    # recounted from the stored rows, independently of the training script
    recount = np.zeros((6, 6), dtype=int)
    for g, p in zip(gold, predicted):
        recount[g, p] += 1
    assert recount.tolist() == matrix.tolist()
    rates = error_rates("discourse")
    assert [rates[c]["support"] for c in DISCOURSE_CATEGORIES] == matrix.sum(axis=1).tolist()
    assert stored["probabilities"].dtype == np.float16 and stored["probabilities"].shape == (len(gold), 6)
    assert np.allclose(stored["probabilities"].astype(float).sum(axis=1), 1.0, atol=1e-2)
    head = discourse.shipped_head()
    if head is not None:  # a head's decision is its weighted argmax (float16 rounding aside)
        assert (head.decide(stored["probabilities"].astype(float)) == predicted).mean() > 0.99
    assert validation["basis"].startswith(f"{len(gold)} human-labelled public posts")
    for source in set(stored["source"]):
        assert f"{source} {int((stored['source'] == source).sum())}" in validation["basis"]


SINCERE = [
    # the demo's replies to @Uber_Sydney (RumourEval train; their thread is kept out of the head's data)
    "@Uber_Sydney Thanks for the free ride home today. I felt very safe and got home efficiently.",
    "@Uber_Sydney thank you for fixing this situation.",
    "@Uber_Sydney @mtats Thanks uber! I got everyone here at work now downloading your app :)",
    "@Uber_Sydney @Mr_Odin Yeah, I got that. Thank you for your great service.",
    "@Uber_Sydney Thanks :)",
    # one the issue quotes ("This is wonderful news for the city.", the other, is a known failure:
    # generic praise with no addressee reads as irony; see docs/models/discourse.md)
    "Thank you for making rides free tonight.",
]


def test_sincere_thanks_are_support() -> None:
    assert classify(SINCERE, ["discourse"])["discourse"].names == ["support"] * len(SINCERE)


def demo_replies() -> list[tuple[str, str]]:
    """(author, text) of every reply in the bundled demo data."""
    import zipfile
    from importlib import resources

    with resources.as_file(resources.files("askscope.demo").joinpath("uber_sydney.zip")) as path:
        with zipfile.ZipFile(path) as archive:
            posts = [
                json.loads(archive.read(n))
                for n in archive.namelist()
                if n.startswith("replies/") and n.endswith(".json")
            ]
    return [(p["user"]["screen_name"], p["text"]) for p in posts]


def test_no_thanks_in_the_demo_is_mockery() -> None:
    # Every audience reply of the demo that thanks someone, read by hand: all nine are sincere
    # (the ninth reply with "thank", "Why don't you thank regular taxi drivers?", is a taunt).
    thanks = [
        t
        for a, t in demo_replies()
        if a != "Uber_Sydney" and any(w in t.lower() for w in ("thank", "thx")) and "thank regular taxi" not in t
    ]
    assert len(thanks) == 9
    names = classify(thanks, ["discourse"])["discourse"].names
    assert "mockery" not in names, list(zip(thanks, names))


def test_airline_praise_is_support() -> None:
    posts = [airline(i)[1] for i in ("570285904809598977", "569675144353828864", "570284111425892353")]
    assert classify(posts, ["discourse"])["discourse"].names == ["support"] * len(posts)


def test_shipped_scorer_runs_without_torch() -> None:
    posts = SINCERE[:2] + ["@user why did you lie to us?", "@user you are a disgrace, shut up"]
    code = (
        "import json, sys\n"
        "for name in ('torch', 'sklearn', 'scipy', 'training'):\n"
        "    sys.modules[name] = None  # importing any of them now fails\n"
        "from askscope.classify import classify, discourse\n"
        f"out = classify({posts!r}, ['discourse'])['discourse']\n"
        "print(json.dumps([discourse.shipped_head() is not None, out.names]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    has_head, names = json.loads(done.stdout)
    assert has_head == (model_info("discourse")["model"]["kind"] == "head")
    assert names == classify(posts, ["discourse"])["discourse"].names


def test_predict_matches_the_card() -> None:
    probabilities = {
        t: np.full((1, k), 1.0 / k)
        for t, k in [("sentiment", 3), ("irony", 2), ("offensive", 2), ("hate", 2), ("emotion", 4), ("question", 2)]
    }
    ids, soft = discourse.predict(probabilities, ["@user hello"], np.ones((1, 384), dtype=np.float32))
    assert soft.shape == (1, 6) and np.isclose(soft.sum(), 1.0) and ids[0] == soft[0].argmax()
    if model_info("discourse")["model"]["kind"] == "rule":
        assert ids.tolist() == discourse.categories(probabilities).tolist()


TEXT_CASES = [
    # text, the features that fire (see discourse.TEXT_FEATURES), worked out by reading the text
    ("@user Why is my flight late", {"interrogative_start"}),
    ("@user please DM me the details", {"request_start"}),
    ("Thanks so much!!", {"thanks", "exclamation"}),
    ("¿Dónde está el vuelo", {"question_mark"}),
    ("Πού είναι η πτήση;", {"question_mark"}),  # Greek script: ';' is the question mark
    ("one; two", set()),  # Latin script: ';' is a semicolon
    ("lol that is great", {"laughter"}),
    ("THIS IS OUTRAGEOUS", {"shouting"}),
    ("@user the train is late http://t.co/x", set()),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES)
def test_text_features(text: str, expected: set[str]) -> None:
    row = discourse.text_features([text])[0]
    assert {f for f, v in zip(discourse.TEXT_FEATURES, row) if v} == expected


def test_partial_label_fit_worked_by_hand() -> None:
    from training.discourse_head import fit

    # Intercept only (a constant feature standardises to zero). Rows: one gold question_genuine,
    # one gold question_critical, two "question_critical or mockery". Likelihood
    # p_qg * p_qc * (p_qc + p_mock)^2: for a fixed p_qg the rest goes to p_qc (the log p_qc term),
    # leaving log p_qg + 3 log(1 - p_qg), maximal at p_qg = 1/4, so p_qc = 3/4 and p_mock -> 0.
    allowed = np.zeros((4, 6), dtype=bool)
    allowed[0, 0] = allowed[1, 1] = True
    allowed[2:, 1] = allowed[2:, 2] = True
    head = fit(np.ones((4, 1)), allowed, np.ones(4), l2=1e-3, uses_pooled=False)
    p = head.probabilities(np.ones((1, 1)))[0]
    assert np.allclose(p[:3], [0.25, 0.75, 0.0], atol=2e-3) and p[3:].sum() < 2e-3


def test_fit_matches_statsmodels_multinomial_logit() -> None:
    statsmodels = pytest.importorskip("statsmodels.api")
    from training.discourse_head import fit

    # With gold labels only and a vanishing penalty the head is a plain multinomial logit:
    # its fitted probabilities must equal statsmodels' maximum-likelihood MNLogit.
    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 3))
    logits = x @ rng.normal(size=(3, 6)) + rng.normal(size=6) * 0.3
    gold = np.array([rng.choice(6, p=np.exp(z) / np.exp(z).sum()) for z in logits])
    allowed = np.eye(6, dtype=bool)[gold]
    head = fit(x, allowed, np.ones(len(x)), l2=1e-8, uses_pooled=False)
    reference = statsmodels.MNLogit(gold, statsmodels.add_constant(x)).fit(disp=0, maxiter=500)
    assert np.abs(head.probabilities(x) - reference.predict(statsmodels.add_constant(x))).max() < 2e-3


def test_quantification_reads_the_discourse_validation_set() -> None:
    from askscope.classify.quantify import load_validation, model_digest

    validation = load_validation("discourse")
    assert validation is not None and validation.labels == DISCOURSE_CATEGORIES
    assert validation.meta["model_sha256"] == model_digest("discourse"), (
        "validation/discourse.npz was written for another discourse scorer: python -m training.discourse_head ../shared/data"
    )
    assert validation.data == model_info("discourse")["validation"]["basis"]


def test_scoring_through_the_cache_encodes_texts_it_lacks(tmp_path: Path, monkeypatch) -> None:
    """``training.discourse_head`` scores posts with the package's encoder routed through the
    embedding cache; texts the cache lacks are encoded by the real encoder and stored (on a cold
    cache the routing once called itself without end: a RecursionError in the rebuild)."""
    import functools

    from training import discourse_head, embed_cache

    texts = ["Why is the fare so high tonight?", "Thank you for the free rides!"]
    expected = classify(texts, list(discourse.REQUIRED))
    monkeypatch.setattr(embed_cache, "encode", functools.partial(embed_cache.encode, cache_dir=tmp_path, data=None))
    probabilities, pooled = discourse_head.score_split(texts)
    assert len(list(tmp_path.glob("*.npz"))) == 1  # encoded once, then read back
    for task in discourse.REQUIRED:
        np.testing.assert_allclose(probabilities[task], expected[task].probabilities, atol=1e-6)
    assert pooled.shape == (2, 384)
