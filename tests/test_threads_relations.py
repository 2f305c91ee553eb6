"""The threads and relations stages on real reply trees (RumourEval: structure.json is the
truth) and on hand-built cases."""

from __future__ import annotations

import json

import pytest
from conftest import fixture, rows, shared

import askscope
from askscope.analysis import analyze
from askscope.campaign import parse_campaign
from askscope.stages.base import StageError


@pytest.fixture(scope="module")
def rumoureval_store(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("re") / "re.duckdb")
    askscope.ingest(path, [str(shared("rumoureval", "train")), str(shared("rumoureval", "dev"))])
    return path


def _structure_edges() -> tuple[set[tuple[str, str]], set[str]]:
    edges: set[tuple[str, str]] = set()
    nodes: set[str] = set()

    def walk(node: dict, parent: str | None) -> None:
        for key, value in node.items():
            nodes.add(key)
            if parent is not None:
                edges.add((parent, key))
            if isinstance(value, dict):
                walk(value, key)

    for path in shared("rumoureval").glob("*/*/*/structure.json"):
        walk(json.loads(path.read_text()), None)
    return edges, nodes


def test_every_parent_child_edge_of_rumoureval_is_rebuilt(rumoureval_store):
    campaign = parse_campaign({"name": "t", "hosts": ["Uber_Sydney"]})
    summary = analyze(rumoureval_store, campaign, only=["reply_trees", "relations"])["reply_trees"]
    truth, nodes = _structure_edges()
    with askscope.open_store(rumoureval_store) as store:
        present = {i for (i,) in rows(store, "SELECT id FROM posts")}
        rebuilt = set(rows(store, "SELECT parent_id, post_id FROM threads WHERE parent_id IS NOT NULL"))
        missing = rows(store, "SELECT count(*) FROM threads WHERE parent_missing")[0][0]
    # every true edge whose reply was collected is rebuilt, and nothing else is invented
    collectable = {(p, c) for p, c in truth if c in present}
    assert collectable <= rebuilt
    assert rebuilt == collectable
    assert len(rebuilt) == summary["edges_rebuilt"] == 4222
    # replies whose tweets were not collected: their edges cannot be rebuilt and are the only gap
    assert len(truth) - len(collectable) == len([c for _, c in truth if c not in present]) == 320
    # every reply's parent is accounted for: present, or counted as missing
    assert summary["replies"] == summary["edges_rebuilt"] + summary["replies_with_missing_parent"]
    assert missing == summary["replies_with_missing_parent"]


def test_depth_and_roots(rumoureval_store):
    analyze(rumoureval_store, parse_campaign({"name": "t", "hosts": ["Uber_Sydney"]}), only=["reply_trees"])
    with askscope.open_store(rumoureval_store) as store:
        # charliehebdo 552783667052167168 -> 552785374507175936 -> 552786226546495488 -> 552789345628069888
        assert rows(
            store, "SELECT root_id, depth, root_complete FROM threads WHERE post_id = '552789345628069888'"
        ) == [("552783667052167168", 3, True)]
        assert rows(store, "SELECT posts, max_depth FROM thread_roots WHERE root_id = '552783667052167168'") == [(6, 3)]


def test_missing_parents_are_counted_and_explained(tmp_path):
    # withheld.jsonl replies to tweets the API could not return (its errors say so)
    db = str(tmp_path / "w.duckdb")
    askscope.ingest(db, [str(shared("fixtures", "x-v2", "withheld.jsonl"))])
    summary = analyze(db, parse_campaign({"name": "t", "hosts": ["nobody"]}), only=["reply_trees"])["reply_trees"]
    with askscope.open_store(db) as store:
        orphans = rows(store, "SELECT count(*) FROM threads WHERE parent_missing")[0][0]
        explained = rows(store, "SELECT parent_id, api_error FROM missing_parents WHERE api_error IS NOT NULL")
    # 71 replies in the file: 45 parents present, 26 replies waiting for 25 absent parents
    assert (summary["replies"], summary["edges_rebuilt"], summary["replies_with_missing_parent"]) == (71, 45, 26)
    assert orphans == 26 and summary["missing_parents"] == 25
    # two of them the API reported as not found, in the page's errors
    assert sorted(explained) == [("1252320537600299008", "Not Found Error"), ("506694458445152256", "Not Found Error")]


