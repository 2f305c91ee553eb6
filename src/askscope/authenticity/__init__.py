"""Authenticity (METRICS.md lens 4): coordinated and automated participation.

    from askscope.authenticity import analyze_authenticity, coordinated_account_set
    with askscope.open_store("campaign.duckdb") as store:
        summary = analyze_authenticity(store, campaign)
        accounts = coordinated_account_set(store, "co_repost")
"""

from askscope.authenticity.settings import NETWORKS, AuthenticityError, AuthenticitySettings

__all__ = ["NETWORKS", "AuthenticityError", "AuthenticitySettings"]
