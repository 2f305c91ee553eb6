"""The live console's engine (issue 14): replay intake, the queue, closure, the pulse, restarts.

The figures to hold: replaying a real thread through ``askscope live``, every question the
answers stage (``askscope analyze`` on the same store afterwards) says is answered is closed by
itself and no unanswered one is; the pulse equals analyze's numbers; a ``kill -9`` mid-replay and
a restart leave exactly the posts of a plain ``askscope ingest``; near-duplicates collapse.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import rows, run_cli, shared

import askscope
from askscope.live.console import LiveConsole
from askscope.live.intake import ReplayIntake

DEMO = Path(askscope.__file__).parent / "demo"
FERGUSON = ("rumoureval", "train", "ferguson", "500279160795721728")
POSTS_SQL = (
    "SELECT platform, id, author_id, author_handle, created_at, text, kind, in_reply_to_id, in_reply_to_author_id, "
    "conversation_id, quoted_id, reposted_id, hashtags, mentions, urls, like_count, repost_count, reply_count, "
    "is_context FROM posts ORDER BY platform, id"
)


def _demo_folder(folder: Path) -> tuple[str, str]:
    shutil.copyfile(DEMO / "uber_sydney.zip", folder / "uber_sydney.zip")
    shutil.copyfile(DEMO / "campaign.toml", folder / "campaign.toml")
    return str(folder / "campaign.toml"), str(folder / "uber_sydney.zip")


def _analyzed(db: str) -> dict[str, Any]:
    """What analyze says on the store: answers per question, the metrics the pulse shows."""
    with askscope.open_store(db, read_only=True) as store:
        answers = {(p, q): a for p, q, a in rows(store, "SELECT platform, question_id, answer_id FROM answers")}
        metrics = {
            m: (v, n)
            for m, v, n in rows(
                store,
                "SELECT metric, value, n FROM metrics WHERE metric IN "
                "('answer_rate', 'hostile_share', 'answer_latency.median_s')",
            )
        }
    return {"answers": answers, "metrics": metrics}


def _check_closure(queue: list[dict[str, Any]], answers: dict[tuple[str, str], str | None]) -> None:
    """Every question analyze found is in one item; an item is closed by itself exactly when
    analyze answered one of its questions, with the earliest of those answers."""
    members = [(m["platform"], m["id"]) for item in queue for m in item["members"]]
    assert len(members) == len(set(members))
    assert set(members) == set(answers)
    for item in queue:
        keys = [(m["platform"], m["id"]) for m in item["members"]]
        answered = [answers[k] for k in keys if answers[k] is not None]
        for m in item["members"]:
            assert m["answered"] == (answers[(m["platform"], m["id"])] is not None)
        if answered:
            assert item["status"] == "answered" and item["closed_by"] == "auto", item["item"]
            assert item["answer"]["id"] in answered
            if len(keys) == 1:
                assert item["answer"]["id"] == answered[0]
        else:
            assert item["status"] == "open" and item["closed_by"] is None and item["answer"] is None


def _check_pulse(pulse: dict[str, Any], analyzed: dict[str, Any]) -> None:
    answers = analyzed["answers"]
    rate, n_rate = analyzed["metrics"]["answer_rate"]
    share, n_share = analyzed["metrics"]["hostile_share"]
    assert pulse["questions"] == len(answers) == n_rate
    assert pulse["answered"] == sum(a is not None for a in answers.values())
    assert pulse["answer_rate"]["estimate"] == rate
    assert pulse["hostile_share"]["n"] == n_share
    assert pulse["hostile_share"]["k"] == round(share * n_share)
    median = analyzed["metrics"].get("answer_latency.median_s")
    assert pulse["median_answer_s"] == (median[0] if median else None)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo thread replayed through ``askscope live --no-serve --speed 1000``, then analyzed."""
    folder = tmp_path_factory.mktemp("live-demo")
    campaign, data = _demo_folder(folder)
    db = str(folder / "live.duckdb")
    proc = run_cli("live", campaign, "--db", db, "--replay", data, "--speed", "1000", "--no-serve", "--json")
    assert proc.returncode == 0, proc.stderr
    session = json.loads(proc.stdout)
    console = LiveConsole.open(db, campaign)
    try:
        queue = console.queue(status="all", show_abuse=True)
        reopened_pulse = console.pulse()
    finally:
        console.close()
    analyzed_proc = run_cli("analyze", db, "--campaign", campaign)
    assert analyzed_proc.returncode == 0, analyzed_proc.stderr
    return {
        "folder": folder,
        "campaign": campaign,
        "data": data,
        "db": db,
        "session": session,
        "queue": queue,
        "reopened_pulse": reopened_pulse,
        "analyzed": _analyzed(db),
    }


