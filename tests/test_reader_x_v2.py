"""X API v2 reader: one test per format quirk, expected values read by hand from the fixtures
(real twarc2 output from DocNow/twarc-csv's test data)."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import fixture, one, post, rows, shared

import askscope


def ingest(store_path: str, *paths: str) -> askscope.IngestResult:
    return askscope.ingest(store_path, list(paths), workers=0)


def test_repost_takes_the_originals_text_and_stores_the_original_as_context(store_path):
    result = ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    assert (result.totals.read, result.totals.new, result.totals.rejected) == (1, 1, 0)
    with askscope.open_store(store_path) as store:
        rt = post(store, "1394735776701816833")
        assert rt["kind"] == "repost"
        assert rt["reposted_id"] == "1391677057810288641"
        assert rt["text"] == "#POIUYTREWQ"  # the original's text, not "RT @bibaigna96: #POIUYTREWQ"
        assert rt["author_id"] == "1379899464345923590"
        assert rt["author_handle"] == "LachiVeronica"
        assert rt["hashtags"] == ["POIUYTREWQ"]
        assert rt["mentions"] == ["bibaigna96"]
        assert rt["created_at"] == datetime(2021, 5, 18, 19, 24, 56, tzinfo=UTC)
        assert rt["observed_at"] == datetime(2021, 5, 19, 15, 26, 17, tzinfo=UTC)
        assert (rt["repost_count"], rt["like_count"], rt["reply_count"], rt["quote_count"]) == (1, 0, 0, 0)
        assert rt["is_context"] is False
        assert rt["source_file"].endswith("two_tweets.jsonl") and rt["source_line"] == 1
        original = post(store, "1391677057810288641")
        assert original["is_context"] is True
        assert original["author_handle"] == "bibaigna96"
        assert original["kind"] == "post"
        assert one(store, "SELECT handle FROM accounts WHERE id = '1380086327023169540'") == "bibaigna96"


def test_repost_of_a_long_original_keeps_its_full_text_entities_and_media(store_path):
    ingest(store_path, fixture("x-v2", "mentions_tweet.jsonl"))
    with askscope.open_store(store_path) as store:
        rt = post(store, "1589681856941002753")
        assert rt["text"].startswith("Looking for gaming mutuals")
        assert rt["text"].endswith("https://t.co/X8D4rbk47i https://t.co/nyzCbH5jW2")
        assert rt["hashtags"] == ["Xbox", "PlayStation", "gaming"]
        assert rt["mentions"][:3] == ["S3NT1N3L17", "Xbox", "masseffect"]
        assert rt["mention_ids"][:2] == ["1221317221714157569", "24742040"]
        # the media link is media, not a URL; the truncation link is a URL
        assert rt["urls"] == ["https://twitter.com/i/web/status/1589671906718134272"]


def test_media_links_count_as_media_not_urls(store_path):
    ingest(store_path, fixture("x-v2", "media_tweet.jsonl"))
    with askscope.open_store(store_path) as store:
        p = post(store, "1558553189766631429")
        assert p["media_count"] == 1
        assert p["urls"] == []
        assert (p["like_count"], p["repost_count"], p["reply_count"], p["quote_count"]) == (93, 13, 3, 7)


def test_urls_are_expanded_not_tco(store_path):
    ingest(store_path, fixture("x-v2", "many_urls.jsonl"))
    with askscope.open_store(store_path) as store:
        urls = [u for (us,) in rows(store, "SELECT urls FROM posts") for u in us]
        assert "https://uiadrian.gumroad.com/l/web-design-guide/?offer_code=twk0uc9f7" in urls
        assert not any(u.startswith("https://t.co/") for u in urls)


def test_edited_post_keeps_latest_version_and_history(store_path):
    # edited.jsonl holds the latest version as the match, edited_before.jsonl the first version
    # (with the latest in includes), edited_after.jsonl the latest again: one post in the end.
    r1 = ingest(store_path, fixture("x-v2", "edited_before.jsonl"))
    assert (r1.totals.read, r1.totals.new) == (1, 1)
    r2 = ingest(store_path, fixture("x-v2", "edited.jsonl"), fixture("x-v2", "edited_after.jsonl"))
    # edited_before.jsonl already left the latest version stored as the match (its includes hold it),
    # so both later files bring that same version again: unchanged, nothing new or updated
    assert (r2.totals.read, r2.totals.new, r2.totals.updated, r2.totals.unchanged) == (2, 0, 0, 2)
    with askscope.open_store(store_path) as store:
        assert one(store, "SELECT count(*) FROM posts") == 1
        p = post(store, "1576994789110992896")
        assert p["text"] == "hey :) https://t.co/rnwEIoNuqd"
        assert p["edit_ids"] == ["1576994746135764992", "1576994789110992896"]
        assert p["is_context"] is False
        # counts of the latest observation (edited_after.jsonl, retrieved 18:01:17), even though
        # the older observation in edited.jsonl (18:00:12, 27 likes) was read after it
        assert (p["like_count"], p["reply_count"]) == (32, 14)
        assert p["observed_at"] == datetime(2022, 10, 3, 18, 1, 17, tzinfo=UTC)


def test_older_version_after_the_latest_is_folded_into_it(store_path):
    ingest(store_path, fixture("x-v2", "edited.jsonl"))
    # quoted_edit.jsonl carries both versions in includes; the old one must not come back
    ingest(store_path, fixture("x-v2", "quoted_edit.jsonl"))
    with askscope.open_store(store_path) as store:
        assert rows(store, "SELECT id FROM posts WHERE id = '1576994746135764992'") == []
        assert post(store, "1576994789110992896")["is_context"] is False


def test_reply_that_also_quotes_is_a_reply_with_quoted_id(store_path):
    ingest(store_path, fixture("x-v2", "quoted_edit.jsonl"))
    with askscope.open_store(store_path) as store:
        p = post(store, "1576995594388000768")
        assert p["kind"] == "reply"
        assert p["in_reply_to_id"] == "1576994789110992896"
        assert p["quoted_id"] == "1576994746135764992"
        assert p["author_handle"] == "dappdavid99"
        assert p["mentions"] == ["wongmjane"]


def test_truncated_streaming_line_is_rejected_with_its_line(store_path):
    result = ingest(store_path, fixture("x-v2", "streaming_output_with_error.jsonl"))
    assert (result.totals.read, result.totals.new, result.totals.rejected) == (8, 7, 1)
    with askscope.open_store(store_path) as store:
        file, line, reason, excerpt = one(store, "SELECT source_file, source_line, reason, excerpt FROM rejects")
        assert file.endswith("streaming_output_with_error.jsonl")
        assert (line, reason) == (8, "invalid_json")
        assert excerpt.startswith('{"data": {"author_id": "1021159080151404544"')
        # streaming pages carry one tweet as a dict, not a list
        assert one(store, "SELECT count(*) FROM posts WHERE NOT is_context") == 7


def test_counts_and_lists_are_rejected_as_not_posts(store_path):
    result = ingest(store_path, fixture("x-v2", "counts.jsonl"), fixture("x-v2", "lists.jsonl"))
    assert result.totals.read == result.totals.rejected == 169 + 6
    with askscope.open_store(store_path) as store:
        assert rows(store, "SELECT detail, count(*) FROM rejects GROUP BY ALL ORDER BY 1") == [
            ("a list object", 6),
            ("a tweet counts bucket", 169),
        ]
        assert one(store, "SELECT count(*) FROM posts") == 0


def test_compliance_file_is_not_a_known_format(store_path):
    import pytest

    # a file-level reject naming the formats tried (the others would be read); --strict: the error
    from askscope.readers import format_names

    result = ingest(store_path, fixture("x-v2", "tweets_compliance.jsonl"))
    tried = ", ".join(format_names())  # askscope's readers and any installed plugin's
    assert f"tried {tried}" in result.skipped[0][1] and "x-v2, x-v1, csv" in tried
    with pytest.raises(askscope.UnknownFormatError, match=f"tried {tried}"):
        askscope.ingest(store_path + ".strict", [fixture("x-v2", "tweets_compliance.jsonl")], strict=True)


def test_withheld_content_and_api_errors(store_path):
    result = ingest(store_path, str(shared("fixtures", "x-v2", "withheld.jsonl")))
    assert result.reconciles
    with askscope.open_store(store_path) as store:
        assert post(store, "1257108668492984321")["withheld"] == ["XY", "copyright", "scope:tweet"]
        assert post(store, "25712847277")["withheld"] == ["DE", "FR"]
        assert post(store, "1404396331897085955")["withheld"] == ["IN", "scope:user"]
        errors = rows(store, "SELECT resource_type, resource_id, title FROM api_errors ORDER BY resource_id")
        assert ("tweet", "506694458445152256", "Not Found Error") in errors
        assert ("user", "RSS4India", "Forbidden") in errors


def test_flattened_lines_inline_authors_and_referenced_tweets(store_path):
    result = ingest(store_path, str(shared("fixtures", "x-v2", "flat.jsonl")))
    assert (result.totals.read, result.totals.new, result.totals.rejected) == (100, 100, 0)
    with askscope.open_store(store_path) as store:
        rt = post(store, "1380242611781386245")
        assert rt["kind"] == "repost" and rt["reposted_id"] == "1380175475545362437"
        assert rt["text"].startswith("De manera simultánea, vuelven a asediar la frontera oeste de Rusia")
        original = post(store, "1380175475545362437")
        assert original["is_context"] is True and original["author_handle"] == "williamserafino"
        account = rows(
            store,
            "SELECT handle, name, followers_count, following_count, posts_count, location "
            "FROM accounts WHERE id = '2718660392'",
        )
        assert account == [("williamserafino", "William Serafino", 28341, 600, 7397, "Tierra Firme")]


def test_flat_and_paged_twins_give_the_same_posts(tmp_path):
    # noflat.jsonl is the same collection as flat.jsonl, as response pages
    a, b = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb")
    ingest(a, str(shared("fixtures", "x-v2", "flat.jsonl")))
    ingest(b, str(shared("fixtures", "x-v2", "noflat.jsonl")))
    query = (
        "SELECT id, kind, text, author_id, author_handle, in_reply_to_id, quoted_id, reposted_id, "
        "hashtags, mentions, urls FROM posts WHERE NOT is_context ORDER BY id"
    )
    with askscope.open_store(a) as sa, askscope.open_store(b) as sb:
        assert rows(sa, query) == rows(sb, query)


def test_users_pages_become_account_records(store_path):
    result = ingest(store_path, str(shared("fixtures", "x-v2", "users.jsonl")))
    assert result.totals.read == 96 and result.reconciles
    with askscope.open_store(store_path) as store:
        assert one(store, "SELECT count(*) FROM posts WHERE NOT is_context") == 0
        # pinned posts come with the users as context
        assert one(store, "SELECT count(*) FROM posts WHERE is_context") > 0
        assert one(store, "SELECT count(*) FROM api_errors") == 8


def test_note_tweet_gives_the_full_text_of_long_posts(store_path):
    # constructed: a real tweet with the documented note_tweet field added (tests/fixtures/README.md)
    ingest(store_path, fixture("x-v2", "note_tweet.jsonl"))
    with askscope.open_store(store_path) as store:
        p = post(store, "1558553189766631429")
        assert p["text"].startswith("She's GOING with it! 🐍 And this is the rest of a long post")
        assert p["hashtags"] == ["longform"]


def test_every_page_of_the_real_fixtures_reconciles(tmp_path):
    folder = shared("fixtures", "x-v2")
    files = sorted(str(p) for p in folder.glob("*.jsonl") if "compliance" not in p.name)
    result = ingest(str(tmp_path / "all.duckdb"), *files)
    assert result.reconciles
    for f in result.files:
        c = f.counts
        assert c.read == c.new + c.updated + c.unchanged + c.rejected, f.source_file
