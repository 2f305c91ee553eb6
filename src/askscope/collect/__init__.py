"""Live collection from the platforms' APIs into a campaign store.

One module per platform API (:mod:`~askscope.collect.x`, :mod:`~askscope.collect.mastodon`,
:mod:`~askscope.collect.bluesky`, :mod:`~askscope.collect.reddit`), each a :class:`Plan` of
requests driven by a JSON state; shared HTTP with retries and rate limits
(:mod:`~askscope.collect.http`), the checkpointed writer (:mod:`~askscope.collect.checkpoint`),
the runner (:func:`collect`), the reply-tree completeness report
(:mod:`~askscope.collect.completeness`) and the ``askscope collect`` commands
(:mod:`~askscope.collect.command`). See docs/collect.md.
"""

from askscope.collect.http import CollectError, CredentialsError, HttpClient, Limits, Request
from askscope.collect.plan import Plan
from askscope.collect.runner import CollectResult, collect

__all__ = ["CollectError", "CollectResult", "CredentialsError", "HttpClient", "Limits", "Plan", "Request", "collect"]
