"""The ``classify`` stage: the bundled models on the posts of P, model and version beside every
label.

Labels are long: one row per post and task (``sentiment``, ``irony``, ``offensive``, ``hate``,
``emotion``, ``question``, ``language``, ``discourse``), with the probability of the chosen label,
the full probability vector over the task's classes (what the share estimator needs) and the
model that gave it. A re-run classifies only posts whose text or model changed. A labeler that
declares its labels depend on the text alone (``text_only = True``, as the bundled one does) gets
each distinct text once, and the posts sharing a text (copy-pasted posts, exact duplicates) share
its labels; the ``labels`` rows stay one per post and task. A labeler that also says what of the
text its labels depend on (``text_key``: the bundled models see a post only through
:func:`askscope.classify.text.normalise`, mentions as ``@user`` and links as ``http``) gets each
distinct key once: posts that differ only in whom they mention or which link they carry (replies
that start with different @-handles, copies with their own t.co links) share one classification. (Reposts are not in P, so they are not
classified at all.) What the lenses
use to estimate shares is stored in ``label_models``: the error rates, and the validation data
(``validation``: a reference to the package's validation set of the task, or the labeler's own
validation rows inline) so a report can always say which data its corrected shares rest on.

Who labels is pluggable (a :class:`Labeler`): the bundled classifiers by default; a simulated
campaign can use its known truth passed through a known confusion matrix, with a validation set
drawn from that matrix (:mod:`askscope.synthetic.campaign`), which lets tests check the
corrections end to end through the same estimator as real runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from askscope.classify.text import normalise
from askscope.errors import AskscopeError
from askscope.stages.base import Context, Stage
from askscope.store.core import column_names
from askscope.vocabulary import TASKS

BATCH = 2048
#: Texts per chunk, at most, when the chunks go to worker processes (:class:`ProcessLabelMap`):
#: smaller than ``BATCH`` so that the last chunks do not leave a process idle for long.
PROCESS_BATCH = 512
#: Fewer texts to classify than this and a ``cpu_bound`` labeler runs in this process: starting a
#: process and loading the models in it (2-4 s) is not paid back.
PROCESS_MIN_TEXTS = 8192
#: At most this many processes unless ``ASKSCOPE_CLASSIFY_PROCESSES`` says more: each holds its
#: own copy of the models (150-300 MB).
PROCESS_MAX = 8


class Labeler(Protocol):
    """Gives every task's label and probability for texts, and the error rates of each task.

    ``label`` returns per task ``(names, probability of each chosen label)`` or, to let the
    share estimator use probabilities, ``(names, chosen, probabilities)`` with an (n, k) array
    over the task's classes (``None`` where there is none). A labeler may also have
    ``validation() -> {task: askscope.classify.Validation}``: the validation data its shares are
    corrected with (tasks without one are reported as not corrected). Optional declarations:
    ``text_only`` / ``text_key`` (each distinct text, or key, labelled once) and ``cpu_bound``
    (the stage may label a large campaign in a process per core, each loading the labeler by
    its registered name: :func:`processes_for`).
    """

    name: str

    def versions(self) -> dict[str, str]:
        """Model name and version per task (what goes in ``labels.model``)."""

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
        """Per task: label names, the probability of each chosen label (and optionally all)."""

    def error_rates(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per task, per class: ``tpr`` and ``fpr`` on validation data (for corrected shares)."""


def text_key_of(labeler: Any) -> Callable[[str], str] | None:
    """The function whose value a text-only labeler's labels depend on (``text_key``), if it
    declares one; posts with the same key share one classification."""
    key = getattr(labeler, "text_key", None)
    return key if is_text_only(labeler) and callable(key) else None


def is_text_only(labeler: Any) -> bool:
    """Whether ``labeler`` declares (``text_only = True``) that its labels depend on the text
    alone, so that posts with one text may share one classification. Labelers that do not say
    so (the simulated one looks the truth up by key) get every post."""
    return getattr(labeler, "text_only", False) is True


