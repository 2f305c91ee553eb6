"""askscope's own report sections (:data:`SECTIONS`), registered through the
``askscope_report_sections`` hook like a plugin's: verdicts, the four lenses, methods and the
glossary.

Each section renders the report document only (stored lens results, never the campaign's
tables). Its tables are built once as :class:`~askscope.reports.tables.Table` data and rendered
to both formats, so the Markdown report has every table of the HTML report under the same title;
a metric row is a plain-language label (a glossary term), the value, its 95% interval (only
that) and a note. A section renders nothing in either format when its lens is absent (an
analysis without authenticity has no authenticity section). Every value from the document is
escaped in HTML (``Markup.format`` escapes its arguments) and in Markdown (:func:`md_escape`).
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from askscope.reports.blocks import Block, Bullets, Figures, Paragraph, PostList, TableBlock, section
from askscope.reports.format import (
    NOT_MEASURABLE,
    ci,
    ci_minutes,
    md_escape,
    minutes,
    num,
    plural,
    share,
    when,
    zone,
)
from askscope.reports.glossary import GENERAL, TASK_LABELS, category_label, gloss, network_label
from askscope.reports.sections import Section
from askscope.reports.tables import Table, metric_table
from askscope.vocabulary import CATEGORIES

VERDICT_LENSES = ("backfire", "engagement", "framing", "authenticity")
#: (label, lens, key) of the lenses' numbers shown again without the coordinated accounts.
WITHOUT_ROWS = (
    ("hostile share", "backfire", "hostile_share"),
    ("mockery share", "backfire", "mockery_share"),
    ("answer rate", "engagement", "answer_rate"),
    ("hostile answer rate", "engagement", "hostile_answer_rate"),
)
#: What the report says when reply communities could not be found (the base install).
LEIDEN_NOTE = (
    "Reply-community diversity is left out: it needs igraph (pip install 'askscope[leiden]', then analyse again)."
)

Row = tuple[str, str, str, str]


def _lens(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    lens: dict[str, Any] | None = (doc.get("lenses") or {}).get(name)
    return lens


def _frame_name(name: str) -> str:
    """A frame's name as the user wrote it, without snake_case."""
    return name.replace("_", " ")


def _share_row(label: str, result: Any, note: str = "") -> Row:
    result = result if isinstance(result, dict) else {}
    return (label, share(result.get("value")), ci(result), note)


def _number_row(label: str, result: Any, note: str = "", unit: str = "") -> Row:
    result = result if isinstance(result, dict) else {}
    value = result.get("value")
    return (label, num(value) + (unit if value is not None else ""), ci(result, percent=False), note)


def _count(value: Any) -> str:
    return NOT_MEASURABLE if value is None else f"{value:,}"


def tables(doc: dict[str, Any]) -> list[Table]:
    """Every table of the built-in sections for ``doc``, in report order (the glossary lists
    the labels of those marked ``glossed``)."""
    out: list[Table] = []
    for build in (_backfire_blocks, _engagement_blocks, _framing_blocks, _authenticity_blocks, _methods_blocks):
        out += [b.table for b in (build(doc) or []) if isinstance(b, TableBlock)]
    return out


# --- verdicts -----------------------------------------------------------------------------------

VERDICTS_TITLE = "Verdicts"


def verdicts_md(doc: dict[str, Any]) -> str:
    lines = [f"## {VERDICTS_TITLE}", ""]
    lines += [f"- **{lens}**: {md_escape(doc['verdicts'][lens])}" for lens in VERDICT_LENSES]
    return "\n".join(lines)


#: A verdict's citation of the number it rests on: " [lenses.backfire.hostile_share]".
CITATION = re.compile(r"( \[lenses\.[\w.]+\])")


def _cited(text: str) -> Markup:
    """A verdict with its citations set apart (small, grey): the words read first; every part
    escaped."""
    parts = CITATION.split(text)
    return Markup("").join(
        Markup('<span class="cite">{}</span>').format(part) if CITATION.fullmatch(part) else Markup("{}").format(part)
        for part in parts
    )


