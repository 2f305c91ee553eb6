"""The campaign store: one embedded DuckDB file (:mod:`askscope.store.core`), its schema
(:mod:`~askscope.store.schema`), the batches readers produce (:mod:`~askscope.store.batch`), how
batches are written (:mod:`~askscope.store.write`) and the summary ``askscope info`` prints
(:mod:`~askscope.store.info`).

Modules inside this package import each other directly, never through this file.
"""

from askscope.store.core import (
    LOCKDOWN,
    BatchCounts,
    IngestRecord,
    Store,
    column_names,
    lock_down,
    memory_limit,
    memory_setting,
    now_utc,
    open_store,
    table_names,
)

__all__ = [
    "LOCKDOWN",
    "BatchCounts",
    "IngestRecord",
    "Store",
    "column_names",
    "lock_down",
    "memory_limit",
    "memory_setting",
    "now_utc",
    "open_store",
    "table_names",
]
