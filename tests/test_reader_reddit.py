"""Reddit reader on real API responses (PRAW's recorded Betamax cassettes), one test per quirk;
expected values read from the fixtures. The last tests ingest a whole recorded thread, response
by response, the way a researcher holding the responses would, and compare its tree and the
set of comments the thread's author answered with the truth read straight from the JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cassettes import exchanges
from conftest import fixture, one, post, rows, shared
from recorded_apis import reddit_edges

import askscope
from askscope.collect.completeness import completeness
from askscope.readers.base import RawRecord, Sink
from askscope.readers.reddit import RedditReader


def ingest(store_path: str, *paths: str) -> askscope.Store:
    result = askscope.ingest(store_path, list(paths))
    assert all(f.format == "reddit" for f in result.files) and result.reconciles
    return askscope.open_store(store_path, read_only=True)


def test_thread_page_submission_and_comment_tree(store_path):
    with ingest(store_path, fixture("reddit", "submission_comments.json")) as store:
        submission = post(store, "t3_2gmzqe", "reddit")
        assert submission["kind"] == "post" and submission["author_handle"] == "bboe"
        assert submission["text"].startswith("[PRAW] HTTPS enabled PRAW testing needed\n\nPRAW client developers,")
        assert (submission["like_count"], submission["reply_count"]) == (11, 2)
        assert submission["created_at"] == datetime(2014, 9, 17, 6, 34, 31, tzinfo=UTC)
        assert submission["conversation_id"] == "t3_2gmzqe"
        assert submission["urls"] == ["https://github.com/praw-dev/praw/issues"]  # a self post: links in the text
        assert (
            submission["url"]
            == "https://www.reddit.com/r/redditdev/comments/2gmzqe/praw_https_enabled_praw_testing_needed/"
        )
        assert rows(
            store,
            "SELECT id, in_reply_to_id, in_reply_to_author_id, conversation_id, author_id FROM posts "
            "WHERE kind = 'reply' ORDER BY id",
        ) == [
            ("t1_cklfmye", "t3_2gmzqe", "bboe", "t3_2gmzqe", "paneer_burrito"),
            ("t1_cklhv0f", "t1_cklfmye", "paneer_burrito", "t3_2gmzqe", "bboe"),
        ]
        assert rows(store, "SELECT id, handle FROM accounts ORDER BY id") == [
            ("bboe", "bboe"),
            ("paneer_burrito", "paneer_burrito"),
        ]


def test_deleted_comment_stays_in_the_tree_without_author_or_text(store_path):
    with ingest(store_path, fixture("reddit", "deleted_info.json")) as store:
        deleted = post(store, "t1_d7ltvl0", "reddit")
        assert (deleted["author_id"], deleted["author_handle"], deleted["text"]) == (None, None, "")
        assert deleted["withheld"] == ["deleted"] and deleted["in_reply_to_id"] == "t3_52o2fl"
        assert one(store, "SELECT count(*) FROM accounts") == 0


def test_continue_this_thread_stub_is_kept_as_a_gap(store_path):
    with ingest(store_path, fixture("reddit", "parent_chain_context.json")) as store:
        assert one(store, "SELECT count(*) FROM posts") == 11
        assert rows(store, "SELECT resource_type, resource_id, title, detail FROM api_errors") == [
            ("more", "t1_dkk4q9z", "continue this thread", "")
        ]
        c = completeness(store, "reddit")
        assert (c.more_stubs, c.more_stubs_open, c.orphans) == (1, 1, 1)  # the chain's first parent is not stored


def test_morechildren_result_is_a_flat_list_with_parents(store_path):
    with ingest(store_path, fixture("reddit", "morechildren.json")) as store:
        assert rows(store, "SELECT id, in_reply_to_id, author_handle, like_count FROM posts ORDER BY id") == [
            ("t1_cu5t5fm", "t1_cu5t0tk", "deepfeeld", 10),
            ("t1_cu5t6gf", "t1_cu5t0tk", "NotAModBro", 38),
            ("t1_cu5tlgk", "t1_cu5t0tk", "admiraljohn", 5),
            ("t1_cu5x49i", "t1_cu5tlgk", "dafaq101", 0),
            ("t1_cu62hcz", "t1_cu5t0tk", "SQUID_FUCKER", 1),
            ("t1_cu6889z", "t1_cu62hcz", "dafaq101", 1),
        ]
        # Parents' authors are known only inside the same response.
        assert rows(store, "SELECT in_reply_to_author_id FROM posts WHERE id = 't1_cu6889z'") == [("SQUID_FUCKER",)]


def test_ndjson_dump_lines(store_path, tmp_path):
    with ingest(store_path, fixture("reddit", "dump.ndjson")) as store:
        assert rows(store, "SELECT id, in_reply_to_id, kind FROM posts ORDER BY id") == [
            ("t1_cklfmye", "t3_2gmzqe", "reply"),
            ("t1_cklhv0f", "t1_cklfmye", "reply"),
            ("t3_2gmzqe", None, "post"),
        ]
        line2 = post(store, "t1_cklfmye", "reddit")
        assert line2["created_at"] == datetime.fromtimestamp(1411005112, tz=UTC)  # a string timestamp
        assert line2["observed_at"] == datetime.fromtimestamp(1450000000, tz=UTC)  # retrieved_on


def _thread_files(tmp_path):
    """Each recorded response of the large thread in a file of its own, as held by a researcher."""
    paths = []
    for number, e in enumerate(exchanges(shared("fixtures", "reddit", "TestCommentForest.test_replace__all.json"))):
        if "access_token" in e.url:
            continue
        path = tmp_path / f"response-{number:02d}.json"
        path.write_bytes(e.body)
        paths.append(str(path))
    return paths


def test_thread_ingested_in_pieces_is_stitched_edge_for_edge(store_path, tmp_path):
    with ingest(store_path, *_thread_files(tmp_path)) as store:
        stored = set(rows(store, "SELECT in_reply_to_id, id FROM posts WHERE in_reply_to_id IS NOT NULL"))
        assert stored == reddit_edges()
        assert one(store, "SELECT count(DISTINCT conversation_id) FROM posts") == 1
        c = completeness(store, "reddit")
        assert (c.posts, c.more_stubs, c.more_stubs_open, c.comments_not_loaded, c.orphans) == (542, 18, 1, 2, 0)


def test_answered_set_matches_the_recorded_thread(store_path, tmp_path):
    """The comments a thread's author replied to, from the store and from the raw JSON (an
    AskReddit thread page whose author answered several commenters)."""
    cassette = shared("fixtures", "reddit", "TestComment.test_refresh__removed_comment.json")
    authors: dict[str, str] = {}
    parents: dict[str, str] = {}
    paths = []
    for number, e in enumerate(exchanges(cassette)):
        if "access_token" in e.url:
            continue
        (tmp_path / f"{number}.json").write_bytes(e.body)
        paths.append(str(tmp_path / f"{number}.json"))
        stack = [json.loads(e.body)]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("kind") in ("t1", "t3"):
                    authors[node["data"]["name"]] = node["data"]["author"]
                    if node["kind"] == "t1":
                        parents[node["data"]["name"]] = node["data"]["parent_id"]
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    op = authors["t3_6wmniq"]
    truth = {parents[c] for c, a in authors.items() if a == op and c in parents and parents[c].startswith("t1_")}
    with ingest(store_path, *paths) as store:
        answered = {
            r[0]
            for r in rows(
                store,
                """
            SELECT DISTINCT reply.in_reply_to_id FROM posts reply JOIN posts thread ON thread.id = reply.conversation_id
            WHERE reply.author_id = thread.author_id AND reply.in_reply_to_id LIKE 't1_%'""",
            )
        }
        assert set(rows(store, "SELECT in_reply_to_id, id FROM posts WHERE in_reply_to_id IS NOT NULL")) == {
            (parent, child) for child, parent in parents.items()
        }
    assert answered == truth and len(truth) == 6


def test_broken_records_are_rejected_not_raised():
    sink = Sink(source_file="x")
    reader = RedditReader()
    for line, raw in enumerate(
        (
            b'{"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"id": "a", "score": "x"}},'
            b' {"kind": "t1", "data": {"id": "b", "body": "fine", "parent_id": "t3_z"}}]}}',
            b'{"kind": "t5", "data": {"id": "c"}}',
            b'[{"kind": "Listing"',
        ),
        1,
    ):
        reader.parse(RawRecord(line, 0, raw), sink)
    assert [(r.source_line, r.reason) for r in sink.rejects] == [
        (1, "invalid_value"),
        (2, "not_a_post"),
        (3, "invalid_json"),
    ]
    assert [p.id for p in sink.matches] == ["t1_b"]
