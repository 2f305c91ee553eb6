"""Re-ingesting what is already stored (issue 16): a record whose merge changes the stored row is
``updated``, one that leaves it as it was is ``unchanged``; read = new + updated + unchanged +
rejected, per input, in total, in the ingests table and in ``askscope info``."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from conftest import one, run_cli

import askscope

EXAMPLES = Path(__file__).parent.parent / "examples"
PAGE = EXAMPLES / "brexit-search-page.jsonl"  # one twarc2 page: 100 matched tweets, retrieved 2021-09-22T16:38:09Z
THREAD = EXAMPLES / "uber-sydney-thread"  # 103 small files (one tweet each): the grouped writer


def _page() -> dict:
    return json.loads(PAGE.read_text(encoding="utf-8").splitlines()[0])


def test_the_same_page_again_is_unchanged(tmp_path) -> None:
    db = str(tmp_path / "s.duckdb")
    first = askscope.ingest(db, [str(PAGE)]).totals
    assert (first.read, first.new, first.updated, first.unchanged) == (100, 100, 0, 0)
    again = askscope.ingest(db, [str(PAGE)]).totals
    assert (again.read, again.new, again.updated, again.unchanged, again.rejected) == (100, 0, 0, 100, 0)
    with askscope.open_store(db, read_only=True) as store:
        row = store.con.execute("SELECT read, new, updated, unchanged FROM ingests ORDER BY id DESC LIMIT 1").fetchall()
        assert row == [(100, 0, 0, 100)]


def test_a_later_observation_with_new_counts_is_updated_an_older_one_is_not(tmp_path) -> None:
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [str(PAGE)])
    page = _page()
    first, second = page["data"][0]["id"], page["data"][1]["id"]
    later = copy.deepcopy(page)
    later["__twarc"]["retrieved_at"] = "2021-09-23T16:38:09+00:00"  # a day later
    later["data"][0]["public_metrics"]["like_count"] += 5  # one tweet gained 5 likes
    (tmp_path / "later.jsonl").write_text(json.dumps(later) + "\n")
    result = askscope.ingest(db, [str(tmp_path / "later.jsonl")]).totals
    # by hand: 100 records, all stored before; the first changed (likes), the other 99 are the same
    assert (result.read, result.new, result.updated, result.unchanged) == (100, 0, 1, 99)
    earlier = copy.deepcopy(page)
    earlier["__twarc"]["retrieved_at"] = "2021-09-21T16:38:09+00:00"  # a day before the first
    earlier["data"][1]["public_metrics"]["like_count"] += 7
    (tmp_path / "earlier.jsonl").write_text(json.dumps(earlier) + "\n")
    result = askscope.ingest(db, [str(tmp_path / "earlier.jsonl")]).totals
    # an older observation never overwrites a newer one: nothing changes, although a count differs
    assert (result.new, result.updated, result.unchanged) == (0, 0, 100)
    with askscope.open_store(db, read_only=True) as store:
        likes = one(store, "SELECT like_count FROM posts WHERE id = ?", [first])
        assert likes == page["data"][0]["public_metrics"]["like_count"] + 5
        assert (
            one(store, "SELECT like_count FROM posts WHERE id = ?", [second])
            == (page["data"][1]["public_metrics"]["like_count"])
        )


def test_a_folder_of_small_files_again_is_unchanged_and_info_reconciles(tmp_path) -> None:
    folder = tmp_path / "thread"
    shutil.copytree(THREAD / "replies", folder / "replies")
    shutil.copytree(THREAD / "source-tweet", folder / "source-tweet")
    db = str(tmp_path / "s.duckdb")
    first = askscope.ingest(db, [str(folder)]).totals
    assert (first.read, first.new, first.unchanged) == (103, 103, 0)
    # one reply gains a retweet in a later observation: written by the grouped writer too
    path = sorted((folder / "replies").glob("*.json"))[0]
    tweet = json.loads(path.read_text())
    tweet["retweet_count"] = (tweet.get("retweet_count") or 0) + 3
    path.write_text(json.dumps(tweet))
    again = askscope.ingest(db, [str(folder)]).totals
    assert (again.read, again.new, again.updated, again.unchanged, again.rejected) == (103, 0, 1, 102, 0)
    # askscope info: every run, the superseded ones named, and the sums reconcile with the tables
    info = run_cli("info", db, "--json")
    assert info.returncode == 0, info.stderr
    runs = json.loads(info.stdout)["ingest_runs"]
    # a run is superseded by a later run of the same content: 102 files came again unchanged, the
    # edited one is new content (both of its runs stay current: reparse replays both)
    assert runs["all"]["runs"] == 206 and runs["superseded"] == 102
    assert runs["all"]["read"] == 206 == runs["all"]["new"] + runs["all"]["updated"] + runs["all"]["unchanged"]
    assert runs["all"]["new"] == 103 == runs["matched_posts_in_store"]
    text = run_cli("info", db).stdout
    assert "Ingest runs: 206 (102 superseded by a later ingest of the same content)" in text
    assert "read 206 = new 103 + updated 1 + unchanged 102 + rejected 0" in text


def test_a_later_version_of_an_edited_post_is_an_update(tmp_path) -> None:
    fixtures = Path(__file__).parent / "fixtures" / "x-v2"
    page = json.loads((fixtures / "edited_before.jsonl").read_text(encoding="utf-8").splitlines()[0])
    page["includes"].pop("tweets", None)  # the first version alone, without the edit that followed
    (tmp_path / "first.jsonl").write_text(json.dumps(page) + "\n")
    db = str(tmp_path / "s.duckdb")
    first = askscope.ingest(db, [str(tmp_path / "first.jsonl")]).totals
    assert (first.read, first.new) == (1, 1)
    # the latest version (another id, with the edit history): it replaces the stored first version
    later = askscope.ingest(db, [str(fixtures / "edited.jsonl")]).totals
    assert (later.read, later.new, later.updated, later.unchanged) == (1, 0, 1, 0)
    with askscope.open_store(db, read_only=True) as store:
        assert one(store, "SELECT id FROM posts") == "1576994789110992896"
