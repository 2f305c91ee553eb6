"""The distributed merge's batch groups (``archive/dask_ingest.py``): consecutive batches of a key
partition merged at once only when that cannot change the result, and the result then equal to
merging them in turn, on hand-made posts and on real multi-batch inputs end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import run_cli, shared

from askscope.archive.dask_ingest import _Group
from askscope.store.batch import ACCOUNT_SCHEMA, API_ERROR_SCHEMA, POST_SCHEMA, REJECT_SCHEMA, Batch
from askscope.store.core import open_store
from askscope.store.write import merge_rows

T0 = datetime(2015, 3, 13, 12, 0, tzinfo=UTC)


def _posts(rows: list[dict]) -> pa.Table:
    full = [{name: row.get(name) for name in POST_SCHEMA.names} for row in rows]
    for row in full:
        row["platform"] = row["platform"] or "x"
        row["edit_ids"] = row["edit_ids"] or []
    return pa.Table.from_pylist(full, schema=POST_SCHEMA)


def _batch(matches: list[dict], context: list[dict] | None = None) -> Batch:
    return Batch(
        matches=_posts(matches),
        context=_posts(context or []),
        account_records=ACCOUNT_SCHEMA.empty_table(),
        accounts=ACCOUNT_SCHEMA.empty_table(),
        rejects=REJECT_SCHEMA.empty_table(),
        api_errors=API_ERROR_SCHEMA.empty_table(),
        match_records=len(matches),
        account_record_count=0,
        raw_block=None,
        raw_first_line=0,
        raw_last_line=0,
        raw_records=0,
        edit_chains=[],
        platforms=["x"],
    )


def _post(pid: str, text: str, hours: int, **extra: object) -> dict:
    return {"id": pid, "text": text, "observed_at": T0 + timedelta(hours=hours), "is_context": False, **extra}


def _context(pid: str, text: str, hours: int | None, line: int) -> dict:
    observed = None if hours is None else T0 + timedelta(hours=hours)
    return {"id": pid, "text": text, "observed_at": observed, "is_context": True, "source_line": line}


def _stored(batches: list[Batch], grouped: bool) -> list[tuple]:
    """The posts after merging ``batches`` in turn, or as one group (when it accepts them all)."""
    store = open_store(":memory:")
    try:
        if grouped:
            group = _Group()
            for batch in batches:
                assert group.accepts(batch)
                group.add(batch)
            merge_rows(store, group.batch())
        else:
            for batch in batches:
                merge_rows(store, batch)
        return store.con.execute(
            "SELECT id, text, is_context, observed_at, source_line FROM posts ORDER BY id"
        ).fetchall()
    finally:
        store.close()


def test_a_group_refuses_what_merging_in_turn_would_merge_differently() -> None:
    group = _Group()
    group.add(_batch([_post("1", "a question?", 0)], [_context("9", "the host's post", 0, 1)]))
    # a match seen before (a newer observation is an update, counted per batch)
    assert not group.accepts(_batch([_post("1", "a question?", 1)]))
    # a match that was context in the group (merged before the context post if grouped)
    assert not group.accepts(_batch([_post("9", "the host's post", 1)]))
    # a context post seen before with other content (the upserts would mix the two)
    assert not group.accepts(_batch([], [_context("9", "the host's post, edited", 1, 2)]))
    # the same context post again, and a context post that was a match: both fine
    assert group.accepts(_batch([_post("2", "another", 1)], [_context("9", "the host's post", 2, 3)]))
    assert group.accepts(_batch([], [_context("1", "a question?", 3, 4)]))


def test_a_group_leaves_what_merging_in_turn_leaves() -> None:
    # post 9 arrives as context three times with the same content: observed at 5 h, without a
    # time, and at 5 h again; in turn, the last observation at the latest time gives the source
    # (line 3) and the time (5 h); post 1 is a match, then seen as context (it stays a match,
    # its source stays the match's)
    batches = [
        _batch([_post("1", "q?", 0, source_line=10)], [_context("9", "host", 5, 1)]),
        _batch([], [_context("9", "host", None, 2), _context("1", "q?", 7, 11)]),
        _batch([_post("2", "r", 1, source_line=12)], [_context("9", "host", 5, 3)]),
    ]
    in_turn = _stored(batches, grouped=False)
    assert in_turn == [
        ("1", "q?", False, T0 + timedelta(hours=7), 10),
        ("2", "r", False, T0 + timedelta(hours=1), 12),
        ("9", "host", True, T0 + timedelta(hours=5), 3),
    ]
    assert _stored(batches, grouped=True) == in_turn


@pytest.fixture(scope="module")
def multi_batch_inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two SYNTHETIC twarc2 files (real texts from ../shared/data) of 7,000 posts each: several
    ingest batches per file, replies to earlier posts coming back as context posts."""
    from askscope.synthetic.twarc2 import load_texts, write_twarc2

    folder = tmp_path_factory.mktemp("multi")
    texts = load_texts(shared(), limit=4000)
    out = []
    for i in range(2):
        path = folder / f"synthetic-{i}.jsonl"
        write_twarc2(path, 7000, texts, seed=i, start=T0 + timedelta(days=i))
        out.append(str(path))
    return out


def test_multi_batch_inputs_merge_by_partition_as_one_process(
    multi_batch_inputs: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, archive = tmp_path / "embedded.duckdb", tmp_path / "archive"
    proc = run_cli("ingest", str(store), *multi_batch_inputs, "--json")
    assert proc.returncode == 0, proc.stderr
    embedded = json.loads(proc.stdout)
    monkeypatch.setenv("ASKSCOPE_MERGE_PARTITIONS", "3")
    proc = run_cli("ingest", str(archive), *multi_batch_inputs, "--dask", "local:1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "merged in 3 key partitions" in proc.stderr
    dask = json.loads(proc.stdout)
    leave = ("store", "seconds")
    assert [{k: v for k, v in f.items() if k not in leave} for f in dask["files"]] == [
        {k: v for k, v in f.items() if k not in leave} for f in embedded["files"]
    ]
    # context posts seen again: the grouping's repeated context posts were exercised
    assert all(f["context_updated"] > 0 for f in embedded["files"])
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS e (READ_ONLY)")
    for table, glob in (("posts", "posts/**/*.parquet"), ("accounts", "accounts/*.parquet")):
        names = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'e' AND table_name = ? "
                "ORDER BY column_index",
                [table],
            ).fetchall()
        ]
        columns = ", ".join(f'"{n}"' for n in names)
        a = f"SELECT {columns} FROM e.{table}"
        b = f"SELECT {columns} FROM read_parquet('{archive / glob}', hive_partitioning = false)"
        assert con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchall()[0][0] == 0
        assert con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM e.posts").fetchall()[0][0] > 14_000
