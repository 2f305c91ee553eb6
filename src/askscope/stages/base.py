"""Analysis stages: named steps with honest contracts over the store's tables.

A stage declares the tables it ``requires`` (it cannot run without them), the tables it
``reads`` when they exist (it runs after whatever provides them, but works without) and the
tables it ``provides`` (writes, replacing them). The runner:

* orders the stages by those tables, not by registration or import order (a stage runs after
  every stage that provides a table it requires or reads; ties keep registration order);
* refuses, before anything runs, a stage whose required table neither the store holds nor an
  earlier stage provides, naming the table and who could provide it;
* runs each stage in one transaction and checks, before committing, that every table it
  ``provides`` exists: a stage that forgets one is a bug and fails loudly.

Stages are registered through the ``askscope_stages`` hook (:mod:`askscope.hookspecs`);
``askscope stages`` prints the pipeline. Each run is recorded in ``stage_runs`` (settings,
campaign, summary), so a stage can be re-run alone (``askscope analyze DB --campaign FILE
--only NAME``).

Writing a stage::

    class ReplyTrees(Stage):
        name = "reply_trees"
        description = "reply trees across the store: depth, roots, missing parents"
        requires = ("posts",)
        provides = ("threads", "thread_roots", "missing_parents")

        def run(self, ctx: Context) -> dict[str, Any]:
            ctx.store.con.execute("CREATE OR REPLACE TABLE threads AS ...")
            return {"threads": ...}
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from askscope._version import __version__
from askscope.campaign import Campaign
from askscope.errors import AskscopeError
from askscope.store.core import Store, now_utc, table_names


class StageError(AskscopeError):
    """A stage cannot run: unknown name, missing input, bad pipeline."""

    code = "E020"


@dataclass
class Context:
    """What a stage works with: the store, the campaign, settings, a clock and a progress hook."""

    store: Store
    campaign: Campaign
    settings: dict[str, Any] = field(default_factory=dict)
    now: Callable[[], datetime] = now_utc
    progress: Callable[[str], None] | None = None

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


class Stage(ABC):
    """A named analysis step. Subclasses set the class attributes and implement :meth:`run`."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: Tables this stage cannot run without (written by an earlier stage or held by the store).
    requires: ClassVar[tuple[str, ...]] = ()
    #: Tables this stage uses when they exist; it runs after the stages that provide them.
    reads: ClassVar[tuple[str, ...]] = ()
    #: Tables this stage writes (replacing them); checked after it runs.
    provides: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, ctx: Context) -> dict[str, Any]:
        """Do the work and return a small JSON-able summary."""


def registered() -> dict[str, type[Stage]]:
    """Every registered stage by name (built-ins and plugins), in registration order."""
    from askscope import registry

    found: dict[str, type[Stage]] = registry.stages()
    return found


def pipeline(names: Iterable[str] | None = None, *, available: Iterable[str] | None = None) -> list[type[Stage]]:
    """The registered stages (or ``names`` and the stages providing what they require) in an
    order that satisfies every ``requires`` and ``reads``.

    ``available`` names tables that exist already (default: the tables every store has); a
    required table that is neither available nor provided by a stage is a :class:`StageError`."""
    from askscope.store.schema import STORE_TABLES

    stages = registered()
    wanted = list(stages) if names is None else list(names)
    for name in wanted:
        if name not in stages:
            raise StageError(f"no stage named {name!r}", "stages: " + ", ".join(stages))
    providers: dict[str, str] = {}
    for stage in stages.values():
        for table in stage.provides:
            if table in providers and providers[table] != stage.name:
                raise StageError(
                    f"stages {providers[table]!r} and {stage.name!r} both provide table {table!r}",
                    "a table has one owner; rename one of them",
                )
            providers[table] = stage.name
    have = set(STORE_TABLES) if available is None else set(available)
    # the chosen stages, plus the providers of what they require and the store lacks
    chosen: list[str] = []

    def add(name: str) -> None:
        if name in chosen:
            return
        chosen.append(name)
        for table in stages[name].requires:
            if table in providers and (names is None or table not in have):
                add(providers[table])

    for name in wanted:
        add(name)
    order: list[type[Stage]] = []
    state: dict[str, str] = {}
    rank = {name: i for i, name in enumerate(stages)}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise StageError(
                "stages need each other's tables in a circle: " + " -> ".join((*path, name)),
                "a stage may only read what it does not itself make possible; remove one of the requirements",
            )
        state[name] = "visiting"
        stage = stages[name]
        before = {providers[t] for t in (*stage.requires, *stage.reads) if t in providers} - {name}
        for other in sorted(before, key=rank.__getitem__):
            if other in chosen:
                visit(other, (*path, name))
        state[name] = "done"
        order.append(stage)

    for name in sorted(chosen, key=rank.__getitem__):
        visit(name, ())
    check_requirements(order, have, providers)
    return order


