"""The ``authenticity`` stage: lens 4 inside ``askscope analyze``.

Settings come from ``ctx.settings["authenticity"]`` (a mapping of
:class:`~askscope.authenticity.settings.AuthenticitySettings` fields). It requires no other
stage: with the ``relations`` stage's table it uses the campaign set, without it the window; with
the classify stage's ``labels`` it also finds the bursts of hostile posts.
"""

from __future__ import annotations

from typing import Any

from askscope.authenticity.analysis import TABLES, analyze_authenticity

# Registered after the stages whose tables it reads when they exist (relations: the campaign set;
# classify: the hostile labels), so a pipeline that runs them runs authenticity after them. It
# requires none of them: alone it works on the campaign window.
from askscope.stages import classify, relations  # noqa: F401, E402  (registration order)
from askscope.stages.base import Context, Stage, register  # noqa: E402


@register
class Authenticity(Stage):
    name = "authenticity"
    description = "co-action networks, null floor, coordinated groups, near-duplicates, bursts, account signals"
    requires = ()
    provides = TABLES

    def run(self, ctx: Context) -> dict[str, Any]:
        return analyze_authenticity(ctx.store, ctx.campaign, ctx.settings.get("authenticity"), progress=ctx.progress)
