"""The one extension point (issue 12): built-ins and plugins register through the same hooks;
entry points are discovered; names are unique; stages are ordered and checked by their tables."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import click
import pytest
from conftest import fixture, one, run_cli
from lens_campaign import analysed_store

import askscope
from askscope import registry
from askscope.campaign import parse_campaign
from askscope.hookspecs import hookimpl
from askscope.lenses.base import Lens
from askscope.readers.base import Head, RawRecord, Reader, Sink
from askscope.stages.base import Context, Stage, StageError, pipeline, run_stages


@pytest.fixture
def plugin():
    """Register hook implementations for one test and remove them after it."""
    names: list[str] = []

    def add(obj: object, name: str) -> None:
        registry.register(obj, name)
        names.append(name)

    yield add
    for name in names:
        registry.unregister(name)


# --- built-ins go through the hooks ---------------------------------------------------------


def _builtin(items: list[Any], key: str = "name") -> list[str]:
    """The names of the items askscope itself registers (an installed plugin, such as the
    example Telegram plugin CI installs, adds its own)."""
    from askscope import builtins

    own = {
        id(item)
        for hook in ("askscope_readers", "askscope_stages", "askscope_lenses", "askscope_commands")
        for item in getattr(builtins, hook)()
    }
    return [getattr(item, key) for item in items if id(item) in own]


def test_builtins_are_registered_through_the_hooks() -> None:
    assert _builtin(registry.readers()) == [
        "cassette",
        "mastodon",
        "bluesky",
        "reddit",
        "x-v2",
        "x-v1",
        "csv",
    ]
    # plugins' readers sort in by sniff_order: askscope's catch-alls (X, CSV) stay last
    assert [r.name for r in registry.readers()][-3:] == ["x-v2", "x-v1", "csv"]
    assert _builtin(list(registry.stages().values())) == [
        "reply_trees",
        "relations",
        "classify",
        "authenticity",
        "answers",
        "lenses",
    ]
    assert _builtin(registry.lenses()) == [
        "backfire",
        "engagement",
        "framing",
        "authenticity",
        "posts",
        "store",
    ]
    assert "bundled" in registry.labelers()
    assert {"ingest", "analyze", "report", "plugins", "code", "collect"} <= set(registry.commands())
    (builtin,) = [p for p in registry.plugins() if p.builtin]
    assert builtin.module == "askscope.builtins"
    assert {"askscope_readers", "askscope_stages", "askscope_lenses", "askscope_commands"} <= set(builtin.hooks)


def test_the_default_pipeline_is_ordered_by_tables() -> None:
    # reply_trees makes threads <- relations makes relations <- classify makes labels; authenticity
    # reads relations and labels, so it comes after classify although it requires only posts.
    assert [s.name for s in pipeline()] == ["reply_trees", "relations", "classify", "authenticity", "answers", "lenses"]


# --- a reader from a plugin -------------------------------------------------------------------


class PipeReader(Reader):
    """A toy format for the test: lines ``id|author|text`` after a ``#pipe-posts`` header."""

    name = "pipe-posts"
    platform = "x"
    description = "test format"
    parallel = False

    def sniff(self, head: Head) -> bool:
        return head.data.startswith(b"#pipe-posts\n")

    def records(self, stream: Any, head: Head) -> Any:
        for number, line in enumerate(stream, 1):
            if number > 1 and line.strip():
                yield RawRecord(number, 0, line.rstrip(b"\n"))

    def parse(self, record: RawRecord, sink: Sink) -> None:
        from datetime import UTC, datetime

        from askscope.post import Post

        parts = record.raw.decode().split("|")
        if len(parts) != 3:
            sink.reject(record, "invalid_value", "expected id|author|text")
            return
        sink.matches.append(
            Post(
                platform="x",
                id=parts[0],
                author_id=parts[1],
                author_handle=parts[1],
                text=parts[2],
                created_at=datetime(2015, 3, 24, 14, tzinfo=UTC),
                source_file=sink.source_file,
                source_line=record.line,
            )
        )


class ReaderPlugin:
    @hookimpl
    def askscope_readers(self) -> list[type[Reader]]:
        return [PipeReader]


def test_a_plugin_reader_is_sniffed_and_ingested(plugin, tmp_path) -> None:
    path = tmp_path / "posts.txt"
    path.write_text("#pipe-posts\n1|ana|hello there\n2|bo|why?\nbroken line\n")
    db = str(tmp_path / "s.duckdb")
    with pytest.raises(askscope.UnknownFormatError):  # not yet installed: no reader takes it
        askscope.ingest(db, [str(path)], strict=True)
    plugin(ReaderPlugin(), "pipe")
    assert "pipe-posts" in [r.name for r in registry.readers()]
    result = askscope.ingest(str(tmp_path / "t.duckdb"), [str(path)])
    (f,) = result.files
    assert f.format == "pipe-posts"
    # 3 records after the header: 2 posts, 1 reject (line 4)
    assert (f.counts.read, f.counts.new, f.counts.rejected) == (3, 2, 1)
    with askscope.open_store(str(tmp_path / "t.duckdb"), read_only=True) as store:
        assert one(store, "SELECT text FROM posts WHERE id = '2'") == "why?"
        assert one(store, "SELECT source_line FROM rejects") == 4


