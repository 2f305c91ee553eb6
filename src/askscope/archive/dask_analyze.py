"""``askscope analyze ARCHIVE_DIR --campaign F --dask local:N``: the analysis of an archive, the
reply trees, the relations, the answers, the co-action networks and the classify stage on Dask
workers.

What runs where (said in the command's output too):

* **reply_trees and relations** on the workers, the archive's posts shuffled by conversation
  (:mod:`askscope.archive.dask_stages`): each partition runs the embedded stage's own SQL; the
  hosts' resolution, the window and the reposts' ``amplifies`` (which read across
  conversations) run after, in one process.
* **classify** on the workers: the stage groups the posts of P by text (each distinct text once)
  and cuts the texts into the same chunks as the embedded run (``labeling.BATCH``); each chunk is
  one Dask task, labelled by a labeler loaded once per worker process (:func:`label_chunk` keeps
  it) and written to ``labels`` in order: the labels of the embedded run, bit for bit (the
  encoder labels one post per call, so a post's labels do not depend on its chunk). The
  campaign's frames too: each page of the embedder's distinct keys (``labeling.FRAME_PAGE``, the
  embedded run's pages) is a task (:func:`frame_chunk`) whose similarities come back in order.
* **answers** on the workers, on the same conversation partitions
  (:mod:`askscope.archive.dask_answers`): the embedded stage's own statements per partition, the
  host's posts broadcast to every partition (a host quoting a question from another
  conversation), and a second pass in the answer's partition for the follow-ups to such answers.
* **authenticity**: the co-action networks' band joins on the workers, the actions shuffled by
  object (heavy objects cut in time), and the null model's runs as tasks
  (:mod:`askscope.archive.dask_networks`); the population, the actions, thresholds, groups,
  near-duplicates, bursts and account signals in one process.
* **the lenses**: the backfire lens's audience summarised part by part as Dask tasks
  (:mod:`askscope.archive.dask_lenses`: counts and probability bins that add up, merged in part
  order); every other figure of the lenses in one process, on DuckDB. The stages that run
  embedded run on a temporary store beside the archive, which reads ``posts`` and ``accounts``
  in place (views over the archive's files, :data:`IN_PLACE`) and has the other tables loaded;
  the tables are written back as the archive (a temporary folder swapped in when complete).

A worker that dies is replaced by its nanny and its tasks run again (every task writes whole
files under fixed names, so a rerun overwrites); a task that kills a worker every time ends the
command with a :class:`~askscope.archive.cluster.ClusterError` and the archive as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import msgspec

from askscope.archive.parquet import (
    MANIFEST,
    archive_lock,
    load_archive,
    manifest_for,
    publish,
    read_manifest,
    view_tables,
    write_tables,
)
from askscope.store.core import open_store, table_names

#: Labelers loaded in this (worker) process, by name: loaded once, kept for every later task.
_LOADED: dict[str, Any] = {}
#: Chunks in flight per worker (the next ones are labelled while this process writes).
AHEAD = 2
DISTRIBUTED_STAGES = ("reply_trees", "relations", "classify", "answers", "authenticity")


def label_chunk(spec: Any, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
    """The Dask task: label one chunk with the labeler ``spec`` (a registered name, loaded once
    per worker process, or a labeler object sent with the task)."""
    from askscope.stages.labeling import get_labeler

    if isinstance(spec, str):
        if spec not in _LOADED:
            _LOADED[spec] = get_labeler(spec)
        labeler = _LOADED[spec]
    else:
        labeler = spec
    return dict(labeler.label(texts, keys))


class DaskLabelMap:
    """A ``label_map`` for the classify stage: every chunk a task on the cluster, the results in
    chunk order, at most ``AHEAD`` chunks per worker in flight. (Its text form is what
    ``stage_runs.settings`` records.)"""

    def __init__(self, client: Any, spec: Any, workers: int, address: str) -> None:
        self.client, self.spec, self.workers, self.address = client, spec, workers, address

    def __repr__(self) -> str:
        return f"dask {self.address} ({self.workers} workers)"

    def __call__(self, labeler: Any, requests: Iterable[Any]) -> Iterator[Any]:
        window = max(1, AHEAD * self.workers)
        submit = self.client.submit
        pending = iter(requests)
        futures = deque(submit(label_chunk, self.spec, t, k, pure=False, retries=1) for t, k in islice(pending, window))
        while futures:
            for texts, keys in islice(pending, 1):
                futures.append(submit(label_chunk, self.spec, texts, keys, pure=False, retries=1))
            yield futures.popleft().result()


def frame_chunk(embedder: Any, calibrated: list[Any], keys: list[str]) -> Any:
    """The Dask task: one page of frame keys' similarities (``frames.similarities``); the bundled
    encoder loads once per worker process (the models' cache)."""
    from askscope.classify.frames import similarities

    return similarities(keys, calibrated, embedder)


class DaskFrameMap:
    """A ``frame_map`` for the classify stage's frames: every page of keys a task on the cluster,
    the results in page order, at most ``AHEAD`` pages per worker in flight (the same pages as
    the embedded run: the same similarities)."""

    def __init__(self, client: Any, workers: int, address: str) -> None:
        self.client, self.workers, self.address = client, workers, address

    def __repr__(self) -> str:
        return f"dask {self.address} ({self.workers} workers)"

    def __call__(self, pages: Iterable[list[str]], calibrated: list[Any], embedder: Any) -> Iterator[Any]:
        window = max(1, AHEAD * self.workers)
        submit = self.client.submit
        pending = iter(pages)
        futures = deque(
            submit(frame_chunk, embedder, calibrated, keys, pure=False, retries=1) for keys in islice(pending, window)
        )
        while futures:
            for keys in islice(pending, 1):
                futures.append(submit(frame_chunk, embedder, calibrated, keys, pure=False, retries=1))
            yield futures.popleft().result()


#: Tables that no analysis stage and no report reads or writes: the temporary store leaves them
#: empty, and a write-back carries their files over unchanged (hard links where the file system
#: has them). ``raw`` (the compressed input blocks kept for ``reparse``) is half of an archive's
#: bytes: 538 MB of 1M posts.
CARRIED = ("raw",)
#: Tables that the analysis reads but no stage writes: its temporary store reads them in place,
#: as views over the archive's Parquet files (nothing copied in), and a write-back carries their
#: files over as :data:`CARRIED`'s. ``posts`` is the largest table an analysis loaded (40% of
#: the load and write-back time of a 300k-post archive).
IN_PLACE = ("posts", "accounts")


def carry_files(source: Path, target: Path) -> None:
    """Make ``target`` hold the files of the folder ``source``: hard links, or copies where the
    file system cannot link."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


@contextmanager
def archive_as_store(folder: str | os.PathLike[str], *, write_back: bool) -> Iterator[str]:
    """:func:`_archive_as_store` with the archive held (:func:`~askscope.archive.parquet.archive_lock`):
    exclusively when the tables are written back, shared otherwise."""
    with archive_lock(folder, write=write_back), _archive_as_store(folder, write_back=write_back) as path:
        yield path


@contextmanager
def _archive_as_store(folder: str | os.PathLike[str], *, write_back: bool) -> Iterator[str]:
    """The archive as a temporary DuckDB store (its path), but for the tables in
    :data:`CARRIED`: the tables of :data:`IN_PLACE` (every table when nothing is written back)
    are views over the archive's files, the others loaded; with ``write_back``, the store's
    tables and the archive's carried and in-place files replace the archive when the block ends
    without an error."""
    target = Path(folder)
    manifest = read_manifest(target)
    in_place = IN_PLACE if write_back else tuple(t for t in manifest["tables"] if t not in CARRIED)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.work-", dir=target.parent))
    try:
        path = str(work / "store.duckdb")
        store = open_store(path)
        try:
            viewed = view_tables(store.con, target, manifest, in_place)
            load_archive(store.con, target, manifest, skip=CARRIED + viewed)
        finally:
            store.close()
        yield path
        if write_back:
            partial = work / "archive"
            partial.mkdir()
            with open_store(path, read_only=True) as done:
                tables = sorted(set(table_names(done.con)) - set(CARRIED) - set(viewed))
                entries = write_tables(done.con, partial, tables)
            for table in CARRIED + viewed:
                if table in manifest["tables"]:
                    carry_files(target / table, partial / table)
                    entries[table] = manifest["tables"][table]
            entries = dict(sorted(entries.items()))
            extra = {k: v for k, v in manifest.items() if k in ("written_by",)}
            (partial / MANIFEST).write_text(
                msgspec.json.format(msgspec.json.encode(manifest_for(entries, **extra))).decode() + "\n",
                encoding="utf-8",
            )
            old = work / "old"
            os.replace(target, old)
            publish(partial, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def analyze_archive(
    folder: str | os.PathLike[str],
    campaign: Any,
    *,
    dask: str,
    only: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the analysis on the archive ``folder``: classify on the Dask cluster ``dask``, the other
    stages embedded on a temporary store (see the module docstring); the archive gets every
    table the stages write."""
    from askscope.archive.cluster import lost_worker
    from askscope.campaign import Campaign, load_campaign

    if not isinstance(campaign, Campaign):
        campaign = load_campaign(os.fspath(campaign))
    settings = dict(settings or {})
    try:
        return _analyze(folder, campaign, dask, only, settings, progress)
    except Exception as exc:
        lost = lost_worker(exc)
        if lost is not None:
            raise lost from exc
        raise


def _analyze(
    folder: str | os.PathLike[str],
    campaign: Any,
    dask: str,
    only: list[str] | None,
    settings: dict[str, Any],
    progress: Callable[[str], None] | None,
) -> dict[str, dict[str, Any]]:
    from askscope.analysis import MEMORY_LIMIT
    from askscope.archive.cluster import dask_client, worker_count
    from askscope.archive.dask_stages import DaskRelations, DaskReplyTrees, Shuffled
    from askscope.stages.base import Context, run_stages
    from askscope.store.core import memory_limit, memory_setting

    with archive_as_store(folder, write_back=True) as path, dask_client(dask) as client:
        workers = max(1, worker_count(client))
        spec = settings.get("labeler") or "bundled"
        settings["label_map"] = DaskLabelMap(client, spec, workers, dask)
        settings["frame_map"] = DaskFrameMap(client, workers, dask)
        if progress is not None:
            progress(
                f"Dask {dask}: reply_trees, relations and answers (shuffled by conversation), the co-action "
                f"networks (shuffled by object, null runs as tasks) and classify run on {worker_count(client)} "
                "worker(s), and the backfire lens's audience is summarised there in parts; the rest of "
                "authenticity and of the lenses runs embedded (DuckDB, one process) on the archive's tables"
            )
        shuffled = Shuffled(client, Path(folder), read_manifest(folder), Path(path).parent / "shuffle", workers)
        instances: dict[str, Any] = {"reply_trees": DaskReplyTrees(shuffled), "relations": DaskRelations(shuffled)}
        # answers on Dask: H16
        from askscope.archive.dask_answers import DaskAnswers

        instances["answers"] = DaskAnswers(shuffled)
        # authenticity on Dask: H15
        from askscope.archive.dask_networks import DaskAuthenticity, DaskNetworks

        instances["authenticity"] = DaskAuthenticity(DaskNetworks(client, workers))
        from askscope.archive.dask_lenses import DaskAudience
        from askscope.stages.lenses import Lenses

        instances["lenses"] = Lenses(summarise=DaskAudience(client, Path(path).parent / "lenses"))
        with open_store(path, create=False) as store:
            ctx = Context(store=store, campaign=campaign, settings=settings, progress=progress)
            with memory_limit(store, memory_setting("ASKSCOPE_ANALYZE_MEMORY", MEMORY_LIMIT)):
                return run_stages(ctx, only=only, instances=instances)
