"""The live console's intake: a recorded campaign replayed at N x its pace, or the collectors.

Both write through the ingestion code (a reader parses each raw record into a sink, the sink
becomes a batch, :func:`~askscope.store.write.write_batch` upserts it and counts it: stored or
rejected with a reason), the raw records kept for ``askscope reparse``, and both keep a
checkpoint in the same transaction as what they store, so a killed session restarted with the
same command resumes where it stopped: nothing is lost and nothing is stored twice.

* :class:`ReplayIntake` reads a file any reader reads (a zip of X API v1.1 files such as the
  demo's thread, JSON lines, CSV...), sorts its records by their posts' ``created_at`` and emits
  them at ``speed`` times the recorded pace. Its checkpoint is the number of records emitted
  (``live_intake.position``); the order is deterministic (time, input name, record line), so a
  restart skips exactly what was stored.
* :class:`CollectIntake` runs a collector's :class:`~askscope.collect.plan.Plan` in one poll
  loop with the collectors' own checkpoint (``collect_checkpoints``, written with every
  response by :class:`~askscope.collect.checkpoint.CollectionWriter`), waits ``poll_s`` when a
  pass is complete and starts the next pass (searches fetch only what is newer); the HTTP client
  retries and honours rate limits.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from askscope.errors import AskscopeError
from askscope.live.records import EARLIEST, ReplayRecord
from askscope.readers.base import RawRecord, Reader, Sink

if TYPE_CHECKING:  # pragma: no cover - types only
    from contextlib import AbstractContextManager

    from askscope.collect.http import HttpClient
    from askscope.collect.plan import Plan
    from askscope.store.core import BatchCounts, Store

#: A replay writes at most this many records in one batch (one transaction) so that a burst at
#: high speed still reaches the queue in small steps.
MAX_GROUP = 400
#: The longest sleep between checks of the stop flag.
TICK_S = 0.2


class LiveIntakeError(AskscopeError):
    """The intake cannot start: an unreadable replay file, a finished session, bad options."""

    code = "E140"


class LiveConsole(Protocol):
    """What an intake feeds (:class:`askscope.live.console.LiveConsole`)."""

    store: Store

    def locked(self) -> AbstractContextManager[None]: ...

    def set_clock(self, clock: Callable[[], datetime | None]) -> None: ...

    def intake_position(self, session: str, *, kind: str, source: str, total: int | None) -> int: ...

    def store_replayed(
        self, session: str, records: list[ReplayRecord], start: int, total: int, readers: dict[str, Reader]
    ) -> BatchCounts: ...

    def collected(self, session: str, keys: list[tuple[str, str]], stored: int, rejected: int) -> None: ...

    def intake_finished(self, session: str, *, done: bool = True) -> None: ...

    def intake_failed(self, exc: BaseException) -> None: ...


class Intake(Protocol):
    """What the console runs in its intake thread."""

    kind: str
    session: str
    source_name: str

    def run(self, console: LiveConsole, stop: threading.Event) -> None:
        """Feed the console until done or ``stop`` is set."""


def file_digest(path: str) -> str:
    """SHA-256 of a file (of the folder's files, in order, for a folder)."""
    digest = hashlib.sha256()
    files = [path]
    if os.path.isdir(path):
        files = sorted(os.path.join(root, f) for root, _, names in os.walk(path) for f in names)
    for name in files:
        with open(name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def load_replay(path: str, *, format: str | None = None) -> tuple[list[ReplayRecord], dict[str, Reader]]:
    """Every raw record of ``path`` in replay order, and the reader of each input.

    The order is (created_at of the record's earliest post, input order, line); a record
    without a time (a reject, an account) keeps the time of the record before it in its input.
    """
    from askscope.ingestion.inputs import OpenedInput
    from askscope.ingestion.parsing import MAX_RECORD_BYTES
    from askscope.ingestion.plan import plan_inputs
    from askscope.readers import make_head
    from askscope.readers.records import HEAD_BYTES

    if not os.path.exists(path):
        raise LiveIntakeError(f"no such replay file: {path}", "give the recorded campaign file to replay")
    plans, unknown = plan_inputs([path], format, {"mapping": {}, "platform": None})
    if not plans:
        why = unknown[0].why if unknown else "no input"
        raise LiveIntakeError(
            f"{path} cannot be replayed: {why}", "give a file askscope ingest reads (askscope formats lists them)"
        )
    readers: dict[str, Reader] = {}
    found: list[tuple[datetime, int, int, ReplayRecord]] = []
    for u in unknown:
        found.append(
            (EARLIEST, -1, 0, ReplayRecord(EARLIEST, u.source.name, 0, u.head, reject=("unknown_format", u.why)))
        )
    for order, plan in enumerate(plans):
        source = plan.source
        readers[source.name] = plan.reader
        previous = EARLIEST
        with OpenedInput(source, HEAD_BYTES) as opened:
            head = make_head(opened.head)
            for raw in plan.reader.records(opened.stream, head):
                if len(raw.raw) > MAX_RECORD_BYTES:
                    detail = f"a record of {len(raw.raw):,} bytes is over the limit of {MAX_RECORD_BYTES:,} bytes"
                    record = ReplayRecord(previous, source.name, raw.line, b"", reject=("record_too_large", detail))
                else:
                    probe = Sink(source_file=source.name)
                    plan.reader.parse(raw, probe)
                    times = [p.created_at for p in probe.matches if p.created_at is not None]
                    at = min(times) if times else previous
                    if at.tzinfo is None:
                        at = at.replace(tzinfo=UTC)
                    previous = at
                    record = ReplayRecord(at, source.name, raw.line, bytes(raw.raw))
                found.append((record.at, order, raw.line, record))
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found], readers


class ReplayIntake:
    """Replays a recorded campaign file at ``speed`` times its recorded pace."""

    kind = "replay"

    def __init__(
        self,
        path: str,
        speed: float = 1.0,
        *,
        format: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if speed <= 0:
            raise LiveIntakeError(f"--speed {speed} is not a speed", "give a positive factor such as 20")
        self.path = path
        self.progress = progress
        self.speed = float(speed)
        self.format = format
        self.records, self.readers = load_replay(path, format=format)
        self.source_name = os.path.basename(os.path.normpath(path))
        self.session = f"replay:{self.source_name}:{file_digest(path)[:16]}"
        #: wall clock (monotonic) and recorded time at which the replay (re)started
        self.started_wall: float | None = None
        self.started_at: datetime | None = None
        self.position = 0
        #: the recorded time of the last record, once the replay is over (the clock stops there)
        self.finished_at: datetime | None = None

    def recorded_now(self) -> datetime | None:
        """The recorded time the replay has reached (its virtual clock; it stops at the last
        record's time)."""
        if self.finished_at is not None:
            return self.finished_at
        if self.started_wall is None or self.started_at is None:
            return None
        # never past the last record (the replay is over there; a huge speed cannot overflow)
        span = (self.records[-1].at - self.started_at).total_seconds() if self.records else 0.0
        elapsed = (time.monotonic() - self.started_wall) * self.speed
        return self.started_at + timedelta(seconds=max(0.0, min(elapsed, span)))

    def due_wall(self, at: datetime) -> float:
        """The monotonic wall time at which a record created at ``at`` is emitted."""
        assert self.started_wall is not None and self.started_at is not None
        return self.started_wall + max(0.0, (at - self.started_at).total_seconds()) / self.speed

    def run(self, console: LiveConsole, stop: threading.Event) -> None:
        total = len(self.records)
        position = console.intake_position(self.session, kind=self.kind, source=self.path, total=total)
        self.position = position
        if position >= total:
            self.finished_at = self.records[-1].at if self.records else None
            console.set_clock(self.recorded_now)
            console.intake_finished(self.session)
            return
        self.started_at = self.records[position].at
        self.started_wall = time.monotonic()
        console.set_clock(self.recorded_now)
        i = position
        while i < total and not stop.is_set():
            now = self.recorded_now()
            assert now is not None
            j = i
            while j < total and j - i < MAX_GROUP and self.records[j].at <= now:
                j += 1
            if j == i:
                wait = (self.records[i].at - now).total_seconds() / self.speed
                stop.wait(min(TICK_S, max(wait, 0.001)))
                continue
            console.store_replayed(self.session, self.records[i:j], i, total, self.readers)
            i = j
            self.position = i
            if self.progress is not None:
                self.progress(i, total)
        if i >= total:
            self.finished_at = self.records[-1].at
            console.intake_finished(self.session)


class CollectIntake:
    """Collects continuously with a collector's plan: one poll loop, the collectors' checkpoint."""

    kind = "collect"

    def __init__(self, plan: Plan, client: HttpClient, *, poll_s: float = 30.0, max_passes: int | None = None) -> None:
        self.plan = plan
        self.client = client
        self.poll_s = poll_s
        self.max_passes = max_passes
        self.session = f"collect:{plan.task}"
        self.source_name = f"{plan.platform} {plan.task}"

    def run(self, console: LiveConsole, stop: threading.Event) -> None:
        from askscope.collect.checkpoint import CollectionWriter, ensure_table, load
        from askscope.readers import reader_for

        plan, client = self.plan, self.client
        with console.locked():
            ensure_table(console.store)
            previous = load(console.store, plan.task)
        console.intake_position(self.session, kind=self.kind, source=self.source_name, total=None)
        if previous is None:
            state = plan.start()
        elif previous.status == "done":
            state = plan.restart(previous.state)
        else:
            state = previous.state
        plan.authenticate(client)
        reader = reader_for(plan.reader)
        passes = 0
        while not stop.is_set():
            writer = CollectionWriter(
                console.store, task=plan.task, platform=plan.platform, reader=plan.reader, query=plan.query
            )
            with console.locked():
                writer.open(state, previous)
            try:
                request = plan.next_request(state)
                while request is not None and not stop.is_set():
                    response = client.fetch(request)
                    retrieved = datetime.now(UTC)
                    state = plan.advance(state, request, response)
                    raw = plan.record(request, response, retrieved)
                    probe = Sink(source_file="probe", default_observed_at=retrieved)
                    reader.parse(RawRecord(1, 0, raw), probe)
                    keys = [(p.platform, p.id) for p in (*probe.matches, *probe.context)]
                    with console.locked():
                        counts = writer.write(raw, state, retrieved)
                    console.collected(
                        self.session, keys, counts.new + counts.updated + counts.unchanged, counts.rejected
                    )
                    request = plan.next_request(state)
            except BaseException:
                with console.locked():
                    writer.fail("interrupted" if stop.is_set() else "failed")
                raise
            with console.locked():
                writer.close(state, request is None)
                previous = load(console.store, plan.task)
            passes += 1
            if request is not None or (self.max_passes is not None and passes >= self.max_passes):
                break
            stop.wait(self.poll_s)
            state = plan.restart(state)
        console.intake_finished(self.session, done=False)


def run_in_thread(
    console: LiveConsole, intake: Intake, on_error: Callable[[BaseException], None] | None = None
) -> tuple[threading.Thread, threading.Event]:
    """Start ``intake`` in a daemon thread; returns the thread and its stop flag."""
    stop = threading.Event()

    def target() -> None:
        try:
            intake.run(console, stop)
        except BaseException as exc:  # noqa: BLE001 - reported on the pulse, the page stays up
            console.intake_failed(exc)
            if on_error is not None:
                on_error(exc)

    thread = threading.Thread(target=target, name="askscope-live-intake", daemon=True)
    thread.start()
    return thread, stop
