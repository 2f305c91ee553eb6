"""The reply-tree and relations stages on Dask: the archive's posts shuffled by conversation, each
partition analysed by the embedded stage's own SQL on an in-memory DuckDB.

**The conversation key.** Every post gets a key such that a reply tree never spans two keys:

* its ``conversation_id`` where the platform gives one (X API v2, Bluesky, Mastodon, Reddit: the
  root of the conversation, shared by every reply under it and by every version of an edited post);
* otherwise (X API v1.1, RumourEval, CSV files without the column) the key of its parent, found by
  **pointer jumping** on the cluster: each such post points at its parent (resolved through edit
  histories as the embedded stage does; itself without a parent or when the parent is not
  stored), and every round replaces the pointer by the pointer's pointer (a Dask merge on
  ``(platform, id)``), until no pointer changes: a tree of depth d takes about log2(d) rounds. A
  post whose parent has a ``conversation_id`` takes that, so stores mixing v1.1 and v2 posts of
  one thread keep it together.

Reposts are not nodes of a tree (the embedded stage leaves them out): they keep their own
``conversation_id``, or their id.

**The shuffle, written by DuckDB.** Dask schedules the tasks; the data moves through Parquet
files on the work folder, not through the workers' memory. A **map task** per run of the
archive's post files reads the columns the stages need (no text), gives each post its key (joining
``keys/``, the pointer table's keys, when there was pointer jumping) and writes the posts hashed on
``(platform, key)`` into buckets, ``scatter/map-N/bucket=B/`` (a streaming ``COPY ...
PARTITION_BY``). A **reduce task** per bucket reads that bucket from every map task's output. Each
task's DuckDB gets a share of its worker's memory limit and spills to the work folder above it
(``cluster.limit_task``), so a task's memory is bounded by the limit, not by the partition; and
the posts written and read are counted against the archive's (a lost post is an error, not a
smaller result). Dask's own shuffle of pandas frames (texts and lists as Python objects) held
several pieces of a partition per worker and was killed at 10M posts on 2 GiB workers
(docs/benchmarks.md).

**Per partition** (the reduce task): the partition's posts are written as
``conversation/part-N.parquet`` in the run's work folder, and ``reply_trees.THREADS_SQL`` and
``ROOTS_SQL`` run on them
unchanged; ``MISSING_SQL`` runs with the ``api_errors`` rows about posts (a small table, sent to
every task) and its per-partition rows are summed afterwards (replies to one missing parent may
carry different keys). The relations pass reads the same partitions back, with their threads,
and runs ``relations.RELATIONS_SQL`` unchanged; the host's posts from every partition are added
to each (the stage asks whether a reply, quote or thread starts at a host post, which may sit in
another conversation) and their rows dropped after.

**What stays in one process** (DuckDB on the analysis's temporary store): resolving the hosts
(``relations.resolve_hosts``: a lookup over every account, author and mention), and
``relations.finish`` (the window is the span of all of P; a repost's ``amplifies`` reads the
original, in another conversation). And a check: a reply the partitions call parent-missing whose
parent is stored (a tree the key split: only a reply cycle can, or data breaking the
``conversation_id`` contract) makes the stage say so and run embedded instead, so the tables are
always the embedded stage's.
"""

from __future__ import annotations

import importlib
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb

from askscope.archive.cluster import task_connection
from askscope.archive.parquet import dataset_files, quote_name, quote_path, sql_files
from askscope.stages.base import Context
from askscope.stages.relations import RELATIONS_SQL, Relations, finish, resolve_hosts
from askscope.stages.reply_trees import MISSING_SQL, ROOTS_SQL, THREADS_SQL, ReplyTrees, summarize

