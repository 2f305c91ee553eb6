"""The ``answers`` stage on Dask: the conversation partitions of :mod:`askscope.archive.dask_stages`
(made by ``reply_trees``), each analysed by the embedded stage's own SQL on an in-memory DuckDB,
and a second pass, keyed by the answer's conversation, for what a partition cannot see.

**Which inputs cross conversations** (``stages/answers.py``; a reply tree never spans two
partitions, which ``DaskReplyTrees`` checks, falling back to the embedded stage when one does):

* the question's own rows (``ELIGIBLE_SQL``: its relation, its post, its question and discourse
  labels) are the question's, in its partition;
* a host ``reply`` to the question, and the ``thread`` rule's walk up from a host reply, follow
  ``threads`` parents: the same tree, the same partition; so does the ``direct`` set of
  ``ANSWERED_POSTS_SQL`` (the parents of host replies);
* a host post that **quotes** the question may sit in any conversation: the host's posts of every
  other partition (the shuffled columns, ``dask_stages.COLUMNS``) are added to each partition's
  ``posts``, as the relations pass does (they have no ``threads`` row there, so they count only
  as quotes), and every question sees all its candidate answers and picks the first exactly as
  the embedded stage does;
* the **follow-ups** (``ANSWERS_SQL``: the asker's first reply to the answer, the host's first
  reply to that) live in the answer's conversation. For an answer from another partition (a
  quote) that is another partition: the question's ``_eligible`` and ``_first_answers`` rows are
  sent to the answer's partition, which runs ``ANSWERS_SQL`` on them, and its rows replace the
  first pass's (identical but for the follow-up columns).

**What stays in one process**: ``relations`` (completed by ``relations.finish`` in the store),
``labels`` (the classify stage's, question and discourse tasks only: the two ``ELIGIBLE_SQL``
joins) and the host's posts are read from the analysis's store and written once, split by
partition (a streaming DuckDB ``COPY ... PARTITION_BY``; the map post -> partition comes from the
partitions' files); ``hosts`` is sent whole. The partitions' tables are then concatenated in
``(platform, question_id)`` order, the order of the embedded tables, and the summary is the
embedded stage's query on them. A relation or label row that finds no partition (the store and
the partitions disagreeing about the posts) makes the stage say so and run embedded.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path
from typing import Any

import duckdb

from askscope.archive.dask_stages import COLUMNS, Shuffled
from askscope.archive.parquet import quote_name, quote_path, sql_files
from askscope.stages.answers import ANSWERS_SQL, STATEMENTS, Answers, summarize
from askscope.stages.base import Context

#: The label tasks ``ELIGIBLE_SQL`` joins (the only labels a partition needs).
LABEL_TASKS = ("question", "discourse")
#: The work folder's subfolders of this stage (under the shuffle's work folder).
INPUTS, FIRST, SECOND = "answers_in", "answers_parts", "answers_follow_ups"


def _part_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def _load(con: duckdb.DuckDBPyConnection, table: str, folder: Path, columns: list[tuple[str, str]]) -> None:
    """The table ``table`` from the partition's slice ``folder`` (a ``PARTITION_BY`` folder, absent
    when the partition holds no row of it), with the store's columns either way."""
    con.execute(f"CREATE TABLE {table} ({', '.join(f'{quote_name(n)} {t}' for n, t in columns)})")
    if folder.is_dir():
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT * FROM "
            f"read_parquet({sql_files(folder, '*.parquet')}, hive_partitioning = false)"
        )


def _partition(con: duckdb.DuckDBPyConnection, number: int, work: Path) -> None:
    """The partition's posts (without the host's posts of other partitions), threads and hosts."""
    name = _part_name(number)
    con.execute(f"CREATE TABLE posts AS FROM read_parquet({quote_path(work / 'conversation' / name)})")
    con.execute(f"CREATE TABLE threads AS FROM read_parquet({quote_path(work / 'threads' / name)})")
    con.execute(f"CREATE TABLE hosts AS FROM read_parquet({quote_path(work / INPUTS / 'hosts.parquet')})")