STAGE_RUNS = """
CREATE TABLE IF NOT EXISTS stage_runs (
    stage VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR,
    seconds DOUBLE, campaign VARCHAR, settings VARCHAR, summary VARCHAR, askscope_version VARCHAR
)
"""


def last_runs(store: Store) -> dict[str, dict[str, Any]]:
    """The last successful run of each stage."""
    tables = table_names(store.con)
    if "stage_runs" not in tables:
        return {}
    rows = store.con.execute(
        "SELECT stage, finished_at, summary, campaign, settings FROM stage_runs WHERE status = 'done' "
        "QUALIFY row_number() OVER (PARTITION BY stage ORDER BY finished_at DESC) = 1"
    ).fetchall()
    return {
        r[0]: {
            "finished_at": r[1],
            "summary": json.loads(r[2] or "{}"),
            "campaign": json.loads(r[3] or "{}"),
            "settings": json.loads(r[4] or "{}"),
        }
        for r in rows
    }


def check_requirements(order: list[type[Stage]], available: set[str], providers: dict[str, str] | None = None) -> None:
    """Raise a :class:`StageError` naming the first stage of ``order`` whose required table
    neither ``available`` holds nor an earlier stage of ``order`` provides."""
    if providers is None:
        providers = {table: stage.name for stage in registered().values() for table in stage.provides}
    made = set(available)
    for stage in order:
        for table in stage.requires:
            if table not in made:
                who = providers.get(table)
                hint = (
                    f"run stage {who!r} first: askscope analyze DB --campaign FILE (without --only) runs every stage"
                    if who
                    else "no registered stage provides it; install the plugin that does or ingest the data it needs"
                )
                raise StageError(f"stage {stage.name!r} requires table {table!r}, which does not exist", hint)
        made.update(stage.provides)


def tables(store: Store) -> set[str]:
    """The tables (and views) of the store's main schema."""
    from askscope.store.core import table_names

    return table_names(store.con)


def run_stages(
    ctx: Context, only: Iterable[str] | None = None, *, instances: dict[str, Stage] | None = None
) -> dict[str, dict[str, Any]]:
    """Run the pipeline (or just the stages in ``only``, whose required tables must exist or
    be provided by another chosen stage) and return each stage's summary.

    ``instances`` runs a given object in place of a stage of that name (the Dask forms of the
    stages, :mod:`askscope.archive.dask_stages`: same name and tables, other machinery)."""
    store = ctx.store
    store.con.execute(STAGE_RUNS)
    if only is not None:
        chosen = list(only)
        have = tables(store)
        stages = [s for s in pipeline(chosen, available=have) if s.name in chosen]
        check_requirements(stages, have)
    else:
        stages = pipeline(available=tables(store))
    summaries: dict[str, dict[str, Any]] = {}
    campaign_json = json.dumps(ctx.campaign.as_dict(), sort_keys=True)
    settings_json = json.dumps(ctx.settings, sort_keys=True, default=str)
    for cls in stages:
        stage = (instances or {}).get(cls.name) or cls()
        ctx.say(f"stage {stage.name}: {stage.description}")
        started_at = ctx.now()
        clock = time.perf_counter()
        store.con.execute("BEGIN TRANSACTION")
        try:
            summary = stage.run(ctx)
            missing = [t for t in stage.provides if t not in tables(store)]
            if missing:
                raise StageError(
                    f"stage {stage.name!r} did not write {', '.join(missing)}, which it declares it provides",
                    "this is a bug in the stage: make run() write every table in provides",
                )
            store.con.execute(
                "INSERT INTO stage_runs VALUES (?, ?, ?, 'done', ?, ?, ?, ?, ?)",
                [
                    stage.name,
                    started_at,
                    ctx.now(),
                    time.perf_counter() - clock,
                    campaign_json,
                    settings_json,
                    json.dumps(summary, sort_keys=True, default=str),
                    __version__,
                ],
            )
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
        summaries[stage.name] = summary
    return summaries
