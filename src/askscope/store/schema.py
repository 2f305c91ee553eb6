"""The campaign store's schema: tables, version and migrations.

The public tables (``posts``, ``accounts``, ``rejects``, ``ingests``, ``meta``) are a contract:
users query them with SQL, so columns are only ever added, never renamed or removed, and every
change bumps :data:`SCHEMA_VERSION` with a migration in :data:`MIGRATIONS`. ``docs/schema.md``
documents every column; a test checks the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import duckdb

from askscope.post import ACCOUNT_COLUMNS, POST_COLUMNS

SCHEMA_VERSION: Final = 3
#: Oldest schema version this askscope can migrate from.
OLDEST_MIGRATABLE: Final = 1

INGEST_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("id", "BIGINT PRIMARY KEY"),
    ("source_file", "VARCHAR"),
    ("source_path", "VARCHAR"),
    ("source_size", "BIGINT"),
    ("source_mtime", "DOUBLE"),
    ("format", "VARCHAR"),
    ("compression", "VARCHAR"),
    ("options", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("bytes", "BIGINT"),
    ("status", "VARCHAR"),
    ("started_at", "TIMESTAMPTZ"),
    ("finished_at", "TIMESTAMPTZ"),
    ("read", "BIGINT"),
    ("new", "BIGINT"),
    ("updated", "BIGINT"),
    ("rejected", "BIGINT"),
    ("context_new", "BIGINT"),
    ("context_updated", "BIGINT"),
    ("accounts_new", "BIGINT"),
    ("accounts_updated", "BIGINT"),
    ("api_errors", "BIGINT"),
    ("askscope_version", "VARCHAR"),
    ("superseded_by", "BIGINT"),
    # schema 2: records already stored that the run left as they were (NULL for runs of schema 1,
    # which counted them as updated)
    ("unchanged", "BIGINT"),
)

REJECT_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("source_file", "VARCHAR"),
    ("source_line", "BIGINT"),
    ("reason", "VARCHAR"),
    ("excerpt", "VARCHAR"),
    ("detail", "VARCHAR"),
    ("item", "INTEGER"),
    ("byte_offset", "BIGINT"),
    ("ingest_id", "BIGINT"),
)

API_ERROR_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("source_file", "VARCHAR"),
    ("source_line", "BIGINT"),
    ("resource_type", "VARCHAR"),
    ("resource_id", "VARCHAR"),
    ("title", "VARCHAR"),
    ("detail", "VARCHAR"),
    ("ingest_id", "BIGINT"),
)

RAW_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("ingest_id", "BIGINT"),
    ("block", "INTEGER"),
    ("first_line", "BIGINT"),
    ("last_line", "BIGINT"),
    ("records", "INTEGER"),
    ("payload", "BLOB"),
    ("part", "INTEGER"),
)
#: The largest piece of a raw block stored in one row: a compressed 8 MiB block is 1-2 MB, and
#: DuckDB checkpointing BLOBs of that size needed more than the ingest's 512 MB buffer (a 1M-post
#: ingest peaked at 1.4 GB); pieces of 64 KiB keep the checkpoint within the buffer.
RAW_PART_BYTES: Final = 64 * 1024

META_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("schema_version", "INTEGER NOT NULL"),
    ("created_at", "TIMESTAMPTZ"),
    ("created_with", "VARCHAR"),
    ("updated_with", "VARCHAR"),
)


def _columns(columns: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f'"{name}" {kind}' for name, kind in columns)


#: The tables every store has (what ingest writes); stages may require them without a provider.
STORE_TABLES = ("meta", "ingests", "posts", "accounts", "rejects", "api_errors", "raw")


def create_statements() -> list[str]:
    """DDL of a new, empty store at :data:`SCHEMA_VERSION`."""
    return [
        f"CREATE TABLE meta ({_columns(META_COLUMNS)})",
        f"CREATE TABLE ingests ({_columns(INGEST_COLUMNS)})",
        f"CREATE TABLE posts ({_columns(POST_COLUMNS)}, PRIMARY KEY (platform, id))",
        f"CREATE TABLE accounts ({_columns(ACCOUNT_COLUMNS)}, PRIMARY KEY (platform, id))",
        f"CREATE TABLE rejects ({_columns(REJECT_COLUMNS)})",
        f"CREATE TABLE api_errors ({_columns(API_ERROR_COLUMNS)})",
        f"CREATE TABLE raw ({_columns(RAW_COLUMNS)})",
    ]


#: Public tables and their columns, for docs and checks.
PUBLIC_TABLES: Final = {
    "posts": POST_COLUMNS,
    "accounts": ACCOUNT_COLUMNS,
    "rejects": REJECT_COLUMNS,
    "api_errors": API_ERROR_COLUMNS,
    "ingests": INGEST_COLUMNS,
    "meta": META_COLUMNS,
    "raw": RAW_COLUMNS,
}

#: ``MIGRATIONS[n]`` upgrades a store from schema ``n`` to ``n + 1`` inside one transaction.
MIGRATIONS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {}


def _add_unchanged(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 1 -> 2: ``ingests.unchanged`` (NULL for the old runs: their ``updated`` includes
    the records that did not change)."""
    con.execute("ALTER TABLE ingests ADD COLUMN unchanged BIGINT")


MIGRATIONS[1] = _add_unchanged


def _add_raw_part(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 2 -> 3: ``raw.part`` (a block is stored in pieces of at most
    :data:`RAW_PART_BYTES`; the old rows are each a whole block, piece 0)."""
    con.execute("ALTER TABLE raw ADD COLUMN part INTEGER")
    con.execute("UPDATE raw SET part = 0")


MIGRATIONS[2] = _add_raw_part