def _answers_part(number: int, work_dir: str, schemas: dict[str, list[tuple[str, str]]]) -> Any:
    """First pass, one conversation partition: the stage's four statements on its posts (with the
    host's posts of every other partition added), threads, relations, labels and the hosts; its
    ``answers`` and ``answered_posts`` written under fixed names. Returns, for the questions whose
    answer is a post of another partition, their ``_eligible`` and ``_first_answers`` rows with
    that partition's number (``to_part``), as two Arrow tables, or None when there are none."""
    work = Path(work_dir)
    con = duckdb.connect()
    try:
        _partition(con, number, work)
        for table in ("relations", "labels"):
            _load(con, table, work / INPUTS / table / f"part={number}", schemas[table])
        con.execute(
            "CREATE TABLE _foreign AS FROM read_parquet($path) WHERE part <> $number",
            {"path": str(work / INPUTS / "host_posts.parquet"), "number": number},
        )
        con.execute("INSERT INTO posts BY NAME SELECT * EXCLUDE (part) FROM _foreign")
        for sql in STATEMENTS:
            con.execute(sql)
        name = _part_name(number)
        for table in ("answers", "answered_posts"):
            con.execute(f"COPY {table} TO {quote_path(work / FIRST / table / name)} (FORMAT parquet)")
        con.execute(
            "CREATE TEMP TABLE _elsewhere AS SELECT a.platform, a.question_id, f.part AS to_part FROM answers a "
            "JOIN _foreign f ON f.platform = a.platform AND f.id = a.answer_id"
        )
        if not con.execute("SELECT count(*) FROM _elsewhere").fetchall()[0][0]:
            return None
        return tuple(
            con.sql(
                f"SELECT x.to_part, t.* FROM {temp} t JOIN _elsewhere x "
                "ON x.platform = t.platform AND x.question_id = t.question_id"
            ).to_arrow_table()
            for temp in ("_eligible", "_first_answers")
        )
    finally:
        con.close()


def _follow_ups_part(number: int, work_dir: str, eligible: Any, first: Any) -> int:
    """Second pass, the partition of answers that questions of other partitions got: ``ANSWERS_SQL``
    on those questions' rows with this partition's posts and threads (where the asker's follow-up
    to the answer, and the host's reply to it, live); its ``answers`` rows written."""
    work = Path(work_dir)
    con = duckdb.connect()
    try:
        _partition(con, number, work)
        con.register("_eligible_in", eligible)
        con.register("_first_in", first)
        con.execute("CREATE TEMP TABLE _eligible AS SELECT * EXCLUDE (to_part) FROM _eligible_in")
        con.execute("CREATE TEMP TABLE _first_answers AS SELECT * EXCLUDE (to_part) FROM _first_in")
        con.execute(ANSWERS_SQL)
        out = work / SECOND / _part_name(number)
        con.execute(f"COPY answers TO {quote_path(out)} (FORMAT parquet)")
        rows: int = con.execute("SELECT count(*) FROM answers").fetchall()[0][0]
    finally:
        con.close()
    return rows


