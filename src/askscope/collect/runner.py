"""Run a collection plan into a store: fetch, store with the checkpoint, repeat; resume."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from askscope.collect.checkpoint import CollectionWriter, ensure_table, load
from askscope.collect.completeness import Completeness, completeness
from askscope.collect.http import HttpClient
from askscope.collect.plan import Plan
from askscope.store.core import BatchCounts, Store, open_store

#: Called after each stored response: (responses stored this session, new posts so far, what).
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class CollectResult:
    """What one ``collect`` call did."""

    task: str
    platform: str
    resumed: bool
    done: bool
    responses: int = 0
    counts: BatchCounts = field(default_factory=BatchCounts)
    retries: dict[str, int] = field(default_factory=dict)
    completeness: Completeness | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "platform": self.platform,
            "resumed": self.resumed,
            "done": self.done,
            "responses": self.responses,
            **self.counts.as_dict(),
            "retries": dict(sorted(self.retries.items())),
            "completeness": self.completeness.as_dict() if self.completeness is not None else None,
        }


def collect(
    store: Store | str | os.PathLike[str],
    plan: Plan,
    client: HttpClient,
    *,
    max_requests: int | None = None,
    progress: ProgressCallback | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CollectResult:
    """Run ``plan`` into ``store`` until it is complete (or ``max_requests`` responses were
    stored), resuming from the store's checkpoint of the same task."""
    own = not isinstance(store, Store)
    db = store if isinstance(store, Store) else open_store(store)
    try:
        ensure_table(db)
        previous = load(db, plan.task)
        if previous is None:
            state = plan.start()
        elif previous.status == "done":
            state = plan.restart(previous.state)
        else:
            state = previous.state
        result = CollectResult(
            task=plan.task,
            platform=plan.platform,
            resumed=previous is not None and previous.status != "done",
            done=False,
        )
        plan.authenticate(client)  # refused credentials stop here, before anything is written
        writer = CollectionWriter(db, task=plan.task, platform=plan.platform, reader=plan.reader, query=plan.query)
        writer.open(state, previous)
        try:
            request = plan.next_request(state)
            while request is not None and (max_requests is None or result.responses < max_requests):
                response = client.fetch(request)
                retrieved = clock()
                state = plan.advance(state, request, response)
                writer.write(plan.record(request, response, retrieved), state, retrieved)
                result.responses += 1
                if progress is not None:
                    progress(result.responses, writer.counts.new, request.url)
                request = plan.next_request(state)
        except KeyboardInterrupt:
            writer.fail("interrupted")
            raise
        except Exception:
            writer.fail("failed")
            raise
        result.done = request is None
        writer.close(state, result.done)
        result.counts = writer.counts
        result.retries = dict(client.retries)
        result.completeness = completeness(db, plan.platform)
        return result
    finally:
        if own:
            db.close()
