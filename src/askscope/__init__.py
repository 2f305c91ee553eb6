"""askscope: evidence for public Q&A and hashtag campaigns.

The library does everything the command line does; the ``askscope`` command is a thin layer
over it::

    import askscope

    result = askscope.ingest("campaign.duckdb", ["tweets.jsonl.gz"])
    print(result.totals.new, "new posts")
    askscope.analyze("campaign.duckdb", "campaign.toml")
    html = askscope.report("campaign.duckdb", format="html")
    metrics = askscope.query("campaign.duckdb", "SELECT * FROM metrics")  # a pyarrow Table
    posts = askscope.posts("campaign.duckdb", category="mockery")        # a pyarrow Table

Names are loaded on first use (PEP 562), so ``import askscope`` is cheap and has no side effects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from askscope._lazy import lazy_exports
from askscope._version import __version__

#: Public name -> module that defines it.
_EXPORTS = {
    "AskscopeError": "askscope.errors",
    "InputError": "askscope.errors",
    "QueryError": "askscope.errors",
    "RecordError": "askscope.errors",
    "StoreError": "askscope.errors",
    "StoreVersionError": "askscope.errors",
    "UnknownFormatError": "askscope.errors",
    "UsageError": "askscope.errors",
    "Account": "askscope.post",
    "Post": "askscope.post",
    "Reject": "askscope.post",
    "FileResult": "askscope.ingestion.engine",
    "IngestResult": "askscope.ingestion.engine",
    "ingest": "askscope.ingestion.engine",
    "read_posts": "askscope.ingestion.engine",
    "ReparseResult": "askscope.ingestion.reparse",
    "reparse": "askscope.ingestion.reparse",
    "Store": "askscope.store.core",
    "open_store": "askscope.store.core",
    "store_info": "askscope.store.info",
    "Campaign": "askscope.campaign",
    "load_campaign": "askscope.campaign",
    "analyze": "askscope.analysis",
    "report": "askscope.reports",
    "query": "askscope.queries",
    "posts": "askscope.queries",
    "metrics": "askscope.queries",
    "lens_results": "askscope.queries",
    "hookimpl": "askscope.hookspecs",
}

__all__ = [
    "Account",
    "AskscopeError",
    "Campaign",
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
    "analyze",
    "hookimpl",
    "ingest",
    "lens_results",
    "load_campaign",
    "metrics",
    "open_store",
    "posts",
    "query",
    "read_posts",
    "reparse",
    "report",
    "store_info",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors
    from askscope.analysis import analyze
    from askscope.campaign import Campaign, load_campaign
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
    from askscope.hookspecs import hookimpl
    from askscope.ingestion.engine import FileResult, IngestResult, ingest, read_posts
    from askscope.ingestion.reparse import ReparseResult, reparse
    from askscope.post import Account, Post, Reject
    from askscope.queries import lens_results, metrics, posts, query
    from askscope.reports import report
    from askscope.store.core import Store, open_store
    from askscope.store.info import store_info


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
