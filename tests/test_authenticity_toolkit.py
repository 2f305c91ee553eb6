"""Differential test: askscope's co-action networks against the QUT coordination-network-toolkit.

On the same input (real RumourEval posts, SYNTHETIC planted groups so that every network has
edges, and a SYNTHETIC twarc2 campaign with reposts and links) and the same τ, askscope's
co_repost, co_post, co_link and co_reply edges and weights must equal the toolkit's co_retweet,
co_tweet, co_link and co_reply (directed, self-loops left out as in the toolkit's exports).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import shared
from coordination_network_toolkit import compute_networks as toolkit
from coordination_network_toolkit.preprocess import preprocess_data
from coordination_network_toolkit.similarity import message_preprocessor
from hypothesis import given, settings
from hypothesis import strategies as st

import askscope
from askscope.authenticity.coordination import run_coordination
from askscope.authenticity.exports import toolkit_messages
from askscope.authenticity.planting import plant_groups
from askscope.authenticity.population import build_population
from askscope.authenticity.settings import AuthenticitySettings
from askscope.authenticity.text import normalise
from askscope.synthetic.twarc2 import load_texts, write_twarc2

SHARED = ("co_repost", "co_post", "co_link", "co_reply")
TABLES = {
    "co_repost": ("co_retweet_network", toolkit.compute_co_retweet_parallel),
    "co_post": ("co_tweet_network", toolkit.compute_co_tweet_network),
    "co_link": ("co_link_network", toolkit.compute_co_link_network),
    "co_reply": ("co_reply_network", toolkit.compute_co_reply_network),
}


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("differential")
    path = folder / "mixed.duckdb"
    synthetic = folder / "synthetic-campaign.jsonl"  # SYNTHETIC
    write_twarc2(synthetic, 3000, load_texts(shared()), seed=11)
    askscope.ingest(str(path), [str(shared("rumoureval", "train")), str(synthetic)], workers=0)
    with askscope.open_store(path) as store:
        plant_groups(store, groups_per_behaviour=1, size=6, events=5, seed=3)
    return path


def _ours(store: askscope.Store, tau: float, keep_empty_text: bool) -> dict[str, dict[tuple[str, str], int]]:
    population = build_population(store.con, None)
    settings = AuthenticitySettings(
        networks=SHARED, tau=tau, keep_empty_text=keep_empty_text, null_runs=1, max_crowd=None
    )  # every pair, as the toolkit
    run_coordination(store.con, population, settings)
    edges: dict[str, dict[tuple[str, str], int]] = {n: {} for n in SHARED}
    for network, platform, source, target, weight in store.con.execute(
        "SELECT network, platform, source_id, target_id, weight FROM coaction_edges"
    ).fetchall():
        edges[network][(f"{platform}:{source}", f"{platform}:{target}")] = weight
    return edges


def _theirs(
    store: askscope.Store, folder: Path, tau: float, keep: object = None
) -> dict[str, dict[tuple[str, str], int]]:
    db = str(folder / f"toolkit-{tau}.db")
    rows = list(toolkit_messages(store.con))
    if keep is not None:
        rows = [r for r in rows if keep(r)]  # type: ignore[operator]
    preprocess_data(db, rows)
    out = {}
    with sqlite3.connect(db) as con:
        for network, (table, compute) in TABLES.items():
            compute(db, tau, n_threads=2)
            out[network] = {
                (a, b): w
                for a, b, w in con.execute(f"SELECT user_1, user_2, weight FROM {table} WHERE user_1 != user_2")
            }
    return out


@pytest.mark.parametrize(
    "tau",
    [
        60,  # the literature's default
        5,  # tighter: changes which pairs fall inside the window
        0,  # only identical timestamps
    ],
)
def test_edges_and_weights_equal_the_toolkit(mixed_store: Path, tmp_path: Path, tau: float) -> None:
    copy = tmp_path / "copy.duckdb"
    shutil.copy(mixed_store, copy)
    with askscope.open_store(copy) as store:
        ours = _ours(store, tau, keep_empty_text=True)
        theirs = _theirs(store, tmp_path, tau)
    for network in SHARED:
        assert ours[network] == theirs[network], network
    if tau == 60:
        assert all(len(ours[n]) >= 20 for n in SHARED), {n: len(ours[n]) for n in SHARED}


def test_empty_texts_are_the_one_deliberate_difference(mixed_store: Path, tmp_path: Path) -> None:
    """By default co_post skips posts whose normalised text is empty (only mentions): the toolkit
    links them all as 'the same text'. Without those posts the two agree again."""
    copy = tmp_path / "copy.duckdb"
    shutil.copy(mixed_store, copy)
    with askscope.open_store(copy) as store:
        store.con.execute("""UPDATE posts SET text = '@someone @other' WHERE id IN (
                             SELECT id FROM posts WHERE kind = 'reply' AND NOT is_context ORDER BY id LIMIT 40)""")
        ours = _ours(store, 60, keep_empty_text=False)
        theirs = _theirs(store, tmp_path, 60, keep=lambda r: r[3] is not None or normalise(r[5]) != "")
        other = tmp_path / "all"
        other.mkdir()
        everything = _theirs(store, other, 60)
    assert ours["co_post"] == theirs["co_post"]
    assert len(everything["co_post"]) > len(ours["co_post"])


def test_normalisation_is_the_toolkits_on_real_texts() -> None:
    texts = [t for t, _ in load_texts(shared(), limit=20000)]
    assert all(normalise(t) == message_preprocessor(t) for t in texts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aB@ #\t\n\u00a0\u2003\u3000xİ.:/é_") + ["\u0130", "ß"]), max_size=40))
def test_normalisation_is_the_toolkits_on_odd_text(text: str) -> None:
    assert normalise(text) == message_preprocessor(text)


def test_the_normalised_table_in_small_batches_is_the_toolkits_text_by_text(monkeypatch) -> None:
    """``add_normalised`` reads the posts as a stream of Arrow batches: with batches of 7 posts,
    every non-repost post gets the toolkit's text (a null text an empty one, copies the same), reposts none."""
    import duckdb
    import pyarrow as pa

    from askscope.authenticity import text as text_module

    loaded = [t for t, _ in load_texts(shared(), limit=50)]
    # each distinct text of a batch is normalised once: copies within a batch and across batches
    copies = [t for t in loaded[:10] for _ in range(3)] + [None, "", None, "@only @mentions", "", "@only @mentions"]
    texts = loaded + [None, "", "@only @mentions"] + copies
    kinds = ["repost" if i % 5 == 0 else "post" for i in range(len(texts))]
    con = duckdb.connect()
    con.register("src", pa.table({"pid": pa.array(range(len(texts)), pa.int32()), "kind": kinds, "text": texts}))
    monkeypatch.setattr(text_module, "BATCH_ROWS", 7)
    text_module.add_normalised(con, "src", "norm")
    rows = con.execute("SELECT pid, norm FROM norm ORDER BY pid").fetchall()
    expected = [(i, message_preprocessor(t) if t else "") for i, t in enumerate(texts) if kinds[i] != "repost"]
    assert rows == expected and len(rows) > 3 * 7