#: The posts' columns the two stages (and ``answers``, :mod:`askscope.archive.dask_answers`) read (no
#: text: the shuffle moves ids, times, counts and lists).
COLUMNS = (
    "platform",
    "id",
    "kind",
    "created_at",
    "author_id",
    "author_handle",
    "in_reply_to_id",
    "in_reply_to_author_id",
    "conversation_id",
    "quoted_id",
    "reposted_id",
    "reply_count",
    "repost_count",
    "mentions",
    "mention_ids",
    "hashtags",
    "edit_ids",
)
#: Posts per shuffled partition (at least two partitions per worker).
PARTITION_ROWS = 250_000
#: Pointer-jumping rounds before giving up (2**64 is deeper than any tree).
MAX_ROUNDS = 64


def _types(manifest: dict[str, Any]) -> dict[str, str]:
    columns = manifest["tables"]["posts"]["columns"]
    return {c["name"]: c["type"] for c in columns}


def _read_file(path: str, columns: list[str]) -> Any:
    """One Parquet file as pandas, text and list columns as object columns (one dtype for every
    key the merges join on, whatever pandas' string default)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=columns, partitioning=None)
    frame = table.to_pandas()
    text = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return frame.astype(dict.fromkeys(text, object))


#: Dask settings for these frames: no conversion of object columns to strings (it would turn the
#: list columns into their text) and the task-based shuffle (the P2P one goes through Arrow,
#: which takes object columns of arrays only as strings).
DASK_CONFIG = {"dataframe.convert-string": False, "dataframe.shuffle.method": "tasks"}


def _read_files(paths: list[str], columns: list[str]) -> Any:
    pd: Any = importlib.import_module("pandas")  # no stubs in the environment: Any

    return pd.concat([_read_file(p, columns) for p in paths], ignore_index=True)


def _groups(files: list[str], n: int) -> list[list[str]]:
    """``files`` in ``n`` consecutive runs of (nearly) equal length."""
    return [files[i * len(files) // n : (i + 1) * len(files) // n] for i in range(n)]


def _write_keys(frame: Any, folder: str, partition_info: Any = None) -> Any:
    """One partition of the pointer table's ``(platform, id, key)`` as ``folder/part-N.parquet``
    (typed: a partition of NULL keys stays VARCHAR)."""
    number = 0 if partition_info is None else int(partition_info["number"])
    import pyarrow as pa

    table = pa.Table.from_pandas(frame[["platform", "id", "key"]], preserve_index=False)
    with duckdb.connect() as con:
        con.register("_keys", table)
        con.execute(
            "COPY (SELECT platform::VARCHAR AS platform, id::VARCHAR AS id, key::VARCHAR AS key FROM _keys) "
            f"TO {quote_path(Path(folder) / f'part-{number:05d}.parquet')} (FORMAT parquet)"
        )
    pd: Any = importlib.import_module("pandas")  # no stubs in the environment: Any
    return pd.Series([len(frame)], dtype="int64")


def read_posts(folder: Path, columns: list[str], parts: int) -> Any:
    """The archive's ``posts`` dataset as a dask dataframe of at most ``parts`` partitions, each
    a run of its Parquet files (one file per platform and day would make every merge a shuffle of
    thousands of small pieces)."""
    dd: Any = importlib.import_module("dask.dataframe")  # partly untyped: Any

    files = sorted(str(p) for p in folder.glob("posts/**/*.parquet"))
    groups = _groups(files, max(1, min(parts, len(files))))
    meta = _read_file(files[0], columns).iloc[:0]
    return dd.from_map(_read_files, groups, columns=columns, meta=meta, enforce_metadata=False)


def conversation_keys(client: Any, posts: Any, versions: Any) -> tuple[Any, int]:
    """``(platform, id, key)`` for every post (see the module docstring) and the number of
    pointer-jumping rounds it took."""
    dd: Any = importlib.import_module("dask.dataframe")  # partly untyped: Any

    nodes = posts[posts["kind"] != "repost"][["platform", "id", "in_reply_to_id", "conversation_id"]]
    # the parent through edit histories, as THREADS_SQL's `versions` does
    nodes = nodes.merge(versions, how="left", left_on=["platform", "in_reply_to_id"], right_on=["platform", "old_id"])
    parent = nodes["latest_id"].fillna(nodes["in_reply_to_id"])
    stored = posts[posts["kind"] != "repost"][["platform", "id"]].assign(present=True)
    nodes = nodes.assign(parent=parent)[["platform", "id", "parent", "conversation_id"]]
    nodes = nodes.merge(stored.rename(columns={"id": "parent"}), how="left", on=["platform", "parent"])
    known = nodes["conversation_id"].notnull()
    has_parent = nodes["present"].fillna(False).astype(bool)
    pointer = nodes["conversation_id"].where(known, nodes["parent"].where(has_parent, nodes["id"]))
    table = nodes.assign(ptr=pointer, final=known)[["platform", "id", "ptr", "final"]]
    table = client.persist(table)
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        look = table[["platform", "id", "ptr"]].rename(columns={"id": "ptr", "ptr": "next"})
        step = table.merge(look, how="left", on=["platform", "ptr"])
        nxt = step["next"].where(~step["final"] & step["next"].notnull(), step["ptr"])
        step = step.assign(changed=nxt != step["ptr"], ptr=nxt)
        step = client.persist(step[["platform", "id", "ptr", "final", "changed"]])
        changed = int(step["changed"].sum().compute())
        table = step[["platform", "id", "ptr", "final"]]
        if not changed:
            break
    reposts = posts[posts["kind"] == "repost"][["platform", "id", "conversation_id"]]
    repost_keys = reposts.assign(ptr=reposts["conversation_id"].fillna(reposts["id"]))[["platform", "id", "ptr"]]
    keys = dd.concat([table[["platform", "id", "ptr"]], repost_keys]).rename(columns={"ptr": "key"})
    return keys, rounds


def _select(types: dict[str, str], alias: str = "") -> str:
    return ", ".join(f'{alias}"{c}"::{types[c]} AS "{c}"' for c in COLUMNS)


def _scatter_part(
    number: int, paths: list[str], work: str, types: dict[str, str], parts: int, keyed: bool
) -> tuple[int, list[int]]:
    """Map side of the shuffle, one run of the archive's post files: each post with its
    conversation key (its own ``conversation_id`` or id, or the pointer table's key under
    ``keys/``), written by DuckDB hashed on ``(platform, key)`` into ``parts`` buckets,
    ``scatter/map-N/bucket=B/*.parquet``, within the task's memory share (spilling). Returns the
    posts written and the buckets it wrote."""
    base = Path(work)
    out = base / "scatter" / f"map-{number:05d}"
    if out.exists():  # a retry after a lost worker starts over
        shutil.rmtree(out)
    spill = base / "spill" / f"map-{number:05d}"
    spill.mkdir(parents=True, exist_ok=True)
    con = task_connection(spill)
    try:
        key = "coalesce(p.conversation_id, p.id)"
        join = ""
        if keyed:
            key = "CASE WHEN p.conversation_id IS NOT NULL OR p.kind = 'repost' THEN coalesce(p.conversation_id, p.id) ELSE k.key END"
            join = (
                f"LEFT JOIN read_parquet({sql_files(base / 'keys', '*.parquet')}) k "
                "ON k.platform = p.platform AND k.id = p.id"
            )
        con.execute(
            f"COPY (SELECT {_select(types, 'p.')}, (hash(p.platform, {key}) % {int(parts)})::INTEGER AS bucket "
            f"FROM read_parquet(?, hive_partitioning = false, union_by_name = true) p {join}) "
            f"TO {quote_path(out)} (FORMAT parquet, PARTITION_BY (bucket))",
            [paths],
        )
        rows = (
            con.execute(
                f"SELECT count(*) FROM read_parquet({sql_files(out, '*/*.parquet')}, hive_partitioning = false)"
            ).fetchall()[0][0]
            if out.exists()
            else 0
        )
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    buckets = sorted(int(d.name.removeprefix("bucket=")) for d in out.glob("bucket=*")) if out.exists() else []
    return int(rows), buckets