def verdicts_html(doc: dict[str, Any]) -> Markup:
    cards = Markup("").join(
        Markup('<section class="verdict"><h3>{}</h3><p>{}</p></section>').format(lens, _cited(doc["verdicts"][lens]))
        for lens in VERDICT_LENSES
    )
    return Markup('<h2>{}</h2>\n<div class="verdicts">{}</div>').format(VERDICTS_TITLE, cards)


# --- backfire -----------------------------------------------------------------------------------

BACKFIRE_TITLE = "Backfire: what the press counted"


def _backfire_blocks(doc: dict[str, Any]) -> list[Block] | None:
    b = _lens(doc, "backfire")
    if not b:
        return None
    tz = zone(doc)
    volume = b["volume"]
    peak = volume.get("peak_hour")
    volume_rows: list[Row] = [
        ("campaign posts", _count(volume.get("posts")), "", ""),
        ("posts by participants", _count(volume.get("audience_posts")), "", ""),
        ("posts by the host", _count(volume.get("host_posts")), "", ""),
        ("participants", _count(volume.get("authors")), "", ""),
        ("posts per hour", num(volume.get("posts_per_hour")), "", "average over the window"),
    ]
    if peak:
        volume_rows.append(("busiest hour", _count(peak.get("posts")), "", "posts from " + when(peak.get("start"), tz)))
    categories: list[tuple[str, ...]] = []
    for label, result in [("hostile", b["hostile_share"])] + [
        (category_label(c), b["category_shares"][c]) for c in CATEGORIES
    ]:
        fixed = result.get("corrected") or {}
        categories.append(
            (
                label,
                share(result.get("value")),
                ci(result),
                share(fixed.get("value")) if fixed else "",
                ci(fixed) if fixed else "",
            )
        )
    category_table = Table(
        "Discourse categories of participants' posts",
        ("category", "share as counted", "95% interval", "corrected for classifier error", "95% interval"),
        tuple(categories),
        numeric=frozenset({1, 3}),
        intervals=frozenset({2, 4}),
    )
    gap = b["virality_gap"]
    backlash = b["time_to_backlash"].get("minutes_after_start")
    capture = b["capture"]
    backlash_rows: list[Row] = [
        _number_row("virality gap", gap["ratio"], "hostile vs supportive posts", "×"),
        _share_row("repost-weighted hostile share", gap["repost_weighted_hostile_share"]),
        _share_row("host posts ratioed", b["host_ratio"]["share_above_1"], "more replies than likes and reposts"),
        _share_row("hashtag taken over", capture["hashtag_only_not_supportive"]),
        _share_row("host's share of the hashtag", capture["host_share_of_hashtag"]),
        (
            "time to backlash",
            "never" if backlash is None else f"{num(backlash)} min",
            "",
            "hostile share above half over an hour",
        ),
    ]
    blocks: list[Block] = [
        TableBlock(metric_table("Volume", volume_rows)),
        TableBlock(category_table),
        TableBlock(metric_table("Signs of backlash", backlash_rows)),
        Figures(doc, ("timeline",)),
        Figures(doc, ("hostile_share",)),
    ]
    top = _lens(doc, "posts")
    if top:
        blocks += [
            PostList("Most reposted mocking posts", top["mocking_posts"]),
            PostList("Host's most reposted answers", top["host_answers"], host=True),
        ]
    return blocks


backfire_md, backfire_html = section(BACKFIRE_TITLE, _backfire_blocks)


# --- engagement ---------------------------------------------------------------------------------

ENGAGEMENT_TITLE = "Engagement: did the host open a dialogue?"


def _communities_missing(result: dict[str, Any]) -> bool:
    """The reply communities were not found because igraph is not installed."""
    return result.get("value") is None and "not installed" in str(result.get("method") or "")