def test_two_readers_with_one_name_are_refused(plugin) -> None:
    class Twin(PipeReader):
        name = "csv"

    class TwinPlugin:
        @hookimpl
        def askscope_readers(self) -> list[type[Reader]]:
            return [Twin]

    plugin(TwinPlugin(), "twin")
    with pytest.raises(registry.RegistryError, match="two readers are named 'csv'.*askscope.builtins.*twin"):
        registry.readers()


# --- stage contracts ----------------------------------------------------------------------------


def _stage(name: str, requires: tuple[str, ...] = (), provides: tuple[str, ...] = (), writes: bool = True) -> type:
    def run(self: Stage, ctx: Context) -> dict[str, Any]:
        if writes:
            for table in provides:
                ctx.store.con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT 1 AS x')
        return {"ran": name}

    return type(
        name.title(),
        (Stage,),
        {"name": name, "description": name, "requires": requires, "provides": provides, "run": run},
    )


class StagePlugin:
    def __init__(self, *stages: type) -> None:
        self.stages = list(stages)

    @hookimpl
    def askscope_stages(self) -> list[type]:
        return self.stages


def test_stages_run_in_table_order_not_registration_order(plugin, tmp_path) -> None:
    # registered consumer first, provider second: the runner still runs the provider first
    plugin(StagePlugin(_stage("consumer", ("t_made",), ("t_used",)), _stage("producer", ("posts",), ("t_made",))), "p")
    names = [s.name for s in pipeline(["consumer"])]
    assert names == ["producer", "consumer"]
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    with askscope.open_store(db) as store:
        ctx = Context(store, parse_campaign({"name": "t", "hosts": ["x"]}))
        summaries = run_stages(ctx, only=["producer", "consumer"])
        assert list(summaries) == ["producer", "consumer"]
        assert one(store, "SELECT count(*) FROM t_used") == 1


def test_a_missing_required_table_is_refused_before_anything_runs(plugin, tmp_path) -> None:
    plugin(StagePlugin(_stage("needy", ("no_such_table",), ("t_out",))), "p")
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    with askscope.open_store(db) as store:
        ctx = Context(store, parse_campaign({"name": "t", "hosts": ["x"]}))
        with pytest.raises(StageError, match="'needy' requires table 'no_such_table'") as info:
            run_stages(ctx, only=["needy"])
        assert "no registered stage provides it" in (info.value.hint or "")
        assert "t_out" not in askscope.store.table_names(store.con)


def test_a_stage_that_does_not_write_what_it_provides_fails_and_rolls_back(plugin, tmp_path) -> None:
    plugin(StagePlugin(_stage("liar", ("posts",), ("t_promised",), writes=False)), "p")
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    with askscope.open_store(db) as store:
        ctx = Context(store, parse_campaign({"name": "t", "hosts": ["x"]}))
        with pytest.raises(StageError, match="'liar' did not write t_promised"):
            run_stages(ctx, only=["liar"])
        assert one(store, "SELECT count(*) FROM stage_runs WHERE stage = 'liar'") == 0


def test_stages_that_need_each_other_are_a_clear_error(plugin) -> None:
    plugin(StagePlugin(_stage("a", ("t_b",), ("t_a",)), _stage("b", ("t_a",), ("t_b",))), "p")
    with pytest.raises(StageError, match="in a circle"):
        pipeline(["a"])


def test_only_a_stage_whose_tables_are_missing_names_the_stage_to_run(tmp_path) -> None:
    db = str(tmp_path / "s.duckdb")
    askscope.ingest(db, [fixture("x-v2", "two_tweets.jsonl")])
    result = run_cli("analyze", db, "--campaign", _campaign_file(tmp_path), "--only", "answers")
    assert result.returncode == 1
    assert "Error: stage 'answers' requires table 'hosts'" in result.stderr
    assert "run stage 'relations' first" in result.stderr
    assert "Traceback" not in result.stderr


def _campaign_file(tmp_path: Path) -> str:
    path = tmp_path / "c.toml"
    path.write_text('name = "t"\nhosts = ["x"]\n')
    return str(path)


# --- lenses and labelers from a plugin ----------------------------------------------------------


def _reply_count(inp: Any, results: dict[str, Any]) -> dict[str, Any]:
    n = inp.store.con.execute(
        "SELECT count(*) FROM relations WHERE in_campaign AND relation IN ('direct_reply', 'thread_reply')"
    ).fetchall()
    # the backfire lens ran before (order 10 < 99): a lens sees the earlier results
    return {"replies": {"value": n[0][0], "n": n[0][0], "method": "count"}, "saw_backfire": "backfire" in results}


class LensPlugin:
    @hookimpl
    def askscope_lenses(self) -> list[Lens]:
        return [Lens(name="replies", title="Replies", order=99, compute=_reply_count)]


