"""Mastodon reader on real API responses (Mastodon.py's recorded exchanges against a test
instance at localhost:3000), one test per quirk; expected values read from the fixtures."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from conftest import fixture, one, post, rows

import askscope
from askscope.readers import make_head
from askscope.readers.base import RawRecord, Sink
from askscope.readers.collected import wrap
from askscope.readers.mastodon import MastodonReader
from askscope.readers.mastodon_html import html_to_text

H = "localhost:3000"


def ingest(store_path: str, *names: str) -> askscope.Store:
    result = askscope.ingest(store_path, [fixture("mastodon", n) for n in names])
    assert all(f.format == "mastodon" for f in result.files), [f.format for f in result.files]
    return askscope.open_store(store_path, read_only=True)


def test_timeline_statuses_with_instance_qualified_ids(store_path):
    with ingest(store_path, "public_timeline.json") as store:
        assert one(store, "SELECT count(*) FROM posts WHERE NOT is_context") == 20
        first = post(store, f"{H}:117024258897469903", "mastodon")
        assert first["author_handle"] == "admin" and first["author_id"] == f"{H}:117020617136550219"
        assert first["text"] == "you can't say that on television"  # &#39; decoded
        assert first["created_at"] == datetime(2026, 8, 2, 5, 28, 1, 712000, tzinfo=UTC)
        assert first["kind"] == "post" and first["conversation_id"] == first["id"]
        assert first["url"] == f"http://{H}/@admin/117024258897469903"
        mention = post(store, f"{H}:117024251962941243", "mastodon")
        assert mention["text"] == "@mastodonpy_test beep beep I'm a jeep"  # the mention link keeps its text
        assert mention["mentions"] == ["mastodonpy_test"] and mention["mention_ids"] == [f"{H}:117020617404561855"]
        assert mention["urls"] == [] and (mention["like_count"], mention["reply_count"]) == (0, 0)
        assert rows(store, "SELECT id, handle, posts_count FROM accounts ORDER BY id") == [
            (f"{H}:117020617136550219", "admin", 21),
            (f"{H}:117020617404561855", "mastodonpy_test", 14),
        ]


def test_reblog_is_a_repost_of_a_context_original(store_path):
    with ingest(store_path, "reblog.json") as store:
        repost = post(store, f"{H}:117020586027094262", "mastodon")
        assert repost["kind"] == "repost" and repost["reposted_id"] == f"{H}:117020586019094258"
        assert repost["text"] == "Toot!" and repost["mentions"] == ["mastodonpy_test"]
        original = post(store, f"{H}:117020586019094258", "mastodon")
        assert original["is_context"] and original["kind"] == "post" and original["repost_count"] == 1


def test_reply_carries_parent_and_parent_author(store_path):
    with ingest(store_path, "reply.json") as store:
        reply = post(store, f"{H}:117020583258292382", "mastodon")
        assert reply["kind"] == "reply" and reply["in_reply_to_id"] == f"{H}:117020583245459824"
        assert reply["in_reply_to_author_id"] == f"{H}:117020566092212359"
        assert reply["text"] == "@mastodonpy_test_2 same!" and reply["author_handle"] == "admin"
        assert reply["conversation_id"] is None  # the root is only known from a context


def test_quote_drops_the_inline_fallback_and_keeps_the_quoted_status(store_path):
    with ingest(store_path, "quote.json", "reply_with_quote.json") as store:
        quote = post(store, f"{H}:117020582925004921", "mastodon")
        assert quote["kind"] == "quote" and quote["quoted_id"] == f"{H}:117020582917124092"
        assert "RE:" not in quote["text"] and quote["urls"] == []
        reply = post(store, f"{H}:117020583142008690", "mastodon")  # a reply that also quotes
        assert (reply["kind"], reply["quoted_id"]) == ("reply", f"{H}:117020583121982310")
        assert reply["text"] == "@mastodonpy_test yoooo check this out"
        quoted = post(store, f"{H}:117020583121982310", "mastodon")
        assert quoted["is_context"] and quoted["quote_count"] == 1


def test_edited_status_keeps_its_id_and_takes_the_latest_text(store_path):
    askscope.ingest(store_path, [fixture("mastodon", "edited_before.json")])
    askscope.ingest(store_path, [fixture("mastodon", "edited.json")])
    with askscope.open_store(store_path, read_only=True) as store:
        assert one(store, "SELECT count(*) FROM posts") == 1
        edited = post(store, f"{H}:117020586180926938", "mastodon")
        assert edited["text"] == "the best editor? why, of course it is the KDE Advanced Text Editor, Kate"
        assert edited["lang"] == "ja" and edited["edit_ids"] == []


def test_links_become_their_full_href(store_path):
    with ingest(store_path, "card.json") as store:
        card = post(store, f"{H}:117020609135389699", "mastodon")
        assert card["text"] == "http://example.org/" and card["urls"] == ["http://example.org/"]


def test_html_to_text_paragraphs_breaks_hashtags_and_shortened_links():
    text, urls = html_to_text(
        '<p>Q&amp;A at 5<br />ask <a href="https://x.test/tags/ama" class="mention hashtag" rel="tag">#<span>ama</span></a>'
        '</p><p><a href="https://example.org/a/very/long/path"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.org/a/very</span><span class="invisible">/long/path</span></a></p>'
    )
    assert text == "Q&A at 5\nask #ama\n\nhttps://example.org/a/very/long/path"
    assert urls == ["https://example.org/a/very/long/path"]


def test_context_ancestors_are_context_with_the_root_as_conversation(store_path):
    with ingest(store_path, "context_of_reply.json") as store:
        root = post(store, f"{H}:117020583245459824", "mastodon")
        assert root["is_context"] and root["conversation_id"] == root["id"]
    assert askscope.ingest(store_path, [fixture("mastodon", "context_empty.json")]).totals.read == 0


def test_histories_sources_and_account_lists(store_path):
    result = askscope.ingest(
        store_path,
        [fixture("mastodon", n) for n in ("edit_history.json", "source.json", "favourited_by.json", "search.json")],
    )
    with askscope.open_store(store_path, read_only=True) as store:
        assert rows(
            store, "SELECT source_file LIKE '%history%', reason, count(*) FROM rejects GROUP BY ALL ORDER BY ALL"
        ) == [(False, "not_a_post", 1), (True, "not_a_post", 2)]
        account = rows(
            store,
            f"SELECT handle, name, followers_count, posts_count FROM accounts WHERE id = '{H}:117020565966271181'",
        )
        assert account == [("mastodonpy_test", "John Lennon", 0, 10)]
    assert result.reconciles


def test_json_lines_take_the_instance_from_a_local_status_and_reject_bad_lines(store_path):
    result = askscope.ingest(store_path, [fixture("mastodon", "statuses.jsonl")])
    with askscope.open_store(store_path, read_only=True) as store:
        # Line 3 is a remote account's status: its local id still belongs to localhost:3000.
        assert rows(store, "SELECT id, author_handle FROM posts ORDER BY id") == [
            (f"{H}:117024252039241798", "visitor@remote.example"),
            (f"{H}:117024258897469903", "admin"),
        ]
        assert rows(store, "SELECT source_line, reason FROM rejects ORDER BY 1") == [
            (2, "invalid_value"),
            (4, "invalid_json"),
        ]
    assert result.totals.read == 4 and result.reconciles
    assert askscope.reparse(askscope.open_store(store_path)).posts_after == 2


def test_collector_envelope_names_the_instance_and_the_time():
    body = open(fixture("mastodon", "hashtag_timeline.json"), "rb").read()
    when = datetime(2026, 8, 1, 14, 0, tzinfo=UTC)
    raw = wrap("mastodon", "https://social.example/api/v1/timelines/tag/hoot", when, body)
    head = make_head(raw)
    reader = MastodonReader()
    assert reader.sniff(head)
    sink = Sink(source_file="collect")
    for record in reader.records(io.BytesIO(raw), head):
        reader.parse(record, sink)
    assert [p.id for p in sink.matches] == ["social.example:117020593741189701"]
    assert sink.matches[0].observed_at == when and sink.matches[0].hashtags == ["hoot"]


def test_broken_documents_are_rejected_not_raised():
    sink = Sink(source_file="x")
    reader = MastodonReader(instance=H)
    for line, raw in enumerate((b'{"ancestors": 3, "descendants": []}', b"[1, 2]", b'"text"', b"{"), 1):
        reader.parse(RawRecord(line, 0, raw), sink)
    assert [r.reason for r in sink.rejects] == [
        "invalid_value",
        "not_a_post",
        "not_a_post",
        "not_a_post",
        "invalid_json",
    ]
