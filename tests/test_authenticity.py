"""Lens 4 on real posts: planted groups are found, organic participants and shuffled data stay quiet.

The real data are RumourEval's Twitter threads (``../shared/data/rumoureval``: breaking-news reply
bursts, so organic co-replies abound). Planted groups are SYNTHETIC accounts acting within τ on
those real posts (see :mod:`askscope.authenticity.planting`).
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import one, rows, shared

import askscope
from askscope.authenticity import analyze_authenticity, coordinated_account_set
from askscope.authenticity.planting import BEHAVIOURS, plant_groups
from askscope.authenticity.settings import AuthenticityError
from askscope.campaign import Campaign


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rumoureval") / "real.duckdb"
    askscope.ingest(str(path), [str(shared("rumoureval", "train")), str(shared("rumoureval", "dev"))], workers=0)
    return path


@pytest.fixture
def store(real_store: Path, tmp_path: Path):
    copy = tmp_path / "store.duckdb"
    shutil.copy(real_store, copy)
    with askscope.open_store(copy) as opened:
        yield opened


def analyze(store: askscope.Store, campaign: Campaign | None = None, **settings):
    with store.transaction():
        return analyze_authenticity(store, campaign, settings)


def flagged(store: askscope.Store) -> set[str]:
    return {a for _, a in coordinated_account_set(store)}


def participants(store: askscope.Store) -> int:
    return one(store, "SELECT count(*) FROM account_signals")


def test_organic_participants_are_not_flagged(store):
    """Without a plant, at most 1% of the real participants end up in a coordinated group."""
    summary = analyze(store)
    assert summary["population"]["posts"] > 4000
    assert summary["networks"]["co_reply"]["pairs"] > 1000  # organic co-replies exist ...
    assert len(flagged(store)) <= 0.01 * participants(store)  # ... but do not beat the null


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_groups_are_found(store, seed):
    plant = plant_groups(store, groups_per_behaviour=2, size=8, events=6, participation=0.85, seed=seed)
    summary = analyze(store)
    found = flagged(store)
    recall = len(found & plant.accounts) / len(plant.accounts)
    assert recall >= 0.9, recall
    real_flagged = found - plant.accounts
    assert len(real_flagged) <= 0.01 * (participants(store) - len(plant.accounts))
    for group, members in plant.groups.items():
        network = plant.behaviour[group]
        in_network = {a for _, a in coordinated_account_set(store, network)}
        assert len(in_network & set(members)) >= 0.75 * len(members), (group, network)
        # the group's members share one group id in their network
        ids = rows(
            store,
            "SELECT DISTINCT group_id FROM coordinated_accounts WHERE network = ? AND author_id LIKE ?",
            [network, f"planted-{group}-%"],
        )
        assert len(ids) == 1, (group, ids)
    assert summary["coordinated"]["accounts"] == len(found)
    for network in BEHAVIOURS:
        assert summary["networks"][network]["significant_pairs"] > 0, network


def test_shuffled_timestamps_stay_quiet(store):
    """The planted data with every post's time shuffled (seeded): the detector flags ≤ 1%."""
    plant_groups(store, seed=4)
    times = [r[0] for r in rows(store, "SELECT created_at FROM posts WHERE NOT is_context ORDER BY platform, id")]
    random.Random(0).shuffle(times)
    ids = [r[0] for r in rows(store, "SELECT id FROM posts WHERE NOT is_context ORDER BY platform, id")]
    store.con.execute("CREATE TEMP TABLE shuffled (id VARCHAR, shuffled_at TIMESTAMPTZ)")
    store.con.executemany("INSERT INTO shuffled VALUES (?, ?)", list(zip(ids, times)))
    store.con.execute("UPDATE posts SET created_at = s.shuffled_at FROM shuffled s WHERE posts.id = s.id")
    analyze(store)
    assert len(flagged(store)) <= 0.01 * participants(store)


