"""Analysis stages: registered by name, each declaring what it needs and what it provides.

A stage reads named tables of the store and (re)writes its own, in one transaction, so it can
be re-run alone (``askscope analyze DB --campaign FILE --only NAME``). The pipeline orders the
registered stages by their ``requires`` and checks that order before running; ``askscope
stages`` prints it. Each run is recorded in ``stage_runs`` (settings, campaign, summary).

Writing a stage::

    @register
    class Threads(Stage):
        name = "threads"
        description = "reply trees across the store: depth, roots, missing parents"
        requires = ()
        provides = ("threads",)

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
from askscope.store import Store, now_utc


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
    #: Stages that must have run before this one.
    requires: ClassVar[tuple[str, ...]] = ()
    #: Tables this stage writes (replacing them).
    provides: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, ctx: Context) -> dict[str, Any]:
        """Do the work and return a small JSON-able summary."""


REGISTRY: dict[str, type[Stage]] = {}


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator adding a stage to the registry (built-in stages and plugins alike)."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise StageError(f"two stages are named {cls.name!r}", "give one of them another name")
    REGISTRY[cls.name] = cls
    return cls


def pipeline(names: Iterable[str] | None = None) -> list[type[Stage]]:
    """The registered stages (or ``names`` with what they require) in an order that satisfies
    every ``requires``."""
    wanted = list(REGISTRY) if names is None else list(names)
    for name in wanted:
        if name not in REGISTRY:
            raise StageError(f"no stage named {name!r}", "stages: " + ", ".join(REGISTRY))
    order: list[type[Stage]] = []
    state: dict[str, str] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise StageError(
                "stages require each other in a circle: " + " -> ".join(path + (name,)),
                "remove one of the requirements",
            )
        if name not in REGISTRY:
            raise StageError(
                f"stage {path[-1]!r} requires {name!r}, which is not registered", "register it or fix the requirement"
            )
        state[name] = "visiting"
        for required in REGISTRY[name].requires:
            visit(required, path + (name,))
        state[name] = "done"
        order.append(REGISTRY[name])

    for name in sorted(wanted, key=list(REGISTRY).index):
        visit(name, ())
    return order


STAGE_RUNS = """
CREATE TABLE IF NOT EXISTS stage_runs (
    stage VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, status VARCHAR,
    seconds DOUBLE, campaign VARCHAR, settings VARCHAR, summary VARCHAR, askscope_version VARCHAR
)
"""


def last_runs(store: Store) -> dict[str, dict[str, Any]]:
    """The last successful run of each stage."""
    tables = {
        r[0]
        for r in store.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
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


def run_stages(ctx: Context, only: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Run the pipeline (or just the stages in ``only``, whose requirements must have run
    already) and return each stage's summary."""
    store = ctx.store
    store.con.execute(STAGE_RUNS)
    if only is not None:
        chosen = list(only)
        stages = [s for s in pipeline(chosen) if s.name in chosen]
        done = last_runs(store)
        for needing in stages:
            for required in needing.requires:
                if required not in done and required not in chosen:
                    raise StageError(
                        f"stage {needing.name!r} needs {required!r}, which has not run on this store",
                        "run the whole pipeline once: askscope analyze DB --campaign FILE",
                    )
    else:
        stages = pipeline()
    summaries: dict[str, dict[str, Any]] = {}
    campaign_json = json.dumps(ctx.campaign.as_dict(), sort_keys=True)
    settings_json = json.dumps(ctx.settings, sort_keys=True, default=str)
    for cls in stages:
        stage = cls()
        ctx.say(f"stage {stage.name}: {stage.description}")
        started_at = ctx.now()
        clock = time.perf_counter()
        store.con.execute("BEGIN TRANSACTION")
        try:
            summary = stage.run(ctx)
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