def test_a_plugin_lens_is_computed_stored_and_flattened(plugin, tmp_path) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy(analysed_store("campaign"), db)
    plugin(LensPlugin(), "lens")
    from lens_campaign import CAMPAIGN, SEED, NoVectors

    askscope.analyze(
        str(db), parse_campaign(CAMPAIGN), only=["lenses"], settings={"seed": SEED, "embedder": NoVectors()}
    )
    with askscope.open_store(str(db), read_only=True) as store:
        expected = one(
            store, "SELECT count(*) FROM relations WHERE in_campaign AND relation IN ('direct_reply', 'thread_reply')"
        )
        assert expected > 0
    results = askscope.lens_results(str(db))
    assert results["replies"] == {
        "replies": {"value": expected, "n": expected, "method": "count"},
        "saw_backfire": True,
    }
    table = askscope.metrics(str(db), lens="replies").to_pylist()
    assert [(r["metric"], r["value"]) for r in table] == [("replies", float(expected))]


class CountingLabeler:
    """Delegates to the bundled labeler and counts calls (a labeler registered by name)."""

    name = "counting"
    calls = 0

    def __init__(self) -> None:
        from askscope.stages.labeling import BundledLabeler

        self._inner = BundledLabeler()

    def versions(self) -> dict[str, str]:
        return {task: "counting-" + model for task, model in self._inner.versions().items()}

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
        CountingLabeler.calls += 1
        return self._inner.label(texts, keys)

    def error_rates(self) -> dict[str, Any]:
        return self._inner.error_rates()


class LabelerPlugin:
    @hookimpl
    def askscope_labelers(self) -> list[type]:
        return [CountingLabeler]


def test_a_labeler_is_chosen_by_name(plugin) -> None:
    from askscope.errors import AskscopeError
    from askscope.stages.labeling import get_labeler

    with pytest.raises(AskscopeError, match="unknown labeler 'counting'"):
        get_labeler("counting")
    plugin(LabelerPlugin(), "labeler")
    assert isinstance(get_labeler("counting"), CountingLabeler)
    assert type(get_labeler(None)).__name__ == "BundledLabeler"


# --- commands and entry-point discovery -----------------------------------------------------------


def test_plugins_command_lists_the_builtins() -> None:
    result = run_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    (builtin,) = [r for r in rows if r["builtin"]]
    assert builtin["adds"]["readers"][0] == "cassette" and "csv" in builtin["adds"]["readers"]
    assert "lenses" in builtin["adds"]["stages"] and "plugins" in builtin["adds"]["commands"]


PLUGIN_MODULE = '''
import click
from askscope.hookspecs import hookimpl


@click.command("hello")
@click.argument("name")
def hello(name):
    """Say hello (a command from an installed plugin)."""
    click.echo(f"hello {name}")


@hookimpl
def askscope_commands():
    return [hello]
'''


def test_an_installed_plugin_is_discovered_by_its_entry_point(tmp_path) -> None:
    # an installed distribution as pip leaves it: a module and a .dist-info folder with the entry point
    site = tmp_path / "site"
    (site / "hello_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "hello_plugin.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    (site / "hello_plugin-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hello-plugin\nVersion: 0.1\n"
    )
    (site / "hello_plugin-0.1.dist-info" / "entry_points.txt").write_text("[askscope]\nhello = hello_plugin\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *sys.path]))
    import subprocess

    run = subprocess.run([sys.executable, "-m", "askscope", "hello", "world"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "hello world\n"
    listed = subprocess.run(
        [sys.executable, "-m", "askscope", "plugins", "--json"], capture_output=True, text=True, env=env
    )
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["hello"]["distribution"] == "hello-plugin" and rows["hello"]["version"] == "0.1"
    assert rows["hello"]["adds"]["commands"] == ["hello"] and not rows["hello"]["builtin"]
    help_text = subprocess.run([sys.executable, "-m", "askscope", "--help"], capture_output=True, text=True, env=env)
    assert "hello" in help_text.stdout


def test_a_broken_plugin_is_a_clear_error(tmp_path) -> None:
    site = tmp_path / "site"
    (site / "broken_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "broken_plugin.py").write_text("raise RuntimeError('half installed')\n")
    (site / "broken_plugin-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n"
    )
    (site / "broken_plugin-0.1.dist-info" / "entry_points.txt").write_text("[askscope]\nbroken = broken_plugin\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *sys.path]))
    import subprocess

    run = subprocess.run([sys.executable, "-m", "askscope", "formats"], capture_output=True, text=True, env=env)
    assert run.returncode == 1
    assert "Error: a plugin of the 'askscope' entry-point group failed to load: half installed" in run.stderr
    assert "Traceback" not in run.stderr
    # --version never loads plugins
    version = subprocess.run([sys.executable, "-m", "askscope", "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and askscope.__version__ in version.stdout


def test_runtime_commands_reach_the_real_cli(plugin, capsys) -> None:
    @click.command("echo-twice")
    @click.argument("word")
    def echo_twice(word: str) -> None:
        click.echo(word + word)

    class CommandPlugin:
        @hookimpl
        def askscope_commands(self) -> list[click.Command]:
            return [echo_twice]

    plugin(CommandPlugin(), "cmd")
    from askscope.cli.main import main

    main(["echo-twice", "ab"])
    assert capsys.readouterr().out == "abab\n"