def _engagement_blocks(doc: dict[str, Any]) -> list[Block] | None:
    e = _lens(doc, "engagement")
    if not e:
        return None
    rate = e["answer_rate"]
    answers: list[Row] = [
        _share_row("answer rate", rate, f"{rate.get('k') or 0:,} of {plural(rate.get('n') or 0, 'question')}")
    ]
    if (rate.get("corrected") or {}).get("value") is not None:
        answers.append(_share_row("answer rate, corrected for question-detection error", rate["corrected"]))
    answers.append(_share_row("answer rate weighted by reposts", e["answer_rate_weighted"]))
    hostile = e["hostile_answer_rate"]
    answers.append(
        _share_row(
            "hostile answer rate", hostile, f"{hostile.get('k') or 0:,} of {plural(hostile.get('n') or 0, 'question')}"
        )
    )
    if (e.get("hostile_to_overall_ratio") or {}).get("value") is not None:
        answers.append(_number_row("hostile answers relative to all answers", e["hostile_to_overall_ratio"], unit="×"))
    latency = e["answer_latency"]
    median = latency["median_s"]
    answers.append(("median time to answer", minutes(median.get("value")), ci_minutes(median), ""))
    if (latency.get("p90_s") or {}).get("value") is not None:
        answers.append(
            ("slowest tenth of answers", minutes(latency["p90_s"]["value"]), ci_minutes(latency["p90_s"]), "")
        )
    answers.append(_share_row("answered within an hour", latency["within_60_min"]))
    depth = e["dialogue_depth"]
    dialogue: list[Row] = [
        _share_row("host posts that are replies", e["host_reply_share"], plural(e.get("host_posts") or 0, "host post")),
        _number_row("interactions per host post", e["host_interactions"], "reposts, likes, replies and quotes"),
        _share_row("reciprocity with the host", e["reciprocity"]["touching_host"]),
        _share_row("reciprocity among everyone", e["reciprocity"].get("all")),
        _number_row("mean thread depth", depth["mean_depth"], plural(depth.get("threads") or 0, "thread")),
        ("deepest thread", _count(depth.get("max_depth")), "", "replies in the longest chain"),
        _share_row("follow-ups answered again", depth["follow_up_rate"]),
    ]
    for layer, result in (e.get("host_output_layers") or {}).items():
        dialogue.append(_share_row(f"host posts: {layer}", result))
    size, diversity = e["audience_size"], e.get("diversity") or {}
    audience: list[Row] = [("participants", _count(size.get("authors")), "", "")]
    if size.get("potential_reach"):
        audience.append(("potential reach", _count(size["potential_reach"]), "", "followers added up: an upper bound"))
    language = diversity.get("language") or {}
    if language.get("value") is not None:
        audience.append(
            ("language diversity", num(language["value"]), "", plural(language.get("categories") or 0, "language"))
        )
    community = diversity.get("reply_community") or {}
    if community.get("value") is not None:
        audience.append(
            (
                "reply-community diversity",
                num(community["value"]),
                "",
                plural(community.get("categories") or 0, "community", "communities"),
            )
        )
    if diversity.get("top_1pct_share_of_posts") is not None:
        audience.append(("posts by the most active 1%", share(diversity["top_1pct_share_of_posts"]), "", ""))
    if diversity.get("gini_posts_per_author") is not None:
        audience.append(("inequality of posts per participant", num(diversity["gini_posts_per_author"]), "", "Gini"))
    newcomers = e.get("newcomer_share") or {}
    note = str(newcomers.get("note") or "").removeprefix("not measurable: ")
    audience.append(_share_row("newcomers", newcomers, note if newcomers.get("value") is None else ""))
    blocks: list[Block] = [
        TableBlock(metric_table("Answers", answers)),
        TableBlock(metric_table("Dialogue", dialogue)),
        TableBlock(metric_table("Audience", audience)),
        Figures(doc, ("latency", "answered")),
        Figures(doc, ("languages", "thread_depth")),
    ]
    top = _lens(doc, "posts")
    if top:
        blocks += [
            PostList("Unanswered questions (critical first)", top["unanswered_questions"], questions=True),
            PostList("Answered questions", top["answered_questions"], questions=True),
        ]
    return blocks


