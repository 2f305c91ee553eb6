"""The ``answers`` stage on Dask (``askscope.archive.dask_answers``) against the embedded stage.

* Real inputs, one campaign, ``askscope analyze`` both ways (``--dask local:2``): RumourEval
  threads (X API v1.1: conversation keys by pointer jumping) with hosts chosen among the repliers
  who answer most (replies, answers further down a thread, askers following up and the host
  answering them), and recorded X API v2 pages where the host, MariamBarghouti, quotes posts of
  other conversations that mention her or carry a campaign hashtag (``quote`` answers, which the
  shuffle puts in another partition than the question). ``answers`` and ``answered_posts``
  identical row for row and in the same order, and the stage's summary identical.
* A hand-made set of posts in two partitions chosen by hand: a host quotes a question of the
  other partition, the asker follows up on the quote and the host answers the follow-up; a
  foreign quote that comes before a local reply; an answer down a thread; an unanswered question.

The labels come from a test-only labeler plugin (``question`` when the text asks, ``?``, or has an
odd length: both kinds of post in every thread, deterministic): these tests check the answers,
not the classifiers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import run_cli, shared

pytest.importorskip("dask.distributed")

CAMPAIGN = """
name = "Repliers and a quoting host"
hosts = ["jlpauk", "Tom_sveb", "DanteB4u", "Uber_Sydney", "MariamBarghouti"]
hashtags = ["SaveSheikhJarrah", "SheikhJarrah", "Jerusalem"]
"""
#: The RumourEval threads where these hosts reply (Uber_Sydney's own thread; DanteB4u's, Tom_sveb's and
#: jlpauk's replies under ferguson stories).
RUMOUR_THREADS = (
    ("sydneysiege", "544329935943237632"),
    ("ferguson", "500279160795721728"),
    ("ferguson", "500307001629745152"),
)
FOLDERS = ("source-tweet", "replies")  # a thread's tweets (its structure.json is not a post)
X_PAGES = ("media_policy_violation_off.jsonl", "withheld.jsonl")

PLUGIN = '''
"""Test-only labeler: a post is a question when its text has a question mark or an odd length."""
import numpy as np

from askscope.hookspecs import hookimpl

TASKS = ("sentiment", "irony", "offensive", "hate", "emotion", "question", "language", "discourse")


class Asks:
    name = "asks"
    text_only = True

    def versions(self):
        return {t: t + "@asks-test" for t in TASKS}

    def label(self, texts, keys):
        asks = ["question" if "?" in t or len(t) % 2 else "other" for t in texts]
        ones = np.ones(len(texts))
        out = {t: (["other"] * len(texts), ones) for t in TASKS}
        out["question"] = (asks, ones)
        out["discourse"] = (["question_genuine" if a == "question" else "statement" for a in asks], ones)
        return out

    def error_rates(self):
        return {}


@hookimpl
def askscope_labelers():
    return [Asks]
'''


def _askscope(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``askscope ARGS`` with the labeler plugin on ``PYTHONPATH`` (the LocalCluster's worker
    processes inherit it)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        PYTHONIOENCODING="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "askscope", *args], capture_output=True, text=True, env=env, timeout=600
    )


def _site(root: Path) -> Path:
    site = root / "site"
    dist = site / "askscope_test_asks-0.0.dist-info"
    dist.mkdir(parents=True)
    (site / "askscope_test_asks.py").write_text(PLUGIN)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: askscope-test-asks\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[askscope]\nasks = askscope_test_asks\n")
    return site


@pytest.fixture(scope="module")
def both_ways(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("answers")
    site = _site(root)
    inputs = [str(shared("rumoureval", "train", *thread, folder)) for thread in RUMOUR_THREADS for folder in FOLDERS]
    inputs += [str(shared("fixtures", "x-v2", name)) for name in X_PAGES]
    store, archive, campaign = root / "embedded.duckdb", root / "archive", root / "campaign.toml"
    campaign.write_text(CAMPAIGN)
    for args in (("ingest", str(store), *inputs), ("export", str(store), "--parquet", str(archive))):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    proc = _askscope(site, "analyze", str(store), "--campaign", str(campaign), "--labeler", "asks")
    assert proc.returncode == 0, proc.stderr
    proc = _askscope(
        site, "analyze", str(archive), "--campaign", str(campaign), "--labeler", "asks", "--dask", "local:2"
    )
    assert proc.returncode == 0, proc.stderr
    return store, archive, proc.stderr


def _summary(con: duckdb.DuckDBPyConnection, source: str) -> Any:
    return json.loads(
        con.execute(
            f"SELECT summary FROM {source} WHERE stage = 'answers' AND status = 'done' ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()[0][0]
    )


def test_real_inputs_give_the_embedded_answers_row_for_row(both_ways: tuple[Path, Path, str]) -> None:
    store, archive, stderr = both_ways
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    for table in ("answers", "answered_posts"):
        embedded = con.execute(f"FROM e.{table}").fetchall()
        dask = con.execute(f"FROM read_parquet('{archive / table}/*.parquet')").fetchall()
        assert dask == embedded, table  # the same rows in the same order
        types = [
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {x})").fetchall()
            for x in (f"e.{table}", f"read_parquet('{archive / table}/*.parquet')")
        ]
        assert types[0] == types[1], table
    # the stage ran on the partitions, with quote answers from other partitions
    assert "answers on Dask: " in stderr and "runs embedded instead" not in stderr
    elsewhere = int(stderr.split("answers on Dask: ")[1].split("; ")[1].split(" question(s)")[0].replace(",", ""))
    assert elsewhere > 0
    summary = _summary(con, "e.stage_runs")
    assert _summary(con, f"read_parquet('{archive / 'stage_runs'}/*.parquet')") == summary
    # real answers of every kind, follow-ups answered, questions answered from another partition
    kinds = dict(con.execute("SELECT answer_kind, count(*) FROM e.answers GROUP BY 1").fetchall())
    assert kinds.get("reply", 0) > 0 and kinds.get("thread", 0) > 0 and kinds.get("quote", 0) >= elsewhere
    assert summary["follow_ups"] > 0 and summary["follow_ups_answered"] > 0
    assert con.execute("SELECT count(*) FROM e.answered_posts WHERE host_replied_directly").fetchall()[0][0] > 0
    assert con.execute("SELECT count(*) FROM e.answers WHERE answer_id IS NULL").fetchall()[0][0] > 0


# platform x; the host is Host (account h). id, author, minute of 2024-05-01 10:00, kind, parent,
# parent's author, conversation, quoted, hashtags, mentions, a question?
H = "h"
POSTS = [
    # partition 0: conversations q1, q2, q3, p6
    ("q1", "u1", 0, "post", None, None, "q1", None, [], ["Host"], True),
    ("q2", "u2", 60, "post", None, None, "q2", None, [], ["Host"], True),
    ("r2", "u3", 61, "reply", "q2", "u2", "q2", None, ["ask"], [], True),  # hashtag_only
    ("hr2", H, 62, "reply", "r2", "u3", "q2", None, [], [], False),
    ("q3", "u4", 120, "post", None, None, "q3", None, [], ["Host"], True),
    ("hr3", H, 125, "reply", "q3", "u4", "q3", None, [], [], False),
    ("p6", "u5", 180, "post", None, None, "p6", None, [], ["Host"], False),
    ("hr6", H, 181, "reply", "p6", "u5", "p6", None, [], [], False),
    # partition 1: conversations hq1, hq3, q5
    ("hq1", H, 5, "quote", None, None, "hq1", "q1", [], [], False),
    ("o1", "u2", 7, "reply", "hq1", H, "hq1", None, [], [], False),
    ("f1", "u1", 10, "reply", "hq1", H, "hq1", None, [], [], True),
    ("hf1", H, 20, "reply", "f1", "u1", "hq1", None, [], [], False),
    ("f1b", "u1", 30, "reply", "hq1", H, "hq1", None, [], [], True),
    ("hq3", H, 123, "quote", None, None, "hq3", "q3", [], [], False),
    ("f3", "u4", 124, "reply", "hq3", H, "hq3", None, [], [], False),
    ("q5", "u6", 240, "post", None, None, "q5", None, [], ["Host"], True),
]
PARTS = {0: ("q1", "q2", "q3", "p6"), 1: ("hq1", "hq3", "q5")}


def _hand_made_store(path: Path) -> Any:
    """The posts above in a store, with the embedded reply trees and relations, and the labels."""
    from askscope.analysis import analyze
    from askscope.campaign import parse_campaign
    from askscope.stages.labeling import ensure_labels_table
    from askscope.store.core import open_store

    campaign = parse_campaign({"name": "hand", "hosts": ["Host"], "hashtags": ["ask"]})
    with open_store(str(path)) as store:
        for pid, author, minute, kind, parent, parent_author, conv, quoted, tags, mentions, _ in POSTS:
            store.con.execute(
                "INSERT INTO posts BY NAME SELECT 'x' AS platform, $id AS id, $author AS author_id, "
                "CASE WHEN $author = 'h' THEN 'Host' ELSE $author END AS author_handle, "
                "TIMESTAMPTZ '2024-05-01 10:00:00+00' + to_minutes($minute) AS created_at, $id AS text, $kind AS kind, "
                "$parent AS in_reply_to_id, $parent_author AS in_reply_to_author_id, $conv AS conversation_id, "
                "$quoted AS quoted_id, $tags::VARCHAR[] AS hashtags, $mentions::VARCHAR[] AS mentions, "
                "[]::VARCHAR[] AS mention_ids, []::VARCHAR[] AS edit_ids, false AS is_context",
                {
                    "id": pid,
                    "author": author,
                    "minute": minute,
                    "kind": kind,
                    "parent": parent,
                    "parent_author": parent_author,
                    "conv": conv,
                    "quoted": quoted,
                    "tags": tags,
                    "mentions": mentions,
                },
            )
    analyze(str(path), campaign, only=["reply_trees", "relations"])
    with open_store(str(path)) as store:
        ensure_labels_table(store.con)
        for pid, *_, asks in POSTS:
            for task, label in (("question", "question" if asks else "other"), ("discourse", "question_genuine")):
                store.con.execute(
                    "INSERT INTO labels BY NAME SELECT 'x' AS platform, ? AS post_id, ? AS task, ? AS label",
                    [pid, task, label],
                )
    return campaign


def test_a_quote_from_another_partition_and_its_follow_ups_by_hand(tmp_path: Path) -> None:
    import shutil

    from dask.distributed import Client

    from askscope.analysis import analyze
    from askscope.archive.dask_answers import DaskAnswers
    from askscope.archive.dask_stages import COLUMNS, Shuffled
    from askscope.stages.base import Context, run_stages
    from askscope.store.core import open_store

    embedded, on_dask = tmp_path / "embedded.duckdb", tmp_path / "dask.duckdb"
    campaign = _hand_made_store(embedded)
    shutil.copy(embedded, on_dask)
    summary = analyze(str(embedded), campaign, only=["answers"])["answers"]
    # the two conversation partitions, by hand: the host's quotes of q1 and q3 (and the
    # follow-ups under them) in partition 1, the questions in partition 0
    work = tmp_path / "shuffle"
    for sub in ("conversation", "threads"):
        (work / sub).mkdir(parents=True)
    with open_store(str(on_dask)) as store:
        for number, roots in PARTS.items():
            ids = "(SELECT post_id FROM threads WHERE root_id IN (SELECT unnest(?::VARCHAR[])))"
            name = f"part-{number:05d}.parquet"
            store.con.execute(
                f"COPY (SELECT {', '.join(COLUMNS)} FROM posts WHERE id IN {ids}) "
                f"TO '{work / 'conversation' / name}' (FORMAT parquet)",
                [list(roots)],
            )
            store.con.execute(
                f"COPY (FROM threads WHERE post_id IN {ids}) TO '{work / 'threads' / name}' (FORMAT parquet)",
                [list(roots)],
            )
        manifest = {"tables": {"posts": {"columns": [], "rows": len(POSTS)}}}
        with Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as client:
            shuffled = Shuffled(client, tmp_path, manifest, work, 2)
            shuffled.parts = 2
            stage = DaskAnswers(shuffled)
            ctx = Context(store=store, campaign=campaign)
            got = run_stages(ctx, only=["answers"], instances={"answers": stage})["answers"]
        con = duckdb.connect()
        con.execute(f"ATTACH '{embedded}' AS e (READ_ONLY)")
        for table in ("answers", "answered_posts"):
            assert store.con.execute(f"FROM {table}").fetchall() == con.execute(f"FROM e.{table}").fetchall(), table
        answers = store.con.execute(
            "SELECT question_id, answer_id, answer_kind, latency_s, follow_up_id, follow_up_answer_id FROM answers"
        ).fetchall()
        direct = store.con.execute("SELECT post_id FROM answered_posts WHERE host_replied_directly").fetchall()
    assert got == summary
    assert stage.elsewhere == 2  # q1 and q3: answered by a quote in partition 1
    # By hand (minutes after 10:00): q1 (0) is quoted by the host at 5 in partition 1 (quote, 300 s);
    # the asker u1 replies to that quote first at 10 (f1; f1b at 30 is the second) and the host
    # answers f1 at 20. q3 (120) is quoted at 123 (partition 1) before the host's reply at 125:
    # the quote is first (180 s); u4 follows up at 124 (f3), unanswered. q2 (60): the host replies
    # at 62 to r2, a reply to q2 (thread, 120 s); r2 (61) gets that reply (60 s). f1 (10) gets
    # hf1 at 20 (600 s). f1b and q5 have no answer. p6 and f3, o1 are not questions.
    assert answers == [
        ("f1", "hf1", "reply", 600.0, None, None),
        ("f1b", None, None, None, None, None),
        ("q1", "hq1", "quote", 300.0, "f1", "hf1"),
        ("q2", "hr2", "thread", 120.0, None, None),
        ("q3", "hq3", "quote", 180.0, "f3", None),
        ("q5", None, None, None, None, None),
        ("r2", "hr2", "reply", 60.0, None, None),
    ]
    # the host replied directly to f1 (hf1), q3 (hr3), r2 (hr2) and p6 (hr6)
    assert sorted(d for (d,) in direct) == ["f1", "p6", "q3", "r2"]


def test_the_partitions_get_every_label_the_statements_read() -> None:
    """The partitions get the labels of ``LABEL_TASKS`` only: exactly the tasks ``ELIGIBLE_SQL``
    joins, and no other statement of the stage reads ``labels`` (a new join fails this test)."""
    import re

    from askscope.archive.dask_answers import LABEL_TASKS
    from askscope.stages.answers import ELIGIBLE_SQL, STATEMENTS

    assert set(re.findall(r"\.task = '(\w+)'", ELIGIBLE_SQL)) == set(LABEL_TASKS) == {"question", "discourse"}
    assert STATEMENTS[0] is ELIGIBLE_SQL
    assert not [sql for sql in STATEMENTS[1:] if re.search(r"\blabels\b", sql)]