class BundledLabeler:
    """The classifiers shipped in :mod:`askscope.classify` (its ``default`` model set)."""

    name = "bundled"
    #: The model set it reads (``askscope.classify.models.SETS``).
    model_set = "default"
    #: The labels depend on the text alone, never on the post's key: the ``classify`` stage
    #: sends each distinct text once and gives its labels to every post with that text.
    text_only = True
    #: ... and on the text only through ``normalise`` (every model, rule and feature normalises
    #: first; tests/test_classify_dedup.py checks it on real posts): posts whose texts normalise
    #: alike share one classification.
    text_key = staticmethod(normalise)
    #: Labelling is CPU work with no shared state: the stage may run it in a process per core
    #: (:class:`ProcessLabelMap`), the labels being the same (one post per encoder call).
    cpu_bound = True

    def __init__(self) -> None:
        try:
            from askscope import classify as models
        except ImportError as exc:  # pragma: no cover - the package ships them
            raise AskscopeError(
                "the bundled classifiers are not installed", "reinstall askscope; it ships its models"
            ) from exc
        self._models = models

    def _use(self) -> AbstractContextManager[None]:
        from askscope.classify import models

        return models.use(self.model_set)

    def versions(self) -> dict[str, str]:
        out = {}
        prefix = "askscope" if self.model_set == "default" else f"askscope-{self.model_set}"
        with self._use():
            for task in TASKS:
                info = self._models.model_info(task)
                out[task] = f"{prefix}-{task}@{info.get('version', 'rule')}"
        return out

    def label(self, texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
        with self._use():
            results = self._models.classify(texts, tasks=list(TASKS))
        out: dict[str, tuple[Any, ...]] = {}
        for task in TASKS:
            result = results[task]
            probabilities = getattr(result, "probabilities", None)
            labels = np.asarray(getattr(result, "labels", []))
            full = None
            if probabilities is not None and len(np.shape(probabilities)) == 2 and len(labels):
                full = np.asarray(probabilities, dtype=np.float64)
                chosen = full[np.arange(len(labels)), labels.astype(int)]
            elif getattr(result, "distributions", None):
                # language: no matrix over classes, but the chosen label's probability
                chosen = np.array(
                    [d.get(name, np.nan) for d, name in zip(result.distributions, result.names)], dtype=np.float64
                )
            else:
                chosen = np.full(len(texts), np.nan)
            out[task] = (list(result.names), chosen.astype(np.float64), full)
        return out

    def validation(self) -> dict[str, Any]:
        """The package's validation set of every task that has one (discourse: when shipped)."""
        found = {}
        with self._use():
            for task in TASKS:
                data = self._models.load_validation(task)
                if data is not None:
                    found[task] = data
        return found

    def error_rates(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per class tpr/fpr (with their support) from each task's validation data."""
        from askscope.classify.quantify import validation_rates

        rates: dict[str, Any] = {}
        for task, data in self.validation().items():
            rates[task] = validation_rates(data)
        with self._use():
            for task in TASKS:
                if task in rates:
                    continue
                try:
                    rates[task] = self._models.error_rates(task)
                except Exception:  # noqa: BLE001 - rules and language id have no validation matrix
                    continue
        return rates


class BundledFastLabeler(BundledLabeler):
    """The shipped ``fast`` model set: a 3-layer student of the encoder, every calibration, head
    and validation set refitted on its outputs (about 1.8 times the default set's speed; its
    validation figures in its cards and docs/classify.md, "Model sets"). Its labels carry
    ``askscope-fast-<task>@<version>`` so they are never mistaken for the default set's."""

    name = "bundled-fast"
    model_set = "fast"


#: Labeler name -> the bundled model set it reads.
BUNDLED_SETS = {BundledLabeler.name: BundledLabeler.model_set, BundledFastLabeler.name: BundledFastLabeler.model_set}


def get_labeler(spec: Any) -> Labeler:
    """The labeler named ``spec`` among the registered ones (``askscope_labelers`` hook;
    ``None`` means ``"bundled"``), or a :class:`Labeler` instance passed in settings."""
    if spec is None:
        spec = "bundled"
    if isinstance(spec, str):
        from askscope import registry

        found = registry.labelers()
        if spec not in found:
            raise AskscopeError(
                f"unknown labeler {spec!r}",
                "registered labelers: " + ", ".join(found) + " (askscope plugins lists them)",
            )
        labeler: Labeler = found[spec]()
        return labeler
    if hasattr(spec, "label") and hasattr(spec, "error_rates"):
        found_labeler: Labeler = spec
        return found_labeler
    raise AskscopeError(f"unknown labeler {spec!r}", "name a registered labeler, e.g. 'bundled'")


LABELS_DDL = """
CREATE TABLE IF NOT EXISTS labels (
    platform VARCHAR, post_id VARCHAR, task VARCHAR, label VARCHAR, probability DOUBLE, model VARCHAR,
    text_hash VARCHAR, probabilities FLOAT[]
)
"""
LABEL_COLUMNS = ("platform", "post_id", "task", "label", "probability", "model", "text_hash", "probabilities")


def ensure_labels_table(con: Any) -> None:
    """Create ``labels``; a store from before per-class probabilities gets the column, and its
    labels are dropped once so that every post is classified again with them."""
    columns = column_names(con, "labels").get("labels", set())
    if columns and "probabilities" not in columns:
        con.execute("ALTER TABLE labels ADD COLUMN probabilities FLOAT[]")
        con.execute("DELETE FROM labels")
    con.execute(LABELS_DDL)


def validation_record(data: Any, bundled: bool, model_set: str = "default") -> dict[str, Any]:
    """What ``label_models.validation`` keeps of a task's validation data: a reference to the
    package's file of the labeler's model set (bundled labelers) or the rows themselves (any
    other labeler)."""
    record: dict[str, Any] = {
        "labels": list(data.labels),
        "method": data.method,
        "data": data.data,
        "n": int(len(data.gold)),
    }
    if bundled:
        folder = "models" if model_set == "default" else f"models_{model_set}"
        record["package"] = f"askscope/classify/{folder}/validation/{data.task}.npz"
        record["model_set"] = model_set
        return record
    record["gold"] = [int(x) for x in data.gold]
    record["predicted"] = [int(x) for x in data.predicted]
    if data.probabilities is not None:
        record["probabilities"] = np.round(np.asarray(data.probabilities, dtype=np.float64), 5).tolist()
    return record


def text_hash_of(text: str) -> str:
    """The ``labels.text_hash`` of a post's text: a label is reused only while its text is the same."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class Classify(Stage):
    name = "classify"
    description = "the bundled classifiers on the posts of P (labels with model and version)"
    requires = ("posts", "relations")
    provides = ("labels", "label_models", "frame_scores", "frame_calibration")

    def run(self, ctx: Context) -> dict[str, Any]:
        con = ctx.store.con
        labeler = get_labeler(ctx.settings.get("labeler"))
        versions = labeler.versions()
        ensure_labels_table(con)
        try:
            return self._run(ctx, labeler, versions)
        finally:
            for table in (
                "_cls_texts",
                "_cls_text_keys",
                "_cls_keys",
                "_cls_current",
                "_cls_todo",
                "_cls_groups",
                "_cls_group_labels",
            ):
                con.execute(f"DROP TABLE IF EXISTS {table}")

    def _run(self, ctx: Context, labeler: Labeler, versions: dict[str, str]) -> dict[str, Any]:
        con = ctx.store.con
        _current_posts(con, is_text_only(labeler), text_key_of(labeler))
        # drop labels of posts that left P, changed text, or came from another model version
        con.register("_versions", pa.table({"task": list(versions), "model": list(versions.values())}))
        try:
            con.execute(
                "DELETE FROM labels WHERE NOT EXISTS (SELECT 1 FROM _cls_current c JOIN _cls_keys h USING (rn) "
                "JOIN _versions v ON true WHERE c.platform = labels.platform AND c.post_id = labels.post_id "
                "AND h.text_hash = labels.text_hash AND v.task = labels.task AND v.model = labels.model)"
            )
        finally:
            con.unregister("_versions")
        con.execute(
            "DELETE FROM labels WHERE (platform, post_id) NOT IN (SELECT (platform, post_id) FROM labels "
            "GROUP BY ALL HAVING count(DISTINCT task) = ?)",
            [len(versions)],
        )
        # what is left is complete: the posts of P without labels are the ones to classify, in
        # groups of one key (each in the order of its first post), labelled through that post's text
        con.execute(
            "CREATE TEMP TABLE _cls_todo AS SELECT * FROM _cls_current c WHERE NOT EXISTS "
            "(SELECT 1 FROM labels l WHERE l.platform = c.platform AND l.post_id = c.post_id)"
        )
        con.execute(
            "CREATE TEMP TABLE _cls_groups AS SELECT (row_number() OVER (ORDER BY platform, post_id) - 1)::BIGINT "
            "AS g, k, platform, post_id, t.text, n FROM (SELECT k, platform, post_id, rn, count(*) OVER (PARTITION BY k) "
            "AS n FROM _cls_todo QUALIFY row_number() OVER (PARTITION BY k ORDER BY platform, post_id) = 1) "
            "JOIN _cls_texts t USING (rn) ORDER BY g"
        )
        # the texts of the groups are all the stage still needs (temporary tables stay in memory)
        con.execute("DROP TABLE _cls_texts")
        con.execute(
            "CREATE TEMP TABLE _cls_group_labels (g BIGINT, task VARCHAR, label VARCHAR, probability DOUBLE, "
            "probabilities FLOAT[])"
        )
        posts, todo, groups = con.execute(
            "SELECT (SELECT count(*) FROM _cls_current), (SELECT count(*) FROM _cls_todo), "
            "(SELECT count(*) FROM _cls_groups)"
        ).fetchall()[0]
        # ``label_map`` (settings) labels the chunks elsewhere, e.g. on Dask workers
        # (askscope.archive.dask_analyze); the chunks, and so the labels, are the same. It may read
        # requests ahead of the results it gives back, in order: each result is the oldest pending.
        # without one, a cpu_bound labeler's chunks go to a process per core (``processes_for``)
        label_map = ctx.settings.get("label_map")
        size = BATCH
        if label_map is None:
            workers = processes_for(ctx.settings.get("labeler"), labeler, int(groups))
            if workers is not None:
                ctx.say(f"classifying in {workers.processes} worker processes")
                # at least a few chunks per process, so that none is left idle at the end
                label_map, size = workers, max(1, min(PROCESS_BATCH, -(-int(groups) // (4 * workers.processes))))
            else:
                label_map = _label_here
        pending: deque[tuple[int, int, int]] = deque()

        def requests() -> Iterator[LabelRequest]:
            for start, texts, keys, sizes in _chunks(con, int(groups), size):
                pending.append((start, len(texts), sizes))
                yield texts, keys

        labelled = 0
        for results in label_map(labeler, requests()):
            start, texts, sizes = pending.popleft()
            _insert_group_labels(con, start, texts, results)
            labelled += sizes
            ctx.say(f"classified {labelled:,} of {todo:,} posts ({texts:,} texts)")
        con.execute(
            "INSERT INTO labels (platform, post_id, task, label, probability, model, text_hash, probabilities) "
            "SELECT t.platform, t.post_id, l.task, l.label, l.probability, m.model, h.text_hash, l.probabilities "
            "FROM _cls_todo t JOIN _cls_keys h USING (rn) JOIN _cls_groups gr USING (k) "
            "JOIN _cls_group_labels l USING (g) "
            "JOIN (SELECT unnest($tasks) AS task, unnest($models) AS model) m USING (task) "
            "ORDER BY gr.g, t.platform, t.post_id, l.task",
            {"tasks": list(versions), "models": list(versions.values())},
        )
        validation = labeler.validation() if hasattr(labeler, "validation") else {}
        bundled = isinstance(labeler, BundledLabeler)
        con.execute(
            "CREATE OR REPLACE TABLE label_models AS SELECT unnest($tasks) AS task, unnest($models) AS model, "
            "unnest($rates) AS error_rates, $labeler AS labeler, unnest($validation) AS validation",
            {
                "tasks": list(versions),
                "models": list(versions.values()),
                "rates": [json.dumps(labeler.error_rates().get(t, {}), sort_keys=True) for t in versions],
                "labeler": labeler.name,
                "validation": [
                    json.dumps(
                        validation_record(validation[t], bundled, getattr(labeler, "model_set", "default")),
                        sort_keys=True,
                    )
                    if t in validation
                    else None
                    for t in versions
                ],
            },
        )
        counts = dict(con.execute("SELECT label, count(*) FROM labels WHERE task = 'discourse' GROUP BY 1").fetchall())
        # the frames' vectors from the encoder of the labeler's model set (the fast set's is as
        # good at frames as the default one's: docs/benchmarks.md, "Framing")
        frames = score_frames(ctx, labeler.model_set if isinstance(labeler, BundledLabeler) else "default")
        return {
            "posts": int(posts),
            "classified_now": int(todo),
            "reused": int(posts) - int(todo),
            "distinct_texts": int(groups),
            "labeler": labeler.name,
            "discourse": {k: int(v) for k, v in sorted(counts.items())},
            "frames": frames,
        }


LabelRequest = tuple[list[str], list[tuple[str, str]]]
#: Distinct texts hashed and keyed per round trip to Python while ``_current_posts`` runs.
TEXT_PAGE = 50_000
#: Distinct texts scored against the frames per round trip to Python.
FRAME_PAGE = 20_000
#: Label chunks read from the store per query (the rest waits in the store, not in this process).
PAGE_CHUNKS = 16


def _label_here(labeler: Labeler, requests: Iterable[LabelRequest]) -> Iterator[dict[str, tuple[Any, ...]]]:
    """Label each chunk of texts in turn, in this process (the default ``label_map``)."""
    for texts, keys in requests:
        yield labeler.label(texts, keys)


def processes_for(spec: Any, labeler: Any, texts: int) -> ProcessLabelMap | None:
    """The worker processes that label ``texts`` texts, or None to label in this process.

    Only a labeler named by its registered name (each process loads its own) that declares
    ``cpu_bound = True`` (the bundled one) goes to processes. ``ASKSCOPE_CLASSIFY_PROCESSES``:
    ``N`` processes whatever the number of texts, ``0`` or ``1`` none; unset, one per CPU core
    the process may use (``ASKSCOPE_THREADS`` of them when set), at most :data:`PROCESS_MAX`, once
    there are at least :data:`PROCESS_MIN_TEXTS` texts. Each process runs the models on one thread, so the cores
    stay busy also while a process is in the models' Python parts (language id, rule
    features, n-grams), which one process with an encoder thread per core leaves to one core."""
    if not (spec is None or isinstance(spec, str)) or getattr(labeler, "cpu_bound", False) is not True:
        return None
    value = os.environ.get("ASKSCOPE_CLASSIFY_PROCESSES", "").strip()
    if value:
        try:
            processes = int(value)
        except ValueError:
            raise AskscopeError(
                f"ASKSCOPE_CLASSIFY_PROCESSES must be a whole number, not {value!r}",
                "set it to the number of classify processes (0 or 1: classify in the analysing process)",
            ) from None
    else:
        from askscope.classify.encoder import default_threads

        processes = min(default_threads(), PROCESS_MAX) if texts >= PROCESS_MIN_TEXTS else 1
    return ProcessLabelMap(spec or "bundled", processes) if processes > 1 and texts > 0 else None


class ProcessLabelMap:
    """A ``label_map`` over worker processes (``spawn``ed: the analysing process holds DuckDB's
    threads): each loads the labeler ``spec`` once and runs its models on one thread
    (``ASKSCOPE_THREADS=1``); the chunks are labelled ``AHEAD`` per process ahead and given back
    in order, so the stage writes what it would write labelling in this process."""

    AHEAD = 2

    def __init__(self, spec: str, processes: int) -> None:
        self.spec, self.processes = spec, processes

    def __repr__(self) -> str:
        return f"{self.processes} processes"

    def __call__(self, labeler: Any, requests: Iterable[LabelRequest]) -> Iterator[dict[str, tuple[Any, ...]]]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool
        from itertools import islice

        pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.spec,),
        )
        try:
            pending = iter(requests)
            futures = deque(
                pool.submit(_label_in_worker, t, k) for t, k in islice(pending, self.AHEAD * self.processes)
            )
            while futures:
                for texts, keys in islice(pending, 1):
                    futures.append(pool.submit(_label_in_worker, texts, keys))
                try:
                    result = futures.popleft().result()
                except BrokenProcessPool as exc:
                    raise AskscopeError(
                        "a classify worker process ended before it gave its labels back (out of memory, or killed)",
                        "nothing of this stage was written; run the analysis again, or set "
                        "ASKSCOPE_CLASSIFY_PROCESSES=1 to classify in the analysing process",
                    ) from exc
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


#: The labeler of this worker process (:class:`ProcessLabelMap`), loaded once.
_WORKER_LABELER: list[Any] = []


def _start_worker(spec: str) -> None:
    os.environ["ASKSCOPE_THREADS"] = "1"
    _WORKER_LABELER[:] = [get_labeler(spec)]


def _label_in_worker(texts: list[str], keys: list[tuple[str, str]]) -> dict[str, tuple[Any, ...]]:
    return dict(_WORKER_LABELER[0].label(texts, keys))


def _current_posts(con: Any, share: bool, key: Callable[[str], str] | None) -> None:
    """``_cls_current``: every post of P with its text's number ``rn`` in ``_cls_texts`` (the
    distinct texts) and its group's number ``k``: the number of the text's ``key(text)`` (a
    labeler with a ``text_key``), of the text itself (a text-only labeler without one), or of the
    post itself (any other labeler). ``_cls_keys`` gives each text number its ``text_hash`` (the
    ``labels.text_hash``). Posts carry numbers only: the temporary tables stay in memory (DuckDB
    cannot spill them), and a text or key per post would cost its length for every post of P.
    The hash and the key are computed once per distinct text, a page at a time: the posts never
    pass through Python."""
    con.execute(
        "CREATE TEMP TABLE _cls_texts AS SELECT text, row_number() OVER () AS rn FROM (SELECT DISTINCT "
        "coalesce(p.text, '') AS text FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "WHERE r.in_campaign)"
    )
    count = con.execute("SELECT count(*) FROM _cls_texts").fetchall()[0][0]
    con.execute("CREATE TEMP TABLE _cls_text_keys (rn BIGINT, text_hash VARCHAR, k VARCHAR)")
    for start in range(0, count, TEXT_PAGE):
        rows = con.execute(
            "SELECT rn, text FROM _cls_texts WHERE rn > ? AND rn <= ?", [start, start + TEXT_PAGE]
        ).fetchall()
        con.register(
            "_page",
            pa.table(
                {
                    "rn": [r[0] for r in rows],
                    "text_hash": [text_hash_of(r[1]) for r in rows],
                    "k": [(key(r[1]) if key is not None else r[1]) if share else None for r in rows],
                }
            ),
        )
        try:
            con.execute("INSERT INTO _cls_text_keys SELECT rn, text_hash, k FROM _page")
        finally:
            con.unregister("_page")
    # each distinct key its number (the same groups as the keys themselves)
    con.execute(
        "CREATE TEMP TABLE _cls_keys AS SELECT rn, text_hash, dense_rank() OVER (ORDER BY k) AS kn FROM _cls_text_keys"
    )
    con.execute("DROP TABLE _cls_text_keys")
    group = "h.kn" if share else "row_number() OVER ()"
    con.execute(
        f"CREATE TEMP TABLE _cls_current AS SELECT r.platform, r.post_id, t.rn, {group} AS k "
        "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "JOIN _cls_texts t ON t.text = coalesce(p.text, '') JOIN _cls_keys h ON h.rn = t.rn WHERE r.in_campaign"
    )


def _chunks(con: Any, groups: int, size: int = BATCH) -> Iterator[tuple[int, list[str], list[tuple[str, str]], int]]:
    """The groups of ``_cls_groups`` in chunks of ``size``, in order: each chunk's first group
    number, texts, first posts' keys and posts. Read ``PAGE_CHUNKS`` chunks per query."""
    page = BATCH * PAGE_CHUNKS
    for first in range(0, groups, page):
        rows = con.execute(
            "SELECT text, platform, post_id, n FROM _cls_groups WHERE g >= ? AND g < ? ORDER BY g",
            [first, first + page],
        ).fetchall()
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            yield first + start, [r[0] for r in chunk], [(r[1], r[2]) for r in chunk], sum(r[3] for r in chunk)