engagement_md, engagement_html = section(ENGAGEMENT_TITLE, _engagement_blocks)


# --- framing ------------------------------------------------------------------------------------

FRAMING_TITLE = "Framing"


def _framing_blocks(doc: dict[str, Any]) -> list[Block] | None:
    lens = _lens(doc, "framing")
    if lens is None:
        return None
    frames = lens.get("frames") or {}
    if not frames:
        return [Paragraph("No frames were declared in the campaign file.")]
    rows = []
    for name, f in sorted(frames.items()):
        periods = "; ".join(f"{p}: {share(s.get('value'))}" for p, s in (f.get("participants_by_period") or {}).items())
        host, participants = f.get("host") or {}, f.get("participants") or {}
        rows.append(
            (
                _frame_name(name),
                share(host.get("value")),
                ci(host),
                share(participants.get("value")),
                ci(participants),
                periods,
            )
        )
    table = Table(
        "Share of posts using each frame",
        ("frame", "host", "95% interval", "participants", "95% interval", "participants by period"),
        tuple(rows),
        numeric=frozenset({1, 3}),
        intervals=frozenset({2, 4}),
        glossed=False,
    )
    note = (
        f"Frames as written in the campaign file. Vectors: {lens.get('embedder') or 'bundled sentence encoder'}; "
        "each frame's threshold is calibrated on its examples against background posts."
    )
    return [TableBlock(table), Paragraph(note, "sub"), Figures(doc, ("framing",))]


framing_md, framing_html = section(FRAMING_TITLE, _framing_blocks)


# --- authenticity -------------------------------------------------------------------------------

AUTHENTICITY_TITLE = "Authenticity: coordinated or automated participation"

#: (label, key) of the account signals compared between coordinated accounts and the rest.
SIGNALS = (
    ("accounts", "accounts"),
    ("posts", "posts"),
    ("median account age at first post (days)", "median_age_days_at_first_post"),
    ("created during the campaign", "share_created_in_window"),
    ("created in the 30 days before", "share_created_in_30_days_before"),
    ("median followers per account followed", "median_follower_ratio"),
    ("median posts per day over the account's life", "median_lifetime_posts_per_day"),
)


