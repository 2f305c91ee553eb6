"""The ``--dask`` address to a dask.distributed client: ``local:N`` starts a ``LocalCluster`` of N
single-threaded worker processes, ``tcp://host:port`` connects to a running scheduler.

Dask is imported here only, when a command is given ``--dask`` (the base install has no dask:
``pip install 'askscope[archive]'``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from askscope.errors import AskscopeError, UsageError

#: Memory limit of each local worker (``ASKSCOPE_DASK_MEMORY``): the nanny restarts a worker
#: above it, and the task runs again elsewhere.
WORKER_MEMORY = "2GiB"
INSTALL_HINT = "pip install 'askscope[archive]' (dask.distributed)"
#: The share of its worker's memory limit a task's DuckDB may use before it spills to disk (the
#: rest: the task's Arrow and pandas data, Python, DuckDB's own overshoot).
TASK_MEMORY_SHARE = 0.4


class ClusterError(AskscopeError):
    """The cluster could not finish the work: a task killed its worker every time it ran, or the
    scheduler went away."""

    code = "E150"


def lost_worker(exc: BaseException) -> ClusterError | None:
    """A :class:`ClusterError` for the exceptions dask raises when workers die (a task that
    killed ``distributed.scheduler.allowed-failures`` + 1 workers, a scheduler that closed), else
    None."""
    try:
        from distributed import KilledWorker
        from distributed.comm.core import CommClosedError
    except ImportError:
        return None
    if isinstance(exc, KilledWorker):
        return ClusterError(
            f"a Dask task killed its worker every time it ran ({exc}); nothing was written",
            "the worker's log says why (memory: raise ASKSCOPE_DASK_MEMORY, or use more, smaller workers); "
            "the archive is as it was before the command",
        )
    if isinstance(exc, CommClosedError):
        return ClusterError(
            f"the connection to the Dask cluster closed ({exc}); nothing was written",
            "check the scheduler and run the command again; the archive is as it was before the command",
        )
    return None


def import_distributed() -> Any:
    """``dask.distributed``, or a user error saying how to install it."""
    try:
        import dask.distributed as distributed
    except ImportError as exc:
        raise UsageError("--dask needs dask.distributed, which is not installed", INSTALL_HINT) from exc
    return distributed


def parse_address(address: str) -> tuple[str, int | str]:
    """``("local", N)`` or ``("tcp", address)``; anything else is a user error."""
    if address.startswith("local:"):
        try:
            n = int(address.removeprefix("local:"))
        except ValueError:
            n = 0
        if n < 1:
            raise UsageError(
                f"--dask {address}: the number of local workers is not a positive number", "e.g. --dask local:2"
            )
        return "local", n
    if address.startswith("tcp://") and len(address) > len("tcp://"):
        return "tcp", address
    raise UsageError(
        f"--dask {address!r} is not a cluster address",
        "give local:N (N workers on this machine) or tcp://host:8786 (a running Dask scheduler)",
    )


@contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A connected ``distributed.Client`` for ``address``, closed (with its local cluster) after."""
    kind, value = parse_address(address)
    distributed = import_distributed()
    if kind == "local":
        memory = os.environ.get("ASKSCOPE_DASK_MEMORY", WORKER_MEMORY)
        cluster = distributed.LocalCluster(
            n_workers=int(value),
            threads_per_worker=1,
            processes=True,
            memory_limit=memory,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = distributed.Client(str(value), timeout="20s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {value}: {exc}",
            "start one (dask scheduler; dask worker ADDRESS on each machine) or use --dask local:N",
        ) from exc
    try:
        yield client
    finally:
        client.close()


def worker_count(client: Any) -> int:
    """How many workers the client's cluster has now."""
    return len(client.scheduler_info().get("workers", {}))


def worker_limits() -> tuple[int | None, int | None]:
    """The threads and the memory limit (bytes) of the Dask worker running this task (its share
    of the machine), or None outside a worker or without a limit."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None, None
    threads = getattr(getattr(worker, "state", None), "nthreads", None)
    memory = getattr(getattr(worker, "memory_manager", None), "memory_limit", None)
    return (int(threads) if threads else None), (int(memory) if memory else None)


def limit_task(con: duckdb.DuckDBPyConnection, spill: Path | None = None, share: float = TASK_MEMORY_SHARE) -> None:
    """A task's DuckDB within its worker: no progress bar (it would print in the worker's
    output); the worker's threads, not every core of a machine other workers share; and, with
    ``spill``, ``share`` of the worker's memory limit before DuckDB spills to ``spill`` (before
    the worker's nanny kills the worker for its memory)."""
    con.execute("SET enable_progress_bar = false")
    threads, memory = worker_limits()
    if threads is not None:
        con.execute(f"SET threads = {max(1, threads)}")
    if memory is not None and spill is not None:
        con.execute(f"SET memory_limit = '{max(64, int(memory * share) >> 20)}MiB'")
        con.execute("SET temp_directory = ?", [str(spill)])


def task_connection(spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for a task, limited by :func:`limit_task`."""
    con = duckdb.connect()
    limit_task(con, spill)
    return con