class DaskAnswers(Answers):
    """``answers`` on the cluster, after :class:`~askscope.archive.dask_stages.DaskReplyTrees`
    (module docstring); the tables and the summary are the embedded stage's."""

    def __init__(self, shuffled: Shuffled) -> None:
        self.shuffled = shuffled
        #: Questions whose first answer came from another partition (the second pass's rows).
        self.elsewhere = 0

    def run(self, ctx: Context) -> dict[str, Any]:
        if not self.shuffled.parts:  # reply_trees did not run on the partitions: run embedded
            return Answers.run(self, ctx)
        work = self.shuffled.work
        for sub in (INPUTS, FIRST, SECOND):
            shutil.rmtree(work / sub, ignore_errors=True)
        for sub in (INPUTS, f"{FIRST}/answers", f"{FIRST}/answered_posts", SECOND):
            (work / sub).mkdir(parents=True)
        if not self._split(ctx):
            ctx.say(
                "answers: relations or labels of posts that no conversation partition holds (the store and the "
                "partitions disagree); the stage runs embedded instead"
            )
            return Answers.run(self, ctx)
        self._passes(ctx)
        con = ctx.store.con
        first = sql_files(work / FIRST / "answers", "*.parquet")
        second = sorted((work / SECOND).glob("*.parquet"))
        if second:
            redone = sql_files(work / SECOND, "*.parquet")
            source = (
                f"(FROM read_parquet({first}) a WHERE NOT EXISTS (SELECT 1 FROM read_parquet({redone}) s "
                f"WHERE s.platform = a.platform AND s.question_id = a.question_id) "
                f"UNION ALL FROM read_parquet({redone}))"
            )
        else:
            source = f"read_parquet({first})"
        con.execute(f"CREATE OR REPLACE TABLE answers AS FROM {source} ORDER BY platform, question_id")
        con.execute(
            "CREATE OR REPLACE TABLE answered_posts AS "
            f"FROM read_parquet({sql_files(work / FIRST / 'answered_posts', '*.parquet')}) ORDER BY platform, post_id"
        )
        ctx.say(
            f"answers on Dask: {self.shuffled.parts} conversation partition(s); {self.elsewhere:,} question(s) "
            "answered from another partition, their follow-ups found in the answer's partition"
        )
        return summarize(con)

    def _split(self, ctx: Context) -> bool:
        """Write the partitions' slices of ``relations`` and ``labels``, the host's posts with their
        partition, and ``hosts``; False when a relation or label row finds no partition."""
        con, inputs = ctx.store.con, self.shuffled.work / INPUTS
        parts = sql_files(self.shuffled.work / "conversation", "part-*.parquet")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _answers_map AS SELECT platform, id, "
            r"regexp_extract(filename, 'part-([0-9]+)\.parquet$', 1)::INTEGER AS part "
            f"FROM read_parquet({parts}, filename = true)"
        )
        try:
            made = con.execute(
                f"COPY (SELECT r.*, m.part FROM relations r JOIN _answers_map m "
                "ON m.platform = r.platform AND m.id = r.post_id) "
                f"TO {quote_path(inputs / 'relations')} (FORMAT parquet, PARTITION_BY (part))"
            ).fetchall()[0][0]
            labelled = con.execute(
                f"COPY (SELECT l.*, m.part FROM labels l JOIN _answers_map m "
                "ON m.platform = l.platform AND m.id = l.post_id WHERE l.task IN (SELECT unnest($tasks))) "
                f"TO {quote_path(inputs / 'labels')} (FORMAT parquet, PARTITION_BY (part))",
                {"tasks": list(LABEL_TASKS)},
            ).fetchall()[0][0]
            con.execute(
                f"COPY (SELECT {', '.join('p.' + c for c in COLUMNS)}, m.part FROM posts p "
                "JOIN _answers_map m ON m.platform = p.platform AND m.id = p.id "
                "WHERE EXISTS (SELECT 1 FROM hosts h WHERE h.author_id IS NOT NULL AND h.platform = p.platform "
                f"AND h.author_id = p.author_id)) TO {quote_path(inputs / 'host_posts.parquet')} (FORMAT parquet)"
            )
            con.execute(f"COPY hosts TO {quote_path(inputs / 'hosts.parquet')} (FORMAT parquet)")
            expected = con.execute(
                "SELECT (SELECT count(*) FROM relations), "
                "(SELECT count(*) FROM labels WHERE task IN (SELECT unnest($tasks)))",
                {"tasks": list(LABEL_TASKS)},
            ).fetchall()[0]
        finally:
            con.execute("DROP TABLE IF EXISTS _answers_map")
        return (made, labelled) == expected

    def _passes(self, ctx: Context) -> None:
        """The first pass on every partition, then the second on the partitions whose answers
        questions of other partitions got."""
        pa: Any = importlib.import_module("pyarrow")  # no stubs in the environment: Any

        con, client, work = ctx.store.con, self.shuffled.client, str(self.shuffled.work)
        schemas = {
            table: [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]
            for table in ("relations", "labels")
        }
        futures = [
            client.submit(_answers_part, i, work, schemas, pure=False, retries=1) for i in range(self.shuffled.parts)
        ]
        found = [f.result() for f in futures]
        found = [x for x in found if x is not None]
        self.elsewhere = 0
        if not found:
            return
        eligible = pa.concat_tables([x[0] for x in found])
        first = pa.concat_tables([x[1] for x in found])
        self.elsewhere = eligible.num_rows
        pc: Any = importlib.import_module("pyarrow.compute")
        targets = sorted(set(eligible.column("to_part").to_pylist()))
        futures = [
            client.submit(
                _follow_ups_part,
                part,
                work,
                eligible.filter(pc.equal(eligible.column("to_part"), part)),
                first.filter(pc.equal(first.column("to_part"), part)),
                pure=False,
                retries=1,
            )
            for part in targets
        ]
        for f in futures:
            f.result()
