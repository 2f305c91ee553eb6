"""Authenticity (METRICS.md lens 4): coordinated and automated participation.

    import askscope
    from askscope.authenticity import analyze_authenticity, coordinated_account_set

    with askscope.open_store("campaign.duckdb") as store, store.transaction():
        summary = analyze_authenticity(store, campaign, {"tau": 60, "null_runs": 10})
    with askscope.open_store("campaign.duckdb", read_only=True) as store:
        accounts = coordinated_account_set(store, "co_repost")  # {(platform, author_id), ...}

The ``authenticity`` stage (:mod:`askscope.authenticity.stage`) is registered with the other
built-in stages in :mod:`askscope.builtins`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from askscope._lazy import lazy_exports

#: Public name -> module; loaded on first use, so importing this package is cheap.
_EXPORTS = {
    "AuthenticityError": "askscope.authenticity.settings",
    "AuthenticitySettings": "askscope.authenticity.settings",
    "NETWORKS": "askscope.authenticity.settings",
    "TABLES": "askscope.authenticity.analysis",
    "analyze_authenticity": "askscope.authenticity.analysis",
    "coordinated_account_set": "askscope.authenticity.analysis",
}

__all__ = [
    "AuthenticityError",
    "AuthenticitySettings",
    "NETWORKS",
    "TABLES",
    "analyze_authenticity",
    "coordinated_account_set",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers
    from askscope.authenticity.analysis import TABLES, analyze_authenticity, coordinated_account_set
    from askscope.authenticity.settings import NETWORKS, AuthenticityError, AuthenticitySettings


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
