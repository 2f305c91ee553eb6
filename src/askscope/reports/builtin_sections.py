"""askscope's own report sections (:data:`SECTIONS`), registered through the
``askscope_report_sections`` hook like a plugin's: verdicts, the four lenses, and methods.

Each section renders the report document only (stored lens results, never the campaign's
tables) to Markdown and to HTML, under the same title, and renders nothing in either format
when its lens is absent (an analysis without authenticity has no authenticity section). The HTML
of a section is a Jinja fragment in ``templates/sections/`` with autoescaping on, or
``Markup.format``, which escapes its arguments: every value from the document is escaped.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from askscope.reports.format import ci, corrected, env, interval, md_escape, minutes, num, pct
from askscope.reports.sections import Section
from askscope.vocabulary import CATEGORIES

VERDICT_LENSES = ("backfire", "engagement", "framing", "authenticity")
#: (label, lens, key) of the lenses' numbers shown again without the coordinated accounts.
WITHOUT_ROWS = (
    ("hostile share", "backfire", "hostile_share"),
    ("mockery share", "backfire", "mockery_share"),
    ("answer rate", "engagement", "answer_rate"),
    ("hostile answer rate", "engagement", "hostile_answer_rate"),
)


def _lens(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    lens: dict[str, Any] | None = (doc.get("lenses") or {}).get(name)
    return lens


def _heading(title: str, level: int = 2) -> list[str]:
    return ["#" * level + " " + md_escape(title), ""]


def _figure(doc: dict[str, Any], name: str) -> Markup:
    """The registered chart ``name`` as an embedded SVG image with its caption; nothing without
    data."""
    import base64

    from askscope.reports.charts import render_one

    drawn = render_one(doc, name, "svg")
    if drawn is None:
        return Markup("")
    title, data = drawn
    return Markup(
        '<figure><img alt="{0}" src="data:image/svg+xml;base64,{1}"><figcaption>{0}</figcaption></figure>'
    ).format(title, Markup(base64.b64encode(data).decode("ascii")))


def _posts_html(rows: list[dict[str, Any]]) -> Markup:
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


def _answer(row: dict[str, Any]) -> str:
    return f"{minutes(row['latency_s'])} ({row['answer_kind']})" if row.get("answer_id") else "unanswered"


def _questions_html(rows: list[dict[str, Any]]) -> Markup:
    if not rows:
        return Markup("<p>None.</p>")
    out = [Markup("<table><tr><th>category</th><th>question</th><th class='num'>reposts</th><th>answer</th></tr>")]
    for row in rows:
        out.append(
            Markup(
                "<tr><td>{}</td><td><div>@{}</div><div class='post'>{}</div></td><td class='num'>{}</td>"
                "<td>{}</td></tr>"
            ).format(
                (row.get("category") or "").replace("_", " "),
                row.get("author") or "?",
                row.get("text") or "",
                row.get("reposts") or 0,
                _answer(row),
            )
        )
    out.append(Markup("</table>"))
    return Markup("").join(out)


def _render(template: str, doc: dict[str, Any], title: str, **extra: Any) -> Markup:
    return Markup(
        env.get_template(f"sections/{template}.html").render(
            doc=doc,
            title=title,
            categories=CATEGORIES,
            figure=lambda name: _figure(doc, name),
            posts=_posts_html,
            questions=_questions_html,
            top=_lens(doc, "posts"),
            **extra,
        )
    )


# --- verdicts -----------------------------------------------------------------------------------

VERDICTS_TITLE = "Verdicts"


def verdicts_md(doc: dict[str, Any]) -> str:
    lines = _heading(VERDICTS_TITLE)
    lines += [f"- **{lens}**: {md_escape(doc['verdicts'][lens])}" for lens in VERDICT_LENSES]
    return "\n".join(lines)


def verdicts_html(doc: dict[str, Any]) -> Markup:
    return _render("verdicts", doc, VERDICTS_TITLE, lenses=VERDICT_LENSES)


# --- backfire -----------------------------------------------------------------------------------

BACKFIRE_TITLE = "Backfire: what the press counted"


def _posts_md(title: str, rows: list[dict[str, Any]], host: bool = False) -> list[str]:
    lines = ["", *_heading(title, 3)]
    for p in rows:
        who = "" if host else f", @{md_escape(p['author'])}"
        lines.append(f"- {p['reposts']} reposts{who}: {md_escape(p['text'])}")
    return lines if rows else [*lines, "None."]


def backfire_md(doc: dict[str, Any]) -> str:
    b = _lens(doc, "backfire")
    if not b:
        return ""
    lines = _heading(BACKFIRE_TITLE)
    lines += ["| metric | value | 95% interval | corrected |", "|---|---:|---|---|"]
    volume = b["volume"]
    lines.append(
        f"| campaign posts (audience / host) | {volume['posts']:,} | "
        f"{volume['audience_posts']:,} / {volume['host_posts']:,} | |"
    )
    lines.append(f"| participants | {volume['authors']:,} | | |")
    peak = volume.get("peak_hour")
    lines.append(
        f"| posts per hour (peak hour) | {num(volume.get('posts_per_hour'))} | "
        + (f"{peak['posts']} at {peak['start']}" if peak else "")
        + " | |"
    )
    lines.append(
        f"| hostile share | {pct(b['hostile_share']['value'])} | {ci(b['hostile_share'])} | "
        f"{corrected(b['hostile_share'])} |"
    )
    for c in CATEGORIES:
        s = b["category_shares"][c]
        lines.append(f"| {c.replace('_', ' ')} | {pct(s['value'])} | {ci(s)} | {corrected(s)} |")
    gap = b["virality_gap"]
    lines.append(
        f"| virality gap (hostile / supportive reposts) | {num(gap['ratio']['value'])} | "
        f"{ci(gap['ratio'], percent=False)} | |"
    )
    weighted = gap["repost_weighted_hostile_share"]
    lines.append(f"| repost-weighted hostile share | {pct(weighted['value'])} | {ci(weighted)} | |")
    ratioed = b["host_ratio"]["share_above_1"]
    lines.append(f"| host posts ratioed | {pct(ratioed['value'])} | {ci(ratioed)} | |")
    capture = b["capture"]
    for label, key in (
        ("hashtag taken over (hashtag-only, not supportive)", "hashtag_only_not_supportive"),
        ("host's share of the hashtag's posts", "host_share_of_hashtag"),
    ):
        lines.append(f"| {md_escape(label)} | {pct(capture[key]['value'])} | {ci(capture[key])} | |")
    backlash = b["time_to_backlash"].get("minutes_after_start")
    lines.append(
        "| time to backlash (hostile \\> 50% over an hour) | "
        + (f"{num(backlash)} min" if backlash is not None else "never")
        + " | | |"
    )
    top = _lens(doc, "posts")
    if top:
        lines += _posts_md("Most reposted mocking posts", top["mocking_posts"])
        lines += _posts_md("Host's most reposted answers", top["host_answers"], host=True)
    return "\n".join(lines)


def backfire_html(doc: dict[str, Any]) -> Markup:
    return _render("backfire", doc, BACKFIRE_TITLE) if _lens(doc, "backfire") else Markup("")


# --- engagement ---------------------------------------------------------------------------------

ENGAGEMENT_TITLE = "Engagement: did the host open a dialogue?"


def _questions_md(title: str, rows: list[dict[str, Any]]) -> list[str]:
    lines = ["", *_heading(title, 3)]
    for q in rows:
        answer = f" ({md_escape(_answer(q))})" if q.get("answer_id") else ""
        lines.append(
            f"- [{md_escape((q['category'] or '').replace('_', ' '))}] @{md_escape(q['author'])}: "
            f"{md_escape(q['text'])}{answer}"
        )
    return lines if rows else [*lines, "None."]


def engagement_md(doc: dict[str, Any]) -> str:
    e = _lens(doc, "engagement")
    if not e:
        return ""
    lines = _heading(ENGAGEMENT_TITLE)
    lines += ["| metric | value | 95% interval |", "|---|---:|---|"]
    lines.append(f"| answer rate | {pct(e['answer_rate']['value'])} | {ci(e['answer_rate'])} |")
    if e["answer_rate"].get("corrected"):
        lines.append(
            f"| answer rate, corrected | {pct(e['answer_rate']['corrected']['value'])} | "
            f"{ci(e['answer_rate']['corrected'])} |"
        )
    lines.append(
        f"| answer rate weighted by reposts | {pct(e['answer_rate_weighted']['value'])} | "
        f"{ci(e['answer_rate_weighted'])} |"
    )
    lines.append(f"| hostile answer rate | {pct(e['hostile_answer_rate']['value'])} | {ci(e['hostile_answer_rate'])} |")
    median = e["answer_latency"]["median_s"]
    lines.append(
        f"| median latency | {minutes(median['value'])} | {minutes(median['ci'][0])}–{minutes(median['ci'][1])} |"
    )
    within = e["answer_latency"]["within_60_min"]
    lines.append(f"| answered within an hour | {pct(within['value'])} | {ci(within)} |")
    lines.append(f"| host reply share | {pct(e['host_reply_share']['value'])} | {ci(e['host_reply_share'])} |")
    lines.append(
        f"| interactions per host post | {num(e['host_interactions']['value'])} | "
        f"{ci(e['host_interactions'], percent=False)} |"
    )
    lines.append(
        f"| reciprocity (edges touching the host) | {pct(e['reciprocity']['touching_host']['value'])} | "
        f"{ci(e['reciprocity']['touching_host'])} |"
    )
    depth = e["dialogue_depth"]
    lines.append(
        f"| mean thread depth | {num(depth['mean_depth']['value'])} | {ci(depth['mean_depth'], percent=False)} |"
    )
    lines.append(
        f"| follow-ups answered again | {pct(depth['follow_up_rate']['value'])} | {ci(depth['follow_up_rate'])} |"
    )
    lines.append(f"| participants | {e['audience_size']['authors']:,} | |")
    lines.append(f"| newcomers | {pct(e['newcomer_share'].get('value'))} | {ci(e['newcomer_share'])} |")
    top = _lens(doc, "posts")
    if top:
        lines += _questions_md("Unanswered questions (critical first)", top["unanswered_questions"])
        lines += _questions_md("Answered questions", top["answered_questions"])
    return "\n".join(lines)


def engagement_html(doc: dict[str, Any]) -> Markup:
    return _render("engagement", doc, ENGAGEMENT_TITLE) if _lens(doc, "engagement") else Markup("")


# --- framing ------------------------------------------------------------------------------------

FRAMING_TITLE = "Framing"


def framing_md(doc: dict[str, Any]) -> str:
    lens = _lens(doc, "framing")
    if lens is None:
        return ""
    frames = lens.get("frames") or {}
    lines = _heading(FRAMING_TITLE)
    if not frames:
        return "\n".join([*lines, "No frames were declared in the campaign file."])
    lines += ["| frame | host | participants |", "|---|---:|---:|"]
    for name, f in sorted(frames.items()):
        lines.append(f"| {md_escape(name)} | {interval(f['host'])} | {interval(f['participants'])} |")
    return "\n".join(lines)


def framing_html(doc: dict[str, Any]) -> Markup:
    return _render("framing", doc, FRAMING_TITLE) if _lens(doc, "framing") is not None else Markup("")


# --- authenticity -------------------------------------------------------------------------------

AUTHENTICITY_TITLE = "Authenticity: coordinated or automated participation"


def authenticity_md(doc: dict[str, Any]) -> str:
    a = _lens(doc, "authenticity")
    if not a:
        return ""
    lines = _heading(AUTHENTICITY_TITLE)
    lines += [md_escape(doc["verdicts"]["authenticity"]), ""]
    lines += [
        "| co-action network | accounts (groups) | share of campaign posts | 95% interval |",
        "|---|---:|---:|---|",
    ]
    for name, n in sorted(a["networks"].items()):
        share = a["coordinated_share"][name]
        lines.append(
            f"| {md_escape(name.replace('_', ' '))} | {n['coordinated_accounts']} ({n['groups']}) | "
            f"{pct(share['value'])} | {ci(share)} |"
        )
    share = a["coordinated_share"]["any"]
    lines.append(f"| any network | {a['coordinated_accounts']} | {pct(share['value'])} | {ci(share)} |")
    if a.get("without_coordinated"):
        w, f = a["without_coordinated"], a["with_all"]
        lines += ["", *_heading("The other lenses without the coordinated accounts", 3)]
        lines += ["| metric | all participants | without coordinated |", "|---|---:|---:|"]
        for label, lens, key in WITHOUT_ROWS:
            lines.append(f"| {label} | {interval(f[lens][key])} | {interval(w[lens][key])} |")
    if a.get("largest_duplicate_clusters"):
        lines += ["", *_heading("Largest near-duplicate clusters", 3)]
        lines += ["| example | posts | accounts |", "|---|---:|---:|"]
        for c in a["largest_duplicate_clusters"]:
            lines.append(f"| {md_escape(c.get('text') or '')} | {c.get('size')} | {c.get('accounts')} |")
    return "\n".join(lines)


def authenticity_html(doc: dict[str, Any]) -> Markup:
    if not _lens(doc, "authenticity"):
        return Markup("")
    return _render("authenticity", doc, AUTHENTICITY_TITLE, without_rows=WITHOUT_ROWS)


# --- methods ------------------------------------------------------------------------------------

METHODS_TITLE = "Methods and caveats"


def _coverage_rows(doc: dict[str, Any]) -> list[tuple[str, str]]:
    store, coverage = doc["store"], doc["coverage"]
    return [
        ("posts in the store (matched / context)", f"{store['matched']:,} / {store['context']:,}"),
        ("input records rejected", f"{store['rejects']:,}"),
        ("reply edges rebuilt / replies", f"{coverage['edges_rebuilt']} / {coverage['replies']}"),
        (
            "replies whose parent is missing (missing parents)",
            f"{coverage['replies_with_missing_parent']} ({coverage['missing_parents']})",
        ),
        ("API error objects kept", f"{coverage['api_errors']}"),
    ]


def _rates(classifier: dict[str, Any]) -> str:
    return "; ".join(
        f"{label} {num(r.get('tpr'))} / {num(r.get('fpr'))}" for label, r in classifier["error_rates"].items()
    )


def methods_md(doc: dict[str, Any]) -> str:
    lines = _heading(METHODS_TITLE)
    lines += [f"- {md_escape(c)}" for c in doc["caveats"]]
    lines += ["", "| coverage | value |", "|---|---:|"]
    lines += [f"| {md_escape(label)} | {md_escape(value)} |" for label, value in _coverage_rows(doc)]
    validation = (doc.get("lenses") or {}).get("validation") or {}
    if validation.get("shares"):
        lines += [
            "",
            *_heading("Validated against human coding", 3),
            f"{md_escape(validation['basis'])}; {md_escape(validation['method'])}. Posts coded: "
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
            lines.append(f"| {md_escape(label.replace('_', ' '))} | " + " | ".join(cells) + " |")
    elif validation.get("error"):
        lines += ["", f"Human coding: {md_escape(validation['error'])} ({md_escape(validation.get('hint'))})"]
    lines += ["", *_heading("Classifiers", 3), "| task | model | validation error rates (tpr / fpr) |", "|---|---|---|"]
    for task, c in sorted(doc["classifiers"].items()):
        lines.append(f"| {md_escape(task)} | {md_escape(c['model'])} | {md_escape(_rates(c))} |")
    return "\n".join(lines)


def methods_html(doc: dict[str, Any]) -> Markup:
    return _render("methods", doc, METHODS_TITLE, coverage_rows=_coverage_rows(doc), rates=_rates)


SECTIONS = [
    Section("verdicts", VERDICTS_TITLE, 10, verdicts_md, verdicts_html),
    Section("backfire", BACKFIRE_TITLE, 20, backfire_md, backfire_html),
    Section("engagement", ENGAGEMENT_TITLE, 30, engagement_md, engagement_html),
    Section("framing", FRAMING_TITLE, 40, framing_md, framing_html),
    Section("authenticity", AUTHENTICITY_TITLE, 50, authenticity_md, authenticity_html),
    Section("methods", METHODS_TITLE, 90, methods_md, methods_html),
]
