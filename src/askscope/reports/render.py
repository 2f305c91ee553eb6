"""Renderers of the report document: JSON (every number, stable keys), Markdown (the same
content as text) and HTML (one self-contained offline file: no script, no external resource,
charts embedded as data-URI images; every post text, name and URL escaped).

Markdown and HTML show the same sections, in the same order: those of
:func:`askscope.registry.report_sections` (askscope's own, :mod:`askscope.reports.builtin_sections`,
and plugins'). The HTML page shell (head, style, title, the campaign line) is the
``report.html`` template; each section brings its own HTML.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from markupsafe import escape

from askscope.reports.format import env, md_escape, when, zone
from askscope.reports.sections import Section
from askscope.timefmt import iso


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if (math.isnan(value) or math.isinf(value)) else value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "isoformat"):
        return iso(value)
    return value


def to_json(doc: dict[str, Any]) -> str:
    """Byte-stable JSON: sorted keys, two-space indent, no NaN."""
    return json.dumps(_clean(doc), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def sections() -> list[Section]:
    """The registered report sections in the order both renderers show them."""
    from askscope import registry

    found: list[Section] = registry.report_sections()
    return found


def window(doc: dict[str, Any]) -> str:
    """The campaign window in the campaign's time zone: "15 Dec 2014 14:00 AEDT to 16 Dec 2014
    14:00 AEDT"; "not known" for a missing end."""
    tz = zone(doc)
    start, end = doc["window"].get("start"), doc["window"].get("end")
    return f"{when(start, tz) or 'not known'} to {when(end, tz) or 'not known'}"


def to_markdown(doc: dict[str, Any]) -> str:
    """The report as Markdown: the campaign line, then every registered section that has
    something to show."""
    lines = [f"# askscope report: {md_escape(doc['campaign']['name'])}", ""]
    if doc["synthetic"]:
        lines += ["**SYNTHETIC DATA**: produced by the askscope simulator; not evidence about any real campaign.", ""]
    if doc.get("pseudonymised"):
        lines += ["Participants' handles are pseudonymised.", ""]
    lines += [
        f"Window: {window(doc)}" + ("" if doc["window"]["from_campaign_file"] else " (from the data)"),
        "Hosts: "
        + ", ".join("@" + md_escape(h["handle"]) + ("" if h["found"] else " (not found)") for h in doc["hosts"]),
        "",
    ]
    for section in sections():
        text = section.markdown(doc).strip("\n")
        if text:
            lines += [text, ""]
    lines += [f"askscope {doc['askscope_version']}; every number is in the JSON report.", ""]
    return "\n".join(lines)


def to_html(doc: dict[str, Any]) -> str:
    """The report as one self-contained HTML page: the shell template around every registered
    section that has something to show."""
    # escape() keeps a section's Markup as it is and escapes a plain string a plugin returned
    parts = [escape(section.html(doc)) for section in sections()]
    return env.get_template("report.html").render(
        doc=doc, window=window(doc), sections=[part for part in parts if part.strip()]
    )


def write_charts(doc: dict[str, Any], folder: str | Path, fmt: str) -> list[Path]:
    """Every chart as a file (``svg`` or ``png``) for papers."""
    from askscope.reports import charts  # matplotlib: loaded only when charts are drawn

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in charts.render_all(doc, fmt).items():
        path = out / f"{name}.{fmt}"
        path.write_bytes(data)
        written.append(path)
    return written
