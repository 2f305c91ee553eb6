"""The live console: the queue of questions to the host, the pulse and the alerts, kept up to date.

One :class:`LiveConsole` per session and store. The intake thread hands it what it stores
(:meth:`store_replayed`, :meth:`collected`); the console reads those posts back, updates the
campaign model (:mod:`askscope.live.model`), classifies the posts of P that are new or changed
with the labeler loaded once (writing them to ``labels`` as the classify stage does, so
``askscope analyze`` reuses them), files each new question into an item of the queue (a new
item, or a near-duplicate open item: :mod:`askscope.live.duplicates`), closes items the host
answered, raises alerts (:mod:`askscope.live.alerts`) and bumps :attr:`version`. The web app
reads :meth:`queue`, :meth:`item`, :meth:`pulse` and :meth:`alerts`, waits on :meth:`wait` and
writes the team's actions with :meth:`act` (logged in ``live_actions``).

Thread-safe: one lock guards the model, the items and the store's connection.

The priority of an item (docs/live.md) is the sum of four terms, returned in ``terms``:

    category  300 genuine question, 200 critical question, 100 mockery, 0 otherwise
    reach     min(40, 10 * log10(1 + reach)), reach = the members' authors' followers + reposts
    asked     min(30, 10 * log2(count))       count = questions collapsed into the item
    waiting   min(29, waiting_s / 120)        a point every two minutes, for an hour

The other terms add up to less than 100, so a genuine question always ranks before a critical
one, and a critical one before a mocking one; within a category the reach, the number who asked
and the wait decide.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from askscope.campaign import Campaign, load_campaign
from askscope.lenses.stats import wilson
from askscope.live.alerts import DEFAULT_HOSTILITY_THRESHOLD, Alert, AlertEngine
from askscope.live.duplicates import DuplicateIndex
from askscope.live.model import POST_COLUMNS, CampaignModel, Key, LivePost
from askscope.live.records import ReplayRecord, sink_for
from askscope.live.tables import ensure_tables
from askscope.readers.base import Reader
from askscope.store.core import BatchCounts, IngestRecord, Store, open_store
from askscope.timefmt import iso
from askscope.vocabulary import HOSTILE, TASKS

CATEGORY_WEIGHT = {"question_genuine": 300.0, "question_critical": 200.0, "mockery": 100.0}
ACTIONS = ("answered", "skip", "reopen", "assign", "pin", "unpin")
STATUSES = ("open", "answered", "skipped", "all")


@dataclass
class Item:
    """One entry of the queue: a question and the near-duplicates collapsed into it."""

    item_id: str
    members: list[Key]
    similarity: dict[Key, float] = field(default_factory=dict)
    status: str = "open"
    assigned_to: str | None = None
    pinned: bool = False
    closed_by: str | None = None
    closed_at: datetime | None = None
    answer: Key | None = None

    @property
    def key(self) -> Key:
        return self.members[0]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def live_settings(campaign: Campaign) -> dict[str, float]:
    """The campaign file's ``[live]`` table: ``hostility_threshold`` (a share, default 0.5),
    above which the hostile share raises an alert."""
    import tomllib

    from askscope.campaign import CampaignError

    settings = {"hostility_threshold": DEFAULT_HOSTILITY_THRESHOLD}
    if not campaign.source or not Path(campaign.source).is_file():
        return settings
    with open(campaign.source, "rb") as handle:
        table = tomllib.load(handle).get("live", {})
    if not isinstance(table, dict):
        raise CampaignError(f"{campaign.source}: [live] is not a table", "write it as [live] on its own line")
    unknown = sorted(set(table) - set(settings))
    if unknown:
        raise CampaignError(f"{campaign.source}: unknown key 'live.{unknown[0]}'", "[live] has hostility_threshold")
    value = table.get("hostility_threshold", DEFAULT_HOSTILITY_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise CampaignError(
            f"{campaign.source}: live.hostility_threshold = {value!r} is not a share",
            "give a number between 0 and 1, e.g. hostility_threshold = 0.5",
        )
    settings["hostility_threshold"] = float(value)
    return settings


class LiveConsole:
    """The session's queue, pulse and alerts over one store (see the module's docstring)."""

    def __init__(self, store: Store, campaign: Campaign, *, now: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.campaign = campaign
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._version = 0
        self._now = now
        self._clock: Callable[[], datetime | None] | None = None
        self.model = CampaignModel(campaign)
        self.labels: dict[Key, dict[str, tuple[str, float | None]]] = {}
        self.items: dict[str, Item] = {}
        self.item_of: dict[Key, str] = {}
        self.dups = DuplicateIndex()
        self.alert_list: list[Alert] = []
        self.engine = AlertEngine(live_settings(campaign)["hostility_threshold"])
        self._labeler: Any = None
        self._versions: dict[str, str] = {}
        self._runs: dict[str, dict[str, IngestRecord]] = {}
        self.intake: dict[str, Any] = {"source": "", "stored": 0, "rejected": 0, "running": False, "error": None}
        self._last_post_at: datetime | None = None
        self._audience_seen: set[Key] = set()
        self._hashes: dict[Key, str] = {}
        #: labels by text hash: a text seen again in the session is not classified again
        self._by_text: dict[str, dict[str, tuple[str, float | None, Any]]] = {}
        #: posts with label rows in the store when the session (re)started
        self._restored_labels: set[Key] = set()

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        db_path: str | Path,
        campaign: Campaign | str | Path,
        *,
        now: Callable[[], datetime] | None = None,
        labeler: Any = None,
        hostility_threshold: float | None = None,
    ) -> LiveConsole:
        """Open the session on ``db_path`` (created when missing) and rebuild its state from what
        the store holds: the posts, the labels, the items and their actions, the alerts."""
        if not isinstance(campaign, Campaign):
            campaign = load_campaign(campaign)
        store = open_store(str(db_path))
        try:
            console = cls(store, campaign, now=now)
            if hostility_threshold is not None:
                console.engine.hostility_threshold = hostility_threshold
            console._labeler = labeler
            ensure_tables(store)
            console._restore()
        except BaseException:
            store.close()
            raise
        from askscope.store.snapshot import register_writer

        register_writer(store.path, console.holding_still)
        return console

    def close(self) -> None:
        from askscope.store.snapshot import register_writer

        with self._lock:
            register_writer(self.store.path, None)
            self.store.close()

    @contextmanager
    def holding_still(self) -> Iterator[None]:
        """No write while the caller copies the store file (the web app's snapshots in this
        process: DuckDB refuses them a read-only connection of their own). Checkpointed first,
        so the copy is the file alone."""
        with self._lock:
            self.store.con.execute("CHECKPOINT")
            yield

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the console's lock (the store's connection is used under it)."""
        with self._lock:
            yield

    def set_clock(self, clock: Callable[[], datetime | None]) -> None:
        """Use ``clock`` for waiting times (a replay's recorded time)."""
        self._clock = clock

    def now(self) -> datetime:
        """The session's time: a replay's recorded time, else the given clock, else UTC now."""
        if self._clock is not None:
            found = self._clock()
            if found is not None:
                return found
        return self._now() if self._now is not None else datetime.now(UTC)

    # --- labels -----------------------------------------------------------------------------

    def labeler(self) -> Any:
        """The labeler, loaded once (the bundled classifiers unless one was given)."""
        if self._labeler is None:
            from askscope.stages.labeling import BundledLabeler

            self._labeler = BundledLabeler()
        if not self._versions:
            self._versions = self._labeler.versions()
        return self._labeler

    def _classify(self, keys: list[Key]) -> dict[Key, dict[str, tuple[str, float | None, Any]]]:
        """Labels of the posts ``keys`` (every task), computed outside the lock. A text labelled
        before in the session is not run through the models again (the classify stage, too,
        labels each distinct text once)."""
        if not keys:
            return {}
        from askscope.stages.labeling import text_hash_of

        labeler = self.labeler()
        with self._lock:
            texts = {k: self.model.posts[k].text if k in self.model.posts else "" for k in keys}
        hashes = {k: text_hash_of(t) for k, t in texts.items()}
        todo: dict[str, Key] = {}  # text hash -> the first post with that text
        for key in keys:
            if hashes[key] not in self._by_text and hashes[key] not in todo:
                todo[hashes[key]] = key
        if todo:
            wanted = list(todo)
            results = labeler.label([texts[todo[h]] for h in wanted], [todo[h] for h in wanted])
            found: dict[str, dict[str, tuple[str, float | None, Any]]] = {h: {} for h in wanted}
            for task, given in results.items():
                names, chosen = given[0], given[1]
                full = given[2] if len(given) > 2 else None
                matrix = None if full is None else np.asarray(full)
                for i, text_hash in enumerate(wanted):
                    probability = None if np.isnan(chosen[i]) else float(chosen[i])
                    row = None if matrix is None else [float(v) for v in matrix[i]]
                    found[text_hash][task] = (names[i], probability, row)
            self._by_text.update(found)
        return {k: self._by_text[hashes[k]] for k in keys}

    def _save_labels(self, found: dict[Key, dict[str, tuple[str, float | None, Any]]]) -> None:
        """Write labels as the classify stage does (same hash and model: ``analyze`` reuses them)."""
        from askscope.stages.labeling import LABEL_COLUMNS, ensure_labels_table, text_hash_of

        if not found:
            return
        con = self.store.con
        ensure_labels_table(con)
        columns: dict[str, list[Any]] = {k: [] for k in LABEL_COLUMNS}
        for (platform, post_id), tasks in found.items():
            text = self.model.posts[(platform, post_id)].text
            for task, (label, probability, full) in tasks.items():
                columns["platform"].append(platform)
                columns["post_id"].append(post_id)
                columns["task"].append(task)
                columns["label"].append(label)
                columns["probability"].append(probability)
                columns["model"].append(self._versions.get(task, task))
                columns["text_hash"].append(text_hash_of(text))
                columns["probabilities"].append(full)
        keys = pa.table({"platform": [k[0] for k in found], "post_id": [k[1] for k in found]})
        table = pa.table(
            {k: (pa.array(v, pa.list_(pa.float32())) if k == "probabilities" else v) for k, v in columns.items()}
        )
        relabelled = any(k in self.labels or k in self._restored_labels for k in found)
        con.register("_live_label_keys", keys)
        con.register("_live_labels", table)
        try:
            with self.store.transaction():
                if relabelled:  # a changed text: its old labels go (new posts have none to delete)
                    con.execute(
                        "DELETE FROM labels WHERE (platform, post_id) IN "
                        "(SELECT (platform, post_id) FROM _live_label_keys)"
                    )
                con.execute(
                    f"INSERT INTO labels ({', '.join(LABEL_COLUMNS)}) SELECT {', '.join(LABEL_COLUMNS)} FROM _live_labels"
                )
        finally:
            con.unregister("_live_label_keys")
            con.unregister("_live_labels")
        for key, tasks in found.items():
            self.labels[key] = {task: (v[0], v[1]) for task, v in tasks.items()}
            self._hashes[key] = text_hash_of(self.model.posts[key].text)

    # --- the pipeline ------------------------------------------------------------------------

    def _read_posts(self, keys: list[Key]) -> tuple[list[LivePost], list[tuple[str, str, str | None, int | None]]]:
        con = self.store.con
        columns = ", ".join(f'p."{c}"' for c in POST_COLUMNS)
        con.register("_live_keys", pa.table({"platform": [k[0] for k in keys], "id": [k[1] for k in keys]}))
        try:
            rows = con.execute(
                f"SELECT {columns} FROM posts p SEMI JOIN _live_keys k ON k.platform = p.platform AND k.id = p.id "
                "ORDER BY p.created_at NULLS FIRST, p.platform, p.id"
            ).fetchall()
            accounts = con.execute(
                "SELECT a.platform, a.id, a.handle, a.followers_count FROM accounts a SEMI JOIN "
                "(SELECT p.platform, p.author_id FROM posts p SEMI JOIN _live_keys k ON k.platform = p.platform "
                "AND k.id = p.id) w ON w.platform = a.platform AND w.author_id = a.id"
            ).fetchall()
        finally:
            con.unregister("_live_keys")
        return [LivePost.from_row(r) for r in rows], accounts

    def _process(self, keys: list[Key]) -> None:
        """Bring the model, the labels, the items and the alerts up to date with ``keys``."""
        if not keys:
            return
        with self._lock:
            posts, accounts = self._read_posts(sorted(set(keys)))
            self.model.add_accounts(accounts)
            changes = self.model.update(posts)
            todo = sorted(k for k in changes.to_label if self._needs_label(k))
        found = self._classify(todo)
        with self._lock:
            self._save_labels(found)
            touched = changes.recomputed | set(found) | changes.answered
            new_audience = [
                k for k in (p.key for p in posts) if self.model.eligible(k) and k not in self._audience_seen
            ]
            self._update_items(touched)
            self._audience_seen.update(new_audience)
            self._alerts_for(new_audience)
            for post in posts:
                at = _utc(post.created_at)
                if at is not None and (self._last_post_at is None or at > self._last_post_at):
                    self._last_post_at = at
            self._bump()

    def _needs_label(self, key: Key) -> bool:
        from askscope.stages.labeling import text_hash_of

        have = self.labels.get(key)
        if have is None or len(have) < len(TASKS):
            return True
        return self._hashes.get(key) != text_hash_of(self.model.posts[key].text)

    def is_question(self, key: Key) -> bool:
        """In Q: in P, not by a host, labelled a question, addressed to the host."""
        label = self.labels.get(key, {}).get("question")
        return self.model.eligible(key) and self.model.addressed(key) and label is not None and label[0] == "question"

    def _update_items(self, keys: set[Key], *, save: bool = True) -> None:
        changed: set[str] = set()
        for key in sorted(keys, key=self.model._time_order):
            if key not in self.model.posts:
                continue
            if self.is_question(key):
                if key not in self.item_of:
                    changed.add(self._file(key))
                changed |= self._close_if_answered(self.item_of[key])
            elif key in self.item_of:
                changed.add(self._unfile(key))
        if save and changed:
            self._save_items(changed)

    def _file(self, key: Key) -> str:
        """Put a new question into the item it near-duplicates that was not closed as answered
        when it was asked, or into a new item. Judged at the question's own time, so that a
        restarted session, filing the questions again in time order, rebuilds the same items."""
        post = self.model.posts[key]
        asked = _utc(post.created_at)

        def joinable(item_id: str) -> bool:
            item = self.items[item_id]
            if item.status != "answered":
                return True
            return item.closed_at is not None and asked is not None and item.closed_at > asked

        text = post.text
        best, score = self.dups.best(text, joinable)
        if best is not None:
            item = self.items[best]
            item.members.append(key)
            item.similarity[key] = score
        else:
            item = Item(f"{key[0]}:{key[1]}", [key], {key: 1.0})
            self.items[item.item_id] = item
        self.item_of[key] = item.item_id
        self.dups.add(item.item_id, text)
        return item.item_id

    def _unfile(self, key: Key) -> str:
        """Take a post that is no longer a question to the host out of its item."""
        item_id = self.item_of.pop(key)
        item = self.items[item_id]
        item.members.remove(key)
        self.dups.remove(item_id)
        if not item.members:
            del self.items[item_id]
        else:
            for member in item.members:
                self.dups.add(item_id, self.model.posts[member].text)
        return item_id

    def _close_if_answered(self, item_id: str) -> set[str]:
        """Close an item the host answered (``closed_by`` auto); record the earliest answer."""
        item = self.items[item_id]
        answers = [a for a in (self.model.answer(m) for m in item.members) if a is not None]
        if not answers:
            return set()
        first = min(answers, key=lambda a: (self.model.posts[a[0]].created_at, a[0][1]))
        if item.answer == first[0] and item.status == "answered":
            return set()
        item.answer = first[0]
        if item.status != "answered":
            item.status = "answered"
            item.closed_by = "auto"
            item.closed_at = _utc(self.model.posts[first[0]].created_at)
        return {item_id}

    # --- persistence ------------------------------------------------------------------------

    def _save_items(self, ids: set[str]) -> None:
        con = self.store.con
        now = datetime.now(UTC)
        rows: dict[str, list[Any]] = {
            k: []
            for k in (
                "item_id",
                "platform",
                "post_id",
                "status",
                "category",
                "abuse",
                "assigned_to",
                "pinned",
                "closed_by",
                "closed_at",
                "answer_platform",
                "answer_id",
                "created_at",
                "updated_at",
            )
        }
        members: dict[str, list[Any]] = {"item_id": [], "platform": [], "post_id": [], "similarity": [], "added_at": []}
        for item_id in sorted(ids):
            item = self.items.get(item_id)
            if item is None:
                continue
            category = self._category(item.key)
            values = {
                "item_id": item_id,
                "platform": item.key[0],
                "post_id": item.key[1],
                "status": item.status,
                "category": category,
                "abuse": category == "abuse",
                "assigned_to": item.assigned_to,
                "pinned": item.pinned,
                "closed_by": item.closed_by,
                "closed_at": item.closed_at,
                "answer_platform": item.answer[0] if item.answer else None,
                "answer_id": item.answer[1] if item.answer else None,
                "created_at": _utc(self.model.posts[item.key].created_at),
                "updated_at": now,
            }
            for name, value in values.items():
                rows[name].append(value)
            for member in item.members:
                members["item_id"].append(item_id)
                members["platform"].append(member[0])
                members["post_id"].append(member[1])
                members["similarity"].append(item.similarity.get(member, 1.0))
                members["added_at"].append(now)
        gone = pa.table({"item_id": pa.array(sorted(ids), pa.string())})
        con.register("_live_gone", gone)
        con.register(
            "_live_items",
            pa.table(
                {
                    **{
                        k: v
                        for k, v in rows.items()
                        if k not in ("closed_at", "created_at", "updated_at", "abuse", "pinned")
                    },
                    "abuse": pa.array(rows["abuse"], pa.bool_()),
                    "pinned": pa.array(rows["pinned"], pa.bool_()),
                    "closed_at": pa.array(rows["closed_at"], pa.timestamp("us", tz="UTC")),
                    "created_at": pa.array(rows["created_at"], pa.timestamp("us", tz="UTC")),
                    "updated_at": pa.array(rows["updated_at"], pa.timestamp("us", tz="UTC")),
                    **{
                        k: pa.array(rows[k], pa.string())
                        for k in ("item_id", "platform", "post_id", "status", "category", "assigned_to", "closed_by")
                        + ("answer_platform", "answer_id")
                    },
                }
            ),
        )
        con.register(
            "_live_members",
            pa.table(
                {
                    "item_id": pa.array(members["item_id"], pa.string()),
                    "platform": pa.array(members["platform"], pa.string()),
                    "post_id": pa.array(members["post_id"], pa.string()),
                    "similarity": pa.array(members["similarity"], pa.float64()),
                    "added_at": pa.array(members["added_at"], pa.timestamp("us", tz="UTC")),
                }
            ),
        )
        try:
            with self.store.transaction():
                con.execute("DELETE FROM live_items WHERE item_id IN (SELECT item_id FROM _live_gone)")
                con.execute("DELETE FROM live_item_posts WHERE item_id IN (SELECT item_id FROM _live_gone)")
                con.execute(
                    "INSERT INTO live_items SELECT item_id, platform, post_id, status, category, abuse, assigned_to, "
                    "pinned, closed_by, closed_at, answer_platform, answer_id, created_at, updated_at FROM _live_items"
                )
                con.execute(
                    "INSERT INTO live_item_posts SELECT item_id, platform, post_id, similarity, added_at FROM _live_members"
                )
        finally:
            for view in ("_live_gone", "_live_items", "_live_members"):
                con.unregister(view)

    def _restore(self) -> None:
        """Rebuild the state from the store (a restarted session goes on where it stopped)."""
        from askscope.stages.labeling import text_hash_of

        con = self.store.con
        columns = ", ".join(f'"{c}"' for c in POST_COLUMNS)
        posts = [
            LivePost.from_row(r)
            for r in con.execute(
                f"SELECT {columns} FROM posts ORDER BY created_at NULLS FIRST, platform, id"
            ).fetchall()
        ]
        self.model.add_accounts(con.execute("SELECT platform, id, handle, followers_count FROM accounts").fetchall())
        changes = self.model.update(posts)
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "labels" in tables and posts:
            self.labeler()
            wanted = set(self._versions.items())
            for platform, post_id, task, label, probability, model, text_hash in con.execute(
                "SELECT platform, post_id, task, label, probability, model, text_hash FROM labels"
            ).fetchall():
                self._restored_labels.add((platform, post_id))
                post = self.model.posts.get((platform, post_id))
                if post is None or (task, model) not in wanted or text_hash != text_hash_of(post.text):
                    continue
                self.labels.setdefault((platform, post_id), {})[task] = (label, probability)
                self._hashes[(platform, post_id)] = text_hash
        members: dict[str, list[tuple[Key, float]]] = {}
        for item_id, platform, post_id, similarity in con.execute(
            "SELECT item_id, platform, post_id, similarity FROM live_item_posts"
        ).fetchall():
            members.setdefault(item_id, []).append(((platform, post_id), float(similarity or 0.0)))
        for row in con.execute(
            "SELECT item_id, platform, post_id, status, assigned_to, pinned, closed_by, closed_at, answer_platform, "
            "answer_id FROM live_items"
        ).fetchall():
            item_id, platform, post_id, status, assigned, pinned, closed_by, closed_at, a_platform, a_id = row
            rep = (platform, post_id)
            listed = members.get(item_id, [])
            ordered = [rep] + sorted((k for k, _ in listed if k != rep), key=self.model._time_order)
            item = Item(
                item_id,
                [k for k in ordered if k in self.model.posts],
                {k: s for k, s in listed},
                status=status,
                assigned_to=assigned,
                pinned=bool(pinned),
                closed_by=closed_by,
                closed_at=_utc(closed_at),
                answer=(a_platform, a_id) if a_id else None,
            )
            if not item.members:
                continue
            self.items[item_id] = item
            for key in item.members:
                self.item_of[key] = item_id
                self.dups.add(item_id, self.model.posts[key].text)
        for alert_id, at, kind, message, posts_json in con.execute(
            'SELECT id, "at", kind, message, posts FROM live_alerts ORDER BY "at", id'
        ).fetchall():
            keys = [(p["platform"], p["id"]) for p in json.loads(posts_json or "[]")]
            times = [t for t in (_utc(self.model.posts[k].created_at) for k in keys if k in self.model.posts) if t]
            self.alert_list.append(Alert(alert_id, _utc(at) or datetime.now(UTC), kind, message, keys, times))
        todo = sorted(k for k in changes.to_label if self._needs_label(k))
        found = self._classify(todo)
        self._save_labels(found)
        audience = [k for k in self.model.posts if self.model.eligible(k)]
        self._update_items(set(self.model.posts))
        self._audience_seen.update(audience)
        # the alert engine sees the stored audience again (alerts already raised are not repeated)
        known = {a.id for a in self.alert_list}
        for alert in self._engine_feed(audience):
            if alert.id not in known:
                self._record_alert(alert)
        self._last_post_at = max(
            (t for t in (_utc(p.created_at) for p in self.model.posts.values()) if t is not None), default=None
        )

    # --- alerts -----------------------------------------------------------------------------

    def _engine_feed(self, keys: list[Key]) -> list[Alert]:
        items = []
        for key in keys:
            post = self.model.posts[key]
            items.append((key, post.author_id, _utc(post.created_at), post.text))
        alerts = self.engine.posts(items)
        audience = [k for k in self.model.in_campaign if self.model.relation.get(k) != "host"]
        hostile = [k for k in audience if self._category(k) in HOSTILE]

        def listed() -> tuple[list[Key], list[datetime]]:
            ordered = sorted(hostile, key=self.model._time_order)
            times = [_utc(self.model.posts[k].created_at) for k in ordered]
            return ordered, [t for t in times if t is not None]

        alerts += self.engine.hostility(len(hostile), len(audience), self._last_post_at or self.now(), listed)
        return alerts

    def _alerts_for(self, keys: list[Key]) -> None:
        for alert in self._engine_feed(keys):
            self._record_alert(alert)

    def _record_alert(self, alert: Alert) -> None:
        self.alert_list.append(alert)
        posts = json.dumps([{"platform": p, "id": i} for p, i in alert.posts])
        self.store.con.execute(
            "INSERT INTO live_alerts VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            [alert.id, alert.at, alert.kind, alert.message, posts, alert.as_dict()["href"]],
        )

    # --- intake bookkeeping ------------------------------------------------------------------

    def intake_position(self, session: str, *, kind: str, source: str, total: int | None) -> int:
        """Where ``session`` stopped (0 for a new one); marks it running."""
        with self._lock:
            con = self.store.con
            row = con.execute(
                "SELECT position, stored, rejected FROM live_intake WHERE session = ?", [session]
            ).fetchall()
            now = datetime.now(UTC)
            if not row:
                con.execute(
                    "INSERT INTO live_intake VALUES (?, ?, ?, 0, ?, 'running', 0, 0, ?, ?)",
                    [session, kind, source, total, now, now],
                )
                position, stored, rejected = 0, 0, 0
            else:
                position, stored, rejected = (int(v or 0) for v in row[0])
                con.execute(
                    "UPDATE live_intake SET status = 'running', total = ?, updated_at = ? WHERE session = ?",
                    [total, now, session],
                )
            # runs of this session killed while running are marked as such (their batches stay)
            con.execute(
                "UPDATE ingests SET status = 'interrupted' WHERE source_file = ? AND status = 'running'",
                [self._run_name(session)],
            )
            self.intake.update(source=source, stored=stored, rejected=rejected, running=True, error=None)
            self._bump()
            return position

    @staticmethod
    def _run_name(session: str) -> str:
        return f"live:{session}"

    def store_replayed(
        self, session: str, records: list[ReplayRecord], start: int, total: int, readers: dict[str, Reader]
    ) -> BatchCounts:
        """Store replayed records ``start .. start + len(records)`` with the checkpoint, in one
        transaction, then bring the console up to date with their posts."""
        from askscope.store.batch import build_batch
        from askscope.store.write import begin_ingest, write_batch

        counts = BatchCounts()
        keys: list[Key] = []
        with self._lock:
            source_file = self._run_name(session)
            sinks = sink_for(readers, records, source_file, start)
            with self.store.transaction():
                runs = self._runs.setdefault(session, {})
                for name, sink in sinks.items():
                    run = runs.get(name)
                    if run is None:
                        run = runs[name] = begin_ingest(
                            self.store,
                            source_file=source_file,
                            source_path=None,
                            source_size=None,
                            source_mtime=None,
                            format=name,
                            compression=None,
                            options='{"framing": "live"}',
                            transaction=False,
                        )
                    counts.add(write_batch(self.store, run, build_batch(sink), transaction=False))
                    keys += [(p.platform, p.id) for p in (*sink.matches, *sink.context)]
                stored = counts.read - counts.rejected
                self.store.con.execute(
                    "UPDATE live_intake SET position = ?, stored = stored + ?, rejected = rejected + ?, updated_at = ? "
                    "WHERE session = ?",
                    [start + len(records), stored, counts.rejected, datetime.now(UTC), session],
                )
            self.intake["stored"] += stored
            self.intake["rejected"] += counts.rejected
        self._process(keys)
        return counts

    def collected(self, session: str, keys: list[Key], stored: int, rejected: int) -> None:
        """A collector stored a response (with its own checkpoint): count it, process its posts."""
        with self._lock:
            self.store.con.execute(
                "UPDATE live_intake SET position = position + 1, stored = stored + ?, rejected = rejected + ?, "
                "updated_at = ? WHERE session = ?",
                [stored, rejected, datetime.now(UTC), session],
            )
            self.intake["stored"] += stored
            self.intake["rejected"] += rejected
        self._process(keys)

    def intake_finished(self, session: str, *, done: bool = True) -> None:
        from askscope.store.write import finish_ingests

        with self._lock:
            runs = list(self._runs.pop(session, {}).values())
            if runs:
                finish_ingests(self.store, runs, status="done", sha256=None, bytes_read=None)
            self.store.con.execute(
                "UPDATE live_intake SET status = ?, updated_at = ? WHERE session = ?",
                ["done" if done else "stopped", datetime.now(UTC), session],
            )
            self.intake["running"] = False
            self._bump()

    def intake_failed(self, exc: BaseException) -> None:
        with self._lock:
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            self.intake.update(running=False, error=message)
            self._bump()

    # --- reading ----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    def _bump(self) -> None:
        self._version += 1
        self._changed.notify_all()

    def wait(self, since: int, timeout: float) -> int:
        """Block until the version passes ``since`` or ``timeout`` seconds pass; the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._version > since, timeout=timeout)
            return self._version

    def _category(self, key: Key) -> str | None:
        label = self.labels.get(key, {}).get("discourse")
        return label[0] if label is not None else None

    def _post(self, key: Key) -> dict[str, Any]:
        post = self.model.posts[key]
        return {
            "platform": post.platform,
            "id": post.id,
            "text": post.text,
            "author": post.author_handle,
            "author_id": post.author_id,
            "created_at": iso(_utc(post.created_at)),
            "url": post.url,
        }

    def _reach(self, item: Item) -> int:
        authors = {(k[0], self.model.posts[k].author_id) for k in item.members}
        followers = sum(self.model.followers.get((p, a), 0) for p, a in authors if a is not None)
        return int(followers + sum(self.model.posts[k].repost_count for k in item.members))

    def _item_dict(self, item: Item, now: datetime) -> dict[str, Any]:
        category = self._category(item.key)
        first = min((_utc(self.model.posts[k].created_at) for k in item.members), default=None, key=lambda t: t or now)
        if item.status == "answered" and item.closed_at is not None and first is not None:
            waiting = max(0.0, (item.closed_at - first).total_seconds())
        elif item.status == "answered" or first is None:
            waiting = 0.0
        else:
            waiting = max(0.0, (now - first).total_seconds())
        reach = self._reach(item)
        count = len(item.members)
        terms = {
            "category": CATEGORY_WEIGHT.get(category or "", 0.0),
            "reach": round(min(40.0, 10 * math.log10(1 + reach)), 3),
            "asked": round(min(30.0, 10 * math.log2(count)), 3),
            "waiting": round(min(29.0, waiting / 120), 3),
        }
        answer = None
        if item.answer is not None and item.answer in self.model.posts:
            a = self.model.posts[item.answer]
            answer = {"platform": a.platform, "id": a.id, "text": a.text, "created_at": iso(_utc(a.created_at))}
        labels = {
            task: {"label": value[0], "probability": value[1]} for task, value in self.labels.get(item.key, {}).items()
        }
        return {
            "item": item.item_id,
            "status": item.status,
            "category": category,
            "priority": round(sum(terms.values()), 3),
            "terms": terms,
            "count": count,
            "reach": reach,
            "waiting_s": round(waiting, 3),
            "abuse": category == "abuse",
            "assigned_to": item.assigned_to,
            "pinned": item.pinned,
            "closed_by": item.closed_by,
            "closed_at": iso(item.closed_at),
            "answer": answer,
            "post": self._post(item.key),
            "members": [
                {
                    "platform": k[0],
                    "id": k[1],
                    "author": self.model.posts[k].author_handle,
                    "text": self.model.posts[k].text,
                    "created_at": iso(_utc(self.model.posts[k].created_at)),
                    "answered": self.model.answer(k) is not None,
                }
                for k in item.members
            ],
            "labels": labels,
        }

    def queue(
        self, *, show_abuse: bool = False, status: str = "open", assignee: str | None = None
    ) -> list[dict[str, Any]]:
        """The items, ranked: pinned first, then by priority (then oldest first)."""
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        with self._lock:
            now = self.now()
            out = []
            for item in self.items.values():
                if status != "all" and item.status != status:
                    continue
                if assignee is not None and item.assigned_to != assignee:
                    continue
                if not show_abuse and self._category(item.key) == "abuse":
                    continue
                out.append(self._item_dict(item, now))
        out.sort(key=lambda d: (not d["pinned"], -d["priority"], d["post"]["created_at"] or "", d["item"]))
        return out

    def item(self, item_id: str) -> dict[str, Any] | None:
        """One item with its thread (root to the item, then the replies below it)."""
        with self._lock:
            item = self.items.get(item_id)
            if item is None:
                return None
            out = self._item_dict(item, self.now())
            out["thread"] = [
                {**self._post(k), "is_host": self.model.is_host_post(k)} for k in self.model.thread(item.key)
            ]
            return out

    def questions(self) -> dict[Key, tuple[Key, str, float] | None]:
        """Every question in Q and its answer (answer key, kind, latency) or None."""
        with self._lock:
            return {k: self.model.answer(k) for k in self.item_of}

    def pulse(self) -> dict[str, Any]:
        """Answer rate, median time to answer, hostile share, questions waiting, the intake."""
        with self._lock:
            answers = [self.model.answer(k) for k in self.item_of]
            latencies = [a[2] for a in answers if a is not None]
            k, n = len(latencies), len(answers)
            audience = [key for key in self.model.in_campaign if self.model.relation.get(key) != "host"]
            hostile = sum(1 for key in audience if self._category(key) in HOSTILE)
            waiting = sum(
                1 for item in self.items.values() if item.status == "open" and self._category(item.key) != "abuse"
            )
            rate, share = wilson(k, n), wilson(hostile, len(audience))
            return {
                "posts": sum(1 for p in self.model.posts.values() if not p.is_context),
                "questions": n,
                "answered": k,
                "waiting": waiting,
                "answer_rate": {"estimate": rate["value"], "low": rate["ci"][0], "high": rate["ci"][1], "k": k, "n": n},
                "median_answer_s": statistics.median(latencies) if latencies else None,
                "hostile_share": {
                    "estimate": share["value"],
                    "low": share["ci"][0],
                    "high": share["ci"][1],
                    "k": hostile,
                    "n": len(audience),
                },
                "last_post_at": iso(self._last_post_at),
                "intake": dict(self.intake),
            }

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts, newest first."""
        with self._lock:
            return [a.as_dict() for a in sorted(self.alert_list, key=lambda a: (a.at, a.id), reverse=True)]

    # --- actions ----------------------------------------------------------------------------

    def act(
        self, item_id: str, action: str, member: str, *, assignee: str | None = None, note: str | None = None
    ) -> dict[str, Any]:
        """Apply a team member's action to an item and log it in ``live_actions``."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
        member = (member or "").strip()
        if not member:
            raise ValueError("say who you are: the action needs the team member's name")
        with self._lock:
            item = self.items.get(item_id)
            if item is None:
                raise ValueError(f"no item {item_id!r} in the queue")
            at = datetime.now(UTC)
            if action == "answered":
                item.status, item.closed_by, item.closed_at = "answered", member, self.now()
            elif action == "skip":
                item.status, item.closed_by, item.closed_at = "skipped", member, self.now()
            elif action == "reopen":
                item.status, item.closed_by, item.closed_at = "open", None, None
            elif action == "assign":
                item.assigned_to = (assignee or "").strip() or None
            elif action == "pin":
                item.pinned = True
            elif action == "unpin":
                item.pinned = False
            with self.store.transaction():
                self.store.con.execute(
                    "INSERT INTO live_actions VALUES (?, ?, ?, ?, ?, ?)",
                    [at.replace(tzinfo=None), member, item_id, action, assignee, note],
                )
            self._save_items({item_id})
            self._bump()
            return self._item_dict(item, self.now())
