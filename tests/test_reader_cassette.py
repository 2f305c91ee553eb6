"""Cassettes (recorded HTTP exchanges) ingested as they are: each response body goes to its
platform's reader, with the request URL and recording time; nothing that is not a post (an OAuth
token response) is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import one, rows, shared
from recorded_apis import reddit_edges

import askscope


def test_betamax_reddit_cassette_gives_the_same_tree_as_its_bodies(store_path):
    cassette = str(shared("fixtures", "reddit", "TestCommentForest.test_replace__all.json"))
    result = askscope.ingest(store_path, [cassette])
    assert result.files[0].format == "cassette" and result.reconciles
    assert (result.totals.read, result.totals.rejected) == (555, 1)  # 554 things + the token response
    with askscope.open_store(store_path, read_only=True) as store:
        assert (
            set(rows(store, "SELECT in_reply_to_id, id FROM posts WHERE in_reply_to_id IS NOT NULL")) == reddit_edges()
        )
        # observed_at is when the response was recorded: the submission was last seen in the
        # "continue this thread" pages recorded at 05:37:29, a top comment only on the first page.
        assert one(store, "SELECT observed_at FROM posts WHERE id = 't3_3hahrw'") == datetime(
            2016, 3, 22, 5, 37, 29, tzinfo=UTC
        )
        assert one(store, "SELECT observed_at FROM posts WHERE id = 't1_cu5oif1'") == datetime(
            2016, 3, 22, 5, 37, 25, tzinfo=UTC
        )
        reject = rows(store, "SELECT source_line, reason, detail, excerpt FROM rejects")
        assert reject == [
            (
                1,
                "not_a_post",
                "a recorded response that holds no posts: POST https://www.reddit.com/api/v1/access_token (HTTP 200)",
                "",
            )
        ]
        raw = b"".join(r[0] for r in rows(store, "SELECT payload FROM raw"))
    assert b"ACCESS_TOKEN" not in raw  # the token response's body is not kept (compressed or not)
    with askscope.open_store(store_path) as store:
        assert askscope.reparse(store).posts_after == 542


def test_vcr_yaml_mastodon_cassette_takes_the_instance_from_the_request(store_path):
    result = askscope.ingest(store_path, [str(shared("fixtures", "mastodon", "test_status_reply.yaml"))])
    assert result.files[0].format == "cassette" and result.reconciles
    with askscope.open_store(store_path, read_only=True) as store:
        assert rows(store, "SELECT id, kind, in_reply_to_id FROM posts ORDER BY id") == [
            ("localhost:3000:117020583245459824", "post", None),
            ("localhost:3000:117020583258292382", "reply", "localhost:3000:117020583245459824"),
        ]
        # verify_credentials answers with an account, not a post.
        assert one(store, "SELECT count(*) FROM rejects") == 1


def test_vcr_yaml_bluesky_cassette_keeps_the_recording_time(store_path):
    askscope.ingest(store_path, [str(shared("fixtures", "bluesky", "f_search.yml"))])
    with askscope.open_store(store_path, read_only=True) as store:
        assert one(store, "SELECT count(*) FROM posts WHERE NOT is_context") == 25
        assert rows(store, "SELECT DISTINCT observed_at FROM posts") == [
            (datetime(2025, 5, 19, 17, 41, 37, tzinfo=UTC),)
        ]
