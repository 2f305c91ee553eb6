"""Run the analysis stages on a store: ``askscope.analyze(store, campaign)``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from askscope.campaign import Campaign, load_campaign
from askscope.stages import base
from askscope.stages.base import Context, run_stages
from askscope.store.core import Store, memory_limit, memory_setting, open_store

#: DuckDB's memory during analyze (its default, 80% of RAM, lets its cache take what the stages'
#: numpy arrays need).
MEMORY_LIMIT = "1536MB"


def analyze(
    store: Store | str | os.PathLike[str],
    campaign: Campaign | str | os.PathLike[str],
    *,
    only: Iterable[str] | None = None,
    settings: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every registered stage (or ``only`` some, whose required tables must exist) and
    return their summaries.

    DuckDB gets ``MEMORY_LIMIT`` (environment variable ``ASKSCOPE_ANALYZE_MEMORY``) meanwhile and
    spills beyond it; the stages' own arrays come on top (see docs/benchmarks.md)."""
    limit = memory_setting("ASKSCOPE_ANALYZE_MEMORY", MEMORY_LIMIT)
    if not isinstance(campaign, Campaign):
        campaign = load_campaign(os.fspath(campaign))
    own = not isinstance(store, Store)
    db = store if isinstance(store, Store) else open_store(store, create=False)
    try:
        ctx = Context(store=db, campaign=campaign, settings=dict(settings or {}), progress=progress)
        with memory_limit(db, limit):
            return run_stages(ctx, only=only)
    finally:
        if own:
            db.close()


def stages() -> list[type[base.Stage]]:
    """The registered stages in pipeline order."""
    return base.pipeline()