def _threads_part(number: int, bucket: int, work: str, types: dict[str, str], api_errors: Any) -> tuple[int, int]:
    """Reduce side, one bucket of the shuffle (every map task's slice of it): its posts, the
    reply-tree SQL on them, the tables written as partition ``number``. Returns its posts and
    threads."""
    base = Path(work)
    spill = base / "spill" / f"part-{number:05d}"
    spill.mkdir(parents=True, exist_ok=True)
    con = task_connection(spill)
    try:
        con.execute(f"CREATE TABLE posts ({', '.join(f'{quote_name(c)} {types[c]}' for c in COLUMNS)})")
        con.execute(
            f"INSERT INTO posts BY NAME SELECT {_select(types)} FROM "
            f"read_parquet({sql_files(base / 'scatter', f'*/bucket={bucket}/*.parquet')}, "
            "hive_partitioning = false)"
        )
        con.register("_errors", api_errors)
        con.execute(
            "CREATE TABLE api_errors AS SELECT resource_type::VARCHAR AS resource_type, "
            "resource_id::VARCHAR AS resource_id, title::VARCHAR AS title, detail::VARCHAR AS detail FROM _errors"
        )
        for sql in (THREADS_SQL, ROOTS_SQL, MISSING_SQL):
            con.execute(sql)
        for table in ("posts", "threads", "thread_roots", "missing_parents"):
            out = base / ("conversation" if table == "posts" else table) / f"part-{number:05d}.parquet"
            con.execute(f"COPY {table} TO {quote_path(out)} (FORMAT parquet)")
        posts, threads = con.execute("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM threads)").fetchall()[
            0
        ]
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return int(posts), int(threads)


