"""Authenticity (METRICS.md lens 4): coordinated and automated participation.

    import askscope
    from askscope.authenticity import analyze_authenticity, coordinated_account_set

    with askscope.open_store("campaign.duckdb") as store, store.transaction():
        summary = analyze_authenticity(store, campaign, {"tau": 60, "null_runs": 10})
    with askscope.open_store("campaign.duckdb", read_only=True) as store:
        accounts = coordinated_account_set(store, "co_repost")  # {(platform, author_id), ...}

Importing :mod:`askscope.authenticity.stage` registers the ``authenticity`` stage (``askscope
authenticity`` does; ``askscope.analyze`` does once it is listed among its built-in stages).
"""

from askscope.authenticity.analysis import TABLES, analyze_authenticity, coordinated_account_set
from askscope.authenticity.settings import NETWORKS, AuthenticityError, AuthenticitySettings

__all__ = [
    "NETWORKS",
    "TABLES",
    "AuthenticityError",
    "AuthenticitySettings",
    "analyze_authenticity",
    "coordinated_account_set",
]
