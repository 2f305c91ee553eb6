"""The co-action networks and their null model on Dask (``askscope.archive.dask_networks``)
against the embedded stage, on the same real inputs, with ``local:2``.

Inputs: RumourEval's Twitter threads (``../shared/data/rumoureval``: real breaking-news reply
bursts), SYNTHETIC planted groups acting within τ on those real posts
(:func:`askscope.authenticity.planting.plant_groups`: every network gets significant edges) and
a SYNTHETIC skewed object: 900 replies by 150 made-up accounts to one real post over three
hours, one minute of them a crowd (120 replies within 60 s: more than ``max_crowd`` = 50), and
a made-up group of 10 accounts replying to it together every few minutes, and two replies
within τ at a τ-bucket boundary, one of them in a crowd (no edge between them). The stage runs
with ``heavy_actions=1``: every object is cut into time chunks with their halo (one τ-bucket
each for the skewed object), so chunk boundaries fall inside the group's co-replies and the
crowds; the null floors with ``heavy_actions=8`` (some objects cut, the others whole).

Required: ``coaction_edges``, ``coordinated_accounts`` and ``coordination_networks`` identical
row for row, the stage summaries equal, and the null floors identical (``as_dict()`` and each
run's pairs), with the null runs as tasks and as object shuffles.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from conftest import run_cli, shared

import askscope
from askscope.authenticity.coordination import Runners, run_coordination
from askscope.authenticity.planting import plant_groups
from askscope.authenticity.population import build_population
from askscope.authenticity.settings import NETWORKS, AuthenticitySettings
from askscope.authenticity.stage import Authenticity
from askscope.campaign import Campaign
from askscope.stages.base import Context

pytest.importorskip("dask.distributed")

from askscope.archive.cluster import dask_client  # noqa: E402  (after the skip: dask is an extra)
from askscope.archive.dask_networks import DaskAuthenticity, DaskNetworks  # noqa: E402

THREADS = ("sydneysiege", "putinmissing")
TABLES = ("coaction_edges", "coordinated_accounts", "coordination_networks")
SETTINGS = {"null_runs": 4, "seed": 3}
HEAVY = 8
CAMPAIGN = Campaign(name="RumourEval, planted", hosts=())


def _skewed_object(store: askscope.Store) -> str:
    """Insert the SYNTHETIC replies to one real post (module docstring); returns its id."""
    con = store.con
    target, start = con.execute(
        "SELECT id, created_at FROM posts WHERE NOT is_context AND kind <> 'repost' AND created_at IS NOT NULL "
        "ORDER BY id LIMIT 1"
    ).fetchall()[0]
    rng = random.Random(15)
    rows: list[tuple[str, str, Any]] = []
    for i in range(900):  # spread over three hours
        rows.append((f"skew-{i}", f"skew-account-{i % 150}", start + timedelta(seconds=rng.uniform(0, 10800))))
    for i in range(120):  # the crowd: within one minute
        rows.append((f"crowd-{i}", f"skew-account-{i % 150}", start + timedelta(seconds=5400 + rng.uniform(0, 60))))
    # At a bucket boundary (buckets are whole minutes since the epoch, τ = 60 s): q, 2 s before
    # minute y + 1, is in a crowd (60 replies in the first 5 s of y + 1); p, 1 s before minute y,
    # is not (the crowd is more than τ after it). p and q are within τ but q is crowded: no edge.
    # Wherever the object is cut, q's crowd is two buckets from a chunk holding p: a chunk that
    # counted q's crowd without its second halo bucket would make the edge.
    y = int(start.timestamp()) // 60 + 150
    rows.append(("edge-p", "skew-edge-p", datetime.fromtimestamp(y * 60 - 1, UTC)))
    rows.append(("edge-q", "skew-edge-q", datetime.fromtimestamp((y + 1) * 60 - 2, UTC)))
    for i in range(60):
        at = datetime.fromtimestamp((y + 1) * 60 + rng.uniform(0, 5), UTC)
        rows.append((f"edge-crowd-{i}", f"skew-account-{i}", at))
    for event in range(30):  # the group: 10 accounts within 20 s, every 6 minutes
        when = start + timedelta(seconds=60 + event * 360)
        for member in range(10):
            at = when + timedelta(seconds=rng.uniform(0, 20))
            rows.append((f"group-{event}-{member}", f"skew-group-{member}", at))
    table = pa.table(
        {
            "id": pa.array([r[0] for r in rows]),
            "author_id": pa.array([r[1] for r in rows]),
            "created_at": pa.array([r[2] for r in rows]),
        }
    )
    con.register("_skew", table)
    try:
        con.execute(
            """INSERT INTO posts (platform, id, author_id, author_handle, created_at, kind, text, urls, hashtags,
                                  in_reply_to_id, is_context, source_file, mentions, observed_at)
               SELECT 'x', id, author_id, author_id, created_at, 'reply', 'SYNTHETIC reply ' || id, [], [], ?,
                      false, 'SYNTHETIC skewed object', [], created_at FROM _skew""",
            [target],
        )
    finally:
        con.unregister("_skew")
    return str(target)


@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("networks") / "real.duckdb"
    inputs = [str(p) for name in THREADS for p in sorted(shared("rumoureval", "train", name).iterdir())]
    askscope.ingest(str(path), inputs, workers=0)
    with askscope.open_store(path) as store:
        plant_groups(store, groups_per_behaviour=1, size=8, events=6, seed=3)  # SYNTHETIC groups on real posts
        _skewed_object(store)
    return path


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with dask_client("local:2") as connected:
        yield connected


@pytest.fixture
def copies(real_store: Path, tmp_path: Path) -> tuple[Path, Path]:
    embedded, dask = tmp_path / "embedded.duckdb", tmp_path / "dask.duckdb"
    shutil.copy(real_store, embedded)
    shutil.copy(real_store, dask)
    return embedded, dask


def _run_stage(path: Path, stage: Authenticity, messages: list[str]) -> dict[str, Any]:
    with askscope.open_store(path) as store, store.transaction():
        ctx = Context(store=store, campaign=CAMPAIGN, settings={"authenticity": SETTINGS}, progress=messages.append)
        return stage.run(ctx)


def _table(path: Path, name: str) -> list[tuple[Any, ...]]:
    with askscope.open_store(path, read_only=True) as store:
        return store.con.execute(f"SELECT * FROM {name}").fetchall()


def test_the_stage_on_dask_writes_the_embedded_tables(client, copies):
    embedded_path, dask_path = copies
    networks = DaskNetworks(client, 2, heavy_actions=1)
    said: list[str] = []
    embedded = _run_stage(embedded_path, Authenticity(), [])
    on_dask = _run_stage(dask_path, DaskAuthenticity(networks), said)
    assert on_dask == embedded  # every figure, null floors included
    for name in TABLES:
        rows = _table(embedded_path, name)
        assert rows, name
        assert _table(dask_path, name) == rows, name
    for network in NETWORKS:  # every network has edges, and significant ones
        assert embedded["networks"][network]["edges"] > 0, network
        assert embedded["networks"][network]["significant_pairs"] > 0, network
    # the skewed object was cut in time, with halo copies; its crowd was found
    reply = networks.report["co_reply"]
    assert reply["heavy_objects"] >= 1 and reply["rows_shuffled"] > reply["actions"], reply
    assert embedded["networks"]["co_reply"]["crowded_actions"] >= 120 - 50
    assert reply["null_runs"] == "4 task(s)"
    assert any(m.startswith("authenticity on Dask: co_reply:") for m in said), said
    # the boundary pair: p has edges, none with the crowded q
    pairs = {(a, b) for _, _, a, b, _, _ in _table(dask_path, "coaction_edges")}
    assert any(a == "skew-edge-p" for a, _ in pairs)
    assert ("skew-edge-p", "skew-edge-q") not in pairs and ("skew-edge-q", "skew-edge-p") not in pairs
    # the planted group on the skewed object is found both ways
    members = {a for _, a, n, _ in _table(dask_path, "coordinated_accounts") if n == "co_reply"}
    assert {f"skew-group-{i}" for i in range(10)} <= members


def _floors(path: Path, runners: Runners | None, networks: tuple[str, ...]) -> dict[str, Any]:
    settings = AuthenticitySettings.from_mapping({**SETTINGS, "networks": networks})
    with askscope.open_store(path) as store, store.transaction():
        population = build_population(store.con, CAMPAIGN)
        results = run_coordination(store.con, population, settings, runners=runners)
    return {network: result.floor for network, result in results.items()}


def test_null_floors_are_identical_as_tasks_and_as_shuffles(client, copies):
    """Tasks on the skewed network and on co_similar (several objects per post); one object
    shuffle per run on the skewed network."""
    embedded_path, dask_path = copies
    embedded = _floors(embedded_path, None, ("co_reply", "co_similar"))
    as_tasks = DaskNetworks(client, 2, heavy_actions=HEAVY)
    as_shuffles = DaskNetworks(client, 2, heavy_actions=HEAVY, task_actions=0)
    for networks, runners in ((as_tasks, ("co_reply", "co_similar")), (as_shuffles, ("co_reply",))):
        on_dask = _floors(dask_path, networks.runners(), runners)
        for network in runners:
            floor, other = embedded[network], on_dask[network]
            assert floor is not None and other is not None
            assert floor.pairs_mean > 0, network
            assert other.as_dict() == floor.as_dict(), network
            assert len(other.runs_seen) == len(floor.runs_seen) == SETTINGS["null_runs"]
            for mine, theirs in zip(other.runs_seen, floor.runs_seen):
                assert mine.pairs == theirs.pairs, network
                for x, y in (
                    (mine.pairs_at_least, theirs.pairs_at_least),
                    (mine.accounts_at_least, theirs.accounts_at_least),
                ):
                    assert x.dtype == y.dtype and np.array_equal(x, y), network
    assert as_tasks.report["co_similar"]["null_runs"] == "4 task(s)"
    assert as_shuffles.report["co_reply"]["null_runs"] == "4 object shuffle(s), one after the other"


def test_analyze_archive_runs_authenticity_on_dask(real_store: Path, tmp_path: Path) -> None:
    """``askscope analyze ARCHIVE_DIR --dask local:2`` runs this stage on the cluster, and the
    archive gets the tables of ``askscope analyze DB`` (embedded)."""
    store, archive, campaign = tmp_path / "store.duckdb", tmp_path / "archive", tmp_path / "campaign.toml"
    shutil.copy(real_store, store)
    campaign.write_text('name = "RumourEval, planted"\nhosts = ["Uber_Sydney"]\n')
    for args in (
        ("export", str(store), "--parquet", str(archive)),
        ("analyze", str(store), "--campaign", str(campaign), "--only", "authenticity", "--json"),
    ):
        proc = run_cli(*args)
        assert proc.returncode == 0, proc.stderr
    embedded = json.loads(proc.stdout)
    only = ("--only", "authenticity", "--json", "--dask", "local:2")
    proc = run_cli("analyze", str(archive), "--campaign", str(campaign), *only, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "authenticity on Dask: co_reply:" in proc.stderr
    assert json.loads(proc.stdout) == embedded
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    for table in TABLES:
        dataset = f"read_parquet('{archive / table}/*.parquet')"
        n = con.execute(f"SELECT count(*) FROM e.{table}").fetchall()[0][0]
        assert n > 0 and con.execute(f"SELECT count(*) FROM {dataset}").fetchall()[0][0] == n, table
        for x, y in ((f"e.{table}", dataset), (dataset, f"e.{table}")):
            assert con.execute(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchall()[0][0] == 0, table


def test_chunks_and_halo_by_hand() -> None:
    """``chunk_widths`` and ``expand`` on hand-made actions (no cluster)."""
    import pandas as pd

    from askscope.archive.dask_networks import chunk_widths, expand

    con = duckdb.connect()
    # object 7: 10 actions over buckets 0..19; object 9: 3 actions (not heavy)
    con.execute(
        "CREATE TEMP TABLE _auth_timed AS SELECT 7::UBIGINT AS k, b FROM unnest([0, 2, 4, 6, 8, 10, 12, 14, 16, 19]) "
        "AS u(b) UNION ALL SELECT 9::UBIGINT, b FROM unnest([0, 1, 2]) AS u(b)"
    )
    keys, widths, lo, hi = chunk_widths(con, 4)
    # ceil(10 / 4) = 3 chunks over a span of 20 buckets: width ceil(20 / 3) = 7
    assert keys.tolist() == [7] and widths.tolist() == [7] and (lo.tolist(), hi.tolist()) == ([0], [19])

    def rows(frame: Any, depth: int, keys: list[int], widths: list[int]) -> set[tuple[int, int, int, int]]:
        out = expand(frame, np.array(keys, dtype=np.uint64), np.array(widths, dtype=np.int64), depth)
        return set(zip(out["k"].tolist(), out["b"].tolist(), out["chunk"].tolist(), out["role"].tolist()))

    ks = [7, 7, 7, 7, 7, 7, 9]
    frame = pd.DataFrame({"k": np.array(ks, dtype=np.uint64), "b": np.array([0, 1, 2, 3, 5, 6, 4], dtype=np.int64)})
    # width 3: chunks [0, 2], [3, 5], [6, 8]; (k, b, chunk, role = distance to the chunk)
    home = {(7, 0, 0, 0), (7, 1, 0, 0), (7, 2, 0, 0), (7, 3, 1, 0), (7, 5, 1, 0), (7, 6, 2, 0), (9, 4, 0, 0)}
    first = {(7, 0, -1, 1), (7, 2, 1, 1), (7, 3, 0, 1), (7, 5, 2, 1), (7, 6, 1, 1)}
    second = {(7, 1, -1, 2), (7, 1, 1, 2)}
    assert rows(frame, 2, [7], [3]) == home | first | second
    assert rows(frame, 1, [7], [3]) == home | first
    # width 1: each bucket a chunk; bucket 10 is in chunks 8..12 at distances 2, 1, 0, 1, 2
    one = pd.DataFrame({"k": np.array([7], dtype=np.uint64), "b": np.array([10], dtype=np.int64)})
    assert rows(one, 2, [7], [1]) == {(7, 10, 8, 2), (7, 10, 9, 1), (7, 10, 10, 0), (7, 10, 11, 1), (7, 10, 12, 2)}
    # a light object: one chunk, no copies
    assert rows(one, 2, [8], [1]) == {(7, 10, 0, 0)}