def test_null_floor_is_reported_and_beaten(store):
    plant_groups(store, behaviours=("co_reply",), seed=5)
    summary = analyze(store, null_runs=5, seed=9)
    reply = summary["networks"]["co_reply"]
    floor = reply["null_floor"]
    assert floor["runs"] == 5 and floor["seed"] == 9
    # the floor in accounts: what the same threshold flags on shuffled data
    assert reply["null_accounts_flagged"] <= 0.01 * summary["population"]["accounts"]
    w = reply["threshold_weight"]
    assert w is not None and w >= 3
    # at the threshold the floor expects at most 5% of the observed pairs
    observed = one(
        store,
        "SELECT count(*) FROM (SELECT least(source_id, target_id), greatest(source_id, target_id), "
        "min(weight) AS w FROM coaction_edges WHERE network = 'co_reply' GROUP BY 1, 2) WHERE w >= ?",
        [w],
    )
    assert floor["at_least"].get(str(w), 0.0) <= 0.05 * observed
    assert observed == reply["significant_pairs"]
    row = rows(
        store,
        "SELECT null_runs, threshold_weight, significant_pairs FROM coordination_networks WHERE network = 'co_reply'",
    )[0]
    assert row == (5, w, reply["significant_pairs"])


def test_same_input_gives_the_same_output(store, tmp_path):
    plant_groups(store, seed=6)
    first = json.dumps(analyze(store), sort_keys=True)
    tables = {
        t: rows(store, f"SELECT * FROM {t} ORDER BY ALL")
        for t in ("coaction_edges", "coordinated_accounts", "duplicate_clusters", "bursts")
    }
    second = json.dumps(analyze(store), sort_keys=True)
    assert first == second
    for table, before in tables.items():
        assert rows(store, f"SELECT * FROM {table} ORDER BY ALL") == before, table


def test_hypergeometric_and_leiden_options(store):
    # Not co_repost: RumourEval has no reposts, so planted reposts would be the only (object, slot)
    # cells and the hypergeometric test has no background to beat there.
    plant = plant_groups(store, behaviours=("co_post", "co_similar", "co_link", "co_reply"), seed=7)
    summary = analyze(store, hypergeometric=True, groups="leiden")
    recall = len(flagged(store) & plant.accounts) / len(plant.accounts)
    assert recall >= 0.9
    assert summary["settings"]["hypergeometric"] and summary["settings"]["groups"] == "leiden"


def test_data_driven_tau(store):
    plant_groups(store, seed=8)
    summary = analyze(store, tau=None)
    for network, result in summary["networks"].items():
        assert result["tau_source"] in ("estimated", "fallback"), network
        assert result["tau_seconds"] >= 0
    assert summary["networks"]["co_reply"]["tau_source"] == "estimated"


def test_campaign_window_limits_the_posts(store):
    start, end = rows(store, "SELECT min(created_at), max(created_at) FROM posts WHERE NOT is_context")[0]
    middle = start + (end - start) / 2
    summary = analyze(store, Campaign(name="half", hosts=(), start=middle))
    inside = one(
        store, "SELECT count(*) FROM posts WHERE NOT is_context AND kind <> 'repost' AND created_at >= ?", [middle]
    )
    assert summary["population"]["posts"] == inside
    assert summary["population"]["source"] == "window"


def test_relations_table_selects_the_campaign_set(store):
    """With the relations stage's table: P = in_campaign posts, plus the reposts of those posts."""
    plant_groups(store, behaviours=("co_repost",), seed=9)
    store.con.execute("""CREATE TABLE relations AS
                         SELECT platform, id AS post_id, 'hashtag_only' AS relation, (hash(id) % 2 = 0) AS in_campaign
                         FROM posts WHERE NOT is_context AND kind <> 'repost'""")
    summary = analyze(store)
    assert summary["population"]["source"] == "relations"
    assert summary["population"]["posts"] == one(store, "SELECT count(*) FROM relations WHERE in_campaign")
    expected_reposts = one(
        store,
        """SELECT count(*) FROM posts p JOIN relations r
                                     ON r.post_id = p.reposted_id AND r.in_campaign WHERE p.kind = 'repost'""",
    )
    assert summary["population"]["reposts"] == expected_reposts


def test_coordinated_share_counts_posts_of_coordinated_accounts(store):
    plant = plant_groups(store, behaviours=("co_post",), seed=10)
    summary = analyze(store)
    post = summary["networks"]["co_post"]
    members = coordinated_account_set(store, "co_post")
    expected = one(
        store,
        "SELECT count(*) FROM posts WHERE NOT is_context AND kind <> 'repost' AND author_id IN "
        "(SELECT author_id FROM coordinated_accounts WHERE network = 'co_post')",
    )
    assert post["coordinated_posts"] == expected
    assert post["coordinated_share"] == pytest.approx(expected / summary["population"]["posts"], abs=1e-6)
    # every planted co_post account is found, and the planted groups are all there is to find
    # in this store (no real account posted the same text within tau)
    assert {a for _, a in members} == set(plant.accounts)