def test_relations_of_the_uber_sydney_thread(rumoureval_store):
    campaign = parse_campaign({"name": "UberSydney", "hosts": ["Uber_Sydney"], "hashtags": ["#SydneySiege"]})
    summary = analyze(rumoureval_store, campaign, only=["reply_trees", "relations"])["relations"]
    assert summary["hosts_resolved"] == [
        {"ref": "Uber_Sydney", "author_id": "508110571", "handle": "Uber_Sydney", "role": "host"}
    ]
    with askscope.open_store(rumoureval_store) as store:
        by_post = dict(rows(store, "SELECT post_id, relation FROM relations"))
        # a reply to the host's source tweet
        assert by_post["544330406397374465"] == "direct_reply"
        # the host's own answers
        host_posts = rows(store, "SELECT count(*) FROM relations WHERE relation = 'host'")[0][0]
        assert host_posts == 22
        # deeper replies in the host's thread that do not reply to a host post
        deeper = rows(
            store,
            "SELECT count(*) FROM relations r JOIN threads t ON t.post_id = r.post_id "
            "WHERE r.relation = 'thread_reply' AND t.root_id = '544329935943237632'",
        )[0][0]
        assert deeper > 0
        # posts that only carry the hashtag elsewhere are hashtag_only
        assert rows(store, "SELECT count(*) FROM relations WHERE relation = 'hashtag_only'")[0][0] > 0
        assert rows(store, "SELECT count(*) FROM relations WHERE in_campaign AND NOT in_window")[0][0] == 0


def test_window_from_the_campaign_file_excludes_posts_outside(rumoureval_store):
    campaign = parse_campaign(
        {"name": "U", "hosts": ["Uber_Sydney"], "start": "2014-12-15T05:00:00Z", "end": "2014-12-15T06:00:00Z"}
    )
    analyze(rumoureval_store, campaign, only=["relations"])
    with askscope.open_store(rumoureval_store) as store:
        lo, hi = rows(
            store,
            "SELECT min(p.created_at), max(p.created_at) FROM relations r JOIN posts p "
            "ON p.id = r.post_id WHERE r.in_campaign",
        )[0]
        assert lo.isoformat() >= "2014-12-15T05:00:00" and hi.isoformat() < "2014-12-15T06:00:00"


def test_only_a_stage_whose_inputs_never_ran_is_an_error(tmp_path):
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    with pytest.raises(StageError, match="requires table 'threads'"):
        analyze(db, parse_campaign({"name": "t", "hosts": ["x"]}), only=["relations"])


class _AllQuestions:
    """Labels every post a genuine question: this test checks the answered set, not classifiers."""

    name = "all-questions"

    def versions(self):
        return {
            t: f"{t}@test"
            for t in ("sentiment", "irony", "offensive", "hate", "emotion", "question", "language", "discourse")
        }

    def label(self, texts, keys):
        import numpy as np

        ones = np.ones(len(texts))
        out = {t: (["other"] * len(texts), ones) for t in self.versions()}
        out["question"] = (["question"] * len(texts), ones)
        out["discourse"] = (["question_genuine"] * len(texts), ones)
        return out

    def error_rates(self):
        return {}


@pytest.mark.parametrize(
    "thread, host",
    [
        (("train", "sydneysiege", "544329935943237632"), "Uber_Sydney"),
        (("train", "ferguson", "500279160795721728"), "DanteB4u"),
        (("train", "ottawashooting", "524922729485848576"), "Henderburn"),
    ],
)
def test_answered_set_matches_who_the_author_really_answered(tmp_path, thread, host):
    folder = shared("rumoureval", *thread)
    truth: set[str] = set()
    by_id = {}
    for path in list(folder.glob("replies/*.json")) + list(folder.glob("source-tweet/*.json")):
        post = json.loads(path.read_text())
        by_id[post["id_str"]] = post
    for post in by_id.values():
        parent = post.get("in_reply_to_status_id_str")
        if post["user"]["screen_name"] == host and parent in by_id and by_id[parent]["user"]["screen_name"] != host:
            truth.add(parent)
    db = str(tmp_path / "t.duckdb")
    askscope.ingest(db, [str(folder)])
    analyze(db, parse_campaign({"name": host, "hosts": [host]}), settings={"labeler": _AllQuestions()})
    with askscope.open_store(db) as store:
        replied = {p for (p,) in rows(store, "SELECT post_id FROM answered_posts WHERE host_replied_directly")}
        first_direct = {p for (p,) in rows(store, "SELECT post_id FROM answered_posts WHERE answer_kind = 'reply'")}
        questions = {q for (q,) in rows(store, "SELECT question_id FROM answers")}
        answered_questions = {q for (q,) in rows(store, "SELECT question_id FROM answers WHERE answer_id IS NOT NULL")}
    assert truth and replied == truth
    assert first_direct <= truth
    # every question the author replied to counts as answered (first answer direct or further down)
    assert truth & questions and truth & questions <= answered_questions
