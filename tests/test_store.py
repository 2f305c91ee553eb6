"""The campaign store: uniqueness, update rules, reconciliation, schema versions, reparse."""

from __future__ import annotations

import json

import duckdb
import pytest
from conftest import fixture, one, post, rows, shared

import askscope
from askscope.store import schema

V2 = [
    "two_tweets.jsonl",
    "mentions_tweet.jsonl",
    "quoted_edit.jsonl",
    "streaming_output_with_error.jsonl",
    "edited.jsonl",
    "counts.jsonl",
]


def ingest(store, *paths, **kw):
    return askscope.ingest(store, list(paths), workers=0, **kw)


def test_reingest_adds_nothing_and_counts_reconcile(store_path):
    files = [fixture("x-v2", f) for f in V2]
    first = ingest(store_path, *files)
    assert first.reconciles
    with askscope.open_store(store_path) as store:
        before = rows(store, "SELECT * FROM posts ORDER BY platform, id")
        rejects_before = one(store, "SELECT count(*) FROM rejects")
    second = ingest(store_path, *files)
    t = second.totals
    assert t.new == 0 and t.read == first.totals.read
    # the same files again: every stored record is read again and nothing about it changes
    assert t.updated == 0 and t.unchanged == first.totals.new + first.totals.updated
    assert t.read == t.new + t.updated + t.unchanged + t.rejected
    with askscope.open_store(store_path) as store:
        after = rows(store, "SELECT * FROM posts ORDER BY platform, id")
        assert len(after) == len(before)
        assert one(store, "SELECT count(*) - count(DISTINCT (platform, id)) FROM posts") == 0
        # the same content again supersedes the first run: rejects and raw are not doubled
        assert one(store, "SELECT count(*) FROM rejects") == rejects_before
        assert one(store, "SELECT count(*) FROM ingests WHERE superseded_by IS NOT NULL") == len(files)


def test_duplicate_within_one_file_is_counted_as_unchanged(tmp_path, store_path):
    line = open(fixture("x-v2", "two_tweets.jsonl"), "rb").read()
    path = tmp_path / "twice.jsonl"
    path.write_bytes(line + line)
    result = ingest(store_path, str(path))
    # the second copy is the same record: stored once (new), read again unchanged
    t = result.totals
    assert (t.read, t.new, t.updated, t.unchanged) == (2, 1, 0, 1)


def test_context_post_becomes_a_match_when_matched_later(tmp_path, store_path):
    # two_tweets.jsonl brings 1391677057810288641 only as the retweeted original (context)
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    with askscope.open_store(store_path) as store:
        assert post(store, "1391677057810288641")["is_context"] is True
    page = json.loads(open(fixture("x-v2", "two_tweets.jsonl")).read())
    original = page["includes"]["tweets"][0]
    path = tmp_path / "original.jsonl"
    path.write_text(
        json.dumps(
            {
                "data": [original],
                "includes": {"users": page["includes"]["users"]},
                "__twarc": {"retrieved_at": "2021-05-20T00:00:00+00:00"},
            }
        )
        + "\n"
    )
    result = ingest(store_path, str(path))
    assert (result.totals.new, result.totals.updated) == (1, 0)  # new to the matched set
    with askscope.open_store(store_path) as store:
        p = post(store, "1391677057810288641")
        assert p["is_context"] is False
        assert p["source_file"] == str(path)
    # and seeing it as context again does not demote it
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    with askscope.open_store(store_path) as store:
        assert post(store, "1391677057810288641")["is_context"] is False


def test_newer_observation_updates_counts_older_does_not(tmp_path, store_path):
    page = json.loads(open(fixture("x-v2", "media_tweet.jsonl")).read())

    def write(name: str, likes: int, when: str) -> str:
        page["data"][0]["public_metrics"]["like_count"] = likes
        page["__twarc"]["retrieved_at"] = when
        path = tmp_path / name
        path.write_text(json.dumps(page) + "\n")
        return str(path)

    newer = write("newer.jsonl", 500, "2023-02-01T00:00:00+00:00")
    older = write("older.jsonl", 90, "2023-01-01T00:00:00+00:00")
    ingest(store_path, newer)
    ingest(store_path, older)
    with askscope.open_store(store_path) as store:
        p = post(store, "1558553189766631429")
        assert p["like_count"] == 500
        assert p["observed_at"].isoformat().startswith("2023-02-01")
    newest = write("newest.jsonl", 700, "2023-03-01T00:00:00+00:00")
    ingest(store_path, newest)
    with askscope.open_store(store_path) as store:
        assert post(store, "1558553189766631429")["like_count"] == 700


