"""A store as Parquet datasets and back: ``askscope export DB --parquet DIR``, ``askscope import``.

The archive directory holds one dataset per table of the store: ``posts/`` partitioned by
platform and UTC day (hive style, ``posts/platform=x/day=2014-12-15/*.parquet``, posts without a
time in ``day=__HIVE_DEFAULT_PARTITION__``; the files keep
the ``platform`` column and add ``day``, so they read the same with or without hive
partitioning), every other table (``rejects``, ``ingests``, ``labels``, ``relations``,
``lens_results``...) in ``TABLE/*.parquet``, and ``manifest.json``: the archive format, the
store's schema version, the askscope version, and for every table its row count, columns and the
``CREATE TABLE`` statement DuckDB gives for it (so an import rebuilds the same column types).

Both directions write to a temporary sibling first and rename it into place at the end, so an
interrupted export or import leaves nothing half-written under the name asked for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from askscope._version import __version__
from askscope.errors import AskscopeError, StoreBusyError, StoreError, UsageError
from askscope.store.core import Store, memory_setting, open_store, table_names
from askscope.store.schema import SCHEMA_VERSION, STORE_TABLES

ARCHIVE_FORMAT = "askscope-archive"
ARCHIVE_VERSION = 1
MANIFEST = "manifest.json"
#: What the posts dataset is partitioned by (``day``: the UTC date of ``created_at``).
POSTS_PARTITIONS = ("platform", "day")
#: The folder of posts without a creation time (``day`` NULL: Hive's default partition).
NO_DAY = "__HIVE_DEFAULT_PARTITION__"
#: Platform names that may become a directory name.
_PLATFORM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: DuckDB's memory limit while an archive is written or read (``ASKSCOPE_ARCHIVE_MEMORY``). Without
#: one, exporting a 1M-post store peaked at 2.7 GB and importing it at 1.8 GB (DuckDB's buffer
#: grows to 80% of the machine's memory); the sorts and partitioned writes spill instead.
ARCHIVE_MEMORY = "512MB"
#: Rows of ``raw`` (pieces of at most 64 KiB of a compressed input block) per Parquet row group:
#: at most 16 MiB a group. DuckDB's ``COPY`` put the whole table in one row group (513 MiB at 1M
#: posts), which a reader must hold whole, and failed under any memory limit that bounds it.
RAW_ROW_GROUP = 256
#: DuckDB's memory per row of a table with a primary key while an archive is loaded in one
#: transaction: the key's index (ART) is built in memory and held until the commit, which cannot
#: spill. Measured (2 Dec 2026, DuckDB 1.x, a ``(platform, id)`` key as the store's): 3M rows
#: loaded under 512 MB, 10M rows failed under 1 GB and passed under 1.5 GB; a 10M-post archive's
#: analysis failed under the plain 512 MB. The load adds this much per indexed row to the limit.
INDEX_BYTES_PER_ROW = 128


@contextmanager
def archive_lock(folder: str | os.PathLike[str], *, write: bool) -> Iterator[None]:
    """Hold the archive ``folder`` while a command uses it: exclusively for one that writes it
    (an ingest, an analysis), shared for one that reads it (a report, an import), so that a
    writer never replaces the folder under another command (an analysis reads ``posts`` in place
    for its whole run, and its write-back would drop a concurrent ingest's rows). The lock is an
    ``flock`` on the folder itself, released when the process ends however it ends; a folder
    that does not exist yet (a first ingest) has nothing to hold. Raises
    :class:`StoreBusyError` at once when another process holds it the other way."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): the folder is not held
        yield
        return
    path = Path(folder)
    fd = -1
    while path.is_dir():
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if write else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreBusyError(
                f"the archive {path} is in use by another process",
                "wait until the other askscope command on it ends (an ingest or an analysis writes it, "
                "a report or an import reads it), then retry",
            ) from None
        held, now = os.fstat(fd), os.stat(path)
        if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
            break
        os.close(fd)  # the folder was replaced between the open and the lock: hold the new one
        fd = -1
    try:
        yield
    finally:
        if fd >= 0:
            os.close(fd)


@contextmanager
def archive_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's memory limit set to ``ASKSCOPE_ARCHIVE_MEMORY`` for a block, the connection's own
    limit restored after it (to the tenth of a MiB DuckDB shows it in)."""
    limit = memory_setting("ASKSCOPE_ARCHIVE_MEMORY", ARCHIVE_MEMORY)
    before = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        try:
            con.execute(f"SET memory_limit = '{before}'")
        except duckdb.Error:
            pass  # the connection failed; the error on its way says why


def quote_path(path: str | Path) -> str:
    """A path as a SQL string literal (COPY ... TO takes no parameter)."""
    return "'" + str(path).replace("'", "''") + "'"


def quote_name(name: str) -> str:
    """A table or column name as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def day_expression(column: str = "created_at") -> str:
    """SQL for the ``day`` partition of a post: its UTC date as text, NULL without a time (read
    back with hive partitioning, ``day`` is a DATE)."""
    return f"strftime({column} AT TIME ZONE 'UTC', '%Y-%m-%d')"


_GLOB_CHARACTERS = re.compile(r"[*?\[]")


def glob_files(base: str | Path, pattern: str) -> str | list[str]:
    """What DuckDB's Parquet reader should get for the files ``pattern`` matches under the folder
    ``base`` (``*`` and ``**`` in ``pattern`` only): the glob ``base/pattern`` itself, or, when
    ``base`` has a glob character in its name (an archive named ``campaign [2015]``, and the work
    folders named after it), the files listed here: DuckDB would read those characters as a
    pattern and find nothing. No match gives the glob back (DuckDB's "no files found")."""
    joined = str(Path(base) / pattern)
    if not _GLOB_CHARACTERS.search(str(base)):
        return joined
    return sorted(str(p) for p in Path(base).glob(pattern)) or joined


def files_literal(files: str | list[str]) -> str:
    """A glob or a list of files (:func:`glob_files`) as a SQL literal for ``read_parquet(...)``."""
    if isinstance(files, str):
        return quote_path(files)
    return "[" + ", ".join(quote_path(f) for f in files) + "]"


def sql_files(base: str | Path, pattern: str) -> str:
    """:func:`glob_files` as a SQL literal for ``read_parquet(...)``."""
    return files_literal(glob_files(base, pattern))


def dataset_files(folder: str | os.PathLike[str], table: str) -> str | list[str]:
    """A table's Parquet files in an archive, for DuckDB's reader (:func:`glob_files`)."""
    return glob_files(Path(folder) / table, "**/*.parquet" if table == "posts" else "*.parquet")


def is_archive(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an archive directory (it holds a manifest)."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of an archive, checked: an askscope archive of a schema this version reads."""
    path = Path(folder) / MANIFEST
    if not Path(folder).is_dir():
        raise UsageError(f"no archive at {folder}", "give the folder askscope export --parquet wrote")
    if not path.is_file():
        raise UsageError(
            f"{folder} is not an askscope archive (no {MANIFEST})",
            "give the folder askscope export --parquet or askscope ingest --dask wrote",
        )
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path} cannot be read: {exc}", "export the store again") from exc
    if manifest.get("format") != ARCHIVE_FORMAT or not isinstance(manifest.get("tables"), dict):
        raise UsageError(f"{path} is not an askscope archive manifest", "export the store again")
    if manifest.get("archive_version", 0) > ARCHIVE_VERSION or manifest.get("schema_version") != SCHEMA_VERSION:
        raise UsageError(
            f"{folder} holds a store of schema {manifest.get('schema_version')} (archive format "
            f"{manifest.get('archive_version')}, askscope {manifest.get('askscope_version')}); this askscope "
            f"reads schema {SCHEMA_VERSION}",
            "import it with the askscope version that wrote it, then migrate the store by opening it with this one",
        )
    return manifest


def _fresh_folder(out: Path) -> Path:
    """The temporary sibling an export writes into; ``out`` must be absent or an empty folder."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists and is not an empty folder", "give a new folder name for the archive")
    if not out.parent.is_dir():
        raise UsageError(f"folder {out.parent} does not exist", "create it first or choose another path")
    partial = out.parent / f".{out.name}.partial-{os.getpid()}"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    return partial


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, str]]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [{"name": name, "type": kind} for name, kind in rows]


def write_tables(con: duckdb.DuckDBPyConnection, folder: Path, tables: list[str]) -> dict[str, Any]:
    """Write ``tables`` of the connection's current database as datasets under ``folder``;
    return their manifest entries."""
    entries: dict[str, Any] = {}
    if "posts" in tables:
        bad = [
            p
            for (p,) in con.execute("SELECT DISTINCT platform FROM posts").fetchall()
            if p is None or not _PLATFORM.match(p)
        ]
        if bad:
            raise AskscopeError(
                f"posts with platform {bad[0]!r} cannot be a partition folder name",
                "platforms are letters, digits, - and _; fix them with askscope reparse or SQL first",
            )
    with archive_memory(con):
        for table in tables:
            rows = int(con.execute(f"SELECT count(*) FROM {quote_name(table)}").fetchall()[0][0])
            target = folder / table
            if table == "posts":
                if rows:
                    copy_posts(con, target)
                else:
                    target.mkdir()
            elif table == "raw":
                target.mkdir()
                copy_raw(con, target / "part-0.parquet")
            else:
                target.mkdir()
                con.execute(
                    f"COPY (SELECT * FROM {quote_name(table)}) TO {quote_path(target / 'part-0.parquet')} (FORMAT PARQUET)"
                )
            entries[table] = table_entry(con, table, rows)
    return entries


def copy_raw(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Write the ``raw`` table to ``path`` streamed in row groups of :data:`RAW_ROW_GROUP` pieces,
    in the table's order (DuckDB's ``COPY`` of these BLOBs failed under a 512 MB limit)."""
    reader = con.sql("SELECT * FROM raw").to_arrow_reader(RAW_ROW_GROUP)
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch, row_group_size=RAW_ROW_GROUP)


