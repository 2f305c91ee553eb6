"""``askscope authenticity`` through the real CLI, the registered stage, and its docs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import fixture, one, run_cli, shared

import askscope
from askscope.authenticity import analyze_authenticity
from askscope.authenticity.analysis import TABLES
from askscope.authenticity.planting import plant_groups
from askscope.authenticity.stage import Authenticity
from askscope.campaign import Campaign
from askscope.stages import Context, registered, run_stages

DOCS = Path(__file__).parent.parent / "docs"


@pytest.fixture(scope="module")
def planted_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "planted.duckdb"
    askscope.ingest(str(path), [str(shared("rumoureval", "dev"))], workers=0)
    with askscope.open_store(path) as store:
        plant_groups(store, groups_per_behaviour=1, seed=2)  # SYNTHETIC groups on real posts
    return path


@pytest.fixture
def store_copy(planted_store: Path, tmp_path: Path) -> str:
    copy = tmp_path / "s.duckdb"
    shutil.copy(planted_store, copy)
    return str(copy)


def test_text_report_json_and_exports(store_copy, tmp_path):
    result = run_cli("authenticity", store_copy, "--null-runs", "3")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^co_repost\s+60\.0", result.stdout, flags=re.M)
    assert "Coordinated in any network:" in result.stdout
    assert "stage authenticity" in result.stderr  # progress goes to stderr
    out = tmp_path / "exports"
    result = run_cli("authenticity", store_copy, "--json", "--null-runs", "3", "--export", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["networks"]) == {"co_repost", "co_post", "co_similar", "co_link", "co_reply"}
    assert summary["coordinated"]["accounts"] >= 0.9 * 40
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.{s}" for n in summary["networks"] for s in ("gexf", "graphml")]
        + ["coaction_edges.parquet", "coordinated_accounts.parquet"]
    )
    with askscope.open_store(store_copy, read_only=True) as store:
        assert one(store, "SELECT count(*) FROM stage_runs WHERE stage = 'authenticity' AND status = 'done'") == 2
        for table in TABLES:
            store.con.execute(f"SELECT * FROM {table} LIMIT 1")


def test_the_same_json_twice(store_copy):
    first = run_cli("authenticity", store_copy, "--json", "--null-runs", "2", "--networks", "co_post,co_reply")
    second = run_cli("authenticity", store_copy, "--json", "--null-runs", "2", "--networks", "co_post,co_reply")
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout
    assert set(json.loads(first.stdout)["networks"]) == {"co_post", "co_reply"}


def test_campaign_window_and_options(store_copy, tmp_path):
    campaign = tmp_path / "c.toml"
    campaign.write_text(
        'name = "Germanwings"\nhosts = ["nobody"]\nstart = 2015-03-24T00:00:00Z\nend = 2015-03-27T00:00:00Z\n'
    )
    result = run_cli(
        "authenticity",
        store_copy,
        "--campaign",
        str(campaign),
        "--json",
        "--tau",
        "auto",
        "--null-runs",
        "2",
        "--hypergeometric",
        "--groups",
        "leiden",
        "--min-weight",
        "2",
        "--fdr",
        "0.1",
        "--similarity",
        "0.9",
        "--seed",
        "3",
        "--significant-only",
        "--hostile-sql",
        "SELECT platform, id AS post_id FROM posts WHERE kind = 'reply'",
        "--export",
        str(tmp_path / "e"),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["population"]["start"] == "2015-03-24T00:00:00Z"
    assert summary["bursts"]["hostile_source"] == "hostile_sql"
    assert summary["settings"]["seed"] == 3 and summary["settings"]["tau"] is None


@pytest.mark.parametrize(
    "args,message",
    [
        (["--tau", "soon"], "--tau must be a number of seconds or 'auto'"),
        (["--networks", "co_like"], "unknown network 'co_like'"),
        (["--tau", "-5"], "tau must be between 0 and 604800"),
        (["--hostile-sql", "SELECT 1 FROM nowhere"], "the hostile-posts query failed"),
        (["--export", "EXPORT_FILE"], "is a file"),
    ],
)
def test_user_errors_exit_1_without_traceback(store_copy, tmp_path, args, message):
    exported = tmp_path / "a-file"
    exported.write_text("x")
    args = [str(exported) if a == "EXPORT_FILE" else a for a in args]
    result = run_cli("authenticity", store_copy, "--null-runs", "1", *args)
    assert result.returncode == 1
    assert "\nError: " in "\n" + result.stderr and message in result.stderr
    assert "Hint:" in result.stderr and "Traceback" not in result.stderr


def test_missing_store_and_bad_campaign(tmp_path):
    result = run_cli("authenticity", str(tmp_path / "none.duckdb"))
    assert result.returncode == 1 and "Error: no store at" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    store = tmp_path / "s.duckdb"
    askscope.ingest(str(store), [fixture("x-v2", "two_tweets.jsonl")], workers=0)
    result = run_cli("authenticity", str(store), "--campaign", str(bad))
    assert result.returncode == 1 and "is not valid TOML" in result.stderr and "Traceback" not in result.stderr


def test_a_tiny_store_works(tmp_path):
    """Two real tweets: nothing to coordinate, every table still written."""
    store = tmp_path / "s.duckdb"
    askscope.ingest(str(store), [fixture("x-v2", "two_tweets.jsonl")], workers=0)
    result = run_cli("authenticity", str(store), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["coordinated"]["accounts"] == 0
    assert summary["bursts"]["all"]["burstiness"] is None


def test_registered_stage_runs_in_the_pipeline(store_copy):
    assert registered()["authenticity"] is Authenticity
    stage = registered()["authenticity"]
    # it needs only the posts; it reads the campaign set and the labels when they exist
    assert stage.requires == ("posts",) and {"relations", "labels"} <= set(stage.reads)
    assert set(stage.provides) == set(TABLES)
    with askscope.open_store(store_copy) as store:
        ctx = Context(store, Campaign(name="x", hosts=()), settings={"authenticity": {"null_runs": 2}})
        summaries = run_stages(ctx, only=["authenticity"])
    assert summaries["authenticity"]["settings"]["null_runs"] == 2


def test_tables_and_command_are_documented(tmp_path):
    """Every column of every table the analysis writes has a line in docs/schema.md."""
    path = tmp_path / "s.duckdb"
    askscope.ingest(str(path), [fixture("x-v2", "two_tweets.jsonl")], workers=0)
    with askscope.open_store(path) as store:
        with store.transaction():
            analyze_authenticity(store, None, {"null_runs": 1})
        columns = {
            table: [
                r[0]
                for r in store.con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            ]
            for table in TABLES
        }
    schema = (DOCS / "schema.md").read_text()
    guide = (DOCS / "authenticity.md").read_text()
    for table in TABLES:
        assert f"## {table}" in schema, table
        section = schema.split(f"## {table}", 1)[1].split("\n## ", 1)[0]
        assert columns[table], table
        for column in columns[table]:
            assert f"`{column}`" in section, f"{table}.{column}"
        assert table in guide, table
    assert "## authenticity" in (DOCS / "cli.md").read_text()


def test_inside_analyze_with_the_relations_stage(store_copy, tmp_path):
    """The lead's pipeline: threads and relations first, then authenticity uses P and the reposts
    that amplify it (the campaign: RumourEval's Germanwings threads, hosted by a real account)."""
    from askscope.analysis import analyze

    with askscope.open_store(store_copy) as store:
        host = one(
            store,
            "SELECT author_handle FROM posts WHERE NOT is_context AND kind = 'post' "
            "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1",
        )
    campaign = tmp_path / "c.toml"
    campaign.write_text(f'name = "Germanwings"\nhosts = ["{host}"]\nhashtags = ["Germanwings", "4U9525"]\n')
    summaries = analyze(
        store_copy,
        str(campaign),
        only=["reply_trees", "relations", "authenticity"],
        settings={"authenticity": {"null_runs": 2}},
    )
    population = summaries["authenticity"]["population"]
    assert population["source"] == "relations"
    with askscope.open_store(store_copy, read_only=True) as store:
        assert population["posts"] == one(
            store,
            "SELECT count(*) FROM relations r JOIN posts p "
            "ON p.platform = r.platform AND p.id = r.post_id "
            "WHERE r.in_campaign AND NOT p.is_context",
        )
        assert one(store, "SELECT count(*) FROM stage_runs WHERE stage = 'authenticity'") == 1
