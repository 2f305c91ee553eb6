"""X API v1.1 reader: one test per format quirk, expected values read by hand from the fixtures
(response bodies of tweepy's recorded exchanges; constructed variants noted in
tests/fixtures/README.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from conftest import fixture, one, post, rows, shared

import askscope
from askscope.readers.x_v1 import parse_v1_date


def ingest(store_path: str, *paths: str) -> askscope.IngestResult:
    return askscope.ingest(store_path, list(paths), workers=0)


def test_single_object(store_path):
    result = ingest(store_path, fixture("x-v1", "status.json"))
    assert (result.totals.read, result.totals.new) == (1, 1)
    assert result.files[0].format == "x-v1"
    with askscope.open_store(store_path) as store:
        p = post(store, "266367358078169089")
        assert p["author_id"] == "783214" and p["author_handle"] == "Twitter"
        assert p["text"].startswith("RT @TwitterEng: Bolstering our infrastructure.")
        assert p["kind"] == "post"  # a manual "RT", not a retweet object
        assert (p["repost_count"], p["like_count"]) == (211, 144)
        assert p["created_at"] == datetime(2012, 11, 8, 2, 31, 41, tzinfo=UTC)
        assert p["urls"] == ["https://engineering.twitter.com/2012/11/bolstering-our-infrastructure.html"]
        assert p["lang"] == "en"


def test_search_response_statuses(store_path):
    result = ingest(store_path, fixture("x-v1", "search_tweets.json"))
    assert (result.totals.read, result.totals.new, result.totals.rejected) == (15, 15, 0)
    with askscope.open_store(store_path) as store:
        reply = post(store, "1149678185375600641")
        assert reply["kind"] == "reply"
        assert reply["in_reply_to_id"] == "1149676837204717568"
        assert reply["in_reply_to_author_id"] == "126602043"
        assert reply["mentions"][:2] == ["Kirzahk", "DianalvarezBack"]
        tagged = post(store, "1149698684646563840")
        assert tagged["hashtags"] == ["data", "tweets", "python", "twitter"]
        assert tagged["urls"] == ["https://www.data-blogger.com/2017/02/24/gathering-tweets-with-python/"]
        # items of one response line are numbered
        assert one(store, "SELECT count(DISTINCT source_line) FROM posts WHERE NOT is_context") == 1


def test_retweet_takes_the_originals_text_and_stores_it_as_context(store_path):
    ingest(store_path, fixture("x-v1", "search_tweets.json"))
    with askscope.open_store(store_path) as store:
        rt = post(store, "1149824190259834881")
        assert rt["kind"] == "repost"
        assert rt["text"].startswith("An important thread 👇🏽\n\nMany of us take water for granted")
        assert rt["mentions"][0] == "BBCRajiniV"
        original = post(store, rt["reposted_id"])
        assert original["is_context"] is True
        assert original["author_handle"] == "BBCRajiniV"


def test_retweet_of_a_retweet_array(store_path):
    result = ingest(store_path, fixture("x-v1", "retweets.json"))
    assert result.totals.read == 15
    with askscope.open_store(store_path) as store:
        rt = post(store, "486663181901627392")
        assert rt["kind"] == "repost" and rt["reposted_id"] == "266367358078169089"
        assert rt["author_handle"] == "aosuzhsbwusnshs"
        assert post(store, "266367358078169089")["is_context"] is True


def test_users_become_account_records_and_their_status_context(store_path):
    result = ingest(store_path, fixture("x-v1", "lookup_users.json"))
    assert (result.totals.read, result.totals.new) == (2, 2)
    with askscope.open_store(store_path) as store:
        assert rows(
            store,
            "SELECT id, handle, name, followers_count, following_count, posts_count, verified, "
            "created_at FROM accounts ORDER BY id",
        ) == [
            (
                "6253282",
                "TwitterAPI",
                "Twitter API",
                6116812,
                12,
                3672,
                True,
                datetime(2007, 5, 23, 6, 1, 13, tzinfo=UTC),
            ),
            (
                "6844292",
                "TwitterEng",
                "Twitter Engineering",
                1302441,
                14,
                499,
                True,
                datetime(2007, 6, 16, 0, 14, 36, tzinfo=UTC),
            ),
        ]
        assert one(store, "SELECT location FROM accounts WHERE id = '6253282'") == "San Francisco, CA"
        status = post(store, "1163494716840665090")
        assert status["is_context"] is True and status["author_handle"] == "TwitterEng"


def test_quote_id_from_a_users_embedded_status(store_path):
    ingest(store_path, fixture("x-v1", "search_users.json"))
    with askscope.open_store(store_path) as store:
        p = post(store, "1149637938608668673")
        assert p["kind"] == "quote" and p["quoted_id"] == "1149503800446636033"
        assert p["author_id"] == "103770785"


def test_extended_tweet_full_text_and_its_entities(store_path):
    ingest(store_path, fixture("x-v1", "extended.jsonl"))
    with askscope.open_store(store_path) as store:
        compat = post(store, "1149788838430224391")
        assert compat["text"].startswith("Hey Tweepy's! Slaap lekker!! Dit is de rest van een lange tweet")
        assert compat["hashtags"] == ["tweepy"]
        assert compat["mentions"] == ["TweepyDev"]
        assert compat["media_count"] == 1
        assert compat["is_context"] is False  # matched on line 1, quoted again on line 3
        extended = post(store, "1149781555226828800")
        assert extended["text"] == "Sending my first tweet via Tweepy!"
        quote = post(store, "1149700000000000001")
        assert quote["kind"] == "quote" and quote["quoted_id"] == "1149788838430224391"
        assert quote["urls"] == ["https://twitter.com/ErikDePay/status/1149788838430224391"]


def test_streaming_lines_with_control_messages_and_a_truncated_end(store_path):
    result = ingest(store_path, fixture("x-v1", "streaming.jsonl"))
    t = result.totals
    assert (t.read, t.new, t.rejected) == (9, 6, 3)
    with askscope.open_store(store_path) as store:
        assert rows(store, "SELECT source_line, reason FROM rejects ORDER BY source_line") == [
            (3, "control_message"),
            (6, "control_message"),
            (9, "invalid_json"),
        ]


def test_pretty_printed_array_gives_element_lines(tmp_path, store_path):
    tweets = json.load(open(fixture("x-v1", "user_timeline.json")))
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(tweets, indent=2))
    result = ingest(store_path, str(path))
    assert (result.totals.read, result.totals.new) == (4, 4)
    with askscope.open_store(store_path) as store:
        lines = [line for (line,) in rows(store, "SELECT source_line FROM posts WHERE NOT is_context ORDER BY 1")]
    assert lines[0] == 2  # the first element starts on line 2, after "["
    text = path.read_text().splitlines()
    for line in lines:
        assert text[line - 1].strip() == "{"


def test_rumoureval_thread_files(store_path):
    thread = shared("rumoureval", "train", "charliehebdo", "552783667052167168")
    result = ingest(store_path, str(thread))
    assert result.totals.new == 6  # the source and five replies
    # structure.json (the tree) is not posts: skipped, and said so
    assert [name.rsplit("/", 1)[-1] for name, _ in result.skipped] == ["structure.json"]
    with askscope.open_store(store_path) as store:
        assert post(store, "552785374507175936")["in_reply_to_id"] == "552783667052167168"
        assert post(store, "552786226546495488")["in_reply_to_id"] == "552785374507175936"


def test_v1_date_parser():
    assert parse_v1_date("Wed Oct 10 20:19:24 +0000 2018") == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert parse_v1_date("Wed Oct 10 22:19:24 +0200 2018") == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
