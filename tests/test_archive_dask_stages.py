"""The reply-tree and relations stages on Dask (``askscope.archive.dask_stages``) against the
embedded stages, on real inputs:

* RumourEval threads (X API v1.1 tweets: no ``conversation_id``, so every conversation key comes
  from pointer jumping over the replies; trees several replies deep), host Uber_Sydney;
* recorded X API v2 search pages (``conversation_id`` given), the campaign of
  test_archive_dask_analyze.

Both ways on the same posts: ``threads``, ``thread_roots``, ``missing_parents``, ``hosts``,
``relations``, ``campaign_window`` and, downstream, ``answers``, ``answered_posts``,
``lens_results`` and ``metrics`` identical row for row (the bundled classifiers label both).
And the conversation key on a hand-made set of posts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, shared

pytest.importorskip("dask.distributed")

TABLES = (
    "threads",
    "thread_roots",
    "missing_parents",
    "hosts",
    "relations",
    "campaign_window",
    "labels",
    "answers",
    "answered_posts",
    "lens_results",
    "metrics",
)

X_CAMPAIGN = """
name = "Brexit and K-pop"
hosts = ["itsLIVEofficial"]
hashtags = ["brexit", "kpop", "lisa"]
start = 2021-06-01T00:00:00Z
end = 2021-09-30T00:00:00Z
"""
RUMOUR_CAMPAIGN = 'name = "Uber Sydney"\nhosts = ["Uber_Sydney"]\n'
RUMOUR_THREADS = ("sydneysiege", "ferguson", "ottawashooting")


def _both_ways(root: Path, inputs: list[str], campaign_text: str) -> tuple[Path, Path, str]:
    store, archive, campaign = root / "embedded.duckdb", root / "archive", root / "campaign.toml"
    campaign.write_text(campaign_text)
    proc = run_cli("ingest", str(store), *inputs)
    assert store.exists(), proc.stderr
    # the archive holds the ingested store, before any analysis
    for args in (
        ("export", str(store), "--parquet", str(archive)),
        ("analyze", str(store), "--campaign", str(campaign)),
    ):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    proc = run_cli("analyze", str(archive), "--campaign", str(campaign), "--dask", "local:2", timeout=600)
    assert proc.returncode == 0, proc.stderr
    return store, archive, proc.stderr


@pytest.fixture(scope="module")
def rumour(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    inputs = [str(p) for name in RUMOUR_THREADS for p in sorted(shared("rumoureval", "train", name).iterdir())]
    return _both_ways(tmp_path_factory.mktemp("rumour"), inputs, RUMOUR_CAMPAIGN)


@pytest.fixture(scope="module")
def xv2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    inputs = [str(shared("fixtures", "x-v2", n)) for n in ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl")]
    return _both_ways(tmp_path_factory.mktemp("xv2"), inputs, X_CAMPAIGN)


def _identical(store: Path, archive: Path) -> dict[str, int]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    counts = {}
    for table in TABLES:
        dataset = f"read_parquet('{archive / table}/*.parquet')"
        n = con.execute(f"SELECT count(*) FROM e.{table}").fetchall()[0][0]
        assert con.execute(f"SELECT count(*) FROM {dataset}").fetchall()[0][0] == n, table
        for x, y in ((f"e.{table}", dataset), (dataset, f"e.{table}")):
            assert con.execute(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchall()[0][0] == 0, table
        counts[table] = n
    return counts


def test_rumoureval_threads_without_conversation_ids(rumour: tuple[Path, Path, str]) -> None:
    store, archive, stderr = rumour
    counts = _identical(store, archive)
    # the stages ran on the partitions (not the embedded fallback), the keys by pointer jumping
    assert "reply_trees on Dask" in stderr and "relations on Dask" in stderr
    assert "runs embedded instead" not in stderr
    rounds = int(stderr.split("pointer-jumping round(s)")[0].rsplit(", ", 1)[1])
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    depth, no_ids = con.execute(
        "SELECT (SELECT max(depth) FROM e.threads), (SELECT count(*) FROM e.posts WHERE conversation_id IS NULL)"
    ).fetchall()[0]
    assert no_ids == counts["threads"]  # v1.1: no post carries a conversation id
    # pointer jumping doubles each pointer's distance up the tree every round: a reply at depth d
    # reaches its root after ceil(log2(d)) rounds; one more round finds nothing changed
    assert depth >= 4 and rounds == (depth - 1).bit_length() + 1
    # real trees, a real campaign: replies with parents, the host's thread, answers
    assert counts["thread_roots"] < counts["threads"] and counts["answered_posts"] > 0


def test_x_v2_pages_with_conversation_ids(xv2: tuple[Path, Path, str]) -> None:
    store, archive, stderr = xv2
    counts = _identical(store, archive)
    # every post that is not a repost has its conversation id: no pointer jumping at all
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    missing = con.execute("SELECT count(*) FROM e.posts WHERE conversation_id IS NULL AND kind <> 'repost'")
    assert missing.fetchall()[0][0] == 0
    assert "reply_trees on Dask" in stderr and " 0 pointer-jumping round(s)" in stderr
    assert counts["relations"] > 200 and counts["missing_parents"] > 0


def test_conversation_keys_by_hand() -> None:
    distributed = pytest.importorskip("dask.distributed")
    import dask
    import dask.dataframe as dd
    import pandas as pd

    from askscope.archive.dask_stages import DASK_CONFIG, conversation_keys

    none: list[str] = []
    rows = [
        # platform, id, kind, in_reply_to_id, conversation_id, edit_ids
        ("x", "a", "post", None, None, none),  # a <- b <- c <- d: a chain of v1.1 replies
        ("x", "b", "reply", "a", None, none),
        ("x", "c", "reply", "b", None, none),
        ("x", "d", "reply", "c", None, none),
        ("x", "f", "reply", "r", "r", none),  # a v2 reply in conversation r (root r not stored)
        ("x", "e", "reply", "f", None, none),  # a v1.1 reply to it: joins conversation r
        ("x", "g", "reply", "zz", None, none),  # its parent zz is not stored: its own key
        ("x", "h", "post", None, None, ["h0", "h"]),  # h is the edited h0
        ("x", "i", "reply", "h0", None, none),  # replies to the old version: key h
        ("x", "j", "repost", None, None, none),  # a repost is not in a tree: its own id
        ("y", "b", "reply", "a", None, none),  # another platform: a of y is not stored: its own key
    ]
    frame = pd.DataFrame(
        rows, columns=["platform", "id", "kind", "in_reply_to_id", "conversation_id", "edit_ids"]
    ).astype(object)
    versions = pd.DataFrame({"platform": ["x"], "old_id": ["h0"], "latest_id": ["h"]}).astype(object)
    with (
        distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client,
        dask.config.set(DASK_CONFIG),
    ):
        keys, rounds = conversation_keys(client, dd.from_pandas(frame, npartitions=3), versions)
        got = {(p, i): k for p, i, k in keys.compute().itertuples(index=False)}
    assert got == {
        ("x", "a"): "a",
        ("x", "b"): "a",
        ("x", "c"): "a",
        ("x", "d"): "a",
        ("x", "f"): "r",
        ("x", "e"): "r",
        ("x", "g"): "g",
        ("x", "h"): "h",
        ("x", "i"): "h",
        ("x", "j"): "j",
        ("y", "b"): "b",
    }
    # pointers a:a b:a c:b d:c e:f; round 1: c->a, d->b, e->r (f is final); round 2: d->a;
    # round 3: nothing changes
    assert rounds == 3


def test_a_quote_of_a_host_post_in_another_partition(tmp_path: Path) -> None:
    """One conversation partition by hand: post q quotes host post h1, which lives in another
    partition; r is unrelated. The relations pass adds the host's posts of every partition, so q is
    a ``quote`` (``RELATIONS_SQL``: quotes_host, the fifth relation in order; q is not by the host,
    not a repost, not a reply, has no thread), r is ``none``, and h1's row is not written here."""
    import pandas as pd

    from askscope.archive.dask_stages import _relations_part

    for sub in ("conversation", "threads", "relations"):
        (tmp_path / sub).mkdir()
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE posts (platform VARCHAR, id VARCHAR, kind VARCHAR, created_at TIMESTAMPTZ, author_id VARCHAR, "
        "author_handle VARCHAR, in_reply_to_id VARCHAR, in_reply_to_author_id VARCHAR, conversation_id VARCHAR, "
        "quoted_id VARCHAR, reposted_id VARCHAR, reply_count BIGINT, mentions VARCHAR[], mention_ids VARCHAR[], "
        "hashtags VARCHAR[], edit_ids VARCHAR[])"
    )
    con.execute(
        "INSERT INTO posts VALUES ('x', 'q', 'quote', '2021-06-02 10:00:00+00', 'u2', 'two', NULL, NULL, 'q', 'h1', "
        "NULL, 0, [], [], [], []), ('x', 'r', 'post', '2021-06-02 11:00:00+00', 'u3', 'three', NULL, NULL, 'r', "
        "NULL, NULL, 0, [], [], [], [])"
    )
    con.execute(
        "CREATE TABLE threads AS SELECT platform, id AS post_id, NULL::VARCHAR AS parent_id, false AS parent_missing, "
        "id AS root_id, 0 AS depth, true AS root_complete, false AS in_cycle FROM posts"
    )
    con.execute(f"COPY posts TO '{tmp_path / 'conversation' / 'part-00000.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY threads TO '{tmp_path / 'threads' / 'part-00000.parquet'}' (FORMAT parquet)")
    hosts = pd.DataFrame(
        {"platform": ["x"], "author_id": ["host"], "handle": ["Host"], "role": ["host"], "ref": ["Host"]}
    )
    host_posts = pd.DataFrame({"platform": ["x"], "id": ["h1"], "author_id": ["host"]})
    assert _relations_part(0, str(tmp_path), {}, hosts, host_posts, []) == 2
    got = dict(
        con.execute(
            f"SELECT post_id, relation FROM read_parquet('{tmp_path / 'relations' / 'part-00000.parquet'}')"
        ).fetchall()
    )
    assert got == {"q": "quote", "r": "none"}


