"""Renderers of the report document: JSON (every number, stable keys), Markdown (the same
content as text) and HTML (one self-contained offline file: no script, no external resource,
charts embedded as data-URI images; every post text, name and URL escaped)."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from askscope.reports import charts
from askscope.reports.verdicts import interval, pct
from askscope.timefmt import iso
from askscope.vocabulary import CATEGORIES


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


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"
    return str(value)


def _minutes(seconds: Any) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"


def _ci(share: Any, percent: bool = True) -> str:
    if not share or not isinstance(share, dict) or not share.get("ci") or share["ci"][0] is None:
        return ""
    low, high = share["ci"][:2]
    return f"{pct(low)}–{pct(high)}" if percent else f"{_num(low)}–{_num(high)}"


def _corrected(share: Any) -> str:
    corrected = share.get("corrected") if isinstance(share, dict) else None
    if not corrected or corrected.get("value") is None:
        return "—"
    return f"{interval(corrected)}"


# --- Markdown ----------------------------------------------------------------------------------


def _md_escape(text: str | None) -> str:
    if text is None:
        return ""
    text = text.replace("\n", " ").replace("|", "\\|")
    for ch in "\\`*_[]<>#":
        text = text.replace(ch, "\\" + ch)
    return text


def to_markdown(doc: dict[str, Any]) -> str:
    b, e = doc["lenses"]["backfire"], doc["lenses"]["engagement"]
    lines = [f"# askscope report: {_md_escape(doc['campaign']['name'])}", ""]
    if doc["synthetic"]:
        lines += ["**SYNTHETIC DATA**: produced by the askscope simulator; not evidence about any real campaign.", ""]
    lines += [
        f"Window: {doc['window']['start']} to {doc['window']['end']}"
        + ("" if doc["window"]["from_campaign_file"] else " (from the data)"),
        "Hosts: "
        + ", ".join("@" + _md_escape(h["handle"]) + ("" if h["found"] else " (not found)") for h in doc["hosts"]),
        "",
    ]
    lines += ["## Verdicts", ""]
    for lens in ("backfire", "engagement", "framing", "authenticity"):
        lines += [f"- **{lens}**: {_md_escape(doc['verdicts'][lens])}"]
    lines += ["", "## Backfire", "", "| metric | value | 95% interval | corrected |", "|---|---:|---|---|"]
    lines.append(f"| campaign posts | {b['volume']['posts']:,} | | |")
    lines.append(f"| participants | {b['volume']['authors']:,} | | |")
    lines.append(
        f"| hostile share | {pct(b['hostile_share']['value'])} | {_ci(b['hostile_share'])} | "
        f"{_corrected(b['hostile_share'])} |"
    )
    for c in CATEGORIES:
        s = b["category_shares"][c]
        lines.append(f"| {c.replace('_', ' ')} | {pct(s['value'])} | {_ci(s)} | {_corrected(s)} |")
    lines.append(
        f"| virality gap (hostile / supportive reposts) | {_num(b['virality_gap']['ratio']['value'])} | "
        f"{_ci(b['virality_gap']['ratio'], percent=False)} | |"
    )
    lines.append(
        f"| host posts ratioed | {pct(b['host_ratio']['share_above_1']['value'])} | "
        f"{_ci(b['host_ratio']['share_above_1'])} | |"
    )
    lines += ["", "## Engagement", "", "| metric | value | 95% interval |", "|---|---:|---|"]
    lines.append(f"| answer rate | {pct(e['answer_rate']['value'])} | {_ci(e['answer_rate'])} |")
    if e["answer_rate"].get("corrected"):
        lines.append(
            f"| answer rate, corrected | {pct(e['answer_rate']['corrected']['value'])} | "
            f"{_ci(e['answer_rate']['corrected'])} |"
        )
    lines.append(
        f"| hostile answer rate | {pct(e['hostile_answer_rate']['value'])} | {_ci(e['hostile_answer_rate'])} |"
    )
    lines.append(
        f"| median latency | {_minutes(e['answer_latency']['median_s']['value'])} | "
        f"{_minutes(e['answer_latency']['median_s']['ci'][0])}–{_minutes(e['answer_latency']['median_s']['ci'][1])} |"
    )
    lines.append(f"| host reply share | {pct(e['host_reply_share']['value'])} | {_ci(e['host_reply_share'])} |")
    lines.append(f"| participants | {e['audience_size']['authors']:,} | |")
    lines += ["", "### Unanswered questions (critical first)", ""]
    for q in doc["top"]["unanswered_questions"]:
        lines.append(f"- [{q['category']}] @{_md_escape(q['author'])}: {_md_escape(q['text'])}")
    lines += ["", "### Most reposted mocking posts", ""]
    for p in doc["top"]["mocking_posts"]:
        lines.append(f"- {p['reposts']} reposts, @{_md_escape(p['author'])}: {_md_escape(p['text'])}")
    lines += ["", "### Host's most reposted answers", ""]
    for p in doc["top"]["host_answers"]:
        lines.append(f"- {p['reposts']} reposts: {_md_escape(p['text'])}")
    frames = doc["lenses"].get("framing", {}).get("frames", {})
    lines += ["", "## Framing", ""]
    if frames:
        lines += ["| frame | host | participants |", "|---|---:|---:|"]
        for name, f in sorted(frames.items()):
            lines.append(f"| {_md_escape(name)} | {interval(f['host'])} | {interval(f['participants'])} |")
    else:
        lines.append("No frames were declared.")
    a = doc["lenses"].get("authenticity")
    lines += ["", "## Authenticity", ""]
    if a:
        lines += [
            "| co-action network | accounts (groups) | share of campaign posts | 95% interval |",
            "|---|---:|---:|---|",
        ]
        for name, n in sorted(a["networks"].items()):
            share = a["coordinated_share"][name]
            lines.append(
                f"| {name.replace('_', ' ')} | {n['coordinated_accounts']} ({n['groups']}) | "
                f"{pct(share['value'])} | {_ci(share)} |"
            )
        share = a["coordinated_share"]["any"]
        lines.append(f"| any network | {a['coordinated_accounts']} | {pct(share['value'])} | {_ci(share)} |")
        if a.get("without_coordinated"):
            w, f = a["without_coordinated"], a["with_all"]
            lines += ["", "| metric | all participants | without coordinated |", "|---|---:|---:|"]
            for label, lens, key in (
                ("hostile share", "backfire", "hostile_share"),
                ("mockery share", "backfire", "mockery_share"),
                ("answer rate", "engagement", "answer_rate"),
                ("hostile answer rate", "engagement", "hostile_answer_rate"),
            ):
                lines.append(f"| {label} | {interval(f[lens][key])} | {interval(w[lens][key])} |")
    else:
        lines.append("Not measured.")
    lines += ["", "## Methods and caveats", ""] + [f"- {_md_escape(c)}" for c in doc["caveats"]]
    validation = doc["lenses"].get("validation") or {}
    if validation.get("shares"):
        lines += [
            "",
            "### Validated against human coding",
            "",
            f"{_md_escape(validation['basis'])}; {_md_escape(validation['method'])}. Posts coded: "
            f"{validation['n_coded']:,} of {validation['n_total']:,}.",
            "",
            "| share | validated (prediction-powered) | coded sample only | model only |",
            "|---|---|---|---|",
        ]
        for label, kinds in sorted(validation["shares"].items()):
            cells = [
                f"{pct(kinds[k]['estimate'])} ({pct(kinds[k]['low'])}–{pct(kinds[k]['high'])})"
                for k in ("ppi", "coded_only", "model_only")
            ]
            lines.append(f"| {label.replace('_', ' ')} | " + " | ".join(cells) + " |")
    elif validation.get("error"):
        lines += ["", f"Human coding: {_md_escape(validation['error'])} ({_md_escape(validation.get('hint'))})"]
    lines += ["", f"askscope {doc['askscope_version']}; every number is in the JSON report.", ""]
    return "\n".join(lines)


# --- HTML --------------------------------------------------------------------------------------

_env = Environment(
    loader=PackageLoader("askscope.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _chart_titles() -> dict[str, str]:
    from askscope import registry

    return {chart.name: chart.title for chart in registry.charts()}


def to_html(doc: dict[str, Any]) -> str:
    images = charts.render_all(doc, "svg")

    def figure(name: str) -> Markup:
        if name not in images:
            return Markup("")
        data = base64.b64encode(images[name]).decode("ascii")
        caption = _chart_titles()[name]
        return Markup(
            '<figure><img alt="{0}" src="data:image/svg+xml;base64,{1}"><figcaption>{0}</figcaption></figure>'
        ).format(caption, Markup(data))

    def posts(rows: list[dict[str, Any]]) -> Markup:
        if not rows:
            return Markup("<p>None.</p>")
        out = [Markup("<table><tr><th>post</th><th class='num'>reposts</th></tr>")]
        for row in rows:
            out.append(
                Markup("<tr><td><div>@{}</div><div class='post'>{}</div></td><td class='num'>{}</td></tr>").format(
                    row.get("author") or "?", row.get("text") or "", row.get("reposts") or 0
                )
            )
        out.append(Markup("</table>"))
        return Markup("").join(out)

    def questions(rows: list[dict[str, Any]]) -> Markup:
        if not rows:
            return Markup("<p>None.</p>")
        out = [Markup("<table><tr><th>category</th><th>question</th><th class='num'>reposts</th><th>answer</th></tr>")]
        for row in rows:
            answer = f"{_minutes(row['latency_s'])} ({row['answer_kind']})" if row.get("answer_id") else "unanswered"
            out.append(
                Markup(
                    "<tr><td>{}</td><td><div>@{}</div><div class='post'>{}</div></td><td class='num'>{}</td>"
                    "<td>{}</td></tr>"
                ).format(
                    (row.get("category") or "").replace("_", " "),
                    row.get("author") or "?",
                    row.get("text") or "",
                    row.get("reposts") or 0,
                    answer,
                )
            )
        out.append(Markup("</table>"))
        return Markup("").join(out)

    template = _env.get_template("report.html")
    return template.render(
        doc=doc,
        categories=CATEGORIES,
        pct=pct,
        ci=_ci,
        corrected=_corrected,
        fmt_num=_num,
        minutes=_minutes,
        figure=figure,
        posts=posts,
        questions=questions,
        escape=escape,
    )


def write_charts(doc: dict[str, Any], folder: str | Path, fmt: str) -> list[Path]:
    """Every chart as a file (``svg`` or ``png``) for papers."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in charts.render_all(doc, fmt).items():
        path = out / f"{name}.{fmt}"
        path.write_bytes(data)
        written.append(path)
    return written