def _relations_part(number: int, work: str, types: dict[str, str], hosts: Any, host_posts: Any, tags: list[str]) -> int:
    """One conversation partition: ``RELATIONS_SQL`` on its posts and threads, with the host's
    posts of every partition added (and their rows dropped after)."""
    base = Path(work)
    con = duckdb.connect()
    try:
        name = f"part-{number:05d}.parquet"
        con.execute(f"CREATE TABLE posts AS FROM read_parquet({quote_path(base / 'conversation' / name)})")
        con.execute(f"CREATE TABLE threads AS FROM read_parquet({quote_path(base / 'threads' / name)})")
        con.register("_hosts", hosts)
        con.execute(
            "CREATE TABLE hosts AS SELECT platform::VARCHAR AS platform, author_id::VARCHAR AS author_id, "
            "handle::VARCHAR AS handle, role::VARCHAR AS role, ref::VARCHAR AS ref FROM _hosts"
        )
        con.register("_host_posts", host_posts)
        con.execute(
            "CREATE TABLE _extra AS SELECT platform::VARCHAR AS platform, id::VARCHAR AS id, "
            "author_id::VARCHAR AS author_id FROM _host_posts h "
            "WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.platform = h.platform AND p.id = h.id)"
        )
        con.execute("INSERT INTO posts BY NAME SELECT * FROM _extra")
        con.execute(RELATIONS_SQL, {"tags": tags})
        con.execute(
            "DELETE FROM relations WHERE EXISTS "
            "(SELECT 1 FROM _extra e WHERE e.platform = relations.platform AND e.id = relations.post_id)"
        )
        con.execute(f"COPY relations TO {quote_path(base / 'relations' / name)} (FORMAT parquet)")
        rows: int = con.execute("SELECT count(*) FROM relations").fetchall()[0][0]
    finally:
        con.close()
    return rows