def test_demo_replay_stores_every_record(demo):
    intake = demo["session"]["pulse"]["intake"]
    # the zip holds the host's post and 102 replies, one file each
    assert (intake["stored"], intake["rejected"], intake["running"], intake["error"]) == (103, 0, False, None)
    with askscope.open_store(demo["db"], read_only=True) as store:
        assert rows(store, "SELECT count(*) FROM posts") == [(103,)]
        assert rows(store, "SELECT position, total, status FROM live_intake") == [(103, 103, "done")]


def test_demo_closure_matches_the_answers_stage(demo):
    answers = demo["analyzed"]["answers"]
    # 12 questions to @Uber_Sydney, 9 answered with the models of December 2026 (a retrained model may move them)
    assert len(answers) >= 8 and sum(a is not None for a in answers.values()) >= 5
    _check_closure(demo["queue"], answers)


def test_demo_pulse_equals_analyze(demo):
    _check_pulse(demo["session"]["pulse"], demo["analyzed"])
    # a console opened again on the store rebuilds the same state
    assert {k: v for k, v in demo["reopened_pulse"].items() if k != "intake"} == {
        k: v for k, v in demo["session"]["pulse"].items() if k != "intake"
    }


def test_the_fast_labeler_labels_the_session_and_analyze_reuses_its_labels(demo, tmp_path):
    """``--labeler bundled-fast``: the session's labels are the fast model set's (recomputed here
    with that labeler, and not the default set's of the same posts), and ``analyze`` with the same
    labeler classifies nothing again."""
    from askscope.stages.labeling import BundledFastLabeler

    campaign, data = _demo_folder(tmp_path)
    db = str(tmp_path / "fast.duckdb")
    common = ("--replay", data, "--speed", "1000000", "--no-serve", "--json")
    proc = run_cli("live", campaign, "--db", db, *common, "--labeler", "bundled-fast")
    assert proc.returncode == 0, proc.stderr
    fast = BundledFastLabeler()
    query = (
        "SELECT l.platform, l.post_id, p.text, l.task, l.label, l.probability, l.model FROM labels l "
        "JOIN posts p ON p.platform = l.platform AND p.id = l.post_id ORDER BY l.platform, l.post_id, l.task"
    )
    with askscope.open_store(db, read_only=True) as store:
        stored = rows(store, query)
    with askscope.open_store(demo["db"], read_only=True) as store:
        default = {(r[0], r[1], r[3]): (r[4], r[5]) for r in rows(store, query)}
    assert stored and {(r[3], r[6]) for r in stored} == set(fast.versions().items())
    posts = sorted({(r[0], r[1]): r[2] for r in stored}.items())
    results = fast.label([text for _, text in posts], [key for key, _ in posts])
    index = {key: i for i, (key, _) in enumerate(posts)}
    for platform, post_id, _text, task, label, probability, _model in stored:
        names, chosen = results[task][0], results[task][1]
        i = index[(platform, post_id)]
        assert label == names[i]
        assert probability == pytest.approx(float(chosen[i]), abs=1e-6)
    differing = sum(1 for r in stored if (r[0], r[1], r[3]) in default and default[(r[0], r[1], r[3])][1] != r[5])
    assert differing > len(stored) // 2  # another encoder: (almost) every probability moves
    analyzed = run_cli("analyze", db, "--campaign", campaign, "--labeler", "bundled-fast", "--json")
    assert analyzed.returncode == 0, analyzed.stderr
    summary = json.loads(analyzed.stdout)["classify"]
    assert summary["classified_now"] == 0 and summary["reused"] == len(posts)