def test_near_duplicate_clusters_find_the_copypasta(store):
    plant = plant_groups(store, behaviours=("co_post",), groups_per_behaviour=1, events=3, seed=11)
    summary = analyze(store)
    assert summary["near_duplicates"]["clusters"] > 0
    planted_clusters = rows(
        store,
        """SELECT c.cluster_id, c.size, c.accounts, c.first_author_id, c.spread_seconds
                                      FROM duplicate_clusters c WHERE c.cluster_id IN (SELECT cluster_id
                                      FROM duplicate_members WHERE post_id LIKE 'planted-%')""",
    )
    assert planted_clusters
    members = set(next(iter(plant.groups.values())))
    for cluster_id, size, _accounts, first_author, spread in planted_clusters:
        # every cluster member is in the members table, the first poster is the earliest
        assert size == one(store, "SELECT count(*) FROM duplicate_members WHERE cluster_id = ?", [cluster_id])
        first = rows(
            store,
            "SELECT author_id FROM duplicate_members WHERE cluster_id = ? ORDER BY created_at, "
            "platform, post_id LIMIT 1",
            [cluster_id],
        )[0][0]
        assert first == first_author
        assert spread >= 0
    assert any(accounts >= 0.5 * len(members) for _, _, accounts, _, _ in planted_clusters)


def test_hostile_bursts_from_ids_from_a_table_or_skipped(store):
    replies = rows(
        store, "SELECT platform, id FROM posts WHERE kind = 'reply' AND NOT is_context ORDER BY id LIMIT 800"
    )
    with store.transaction():
        summary = analyze_authenticity(store, None, {}, hostile_ids=replies)
    assert summary["bursts"]["hostile"]["posts"] == 800
    assert summary["bursts"]["hostile_source"] == "given ids"
    store.con.execute(
        "CREATE TABLE categories AS SELECT platform, id AS post_id, "
        "CASE WHEN kind = 'reply' THEN 'mockery' ELSE 'support' END AS category FROM posts"
    )
    summary = analyze(store)
    assert summary["bursts"]["hostile_source"] == "categories"
    assert summary["bursts"]["hostile"]["posts"] == one(
        store, "SELECT count(*) FROM posts WHERE kind = 'reply' AND NOT is_context"
    )
    store.con.execute("DROP TABLE categories")
    # the classify stage's own shape: one row per post and task, the category in task 'discourse'
    store.con.execute(
        "CREATE TABLE labels AS SELECT platform, id AS post_id, 'discourse' AS task, "
        "CASE WHEN kind = 'post' THEN 'abuse' ELSE 'support' END AS label FROM posts "
        "UNION ALL SELECT platform, id, 'irony', 'mockery' FROM posts"
    )
    summary = analyze(store)
    assert summary["bursts"]["hostile_source"] == "labels"
    assert summary["bursts"]["hostile"]["posts"] == one(
        store, "SELECT count(*) FROM posts WHERE kind = 'post' AND NOT is_context"
    )
    store.con.execute("DROP TABLE labels")
    summary = analyze(store)
    assert "hostile" not in summary["bursts"] and summary["bursts"]["hostile_source"] is None
    with pytest.raises(AuthenticityError, match="hostile-posts query failed"):
        analyze(store, hostile_sql="SELECT nothing FROM nowhere")


def test_bursts_and_burstiness_of_real_arrivals(store):
    summary = analyze(store)
    all_posts = summary["bursts"]["all"]
    assert all_posts["bursts"] > 0 and all_posts["top_level"] >= 1
    assert 0 < all_posts["burstiness"] < 1  # breaking news: bursty arrivals
    level1 = rows(
        store, "SELECT start_at, end_at, posts FROM bursts WHERE series = 'all' AND level = 1 ORDER BY start_at"
    )
    assert level1 and all(start <= end and posts >= 2 for start, end, posts in level1)
    assert one(store, "SELECT posts FROM burstiness WHERE series = 'all'") == summary["population"]["posts"]