def _authenticity_blocks(doc: dict[str, Any]) -> list[Block] | None:
    a = _lens(doc, "authenticity")
    if not a:
        return None
    blocks: list[Block] = [Paragraph(doc["verdicts"]["authenticity"])]
    groups, tests = [], []
    for name, n in sorted(a["networks"].items(), key=lambda kv: network_label(kv[0])):
        s = a["coordinated_share"][name]
        groups.append(
            (
                network_label(name),
                _count(n.get("coordinated_accounts")),
                _count(n.get("groups")),
                share(s.get("value")),
                ci(s),
            )
        )
        tests.append(
            (
                network_label(name),
                f"{num(n.get('tau_seconds'), 0)} s",
                _count(n.get("pairs")),
                _count(n.get("significant_pairs")),
                f"{n.get('crowded_actions') or 0:,} of {_count(n.get('actions'))}",
            )
        )
    anyone = a["coordinated_share"]["any"]
    groups.append(("any of these", _count(a.get("coordinated_accounts")), "", share(anyone.get("value")), ci(anyone)))
    blocks.append(
        TableBlock(
            Table(
                "Accounts acting together more often than chance",
                ("acted together by", "accounts", "groups", "share of campaign posts", "95% interval"),
                tuple(groups),
                numeric=frozenset({1, 2, 3}),
                intervals=frozenset({4}),
            )
        )
    )
    blocks.append(
        TableBlock(
            Table(
                "How the networks were tested",
                ("acted together by", "within", "account pairs", "pairs above chance", "actions inside crowds"),
                tuple(tests),
                numeric=frozenset({1, 2, 3, 4}),
                intervals=frozenset(),
            )
        )
    )
    if a.get("without_coordinated"):
        w, f = a["without_coordinated"], a["with_all"]
        without_rows = [
            (
                label,
                share(f[lens][key].get("value")),
                ci(f[lens][key]),
                share(w[lens][key].get("value")),
                ci(w[lens][key]),
            )
            for label, lens, key in WITHOUT_ROWS
        ]
        blocks.append(
            TableBlock(
                Table(
                    "The other lenses without the coordinated accounts",
                    ("metric", "all participants", "95% interval", "without coordinated", "95% interval"),
                    tuple(without_rows),
                    numeric=frozenset({1, 3}),
                    intervals=frozenset({2, 4}),
                )
            )
        )
    signals = a.get("account_signals")
    if signals:
        signal_rows: list[tuple[str, ...]] = []
        for label, key in SIGNALS:
            cells = []
            for group in ("coordinated", "not_coordinated"):
                value = (signals.get(group) or {}).get(key)
                cells.append(share(value) if key.startswith("share") else num(value))
            signal_rows.append((label, *cells))
        blocks.append(
            TableBlock(
                Table(
                    "Account signals (coordinated vs the rest)",
                    ("signal", "coordinated", "not coordinated"),
                    tuple(signal_rows),
                    numeric=frozenset({1, 2}),
                    intervals=frozenset(),
                )
            )
        )
    if a.get("largest_duplicate_clusters"):
        cluster_rows = [
            (c.get("text") or "", _count(c.get("size")), _count(c.get("accounts")))
            for c in a["largest_duplicate_clusters"]
        ]
        blocks.append(
            TableBlock(
                Table(
                    "Largest near-duplicate clusters",
                    ("example post", "posts", "accounts"),
                    tuple(cluster_rows),
                    numeric=frozenset({1, 2}),
                    intervals=frozenset(),
                    texts=frozenset({0}),
                    glossed=False,
                )
            )
        )
    if a.get("burstiness"):
        timing: list[Row] = []
        for series, b in sorted(a["burstiness"].items()):
            label = f"burstiness of {series.replace('_', ' ')} posts"
            timing.append((label, num(b.get("burstiness")), "", plural(b.get("posts") or 0, "post")))
        timing.append(("bursts", _count(len(a.get("bursts") or [])), "", ""))
        blocks.append(TableBlock(metric_table("Timing of posts", timing)))
    return blocks


authenticity_md, authenticity_html = section(AUTHENTICITY_TITLE, _authenticity_blocks)


# --- methods ------------------------------------------------------------------------------------

METHODS_TITLE = "Methods and caveats"


def _coverage_rows(doc: dict[str, Any]) -> list[tuple[str, str]]:
    store, coverage = doc["store"], doc["coverage"]
    return [
        ("posts matched", _count(store.get("matched"))),
        ("context posts", _count(store.get("context"))),
        ("input records rejected", _count(store.get("rejects"))),
        ("replies", _count(coverage.get("replies"))),
        ("reply links rebuilt", _count(coverage.get("edges_rebuilt"))),
        ("replies whose parent is missing", _count(coverage.get("replies_with_missing_parent"))),
        ("missing parent posts", _count(coverage.get("missing_parents"))),
        ("API error objects kept", _count(coverage.get("api_errors"))),
    ]


def _rates(classifier: dict[str, Any]) -> str:
    rates = classifier.get("error_rates") or {}
    if not rates:
        return "no validated error rates"
    return "; ".join(
        f"{label.replace('_', ' ')} {num(r.get('tpr'))} / {num(r.get('fpr'))}" for label, r in rates.items()
    )


def caveats(doc: dict[str, Any]) -> list[str]:
    """The document's caveats and what the base install leaves out."""
    notes = list(doc["caveats"])
    community = (((_lens(doc, "engagement") or {}).get("diversity")) or {}).get("reply_community") or {}
    if _communities_missing(community):
        notes.append(LEIDEN_NOTE)
    return notes