def test_rumoureval_thread_closure_and_pulse_match_analyze(tmp_path):
    """A second real thread: @DanteB4u's Ferguson question and the 92 replies (11 its own)."""
    thread = shared(*FERGUSON)
    source = json.loads(next((thread / "source-tweet").glob("*.json")).read_text())
    campaign = tmp_path / "ferguson.toml"
    campaign.write_text(f'name = "ferguson"\nhosts = ["{source["user"]["screen_name"]}"]\n')
    db = str(tmp_path / "live.duckdb")
    console = LiveConsole.open(db, str(campaign))
    try:
        ReplayIntake(str(thread), 1e9).run(console, _never())
        queue = console.queue(status="all", show_abuse=True)
        pulse = console.pulse()
    finally:
        console.close()
    # structure.json is no post format: stored as a reject with its reason, as ingest does
    assert (pulse["intake"]["stored"], pulse["intake"]["rejected"]) == (93, 1)
    askscope.analyze(db, askscope.load_campaign(campaign))
    analyzed = _analyzed(db)
    assert len(analyzed["answers"]) >= 5 and any(analyzed["answers"].values())
    _check_closure(queue, analyzed["answers"])
    _check_pulse(pulse, analyzed)


def _never() -> Any:
    import threading

    return threading.Event()


def _replay_cmd(campaign: str, db: str, data: str, speed: str) -> list[str]:
    return [sys.executable, "-m", "askscope", "live", campaign, "--db", db, "--replay", data, "--speed", speed,
            "--no-serve"]  # fmt: skip


