"""Live collection from the platforms' APIs into a campaign store.

One module per platform API (:mod:`~askscope.collect.x`, :mod:`~askscope.collect.mastodon`,
:mod:`~askscope.collect.bluesky`, :mod:`~askscope.collect.reddit`), each a :class:`Plan` of
requests driven by a JSON state; shared HTTP with retries and rate limits
(:mod:`~askscope.collect.http`), the checkpointed writer (:mod:`~askscope.collect.checkpoint`),
the runner (:func:`collect`), the reply-tree completeness report
(:mod:`~askscope.collect.completeness`) and the ``askscope collect`` commands
(:mod:`~askscope.cli.collect`). See docs/collect.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from askscope._lazy import lazy_exports

#: Public name -> module; loaded on first use, so importing this package is cheap.
_EXPORTS = {
    "CollectError": "askscope.collect.http",
    "CollectResult": "askscope.collect.runner",
    "CredentialsError": "askscope.collect.http",
    "HttpClient": "askscope.collect.http",
    "Limits": "askscope.collect.http",
    "Plan": "askscope.collect.plan",
    "Request": "askscope.collect.http",
    "collect": "askscope.collect.runner",
}

__all__ = [
    "CollectError",
    "CollectResult",
    "CredentialsError",
    "HttpClient",
    "Limits",
    "Plan",
    "Request",
    "collect",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers
    from askscope.collect.http import CollectError, CredentialsError, HttpClient, Limits, Request
    from askscope.collect.plan import Plan
    from askscope.collect.runner import CollectResult, collect


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