def _methods_blocks(doc: dict[str, Any]) -> list[Block] | None:
    blocks: list[Block] = [
        Bullets(caveats(doc)),
        TableBlock(
            Table(
                "Coverage",
                ("what", "count"),
                tuple(_coverage_rows(doc)),
                intervals=frozenset(),
            )
        ),
    ]
    validation = (doc.get("lenses") or {}).get("validation") or {}
    if validation.get("shares"):
        blocks.append(
            Paragraph(
                f"{validation['basis']}; {validation['method']}. Posts coded: "
                f"{validation['n_coded']:,} of {validation['n_total']:,}."
            )
        )
        rows = []
        for label, kinds in sorted(validation["shares"].items()):
            cells = []
            for k in ("ppi", "coded_only", "model_only"):
                low, high = kinds[k].get("low"), kinds[k].get("high")
                span = ci({"ci": [low, high]})
                cells += [share(kinds[k].get("estimate")), span]
            rows.append((category_label(label), *cells))
        blocks.append(
            TableBlock(
                Table(
                    "Validated against human coding",
                    (
                        "share",
                        "validated (prediction-powered)",
                        "95% interval",
                        "coded sample only",
                        "95% interval",
                        "model only",
                        "95% interval",
                    ),
                    tuple(rows),
                    numeric=frozenset({1, 3, 5}),
                    intervals=frozenset({2, 4, 6}),
                    glossed=False,
                )
            )
        )
    elif validation.get("error"):
        blocks.append(Paragraph(f"Human coding: {validation['error']} ({validation.get('hint') or ''})"))
    rows = [
        (TASK_LABELS.get(task, task.replace("_", " ")), str(c.get("model") or ""), _rates(c))
        for task, c in sorted(doc["classifiers"].items())
    ]
    blocks.append(
        TableBlock(
            Table(
                "Classifiers",
                ("task", "model", "validation error rates (true-positive / false-positive rate)"),
                tuple(rows),
                numeric=frozenset(),
                intervals=frozenset(),
                glossed=False,
            )
        )
    )
    blocks.append(
        Paragraph(
            "Definitions and sources: askscope's docs/metrics.md. Every share carries a 95% interval (Wilson for "
            "counts, bootstrap or order statistics otherwise); classifier-based shares are also corrected by "
            "adjusted classify-and-count (Forman 2005). Times are shown in "
            f"{zone(doc).key}; report.json keeps them in UTC.",
            "sub",
        )
    )
    return blocks


methods_md, methods_html = section(METHODS_TITLE, _methods_blocks)


# --- glossary -----------------------------------------------------------------------------------

GLOSSARY_TITLE = "Glossary"


def glossary_terms(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(term, meaning) of every label the report's tables use, then the general terms; a label
    without an entry is listed as such (tests keep that list empty)."""
    seen: dict[str, str] = {}
    for table in tables(doc):
        if not table.glossed:
            continue
        for row in table.rows:
            seen.setdefault(row[0], gloss(row[0]) or "")
    if (_lens(doc, "framing") or {}).get("frames"):
        seen.setdefault("frame", gloss("frame") or "")
    for term, meaning in GENERAL.items():
        seen.setdefault(term, meaning)
    return list(seen.items())


def _glossary_blocks(doc: dict[str, Any]) -> list[Block] | None:
    rows = tuple((term, meaning) for term, meaning in glossary_terms(doc))
    return [
        TableBlock(
            Table(
                "What the labels mean",
                ("term", "meaning"),
                rows,
                numeric=frozenset(),
                intervals=frozenset(),
                glossed=False,
            )
        )
    ]


glossary_md, glossary_html = section(GLOSSARY_TITLE, _glossary_blocks)


SECTIONS = [
    Section("verdicts", VERDICTS_TITLE, 10, verdicts_md, verdicts_html),
    Section("backfire", BACKFIRE_TITLE, 20, backfire_md, backfire_html),
    Section("engagement", ENGAGEMENT_TITLE, 30, engagement_md, engagement_html),
    Section("framing", FRAMING_TITLE, 40, framing_md, framing_html),
    Section("authenticity", AUTHENTICITY_TITLE, 50, authenticity_md, authenticity_html),
    Section("methods", METHODS_TITLE, 90, methods_md, methods_html),
    Section("glossary", GLOSSARY_TITLE, 95, glossary_md, glossary_html),
]