def test_kill_9_mid_replay_then_restart_loses_and_doubles_nothing(demo, tmp_path):
    campaign, data = _demo_folder(tmp_path)
    db = str(tmp_path / "killed.duckdb")
    proc = subprocess.Popen(
        _replay_cmd(campaign, db, data, "3000"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert proc.stderr is not None
    done = 0
    for line in proc.stderr:
        if line.startswith("replayed "):
            done = int(line.split()[1])
            if done >= 30:
                os.kill(proc.pid, signal.SIGKILL)
                break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and 30 <= done < 103
    with askscope.open_store(db, read_only=True) as store:
        (position,) = rows(store, "SELECT position FROM live_intake")[0]
        assert 30 <= position < 103
        assert rows(store, "SELECT count(*) FROM posts") == [(position,)]  # one post a record, batches whole
    again = subprocess.run(_replay_cmd(campaign, db, data, "1000000"), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    plain = str(tmp_path / "plain.duckdb")
    assert run_cli("ingest", plain, data, "--no-progress").returncode == 0
    with askscope.open_store(db, read_only=True) as live, askscope.open_store(plain, read_only=True) as ingested:
        assert rows(live, POSTS_SQL) == rows(ingested, POSTS_SQL)
        assert rows(live, "SELECT count(*), count(DISTINCT (platform, post_id, task)) FROM labels") == [(824, 824)]
        assert rows(live, "SELECT count(*) - count(DISTINCT (platform, post_id)) FROM live_item_posts") == [(0,)]
        assert rows(live, "SELECT status, count(*) FROM ingests GROUP BY 1 ORDER BY 1") == [
            ("done", 1),
            ("interrupted", 1),
        ]
        items = rows(live, "SELECT item_id, status, closed_by, answer_id FROM live_items ORDER BY 1")
    # the same items as the session that was never killed
    assert items == [
        (i["item"], i["status"], i["closed_by"], i["answer"]["id"] if i["answer"] else None)
        for i in sorted(demo["queue"], key=lambda i: i["item"])
    ]


def test_actions_are_logged_kept_and_checked(demo, tmp_path):
    db = str(tmp_path / "actions.duckdb")
    shutil.copyfile(demo["db"], db)
    console = LiveConsole.open(db, demo["campaign"])
    try:
        open_items = console.queue()
        assert open_items and all(i["status"] == "open" for i in open_items)
        last = open_items[-1]["item"]
        console.act(last, "pin", "ana")
        assert console.queue()[0]["item"] == last  # pinned first
        console.act(last, "assign", "ana", assignee="ben")
        assert [i["item"] for i in console.queue(assignee="ben")] == [last]
        version = console.version
        console.act(last, "skip", "ben", note="off topic")
        assert console.version > version and console.wait(version, 0.0) == console.version
        assert last not in [i["item"] for i in console.queue()]
        assert [i["item"] for i in console.queue(status="skipped")] == [last]
        console.act(last, "reopen", "ana")
        item = console.act(last, "answered", "ben")
        assert (item["status"], item["closed_by"]) == ("answered", "ben")
        with pytest.raises(ValueError, match="unknown action"):
            console.act(last, "delete", "ana")
        with pytest.raises(ValueError, match="no item"):
            console.act("x:nope", "pin", "ana")
        with pytest.raises(ValueError, match="team member"):
            console.act(last, "pin", " ")
        logged = rows(
            console.store, 'SELECT member, item_id, action, assignee, note FROM live_actions ORDER BY "at", action'
        )
    finally:
        console.close()
    assert logged == [
        ("ana", last, "pin", None, None),
        ("ana", last, "assign", "ben", None),
        ("ben", last, "skip", None, "off topic"),
        ("ana", last, "reopen", None, None),
        ("ben", last, "answered", None, None),
    ]
    console = LiveConsole.open(db, demo["campaign"])
    try:
        kept = console.item(last)
    finally:
        console.close()
    assert kept is not None
    assert (kept["status"], kept["closed_by"], kept["assigned_to"], kept["pinned"]) == ("answered", "ben", "ben", True)
    # the thread runs from the host's post (every demo reply hangs below it) down to the question
    assert kept["thread"][0]["is_host"] and kept["thread"][0]["id"] == "544329935943237632"
    assert kept["post"]["id"] in [p["id"] for p in kept["thread"]]


def test_the_web_app_snapshots_the_store_the_console_writes_in_the_same_process(demo, tmp_path):
    """askscope live serves the web app in the console's process: its snapshots are copied under
    the console's lock (DuckDB refuses a read-only connection beside the read-write one)."""
    from askscope.store.snapshot import Snapshots

    db = str(tmp_path / "served.duckdb")
    shutil.copyfile(demo["db"], db)
    console = LiveConsole.open(db, demo["campaign"])
    snapshots = Snapshots(db, tmp_path / "snaps")
    try:
        with snapshots.open() as store:
            assert rows(store, "SELECT count(*) FROM posts") == [(103,)]
        console.act(console.queue()[0]["item"], "pin", "ana")
        with snapshots.open() as store:  # a new snapshot: the action is in it
            assert rows(store, "SELECT member, action FROM live_actions") == [("ana", "pin")]
    finally:
        console.close()
        snapshots.close()


def test_priority_is_the_sum_of_its_terms_and_categories_come_first(demo):
    queue = [i for i in demo["queue"] if not i["pinned"]]
    weights = {"question_genuine": 300.0, "question_critical": 200.0, "mockery": 100.0}
    for item in queue:
        terms = item["terms"]
        assert item["priority"] == pytest.approx(sum(terms.values()), abs=0.01)
        assert terms["category"] == weights.get(item["category"], 0.0)
        # reach term: 10 log10(1 + reach), capped at 40 (e.g. reach 1804 -> 32.565)
        assert terms["reach"] == pytest.approx(min(40.0, 10 * math.log10(1 + item["reach"])), abs=0.001)
        assert terms["asked"] == pytest.approx(min(30.0, 10 * math.log2(item["count"])), abs=0.001)
    ranked = sorted(queue, key=lambda i: -i["priority"])
    order = [weights.get(i["category"], 0.0) for i in ranked]
    assert order == sorted(order, reverse=True)


# --- near-duplicates on a planted thread ---------------------------------------------------------


def _tweet(template: dict[str, Any], tweet_id: int, user: int, name: str, text: str, at: datetime, reply_to: int,
           reply_to_user: int, reply_to_name: str) -> dict[str, Any]:  # fmt: skip
    out = copy.deepcopy(template)
    out.update(
        id=tweet_id,
        id_str=str(tweet_id),
        text=text,
        created_at=at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        in_reply_to_status_id=reply_to,
        in_reply_to_status_id_str=str(reply_to),
        in_reply_to_user_id=reply_to_user,
        in_reply_to_user_id_str=str(reply_to_user),
        in_reply_to_screen_name=reply_to_name,
    )
    out["user"] = {**out["user"], "id": user, "id_str": str(user), "screen_name": name, "followers_count": 10}
    mentions = [{"id": reply_to_user, "id_str": str(reply_to_user), "screen_name": reply_to_name, "indices": [0, 1]}]
    out["entities"] = {**out["entities"], "user_mentions": mentions, "hashtags": [], "urls": []}
    return out


def test_near_duplicate_questions_collapse_and_the_host_answer_closes_one(tmp_path):
    archive = zipfile.ZipFile(DEMO / "uber_sydney.zip")
    root = json.loads(archive.read("source-tweet/544329935943237632.json"))
    template = json.loads(archive.read("replies/544331336266579969.json"))
    start = datetime(2014, 12, 15, 3, 30, tzinfo=UTC)
    host, host_name, root_id = 508110571, "Uber_Sydney", 544329935943237632
    texts = [
        (1, 101, "alice", "@Uber_Sydney Are you still charging surge prices in the CBD tonight?"),
        (2, 102, "bob", "@Uber_Sydney are you STILL charging surge prices in the CBD tonight??"),
        (3, 103, "carol", "@Uber_Sydney Will your drivers be paid for the free rides out of the city?"),
    ]
    tweets = [root] + [
        _tweet(template, 900 + n, user, name, text, start + timedelta(minutes=n), root_id, host, host_name)
        for n, user, name, text in texts
    ]
    answers = [
        (999, "@carol Yes, every driver is paid in full.", 9, 903, 103, "carol"),
        (998, "@alice No surge pricing tonight.", 10, 901, 101, "alice"),
    ]
    for answer_id, text, minute, question, user, name in answers:
        answer = _tweet(template, answer_id, host, host_name, text, start + timedelta(minutes=minute), question, user,
                        name)  # fmt: skip
        answer["user"] = root["user"]
        tweets.append(answer)
    # dave asks alice's question again after the host answered it: an item of his own
    tweets.append(
        _tweet(template, 904, 104, "dave", "@Uber_Sydney are you still charging surge prices in the CBD tonight",
               start + timedelta(minutes=12), root_id, host, host_name)
    )  # fmt: skip
    data = tmp_path / "planted.jsonl"
    data.write_text("".join(json.dumps(t) + "\n" for t in tweets))
    campaign = tmp_path / "c.toml"
    campaign.write_text('name = "planted"\nhosts = ["Uber_Sydney"]\n')
    console = LiveConsole.open(str(tmp_path / "p.duckdb"), str(campaign))
    try:
        ReplayIntake(str(data), 1e9).run(console, _never())
        queue = console.queue(status="all")
        questions = console.questions()
    finally:
        console.close()
    assert set(questions) == {("x", "901"), ("x", "902"), ("x", "903"), ("x", "904")}
    by_first = {i["post"]["id"]: i for i in queue}
    assert set(by_first) == {"901", "903", "904"}
    assert by_first["901"]["count"] == 2 and [m["id"] for m in by_first["901"]["members"]] == ["901", "902"]
    # the host answered alice: the item closes; bob's question in it was not itself answered
    assert (by_first["901"]["status"], by_first["901"]["answer"]["id"]) == ("answered", "998")
    assert [m["answered"] for m in by_first["901"]["members"]] == [True, False]
    assert (by_first["904"]["status"], by_first["904"]["count"]) == ("open", 1)
    assert (by_first["903"]["status"], by_first["903"]["closed_by"], by_first["903"]["answer"]["id"]) == (
        "answered",
        "auto",
        "999",
    )
    # asked by two: the asked term is 10 log2(2) = 10
    assert by_first["901"]["terms"]["asked"] == 10.0


# --- the command line ---------------------------------------------------------------------------


def test_cli_errors_exit_1_with_a_hint(tmp_path):
    campaign, data = _demo_folder(tmp_path)
    db = str(tmp_path / "e.duckdb")
    neither = run_cli("live", campaign, "--db", db, "--no-serve")
    assert neither.returncode == 1 and neither.stderr.startswith("Error: give either --replay FILE or --source")
    missing = run_cli("live", campaign, "--db", db, "--replay", str(tmp_path / "nope.jsonl"), "--no-serve")
    assert missing.returncode == 1 and "Error: no such replay file" in missing.stderr and "Hint:" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(campaign).read_text() + "\n[live]\nhostility_threshold = 2\n")
    wrong = run_cli("live", str(bad), "--db", db, "--replay", data, "--no-serve")
    assert wrong.returncode == 1 and "live.hostility_threshold = 2 is not a share" in wrong.stderr
    env_token = os.environ.pop("ASKSCOPE_X_BEARER_TOKEN", None)
    try:
        no_token = run_cli("live", campaign, "--db", db, "--source", "x", "--no-serve")
    finally:
        if env_token is not None:
            os.environ["ASKSCOPE_X_BEARER_TOKEN"] = env_token
    assert no_token.returncode == 1 and "Error: no X bearer token" in no_token.stderr
    unknown_db = tmp_path / "unknown.duckdb"
    unknown = run_cli("live", campaign, "--db", str(unknown_db), "--replay", data, "--no-serve", "--labeler", "nope")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error: unknown labeler 'nope'")
    assert "bundled-fast" in unknown.stderr and not unknown_db.exists()
    assert "Traceback" not in neither.stderr + missing.stderr + wrong.stderr + no_token.stderr + unknown.stderr