def copy_posts(con: duckdb.DuckDBPyConnection, target: Path, pattern: str = "part-{i}") -> None:
    """Write the connection's posts under ``target`` as the archive lays them out: partitioned by
    platform and day, sorted by ``(platform, id)``, files named by ``pattern``."""
    con.execute(
        f"COPY (SELECT *, {day_expression()} AS day FROM posts ORDER BY platform, id) TO "
        f"{quote_path(target)} (FORMAT PARQUET, PARTITION_BY (platform, day), "
        f"WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN {quote_path(pattern)})"
    )


def table_entry(con: duckdb.DuckDBPyConnection, table: str, rows: int) -> dict[str, Any]:
    """The manifest entry of ``table`` (its columns and ``CREATE`` statement from the connection's
    table) holding ``rows`` rows."""
    create = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE schema_name = current_schema() AND table_name = ?", [table]
    ).fetchall()[0][0]
    return {
        "rows": rows,
        "columns": _columns(con, table),
        "create": create,
        "partitioned_by": list(POSTS_PARTITIONS) if table == "posts" else [],
    }


def manifest_for(entries: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The manifest of an archive holding ``entries``."""
    return {
        "format": ARCHIVE_FORMAT,
        "archive_version": ARCHIVE_VERSION,
        "schema_version": SCHEMA_VERSION,
        "askscope_version": __version__,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tables": entries,
        **extra,
    }


def publish(partial: Path, out: Path) -> None:
    """Move a finished archive folder into place (``out`` absent or an empty folder)."""
    if out.exists():
        out.rmdir()
    os.replace(partial, out)


def export_store(db: str | os.PathLike[str], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Write every table of the store ``db`` as Parquet datasets in the new folder ``out``.

    Returns the manifest (also written as ``out/manifest.json``)."""
    target = Path(out)
    partial = _fresh_folder(target)
    try:
        with open_store(db, read_only=True) as store:
            entries = write_tables(store.con, partial, sorted(table_names(store.con)))
        manifest = manifest_for(entries, source=os.path.basename(os.fspath(db)))
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        publish(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def load_tables(
    con: duckdb.DuckDBPyConnection,
    folder: str | os.PathLike[str],
    manifest: dict[str, Any],
    *,
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> None:
    """Fill the connection's current database from the archive's datasets (all tables, or
    ``only`` these, less ``skip``): a store table is emptied and filled (the store made it); any
    other table is created by its manifest statement first. Row counts are checked against the
    manifest."""
    existing = table_names(con)
    for table, entry in sorted(manifest["tables"].items()):
        if table in skip or (only is not None and table not in only):
            continue
        if table not in existing:
            con.execute(entry["create"])
        elif table in STORE_TABLES:
            con.execute(f"DELETE FROM {quote_name(table)}")
        if entry["rows"]:
            names = ", ".join(quote_name(c["name"]) for c in entry["columns"])
            # a reader holds a whole row group, and DuckDB needed 3-6 times its size: an archive
            # written before raw's row groups were bounded has the whole table in one (513 MiB
            # at 1M posts), for which the limit makes room
            limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
            largest = largest_row_group(folder, table)
            if 8 * largest > size_bytes(limit):
                con.execute(f"SET memory_limit = '{(size_bytes(limit) + 4 * largest + (32 << 20)) >> 20}MiB'")
            con.execute(
                f"INSERT INTO {quote_name(table)} ({names}) SELECT {names} FROM read_parquet(?, hive_partitioning = false)"
                + (" ORDER BY platform, id" if table == "posts" else ""),
                [dataset_files(folder, table)],
            )
            con.execute(f"SET memory_limit = '{limit}'")
        found = int(con.execute(f"SELECT count(*) FROM {quote_name(table)}").fetchall()[0][0])
        if found != entry["rows"]:
            raise StoreError(
                f"the archive's {table} has {found:,} rows, its manifest says {entry['rows']:,}",
                "the archive is incomplete or was changed after it was written; export it again",
            )


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)\s*", re.IGNORECASE)
_UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def size_bytes(text: str) -> int:
    """Bytes of a DuckDB memory size such as ``512MB`` or ``488.2 MiB``."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a memory size: {text!r}")
    return int(float(match[1]) * _UNITS[match[2].upper()])


def largest_row_group(folder: str | os.PathLike[str], table: str) -> int:
    """Uncompressed bytes of the largest Parquet row group of ``table`` in the archive (0 without
    files), from the files' footers."""
    base = Path(folder) / table
    files = base.glob("**/*.parquet" if table == "posts" else "*.parquet")
    sizes = [
        meta.row_group(i).total_byte_size
        for meta in (pq.ParquetFile(f).metadata for f in files)
        for i in range(meta.num_row_groups)
    ]
    return max(sizes, default=0)


def load_archive(
    con: duckdb.DuckDBPyConnection,
    folder: str | os.PathLike[str],
    manifest: dict[str, Any],
    *,
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> None:
    """:func:`load_tables` in one transaction under the archive's memory limit, the commit
    included (committing a 1M-post load without it took the process from 0.6 to 1.4 GB), plus
    room for the primary-key indexes of the rows loaded (:data:`INDEX_BYTES_PER_ROW`)."""
    with archive_memory(con):
        indexed = {
            name
            for (name,) in con.execute(
                "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE schema_name = current_schema() "
                "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
            ).fetchall()
        }
        rows = sum(
            int(entry["rows"])
            for table, entry in manifest["tables"].items()
            if table in indexed and table not in skip and (only is None or table in only)
        )
        if rows:
            limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
            con.execute(f"SET memory_limit = '{(size_bytes(limit) + rows * INDEX_BYTES_PER_ROW) >> 20}MiB'")
        con.execute("BEGIN TRANSACTION")
        load_tables(con, folder, manifest, skip=skip, only=only)
        con.execute("COMMIT")


def view_tables(
    con: duckdb.DuckDBPyConnection, folder: str | os.PathLike[str], manifest: dict[str, Any], tables: tuple[str, ...]
) -> tuple[str, ...]:
    """Make each of ``tables`` that the archive holds rows of a view over its Parquet files (read
    in place: nothing is copied into the store); returns the tables made views. A table the
    archive has no rows of stays the store's (empty) table. The view's columns must be the
    manifest's, and its rows as many as the manifest says (checked from the files' footers)."""
    existing = table_names(con)
    viewed = []
    for table in tables:
        entry = manifest["tables"].get(table)
        if entry is None or not entry["rows"]:
            continue
        if table in existing:
            con.execute(f"DROP TABLE {quote_name(table)}")
        names = ", ".join(quote_name(c["name"]) for c in entry["columns"])
        files = files_literal(dataset_files(folder, table))
        try:
            con.execute(
                f"CREATE VIEW {quote_name(table)} AS SELECT {names} FROM "
                f"read_parquet({files}, hive_partitioning = false)"
            )
            matches = _columns(con, table) == entry["columns"]
        except duckdb.BinderException:  # a column the files lack
            matches = False
        if not matches:
            raise StoreError(
                f"the archive's {table} files do not have the columns its manifest gives",
                "the archive is incomplete or was changed after it was written; export it again",
            )
        found = int(con.execute(f"SELECT count(*) FROM {quote_name(table)}").fetchall()[0][0])
        if found != entry["rows"]:
            raise StoreError(
                f"the archive's {table} has {found:,} rows, its manifest says {entry['rows']:,}",
                "the archive is incomplete or was changed after it was written; export it again",
            )
        viewed.append(table)
    return tuple(viewed)


def import_archive(folder: str | os.PathLike[str], db: str | os.PathLike[str]) -> dict[str, int]:
    """Make the new store ``db`` from the archive ``folder`` (held shared while it is read:
    :func:`archive_lock`); returns rows per table."""
    with archive_lock(folder, write=False):
        return _import_archive(folder, db)


def _import_archive(folder: str | os.PathLike[str], db: str | os.PathLike[str]) -> dict[str, int]:
    manifest = read_manifest(folder)
    target = Path(db)
    if target.exists():
        raise UsageError(f"{target} already exists", "import makes a new store: give a new file name")
    partial = target.parent / f".{target.name}.importing-{os.getpid()}"
    for stale in (partial, Path(str(partial) + ".wal")):
        stale.unlink(missing_ok=True)
    try:
        store: Store = open_store(partial)
        try:
            load_archive(store.con, folder, manifest)
            with archive_memory(store.con):
                store.con.execute("CHECKPOINT")
        finally:
            store.close()
        os.replace(partial, target)
    except BaseException:
        for stale in (partial, Path(str(partial) + ".wal")):
            stale.unlink(missing_ok=True)
        raise
    return {table: int(entry["rows"]) for table, entry in manifest["tables"].items()}
