"""askscope: evidence for public Q&A and hashtag campaigns.

The library is the product; the ``askscope`` command line is a thin layer over it::

    import askscope

    result = askscope.ingest("campaign.duckdb", ["tweets.jsonl.gz"])
    print(result.totals.new, "new posts")
    with askscope.open_store("campaign.duckdb", read_only=True) as store:
        columns, rows = store.query("SELECT kind, count(*) FROM posts GROUP BY kind")
"""

from askscope._version import __version__
from askscope.errors import (
    AskscopeError,
    InputError,
    QueryError,
    RecordError,
    StoreError,
    StoreVersionError,
    UnknownFormatError,
    UsageError,
)
from askscope.info import store_info
from askscope.ingestion import FileResult, IngestResult, ingest, read_posts
from askscope.post import Account, Post, Reject
from askscope.reparsing import ReparseResult, reparse
from askscope.store import Store, open_store

__all__ = [
    "Account",
    "AskscopeError",
    "FileResult",
    "IngestResult",
    "InputError",
    "Post",
    "QueryError",
    "RecordError",
    "Reject",
    "ReparseResult",
    "Store",
    "StoreError",
    "StoreVersionError",
    "UnknownFormatError",
    "UsageError",
    "__version__",
    "ingest",
    "open_store",
    "read_posts",
    "reparse",
    "store_info",
]