def test_account_signals(store):
    summary = analyze(store, Campaign(name="c", hosts=(), start=rows(store, "SELECT min(created_at) FROM posts")[0][0]))
    signals = summary["accounts"]
    assert signals["all"]["accounts"] == participants(store) == summary["population"]["accounts"]
    assert signals["all"]["with_profile"] > 0.9 * signals["all"]["accounts"]
    assert 0 <= signals["all"]["share_created_in_30_days_before"] <= 1
    row = rows(
        store,
        """SELECT count(*) FILTER (WHERE age_days_at_first_post < 0),
                                count(*) FILTER (WHERE follower_ratio < 0),
                                count(*) FILTER (WHERE lifetime_posts_per_day < 0) FROM account_signals""",
    )[0]
    assert row == (0, 0, 0)
    # no verdict column: signals only
    columns = {
        r[0]
        for r in rows(store, "SELECT column_name FROM information_schema.columns WHERE table_name = 'account_signals'")
    }
    assert not {"bot", "is_bot", "verdict"} & columns


def test_unknown_setting_is_a_typed_error(store):
    with pytest.raises(AuthenticityError, match="unknown authenticity setting"):
        analyze(store, tua=60)
    with pytest.raises(AuthenticityError, match="unknown network"):
        analyze(store, networks=("co_like",))


def test_coordinated_account_set_needs_a_run(store):
    with pytest.raises(AuthenticityError, match="no coordinated_accounts"):
        coordinated_account_set(store)


def test_crowds_make_no_edges_and_are_counted(store):
    """60 accounts (SYNTHETIC, added to the real store) reply to each of three real posts within
    30 seconds: a crowd. By default those replies make no co_reply edges and are counted as
    crowded; with max_crowd=None (the toolkit's rule) every pair of them is an edge of weight 3."""
    targets = store.con.execute(
        "SELECT id, created_at FROM posts WHERE platform = 'x' AND NOT is_context AND created_at IS NOT NULL "
        "ORDER BY id LIMIT 3"
    ).fetchall()
    rows = []
    for n, (target, at) in enumerate(targets):
        start = at + timedelta(minutes=5)
        for i in range(60):
            rows.append(
                (
                    f"crowd-{n}-{i}",
                    f"crowd{i}",
                    f"crowd_{i}",
                    start + timedelta(seconds=i // 2),
                    f"what about this, number {n} {i}?",
                    target,
                )
            )
    store.con.executemany(
        "INSERT INTO posts (platform, id, author_id, author_handle, created_at, text, kind, in_reply_to_id, "
        "urls, is_context) VALUES ('x', ?, ?, ?, ?, ?, 'reply', ?, [], false)",
        rows,
    )
    crowd_edges = (
        "SELECT count(*) FROM coaction_edges WHERE network = 'co_reply' "
        "AND source_id LIKE 'crowd%' AND target_id LIKE 'crowd%'"
    )
    summary = analyze(store, networks="co_reply", null_runs=2)
    assert summary["networks"]["co_reply"]["crowded_actions"] >= 180
    assert one(store, crowd_edges) == 0
    assert one(store, "SELECT crowded_actions FROM coordination_networks WHERE network = 'co_reply'") >= 180
    summary = analyze(store, networks="co_reply", null_runs=2, max_crowd=None)
    assert summary["networks"]["co_reply"]["crowded_actions"] == 0
    assert one(store, crowd_edges) == 60 * 59
    assert one(store, crowd_edges + " AND weight = 3") == 60 * 59


def test_the_stage_leaves_no_temporary_table_behind(store):
    """DuckDB keeps temporary tables in memory until the connection closes and cannot spill them:
    the stage's work tables (population, actions, documents ...) held more than the analysis's
    memory limit at 10M posts, and the lenses stage after it ran out of memory. The stage drops
    them, also when it fails."""

    def temporary() -> list[str]:
        return [r[0] for r in store.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]

    before = temporary()
    summary = analyze(store)
    assert summary["population"]["posts"] > 4000  # the networks, duplicates and bursts all ran
    assert temporary() == before
    # its tables are kept (they are not temporary)
    assert one(store, "SELECT count(*) FROM account_signals") > 0
    # a failing run (its hostile query names no table) leaves none either
    with pytest.raises(AuthenticityError), store.transaction():
        analyze_authenticity(store, None, {"hostile_sql": "SELECT platform, post_id FROM no_such_table"})
    assert temporary() == before
