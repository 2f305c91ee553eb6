"""What a report section and a chart are: the units the HTML and Markdown renderers share.

Both renderers show the sections of :func:`askscope.registry.report_sections` in ``order``; a
section renders from the report document only (stored lens results and stored series), never
from SQL on the campaign's posts. Registered through the ``askscope_report_sections`` and
``askscope_charts`` hooks (:mod:`askscope.hookspecs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    #: Sections are shown in ascending order.
    order: int
    #: The section as Markdown (its ``## title`` included); "" leaves it out.
    markdown: Callable[[dict[str, Any]], str]
    #: The section as HTML; every value taken from the document must be escaped (``Markup``
    #: formatting escapes its arguments). ``Markup("")`` leaves it out.
    html: Callable[[dict[str, Any]], Markup]


@dataclass(frozen=True)
class Chart:
    name: str
    #: The caption (and the image's alt text).
    title: str
    order: int
    #: The chart as image bytes in ``fmt`` (``svg`` or ``png``), or ``None`` without data.
    draw: Callable[[dict[str, Any], str], bytes | None]
