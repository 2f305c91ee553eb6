"""The ``authenticity`` stage: lens 4 inside ``askscope analyze``.

Settings come from ``ctx.settings["authenticity"]`` (a mapping of
:class:`~askscope.authenticity.settings.AuthenticitySettings` fields). It requires only the posts;
it reads the ``relations`` stage's campaign set when it exists (else it works on the window) and
the ``classify`` stage's labels (to find the bursts of hostile posts), so the runner puts it
after those stages when they run.
"""

from __future__ import annotations

from typing import Any

from askscope.authenticity.analysis import TABLES, analyze_authenticity
from askscope.stages.base import Context, Stage


class Authenticity(Stage):
    name = "authenticity"
    description = "co-action networks, null floor, coordinated groups, near-duplicates, bursts, account signals"
    requires = ("posts",)
    reads = ("hosts", "relations", "campaign_window", "labels")
    provides = TABLES

    def run(self, ctx: Context) -> dict[str, Any]:
        return analyze_authenticity(ctx.store, ctx.campaign, ctx.settings.get("authenticity"), progress=ctx.progress)