def _insert_group_labels(con: Any, start: int, texts: int, results: dict[str, tuple[Any, ...]]) -> None:
    """Write one labelled chunk into ``_cls_group_labels``: row ``j`` of every task's result is
    group ``start + j``'s label (its posts get it when the stage joins the groups back)."""
    columns: dict[str, list[Any]] = {"g": [], "task": [], "label": [], "probability": [], "probabilities": []}
    for task, given in results.items():
        names, probabilities = list(given[0]), given[1]
        full = given[2] if len(given) > 2 else None
        columns["g"] += range(start, start + texts)
        columns["task"] += [task] * texts
        columns["label"] += names
        columns["probability"] += [None if np.isnan(p) else float(p) for p in probabilities]
        if full is None:
            columns["probabilities"] += [None] * texts
        else:
            columns["probabilities"] += [[float(v) for v in row] for row in np.asarray(full)]
    table = pa.table(
        {k: (pa.array(v, pa.list_(pa.float32())) if k == "probabilities" else v) for k, v in columns.items()}
    )
    con.register("_new_labels", table)
    try:
        con.execute("INSERT INTO _cls_group_labels SELECT g, task, label, probability, probabilities FROM _new_labels")
    finally:
        con.unregister("_new_labels")


FRAMES_DDL = """
CREATE OR REPLACE TABLE frame_scores (platform VARCHAR, post_id VARCHAR, frame VARCHAR, uses BOOLEAN,
    similarity DOUBLE)
"""