def test_gzip_and_plain_of_the_same_content_are_the_same_input(tmp_path, store_path):
    import gzip

    data = open(fixture("x-v2", "two_tweets.jsonl"), "rb").read()
    (tmp_path / "a.jsonl").write_bytes(data)
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(data))
    r = ingest(store_path, str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl.gz"))
    assert r.files[0].sha256 == r.files[1].sha256
    assert r.files[1].counts.new == 0


def test_reparse_rebuilds_the_same_tables(store_path):
    files = [fixture("x-v2", f) for f in V2] + [
        fixture("x-v1", "search_tweets.json"),
        fixture("x-v1", "streaming.jsonl"),
        fixture("csv", "mentions_tweet.csv"),
    ]
    ingested = ingest(store_path, *files)
    tables = {
        "posts": "SELECT * FROM posts ORDER BY platform, id",
        "accounts": "SELECT * FROM accounts ORDER BY platform, id",
        "rejects": "SELECT * FROM rejects ORDER BY source_file, source_line, item",
        "api_errors": "SELECT * FROM api_errors ORDER BY source_file, source_line, resource_id",
    }
    with askscope.open_store(store_path) as store:
        before = {name: rows(store, sql) for name, sql in tables.items()}
        store.con.execute("DELETE FROM posts WHERE id IN (SELECT id FROM posts LIMIT 5)")
        store.con.execute("UPDATE posts SET text = 'damaged'")
        result = askscope.reparse(store)
        after = {name: rows(store, sql) for name, sql in tables.items()}
    # the replay reads every record the ingests read (206 here: 9 files, 173 of them rejects) and
    # sorts each one the same way: as new, updated or rejected
    totals = {
        key: sum(getattr(f.counts, key) for f in ingested.files)
        for key in ("read", "new", "updated", "unchanged", "rejected")
    }
    assert totals["read"] == 206
    assert {key: getattr(result.counts, key) for key in totals} == totals
    c = result.counts
    assert c.read == c.new + c.updated + c.unchanged + c.rejected
    for name in tables:
        assert after[name] == before[name], name


def test_reparse_applies_a_fixed_reader(store_path, monkeypatch):
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    from askscope.readers import x_v2

    original_post = x_v2._PageBuilder._post

    def marking(self, tweet, *, is_context):
        # a visible change to every post's text (the fixture's texts are already upper case, so
        # upper-casing them would change nothing and prove nothing)
        p = original_post(self, tweet, is_context=is_context)
        p.text = f"fixed: {p.text}"
        return p

    with askscope.open_store(store_path) as store:
        texts_before = dict(rows(store, "SELECT id, text FROM posts ORDER BY id"))
    assert texts_before["1394735776701816833"] == "#POIUYTREWQ"
    monkeypatch.setattr(x_v2._PageBuilder, "_post", marking)
    with askscope.open_store(store_path) as store:
        askscope.reparse(store)
        texts_after = dict(rows(store, "SELECT id, text FROM posts ORDER BY id"))
    # every post (the retweet and its context original) now carries the fixed reader's text
    assert texts_after == {i: f"fixed: {t}" for i, t in texts_before.items()}
    assert len(texts_after) == 2


def test_schema_version_newer_is_refused(store_path):
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    con = duckdb.connect(store_path)
    con.execute("UPDATE meta SET schema_version = ?", [schema.SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(askscope.StoreVersionError, match="newer than this askscope") as info:
        askscope.open_store(store_path)
    assert "upgrade askscope" in info.value.hint


def test_schema_version_older_is_migrated(store_path, monkeypatch):
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    con = duckdb.connect(store_path)
    con.execute("UPDATE meta SET schema_version = ?", [schema.SCHEMA_VERSION - 1])
    con.close()
    calls = []

    def migrate(con):
        calls.append(True)
        con.execute("CREATE TABLE migrated_marker (x INTEGER)")

    monkeypatch.setattr(schema, "OLDEST_MIGRATABLE", schema.SCHEMA_VERSION - 1)
    monkeypatch.setitem(schema.MIGRATIONS, schema.SCHEMA_VERSION - 1, migrate)
    from askscope.store import core as store_module

    monkeypatch.setattr(store_module, "OLDEST_MIGRATABLE", schema.SCHEMA_VERSION - 1)
    with askscope.open_store(store_path, read_only=False) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        assert calls == [True]
        assert one(store, "SELECT count(*) FROM migrated_marker") == 0


def test_schema_version_too_old_is_refused(store_path):
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    con = duckdb.connect(store_path)
    con.execute("UPDATE meta SET schema_version = 0")
    con.close()
    with pytest.raises(askscope.StoreVersionError, match="too old") as info:
        askscope.open_store(store_path)
    assert "re-ingest" in info.value.hint


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(askscope.StoreError, match="not a DuckDB file"):
        askscope.open_store(str(text))
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(askscope.StoreError, match="not an askscope store"):
        askscope.open_store(str(other))
    with pytest.raises(askscope.StoreError, match="no store at"):
        askscope.open_store(str(tmp_path / "missing.duckdb"), read_only=True)


def test_public_tables_match_the_schema_contract(store_path):
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"))
    contract = {
        "posts": [
            "platform",
            "id",
            "author_id",
            "author_handle",
            "created_at",
            "text",
            "lang",
            "kind",
            "in_reply_to_id",
            "in_reply_to_author_id",
            "conversation_id",
            "quoted_id",
            "reposted_id",
            "hashtags",
            "mentions",
            "urls",
            "media_count",
            "like_count",
            "repost_count",
            "reply_count",
            "quote_count",
            "view_count",
            "observed_at",
            "is_context",
            "source_file",
            "source_line",
        ],
        "accounts": [
            "platform",
            "id",
            "handle",
            "name",
            "created_at",
            "followers_count",
            "following_count",
            "posts_count",
            "verified",
            "location",
            "description",
            "observed_at",
        ],
        "rejects": ["source_file", "source_line", "reason", "excerpt"],
        "meta": ["schema_version"],
    }
    with askscope.open_store(store_path) as store:
        for table, columns in contract.items():
            actual = [r[0] for r in rows(store, f"DESCRIBE {table}")]
            assert actual[: len(columns)] == columns if table != "rejects" else set(columns) <= set(actual)
        assert one(store, "SELECT typeof(created_at) FROM posts LIMIT 1") == "TIMESTAMP WITH TIME ZONE"
        assert one(store, "SELECT typeof(hashtags) FROM posts LIMIT 1") == "VARCHAR[]"


def test_every_fixture_post_lands_with_its_reply_links(store_path):
    # all RumourEval training threads: every reply's parent link is kept as in the raw JSON
    folder = shared("rumoureval", "train", "charliehebdo")
    ingest(store_path, str(folder))
    replies = 0
    with askscope.open_store(store_path) as store:
        for thread in sorted(folder.iterdir()):
            for reply in (thread / "replies").glob("*.json"):
                raw = json.loads(reply.read_text())
                p = post(store, raw["id_str"])
                assert p["in_reply_to_id"] == raw["in_reply_to_status_id_str"]
                replies += 1
    assert replies > 100


def test_grouped_small_inputs_equal_one_by_one(tmp_path, monkeypatch):
    # Many small files go through write_group; the tables and every input's counts must be what
    # writing them one by one gives. The folder mixes one-post v1 files, a v2 file whose context
    # post is matched by a later file (promotion), and the same content twice (unchanged).
    folder = tmp_path / "in"
    folder.mkdir()
    threads = shared("rumoureval", "train", "ferguson")
    for i, path in enumerate(sorted(threads.glob("*/*/*.json"))[:120]):
        (folder / f"a{i:04d}.json").write_bytes(path.read_bytes())
    (folder / "b.jsonl").write_bytes(open(fixture("x-v2", "two_tweets.jsonl"), "rb").read())
    page = json.loads(open(fixture("x-v2", "two_tweets.jsonl")).read())
    (folder / "c.jsonl").write_text(
        json.dumps({"data": page["includes"]["tweets"], "includes": {"users": page["includes"]["users"]}}) + "\n"
    )
    (folder / "d.jsonl").write_bytes(open(fixture("x-v2", "two_tweets.jsonl"), "rb").read())
    (folder / "e.jsonl").write_bytes(open(fixture("x-v2", "streaming_output_with_error.jsonl"), "rb").read())
    grouped = askscope.ingest(str(tmp_path / "g.duckdb"), [str(folder)], workers=0)
    from askscope.ingestion import plan as ingest_plan

    monkeypatch.setattr(ingest_plan, "SMALL_INPUT_BYTES", -1)
    single = askscope.ingest(str(tmp_path / "s.duckdb"), [str(folder)], workers=0)
    assert [f.counts.as_dict() for f in grouped.files] == [f.counts.as_dict() for f in single.files]
    t = grouped.totals
    assert t.read == t.new + t.updated + t.unchanged + t.rejected
    queries = [
        "SELECT * EXCLUDE (observed_at) FROM posts ORDER BY platform, id",
        "SELECT * EXCLUDE (observed_at) FROM accounts ORDER BY platform, id",
        "SELECT * EXCLUDE (ingest_id) FROM rejects ORDER BY ALL",
    ]
    with askscope.open_store(str(tmp_path / "g.duckdb")) as g, askscope.open_store(str(tmp_path / "s.duckdb")) as s:
        for query in queries:
            assert rows(g, query) == rows(s, query), query


def test_raw_blocks_are_stored_in_pieces_and_reparse_joins_them(store_path, monkeypatch, tmp_path):
    # pieces of 200 bytes (64 KiB in use): every block of these files is cut into several rows
    from askscope.store import write

    monkeypatch.setattr(write, "RAW_PART_BYTES", 200)
    files = [fixture("x-v2", f) for f in V2] + [fixture("x-v1", "search_tweets.json")]
    ingest(store_path, *files)
    with askscope.open_store(store_path) as store:
        pieces = rows(
            store,
            "SELECT ingest_id, block, count(*), list(part ORDER BY part), sum(octet_length(payload)), "
            "list(octet_length(payload) ORDER BY part) FROM raw GROUP BY ALL ORDER BY ingest_id, block",
        )
        before = rows(store, "SELECT * FROM posts ORDER BY platform, id")
        assert before
        # every block numbered 0..k-1 in its pieces, all of 200 bytes but the last
        for _, _, n, parts, size, sizes in pieces:
            assert parts == list(range(n)) and n == -(-size // 200)
            assert sizes == [200] * (n - 1) + [size - 200 * (n - 1)]
        assert sum(1 for piece in pieces if piece[2] > 1) >= 6
        # the block's lines and records are on its first piece only: the sums over rows hold
        assert one(store, "SELECT count(*) FROM raw WHERE part > 0 AND records IS NOT NULL") == 0
        assert one(store, "SELECT count(*) FROM raw WHERE part = 0 AND records IS NULL") == 0
        blocks = rows(
            store, "SELECT ingest_id, block, first_line, last_line, records FROM raw WHERE part = 0 ORDER BY ALL"
        )
        store.con.execute("UPDATE posts SET text = 'damaged'")
        askscope.reparse(store)
        assert rows(store, "SELECT * FROM posts ORDER BY platform, id") == before
    # the same files with whole blocks (no block of theirs reaches 64 KiB): the same block rows
    monkeypatch.setattr(write, "RAW_PART_BYTES", 64 * 1024)
    whole = str(tmp_path / "whole.duckdb")
    ingest(whole, *files)
    with askscope.open_store(whole) as store:
        assert one(store, "SELECT max(part) FROM raw") == 0
        assert rows(store, "SELECT ingest_id, block, first_line, last_line, records FROM raw ORDER BY ALL") == blocks


def test_schema_2_store_gets_raw_part_and_still_reparses(store_path):
    # a store written before raw blocks were cut: schema 2, no `part` column, one row per block
    ingest(store_path, fixture("x-v2", "two_tweets.jsonl"), fixture("x-v1", "search_tweets.json"))
    con = duckdb.connect(store_path)
    con.execute("ALTER TABLE raw DROP COLUMN part")
    con.execute("UPDATE meta SET schema_version = 2")
    blocks = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    before = con.execute("SELECT * FROM posts ORDER BY platform, id").fetchall()
    con.close()
    with askscope.open_store(store_path, read_only=False) as store:
        assert store.schema_version == 3
        assert rows(store, "SELECT DISTINCT part FROM raw") == [(0,)]
        assert one(store, "SELECT count(*) FROM raw") == blocks
        store.con.execute("UPDATE posts SET text = 'damaged'")
        askscope.reparse(store)
        assert rows(store, "SELECT * FROM posts ORDER BY platform, id") == before
        # the next ingest writes its block after the old ones, with its part
        askscope.ingest(store, [fixture("x-v2", "mentions_tweet.jsonl")], workers=0)
        assert one(store, "SELECT count(*) FROM raw WHERE part IS NULL") == 0
