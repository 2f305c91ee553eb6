"""Bluesky reader on real XRPC responses (bskyr's recorded exchanges), one test per quirk;
expected values read from the fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cassettes import exchanges
from conftest import fixture, one, post, rows, shared

import askscope
from askscope.collect.bluesky import _cut_branches
from askscope.readers.base import RawRecord, Sink
from askscope.readers.bluesky import BlueskyReader

P = "app.bsky.feed.post"


def ingest(store_path: str, *paths: str) -> askscope.Store:
    result = askscope.ingest(store_path, list(paths))
    assert all(f.format == "bluesky" for f in result.files) and result.reconciles
    return askscope.open_store(store_path, read_only=True)


def test_search_posts_with_replies_facets_and_embeds(store_path):
    with ingest(store_path, fixture("bluesky", "search.json")) as store:
        assert one(store, "SELECT count(*) FROM posts WHERE NOT is_context") == 25
        reply = post(store, f"at://did:plc:7nagdvjqrzaquzk7mueohne5/{P}/3lpjzka2pzc2l", "bluesky")
        assert reply["kind"] == "reply" and reply["author_handle"] == "mcpli.bsky.social"
        assert reply["in_reply_to_id"] == f"at://did:plc:7nagdvjqrzaquzk7mueohne5/{P}/3lpjzgltpa22l"
        assert reply["conversation_id"] == f"at://did:plc:7nagdvjqrzaquzk7mueohne5/{P}/3lpjy3eabqs2l"
        assert reply["in_reply_to_author_id"] == "did:plc:7nagdvjqrzaquzk7mueohne5"  # the parent URI's authority
        assert reply["created_at"] == datetime(2025, 5, 19, 16, 46, 41, 792000, tzinfo=UTC)
        assert reply["media_count"] == 1 and reply["like_count"] == 2
        assert reply["url"] == "https://bsky.app/profile/mcpli.bsky.social/post/3lpjzka2pzc2l"
        tagged = post(store, f"at://did:plc:7nagdvjqrzaquzk7mueohne5/{P}/3lpica7sxmk2u", "bluesky")
        assert tagged["hashtags"] == ["txlege"] and tagged["like_count"] == 58
        assert tagged["urls"] == ["https://drive.google.com/file/d/1wZ7W8GA3EuJuAhpZWL8We4AyfVe8fjki/view?usp=sharing"]
        # An external embed's URI is a link too (here the same as the text's link facet).
        linked = rows(store, "SELECT urls FROM posts WHERE id LIKE '%3lpk2r5h5ec2j'")[0][0]
        assert linked == [
            "https://open.substack.com/pub/christackett/p/the-pawn-or-the-collaborator?r=92vnq&utm_medium=ios"
        ]
        assert rows(store, "SELECT lang FROM posts WHERE id LIKE '%3lpk2u6qo222m'") == [(None,)]  # no langs


def test_quote_embeds_give_quoted_id_and_a_context_post(store_path):
    with ingest(store_path, fixture("bluesky", "search.json"), fixture("bluesky", "get_quotes.json")) as store:
        quote = rows(store, "SELECT kind, quoted_id FROM posts WHERE id LIKE '%3lpjl6vjfes2b'")[0]
        assert quote == ("quote", f"at://did:plc:pjiafkey2cokiupsxpswqlk7/{P}/3lpjgwfr3gs27")
        quoted = post(store, f"at://did:plc:pjiafkey2cokiupsxpswqlk7/{P}/3lpjgwfr3gs27", "bluesky")
        assert quoted["is_context"] and quoted["author_handle"] == "marcelias.bsky.social"
        # recordWithMedia: the record inside the media wrapper is the quoted post.
        with_media = post(store, f"at://did:plc:wpe35pganb6d4pg4ekmfy6u5/{P}/3lc5d6zspys2c", "bluesky")
        assert with_media["kind"] == "quote" and with_media["quoted_id"].endswith(f"{P}/3lc5c5qv72r2w")
        assert with_media["hashtags"] == ["rstats"]


def test_mentions_are_read_from_facet_byte_ranges(store_path):
    with ingest(store_path, fixture("bluesky", "get_quotes.json")) as store:
        first = post(store, f"at://did:plc:3ixxligsafp4u6ghljcoetnm/{P}/3lc6isqcp6u2y", "bluesky")
        assert first["mentions"] == ["bskyr.bsky.social", "chriskenny.bsky.social"]
        assert first["mention_ids"] == ["did:plc:5c2r73erhng4bszmxlfdtscf", "did:plc:wpe35pganb6d4pg4ekmfy6u5"]


def test_author_feed_reposts_reply_refs_and_missing_parents(store_path):
    path = str(shared("fixtures", "bluesky", "f_autfeed.yml"))
    feed = store_path + ".json"
    with open(feed, "wb") as handle:
        handle.write(exchanges(path)[0].body)
    with ingest(store_path, feed) as store:
        reposts = rows(
            store, "SELECT id, author_handle, reposted_id, text = '' FROM posts WHERE kind = 'repost' ORDER BY id"
        )
        assert len(reposts) == 7 and all(r[1] == "chriskenny.bsky.social" for r in reposts)
        assert all(r[0] == f"{r[2]}#repost-by-did:plc:wpe35pganb6d4pg4ekmfy6u5" and not r[3] for r in reposts)
        # A reposted post is context, unless the author's feed also holds it.
        assert (
            one(store, "SELECT count(*) FROM posts p WHERE p.id IN (SELECT reposted_id FROM posts) AND is_context") >= 1
        )
        # reply.root / reply.parent views become context posts; notFoundPost refs are kept as gaps.
        root = post(store, f"at://did:plc:z4cp3uwgxiioi7uaxn2boq47/{P}/3lobj4swhjo2x", "bluesky")
        assert root["is_context"]
        assert rows(store, "SELECT DISTINCT resource_type FROM api_errors") == [("not_found",)]
        assert rows(store, "SELECT DISTINCT split_part(resource_id, '/', 5) FROM api_errors ORDER BY 1") == [
            ("3l36gxaymic2r",),
            ("3l37qc2s3tj2m",),
            ("3l37qwkl3uf2t",),
        ]


def test_thread_nesting_and_the_depth_limit(store_path):
    with ingest(store_path, fixture("bluesky", "thread_nested.json")) as store:
        edges = rows(store, "SELECT in_reply_to_id, id FROM posts WHERE in_reply_to_id IS NOT NULL ORDER BY id")
        root = f"at://did:plc:ceni4rp3wrmlyc5hhc7qcy7m/{P}/3lmubto55bc2n"
        middle = f"at://did:plc:ceni4rp3wrmlyc5hhc7qcy7m/{P}/3lmubvkrh4c2n"
        leaf = f"at://did:plc:wpe35pganb6d4pg4ekmfy6u5/{P}/3lmujdtmgxc2a"
        assert edges == [(root, middle), (middle, leaf)]
        assert rows(store, "SELECT DISTINCT conversation_id FROM posts") == [(root,)]
        # The leaf counts 1 reply but came without "replies": a branch cut at the depth limit.
        assert rows(store, "SELECT resource_type, resource_id FROM api_errors") == [("replies_not_loaded", leaf)]
    with open(fixture("bluesky", "thread_nested.json"), "rb") as handle:
        assert _cut_branches(json.load(handle)["thread"]) == [leaf]  # what the collector fetches next


def test_thread_parents_are_context_and_a_missing_root_is_a_gap(store_path):
    with ingest(store_path, fixture("bluesky", "thread_parents.json")) as store:
        assert rows(store, "SELECT id LIKE '%3lmujdtmgxc2a', is_context FROM posts ORDER BY 1") == [
            (False, True),
            (True, False),
        ]
        assert rows(store, "SELECT resource_type, title FROM api_errors") == [("not_found", "post not found")]


def test_raw_records_from_list_records_and_get_record(store_path):
    with ingest(store_path, fixture("bluesky", "list_records.json"), fixture("bluesky", "get_record.json")) as store:
        assert one(store, "SELECT count(*) FROM posts") == 51
        assert one(store, "SELECT count(*) FROM posts WHERE kind = 'reply'") == 27
        record = post(store, f"at://did:plc:ic6zqvuw5ulmfpjiwnhsr2ns/{P}/3k7qmjev5lr2s", "bluesky")
        assert record["author_id"] == "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns" and record["author_handle"] is None
        assert record["text"].startswith("Excited to be a speaker for the \n@rstatsai conf")
        assert record["media_count"] == 1 and record["like_count"] is None


def test_jetstream_lines(store_path):
    result = askscope.ingest(store_path, [fixture("bluesky", "jetstream.jsonl")])
    assert result.files[0].format == "bluesky" and result.totals.read == 8 and result.reconciles
    with askscope.open_store(store_path, read_only=True) as store:
        first = post(store, f"at://did:plc:wpe35pganb6d4pg4ekmfy6u5/{P}/3lof7sovfok2h", "bluesky")
        assert (
            first["kind"] == "reply"
            and first["in_reply_to_id"] == f"at://did:plc:z4cp3uwgxiioi7uaxn2boq47/{P}/3lobj4swhjo2x"
        )
        assert first["observed_at"] == datetime.fromtimestamp(1725911162.329308, tz=UTC)
        repost = post(store, "at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.repost/3lprescoxks2i", "bluesky")
        assert (
            repost["kind"] == "repost"
            and repost["reposted_id"] == f"at://did:plc:5c2r73erhng4bszmxlfdtscf/{P}/3kf2577exva2x"
        )
        assert rows(store, "SELECT source_line, reason FROM rejects ORDER BY 1") == [
            (6, "control_message"),
            (7, "control_message"),
            (8, "not_a_post"),
        ]


def test_broken_records_are_rejected_not_raised():
    sink = Sink(source_file="x")
    reader = BlueskyReader()
    for line, raw in enumerate(
        (
            b'{"posts": [{"uri": "at://a/app.bsky.feed.post/b", "record": {"text": 5}}, 3]}',
            b'{"feed": [{"post": null}]}',
            b'{"thread": {"post": {"uri": 7}}}',
            b'{"posts": [',
        ),
        1,
    ):
        reader.parse(RawRecord(line, 0, raw), sink)
    assert [(r.source_line, r.reason) for r in sink.rejects] == [
        (1, "invalid_value"),
        (1, "not_a_post"),
        (2, "missing_field"),
        (3, "invalid_value"),
        (4, "invalid_json"),
    ]