def local_frame_map(pages: Iterable[list[str]], calibrated: list[Any], embedder: Any) -> Iterator[np.ndarray]:
    """Each page of frame keys' similarities, in this process (the default ``frame_map``)."""
    from askscope.classify.frames import similarities

    for keys in pages:
        yield similarities(keys, calibrated, embedder)


def score_frames(ctx: Context, model_set: str = "default") -> dict[str, Any]:
    """Score the campaign's posts (and the same relations before and after the window) against
    the campaign's frames (``frame_scores``; calibration in ``frame_calibration``).

    A post's keyword matches depend on its text, its similarity to a frame on the embedder's key
    of the text alone (``frames.keyed``: for the bundled encoder the text without links and
    @-mentions), so each distinct text is matched once and each distinct key embedded once, in
    pages of ``FRAME_PAGE`` keys in key order; the pages go through ``settings["frame_map"]``
    (:func:`local_frame_map` here, Dask tasks on an archive). The posts never pass through Python.
    The vectors: ``settings["embedder"]``, else the bundled encoder of ``model_set``."""
    from askscope.classify.frames import calibrate, default_embedder, keyed, keyword_hits

    con = ctx.store.con
    con.execute(FRAMES_DDL)
    frames = ctx.campaign.frames
    if not frames:
        con.execute("CREATE OR REPLACE TABLE frame_calibration (frame VARCHAR, calibration VARCHAR, embedder VARCHAR)")
        return {}
    embedder = ctx.settings.get("embedder") or default_embedder(model_set)
    calibrated = calibrate(frames, embedder)
    key = keyed(embedder)[0]
    frame_map = ctx.settings.get("frame_map") or local_frame_map
    joined = "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id"
    scored = "WHERE r.relation NOT IN ('none', 'repost')"
    try:
        con.execute(
            "CREATE TEMP TABLE _frm_texts AS SELECT text, row_number() OVER () AS rn "
            f"FROM (SELECT DISTINCT coalesce(p.text, '') AS text {joined} {scored})"
        )
        con.execute("CREATE TEMP TABLE _frm_text_keys (rn BIGINT, k VARCHAR, hits BOOLEAN[])")
        count = con.execute("SELECT count(*) FROM _frm_texts").fetchall()[0][0]
        for start in range(0, count, FRAME_PAGE):
            rows = con.execute(
                "SELECT rn, text FROM _frm_texts WHERE rn > ? AND rn <= ? ORDER BY rn", [start, start + FRAME_PAGE]
            ).fetchall()
            texts = [t for _, t in rows]
            page = pa.table(
                {
                    "rn": pa.array([r[0] for r in rows], pa.int64()),
                    "k": pa.array([key(t) for t in texts], pa.string()),
                    "hits": pa.array(keyword_hits(texts, calibrated), pa.list_(pa.bool_())),
                }
            )
            con.register("_frm_page", page)
            try:
                con.execute("INSERT INTO _frm_text_keys SELECT rn, k, hits FROM _frm_page")
            finally:
                con.unregister("_frm_page")
        # each distinct key a number, in key order: the pages below are the same in every run
        con.execute(
            "CREATE TEMP TABLE _frm_keys AS SELECT k, row_number() OVER (ORDER BY k) AS kn "
            "FROM (SELECT DISTINCT k FROM _frm_text_keys)"
        )
        keys = con.execute("SELECT count(*) FROM _frm_keys").fetchall()[0][0]
        # the texts keep their key's number, not the key (temporary tables stay in memory)
        con.execute(
            "CREATE TEMP TABLE _frm_text_kn AS SELECT tk.rn, kk.kn, tk.hits FROM _frm_text_keys tk "
            "JOIN _frm_keys kk ON kk.k = tk.k"
        )
        con.execute("DROP TABLE _frm_text_keys")

        def pages() -> Iterator[list[str]]:
            for first in range(0, keys, FRAME_PAGE):
                yield [
                    r[0]
                    for r in con.execute(
                        "SELECT k FROM _frm_keys WHERE kn > ? AND kn <= ? ORDER BY kn", [first, first + FRAME_PAGE]
                    ).fetchall()
                ]

        con.execute("CREATE TEMP TABLE _frm_sims (kn BIGINT, sims DOUBLE[])")
        first = 0
        for sims in frame_map(pages(), calibrated, embedder):
            values = [[None if np.isnan(v) else float(v) for v in row] for row in np.asarray(sims)]
            table = pa.table(
                {
                    "kn": pa.array(range(first + 1, first + 1 + len(values)), pa.int64()),
                    "sims": pa.array(values, pa.list_(pa.float64())),
                }
            )
            con.register("_frm_page", table)
            try:
                con.execute("INSERT INTO _frm_sims SELECT kn, sims FROM _frm_page")
            finally:
                con.unregister("_frm_page")
            first += len(values)
        con.execute("DROP TABLE _frm_keys")
        # a frame's threshold as frames.uses reads it (a frame without examples has no similarity:
        # its keywords alone)
        cutoffs = [float(c.threshold or 1.0) for c in calibrated]
        con.execute(
            "INSERT INTO frame_scores SELECT r.platform, r.post_id, f.frame, "
            "tk.hits[f.i] OR coalesce(s.sims[f.i] >= f.cutoff, false), s.sims[f.i] "
            f"{joined} JOIN _frm_texts t ON t.text = coalesce(p.text, '') JOIN _frm_text_kn tk ON tk.rn = t.rn "
            "JOIN _frm_sims s ON s.kn = tk.kn "
            "CROSS JOIN (SELECT unnest($frames) AS frame, unnest($cutoffs) AS cutoff, "
            "unnest(range(1, len($frames) + 1)) AS i) f "
            f"{scored} ORDER BY r.platform, r.post_id, f.i",
            {"frames": [c.frame.name for c in calibrated], "cutoffs": cutoffs},
        )
    finally:
        for name in ("_frm_texts", "_frm_text_keys", "_frm_text_kn", "_frm_keys", "_frm_sims"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        "CREATE OR REPLACE TABLE frame_calibration AS SELECT unnest($f) AS frame, unnest($c) AS calibration, "
        "$e AS embedder",
        {
            "f": [c.frame.name for c in calibrated],
            "c": [json.dumps(c.describe(), sort_keys=True) for c in calibrated],
            "e": embedder.name,
        },
    )
    return {c.frame.name: c.describe() for c in calibrated} | {"embedder": embedder.name}