def test_a_tree_split_by_contradicting_conversation_ids_runs_embedded(tmp_path: Path) -> None:
    """Replies whose ``conversation_id`` is not their parent's (data breaking the platform's
    contract) get their own conversation keys, so the shuffle puts them apart from their stored
    parents: the partitions call those parents missing. The stage sees it and runs embedded, and
    the tables are the embedded stage's."""
    inputs = [str(shared("fixtures", "x-v2", n)) for n in ("brexit.jsonl", "kpop.jsonl", "2sets.jsonl")]
    store, archive, campaign = tmp_path / "embedded.duckdb", tmp_path / "archive", tmp_path / "campaign.toml"
    campaign.write_text(X_CAMPAIGN)
    assert run_cli("ingest", str(store), *inputs).returncode == 0
    with duckdb.connect(str(store)) as con:
        split = con.execute(
            "UPDATE posts SET conversation_id = 'split-' || id WHERE kind <> 'repost' AND in_reply_to_id IN "
            "(SELECT id FROM posts)"
        ).fetchall()[0][0]
    assert split >= 10  # replies whose parent is stored, each now its own conversation
    for args in (
        ("export", str(store), "--parquet", str(archive)),
        ("analyze", str(store), "--campaign", str(campaign), "--only", "reply_trees", "--only", "relations"),
    ):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    proc = run_cli(
        "analyze",
        str(archive),
        "--campaign",
        str(campaign),
        "--only",
        "reply_trees",
        "--only",
        "relations",
        "--dask",
        "local:2",
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "replies found their parent in another partition" in proc.stderr
    assert "the stage runs embedded instead" in proc.stderr
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    for table in ("threads", "thread_roots", "missing_parents", "hosts", "relations", "campaign_window"):
        dataset = f"read_parquet('{archive / table}/*.parquet')"
        for x, y in ((f"e.{table}", dataset), (dataset, f"e.{table}")):
            assert con.execute(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchall()[0][0] == 0, table
    # the replies kept their parents: the split did not reach the tables
    orphans = con.execute(
        "SELECT count(*) FROM e.threads t JOIN e.posts p ON p.platform = t.platform AND p.id = t.post_id "
        "WHERE p.conversation_id LIKE 'split-%' AND t.parent_id IS NULL"
    ).fetchall()[0][0]
    assert orphans == 0


def test_a_task_duckdb_gets_its_share_of_the_worker_memory_and_spills(tmp_path: Path) -> None:
    """``cluster.limit_task`` in a real worker of a 1 GiB memory limit: one thread, 40% of the
    limit (1024 MiB * 0.4 = 409 MiB, rounded down) and the spill folder given; outside a worker
    DuckDB keeps its own defaults."""
    import distributed

    from askscope.archive.cluster import task_connection

    def settings(spill: str) -> tuple[str, int, str]:
        con = task_connection(Path(spill))
        try:
            limit, threads, temp = con.execute(
                "SELECT current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"
            ).fetchall()[0]
        finally:
            con.close()
        return str(limit), int(threads), str(temp)

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, memory_limit="1GiB", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        limit, threads, temp = client.submit(settings, str(tmp_path / "spill"), pure=False).result()
    assert threads == 1 and temp == str(tmp_path / "spill")
    assert limit == "409.0 MiB"
    outside = settings(str(tmp_path / "other"))
    assert outside[2] != str(tmp_path / "other") and outside[0] != "409.0 MiB"