class Shuffled:
    """The archive's posts shuffled by conversation key, once per analysis, in ``work``."""

    def __init__(self, client: Any, folder: Path, manifest: dict[str, Any], work: Path, workers: int) -> None:
        self.client, self.folder, self.work, self.workers = client, folder, work, workers
        self.types = _types(manifest)
        self.rows = int(manifest["tables"]["posts"]["rows"])
        self.parts = 0
        self.rounds = 0
        #: Seconds of the keys (pointer jumping included) and of the shuffle with the per-partition SQL.
        self.seconds: dict[str, float] = {}

    def threads(self, api_errors: Any) -> int:
        """Shuffle, then the reply-tree tables per partition under ``work``; returns the partitions."""
        for sub in (
            "conversation",
            "threads",
            "thread_roots",
            "missing_parents",
            "relations",
            "scatter",
            "keys",
            "spill",
        ):
            shutil.rmtree(self.work / sub, ignore_errors=True)
            (self.work / sub).mkdir(parents=True)
        if not self.rows or not any(self.folder.glob("posts/**/*.parquet")):
            return 0
        import dask

        with dask.config.set(DASK_CONFIG):
            return self._threads(api_errors)

    def _threads(self, api_errors: Any) -> int:
        with duckdb.connect() as con:
            versions = con.execute(
                "SELECT DISTINCT p.platform, v.old AS old_id, p.id AS latest_id "
                "FROM read_parquet(?, hive_partitioning = false) p, unnest(p.edit_ids) AS v(old) "
                "WHERE len(p.edit_ids) > 1 AND v.old <> p.id",
                [dataset_files(self.folder, "posts")],
            ).df()
            unknown = con.execute(
                "SELECT count(*) FROM read_parquet(?, hive_partitioning = false) "
                "WHERE conversation_id IS NULL AND kind IS DISTINCT FROM 'repost'",
                [dataset_files(self.folder, "posts")],
            ).fetchall()[0][0]
        versions = versions.astype(object)
        self.parts = max(2 * self.workers, -(-self.rows // PARTITION_ROWS))
        files = sorted(str(p) for p in self.folder.glob("posts/**/*.parquet"))
        clock = time.perf_counter()
        # A post with a conversation id, and a repost, has its key in its own row: only the keys
        # of the others (few, or none, in X v2 data) are found by pointer jumping and written
        # under keys/, for the map tasks to join. Without such posts there is no pointer jumping.
        self.rounds = 0
        if unknown:
            posts = read_posts(self.folder, ["platform", "id", "kind", "in_reply_to_id", "conversation_id"], self.parts)
            keys, self.rounds = conversation_keys(self.client, posts, versions)
            direct = posts["conversation_id"].notnull() | (posts["kind"] == "repost")
            wanted = posts[~direct][["platform", "id"]].merge(keys, how="left", on=["platform", "id"])
            written = wanted.map_partitions(_write_keys, str(self.work / "keys"), meta=(None, "int64"))
            self.client.compute(written, retries=1).result()
        self.seconds["keys"] = time.perf_counter() - clock
        # the shuffle, written by DuckDB: each map task hashes a run of post files into buckets on
        # disk, each reduce task reads one bucket from every map task's output
        groups = _groups(files, max(1, min(self.parts, len(files))))
        submit = self.client.submit
        scattered = self.client.gather(
            [
                submit(
                    _scatter_part, i, g, str(self.work), self.types, self.parts, bool(unknown), pure=False, retries=1
                )
                for i, g in enumerate(groups)
            ]
        )
        buckets = sorted({b for _, written_buckets in scattered for b in written_buckets})
        counts = self.client.gather(
            [
                submit(_threads_part, i, b, str(self.work), self.types, api_errors, pure=False, retries=1)
                for i, b in enumerate(buckets)
            ]
        )
        shutil.rmtree(self.work / "scatter", ignore_errors=True)
        shutil.rmtree(self.work / "keys", ignore_errors=True)
        shuffled = sum(n for n, _ in scattered)
        if shuffled != self.rows or sum(n for n, _ in counts) != self.rows:
            raise RuntimeError(
                f"the shuffle by conversation lost posts: {self.rows:,} in the archive, {shuffled:,} "
                f"written by the map tasks, {sum(n for n, _ in counts):,} read by the partitions"
            )
        self.seconds["partitions"] = time.perf_counter() - clock - self.seconds["keys"]
        self.parts = len(counts)
        return self.parts

    def relations(self, hosts: Any, tags: list[str]) -> int:
        """``RELATIONS_SQL`` per partition (after :meth:`threads`); returns the rows written."""
        import dask

        dd: Any = importlib.import_module("dask.dataframe")  # partly untyped: Any

        host_ids = hosts[hosts["author_id"].notnull()][["platform", "author_id"]].drop_duplicates().astype(object)
        files = [str(p) for p in sorted((self.work / "conversation").glob("*.parquet"))]
        wanted = ["platform", "id", "author_id"]
        with dask.config.set(DASK_CONFIG):
            conv = dd.from_map(_read_file, files, columns=wanted, meta=_read_file(files[0], wanted).iloc[:0])
            host_posts = conv.merge(host_ids, on=["platform", "author_id"]).compute()
        futures = [
            self.client.submit(
                _relations_part, i, str(self.work), self.types, hosts, host_posts, tags, pure=False, retries=1
            )
            for i in range(self.parts)
        ]
        return sum(f.result() for f in futures)


class DaskReplyTrees(ReplyTrees):
    """``reply_trees`` on the cluster (module docstring); the tables are the embedded stage's."""

    def __init__(self, shuffled: Shuffled) -> None:
        self.shuffled = shuffled

    def run(self, ctx: Context) -> dict[str, Any]:
        con, work = ctx.store.con, self.shuffled.work
        errors = con.execute(
            "SELECT resource_type, resource_id, title, detail FROM api_errors WHERE resource_type = 'tweet'"
        ).df()
        parts = self.shuffled.threads(errors)
        if not parts:
            ctx.say("reply_trees: the archive holds no posts; the stage runs embedded")
            return ReplyTrees.run(self, ctx)
        con.execute(f"CREATE OR REPLACE TABLE threads AS FROM read_parquet({sql_files(work / 'threads', '*.parquet')})")
        con.execute(
            "CREATE OR REPLACE TABLE thread_roots AS "
            f"FROM read_parquet({sql_files(work / 'thread_roots', '*.parquet')})"
        )
        con.execute(
            "CREATE OR REPLACE TABLE missing_parents AS SELECT platform, parent_id, sum(replies)::BIGINT AS replies, "
            "min(first_reply_id) AS first_reply_id, min(api_error) AS api_error, min(api_detail) AS api_detail "
            f"FROM read_parquet({sql_files(work / 'missing_parents', '*.parquet')}) GROUP BY platform, parent_id"
        )
        split = con.execute(
            "SELECT count(*) FROM threads t WHERE t.parent_missing AND EXISTS (SELECT 1 FROM posts p "
            "WHERE p.platform = t.platform AND p.id = t.parent_id AND p.kind <> 'repost')"
        ).fetchall()[0][0]
        if split:
            ctx.say(
                f"reply_trees: {split:,} replies found their parent in another partition (a reply cycle, or "
                "conversation ids that do not follow the replies); the stage runs embedded instead"
            )
            self.shuffled.parts = 0
            return ReplyTrees.run(self, ctx)
        ctx.say(
            f"reply_trees on Dask: {self.shuffled.rows:,} posts in {parts} conversation partition(s), "
            f"{self.shuffled.rounds} pointer-jumping round(s) (keys {self.shuffled.seconds['keys']:.1f} s, "
            f"shuffle and partitions {self.shuffled.seconds['partitions']:.1f} s)"
        )
        return summarize(con)


class DaskRelations(Relations):
    """``relations`` on the cluster, after :class:`DaskReplyTrees` (module docstring)."""

    def __init__(self, shuffled: Shuffled) -> None:
        self.shuffled = shuffled

    def run(self, ctx: Context) -> dict[str, Any]:
        if not self.shuffled.parts:  # reply_trees did not run on the partitions: run embedded
            return Relations.run(self, ctx)
        con = ctx.store.con
        resolve_hosts(ctx)
        hosts = con.execute("SELECT platform, author_id, handle, role, ref FROM hosts").df()
        self.shuffled.relations(hosts, list(ctx.campaign.hashtags_lower))
        con.execute(
            "CREATE OR REPLACE TABLE relations AS "
            f"FROM read_parquet({sql_files(self.shuffled.work / 'relations', '*.parquet')})"
        )
        ctx.say(f"relations on Dask: {self.shuffled.parts} conversation partition(s)")
        return finish(ctx)
