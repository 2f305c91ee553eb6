"""``/``: the overview of one store: the four lenses' verdicts and numbers with their intervals,
every count a link to the posts it counts, the timeline with a link per bucket, and the report's
charts. Everything is read from the stored lens results (never recomputed), so the page, the
report and ``askscope.lens_results()`` agree. ``/api/lenses`` is the same data as JSON.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.responses import Response

from askscope.store.core import Store
from askscope.vocabulary import CATEGORIES, HOSTILE
from askscope.web.deps import Reading, reading
from askscope.web.templating import render

router = APIRouter()

CITATION = re.compile(r"\s*\[lenses\.[^\[\]]*\]")

#: Link targets: query parameters of /posts (askscope.web.postquery) for each lens number.
AUDIENCE: dict[str, str] = {}
QUESTIONS = {"set": "questions"}


def _link(db: str, **params: str) -> str:
    from askscope.web.filters import query

    return "/posts?" + query({"db": db, **params})


def _row(
    db: str, label: str, share: Any, k_link: dict[str, str] | None, n_link: dict[str, str] | None
) -> dict[str, Any]:
    """One number of a lens: a share with its counts (``k`` of ``n``) and where each count leads."""
    share = share if isinstance(share, dict) else {}
    corrected = share.get("corrected") if isinstance(share.get("corrected"), dict) else None
    return {
        "label": label,
        "share": share,
        "corrected": corrected,
        "k": share.get("k"),
        "n": share.get("n"),
        "k_href": _link(db, **k_link) if k_link is not None and share.get("k") is not None else None,
        "n_href": _link(db, **n_link) if n_link is not None and share.get("n") is not None else None,
    }


def _count(db: str, label: str, value: Any, link: dict[str, str] | None) -> dict[str, Any]:
    """One count of a lens and the posts it counts."""
    return {
        "label": label,
        "value": value,
        "href": _link(db, **link) if link is not None and value is not None else None,
    }


def lens_numbers(db: str, results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per lens: its counts and shares, each with the link to its posts (the filters reproduce the
    lens's populations: askscope.web.postquery)."""
    out: dict[str, dict[str, Any]] = {}
    backfire = results.get("backfire") or {}
    if backfire:
        volume = backfire.get("volume") or {}
        shares = [_row(db, "hostile share", backfire.get("hostile_share"), {"category": "hostile"}, AUDIENCE)]
        for category in CATEGORIES:
            share = (backfire.get("category_shares") or {}).get(category)
            shares.append(_row(db, category.replace("_", " "), share, {"category": category}, AUDIENCE))
        capture = (backfire.get("capture") or {}).get("hashtag_only_not_supportive")
        shares.append(
            _row(
                db,
                "hashtag used without addressing the host, not supportive (capture)",
                capture,
                {"relation": "hashtag_only", "not_category": "support"},
                AUDIENCE,
            )
        )
        out["backfire"] = {
            "counts": [
                _count(db, "posts in the campaign", volume.get("posts"), {"set": "campaign"}),
                _count(db, "the audience's posts", volume.get("audience_posts"), AUDIENCE),
                _count(db, "the host's posts", volume.get("host_posts"), {"set": "campaign", "relation": "host"}),
                _count(db, "authors in the audience", volume.get("authors"), None),
                *(
                    [
                        _count(
                            db,
                            f"busiest hour (from {peak['start']})",
                            peak.get("posts"),
                            {"set": "campaign", "start": peak["start"], "bucket": "1 hour"},
                        )
                    ]
                    if isinstance(peak := volume.get("peak_hour"), dict) and peak.get("start")
                    else []
                ),
            ],
            "shares": shares,
        }
    engagement = results.get("engagement") or {}
    if engagement:
        rate = engagement.get("answer_rate") or {}
        hostile = {"category": "hostile_questions"}
        rows = [
            _row(db, "answer rate", rate, {**QUESTIONS, "answered": "yes"}, QUESTIONS),
            _row(
                db,
                "answer rate of hostile questions",
                engagement.get("hostile_answer_rate"),
                {**QUESTIONS, **hostile, "answered": "yes"},
                {**QUESTIONS, **hostile},
            ),
        ]
        for category, share in sorted((engagement.get("by_category") or {}).items()):
            rows.append(
                _row(
                    db,
                    f"answer rate: {category.replace('_', ' ')}",
                    share,
                    {**QUESTIONS, "category": category, "answered": "yes"},
                    {**QUESTIONS, "category": category},
                )
            )
        rows.append(
            _row(
                db,
                "host's posts that are replies",
                engagement.get("host_reply_share"),
                {"set": "host", "kind": "reply"},
                {"set": "host"},
            )
        )
        n, k = rate.get("n"), rate.get("k")
        out["engagement"] = {
            "counts": [
                _count(db, "questions to the host", n, QUESTIONS),
                _count(db, "answered", k, {**QUESTIONS, "answered": "yes"}),
                _count(
                    db,
                    "unanswered",
                    n - k if n is not None and k is not None else None,
                    {**QUESTIONS, "answered": "no"},
                ),
                _count(db, "host's posts in the window", engagement.get("host_posts"), {"set": "host"}),
            ],
            "shares": rows,
        }
    framing = results.get("framing") or {}
    if framing.get("frames"):
        rows = []
        for frame, data in sorted(framing["frames"].items()):
            rows.append(
                _row(
                    db,
                    f"participants using “{frame}”",
                    data.get("participants"),
                    {"set": "window", "frame": frame, "frame_use": "yes"},
                    {"set": "window", "frame": frame},
                )
            )
            rows.append(
                _row(
                    db,
                    f"host's posts using “{frame}”",
                    data.get("host"),
                    {"set": "host", "frame": frame, "frame_use": "yes"},
                    {"set": "host", "frame": frame},
                )
            )
        out["framing"] = {"counts": [], "shares": rows}
    authenticity = results.get("authenticity") or {}
    if authenticity:
        rows = []
        for network, share in (authenticity.get("coordinated_share") or {}).items():
            extra = {} if network == "any" else {"network": network}
            label = "posts by coordinated accounts" + ("" if network == "any" else f" ({network.replace('_', '-')})")
            rows.append(_row(db, label, share, {"coordinated": "yes", **extra}, AUDIENCE))
        without_all = authenticity.get("without_coordinated") or {}
        without = without_all.get("backfire") or {}
        if without:
            for label, key, category in (
                ("hostile", "hostile_share", "hostile"),
                ("mockery", "mockery_share", "mockery"),
            ):
                rows.append(
                    _row(
                        db,
                        f"{label} share without the coordinated accounts",
                        without.get(key),
                        {"coordinated": "no", "category": category},
                        {"coordinated": "no"},
                    )
                )
        answers = without_all.get("engagement") or {}
        if answers:
            no = {**QUESTIONS, "coordinated": "no"}
            rows.append(
                _row(
                    db,
                    "answer rate without the coordinated accounts",
                    answers.get("answer_rate"),
                    {**no, "answered": "yes"},
                    no,
                )
            )
            hq = {**no, "category": "hostile_questions"}
            rows.append(
                _row(
                    db,
                    "hostile answer rate without the coordinated accounts",
                    answers.get("hostile_answer_rate"),
                    {**hq, "answered": "yes"},
                    hq,
                )
            )
        out["authenticity"] = {
            "counts": [_count(db, "coordinated accounts", authenticity.get("coordinated_accounts"), None)],
            "shares": rows,
        }
    return out


def _bucket(text: str) -> timedelta:
    amount, unit = text.split(" ", 1)
    seconds = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}[unit]
    return timedelta(seconds=int(amount) * seconds)


def timeline_bars(db: str, results: dict[str, Any]) -> dict[str, Any] | None:
    """The timeline as bars (hostile posts over the rest) with a link per bucket to its posts:
    drawn as an SVG by the template (no script, no inline style)."""
    timeline = (results.get("backfire") or {}).get("timeline") or {}
    points = [p for p in timeline.get("points") or [] if p.get("posts")]
    if not points:
        return None
    bucket = timeline.get("bucket", "1 hour")
    tallest = max(p["posts"] for p in points)
    width, height = 1000, 200
    step = width / len(points)
    bars = []
    for i, point in enumerate(points):
        hostile = sum(v for c, v in (point.get("counts") or {}).items() if c in HOSTILE)
        total = int(point["posts"])
        h_total = height * total / tallest
        h_hostile = max(height * hostile / tallest, 4.0) if hostile else 0.0  # clickable however few
        h_total = max(h_total, h_hostile)
        bars.append(
            {
                "t": point["t"],
                "x": round(i * step, 2),
                "w": round(max(step * 0.85, 0.5), 2),
                "total": total,
                "hostile": hostile,
                "y_total": round(height - h_total, 2),
                "h_rest": round(h_total - h_hostile, 2),
                "y_hostile": round(height - h_hostile, 2),
                "h_hostile": round(h_hostile, 2),
                "href_all": _link(db, start=point["t"], bucket=bucket),
                "href_hostile": _link(db, start=point["t"], bucket=bucket, category="hostile"),
            }
        )
    return {"bucket": bucket, "bars": bars, "width": width, "height": height, "tallest": tallest}


def _document(r: Reading) -> dict[str, Any]:
    """The report document of the snapshot (cached per snapshot: lens results never change in one)."""
    from askscope.reports.document import build

    return build(Store(r.path, r.con, read_only=True))


def document(request: Request, r: Reading) -> dict[str, Any]:
    from askscope.web.deps import handle

    cache = handle(request, r.name).cache
    key = ("document", r.version)
    if key not in cache:
        if "lens_results" not in r.tables:
            raise HTTPException(
                status_code=409,
                detail=f"{r.name} has not been analysed: run askscope analyze {r.path} --campaign CAMPAIGN.toml",
            )
        cache[key] = _document(r)
    found: dict[str, Any] = cache[key]
    return found


def chart_svg(request: Request, r: Reading, doc: dict[str, Any], name: str) -> bytes | None:
    """The report's chart ``name`` as SVG, drawn on first request and kept for the snapshot; None
    when it has no data in this store."""
    from askscope.web.deps import handle

    cache = handle(request, r.name).cache
    key = ("chart", name, r.version)
    if key not in cache:
        from askscope.reports.charts import render_one

        drawn = render_one(doc, name, "svg")
        cache[key] = None if drawn is None else drawn[1]
    found: bytes | None = cache[key]
    return found


def no_data(title: str) -> bytes:
    """A small SVG saying that a chart has no data (so that the overview need not draw every chart
    before it is shown)."""
    from html import escape

    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40" viewBox="0 0 400 40">'
        f'<text x="8" y="24" font-family="sans-serif" font-size="13" fill="#666">No data for “{escape(title)}”'
        " in this store.</text></svg>"
    ).encode()


#: Below this many posts, the overview waits for the explorer table (a second or two) rather
#: than leaving out what is counted on it.
WAIT_FOR_EXPLORER = 50_000


def drilldown_data(request: Request, r: Reading, results: dict[str, Any]) -> dict[str, Any]:
    """The report's lists and tables with their links, and the interactive charts
    (:mod:`askscope.web.drilldown`), computed once per snapshot. The most active accounts and the
    language and relation charts are counted on the explorer table: on a large store, until it is
    built (in the background), they are left out (``pending``) and nothing is kept."""
    from askscope.web import drilldown
    from askscope.web.deps import handle

    target = handle(request, r.name)
    cache = target.cache
    key = ("drilldown", r.version)
    if key in cache:
        found: dict[str, Any] = cache[key]
        return found
    small = (
        "posts" in r.tables and int(r.con.execute("SELECT count(*) FROM posts").fetchall()[0][0]) < WAIT_FOR_EXPLORER
    )
    explore = target.explore(r, wait=small)
    partial = ("drilldown-partial", r.version)
    if explore is None and partial in cache:  # still indexing: what was counted without the table
        kept: dict[str, Any] = cache[partial]
        return kept
    try:
        refs = drilldown.post_refs(r.con, drilldown.listed_ids(results)) if "posts" in r.tables else {}
        charts = [
            drilldown.category_chart(r.name, results),
            drilldown.relation_chart(explore, r.name) if explore is not None else None,
            drilldown.language_chart(explore, r.name) if explore is not None else None,
            drilldown.latency_chart(r.name, results),
            drilldown.depth_chart(r.name, results),
        ]
        data = {
            "post_lists": drilldown.post_lists(r.name, results, refs),
            "groups": drilldown.coordinated_groups(r.name, results),
            "top_accounts": drilldown.top_accounts(explore, r.name) if explore is not None else [],
            "bar_charts": [c for c in charts if c is not None],
            "pending": explore is None and "relations" in r.tables,
        }
    finally:
        if explore is not None:
            explore.close()
    cache[partial if data["pending"] else key] = data
    return data


def overview_data(request: Request, db: str | None) -> dict[str, Any]:
    from askscope import registry

    with reading(request, db) as r:
        doc = document(request, r)
        name = r.name
        drill = drilldown_data(request, r, doc["lenses"])
    results = doc["lenses"]
    return {
        **drill,
        "db": name,
        "campaign": doc.get("campaign") or {},
        "window": doc.get("window") or {},
        "hosts": doc.get("hosts") or [],
        # the report's verdicts without its citation keys ("[lenses.backfire.volume]"): here every
        # number cited is in the card below it, with its link
        "verdicts": {k: CITATION.sub("", v) for k, v in (doc.get("verdicts") or {}).items()},
        "numbers": lens_numbers(name, results),
        "timeline": timeline_bars(name, results),
        "charts": [
            {"name": c.name, "title": c.title, "src": f"/charts/{c.name}.svg?db={name}"} for c in registry.charts()
        ],
        "caveats": doc.get("caveats") or [],
    }


@router.get("/", include_in_schema=False)
def overview(request: Request, db: str | None = None) -> Response:
    data = overview_data(request, db)
    return render(request, "overview.html", data)


@router.get("/charts/{name}.svg", include_in_schema=False)
def chart(request: Request, name: str, db: str | None = None) -> Response:
    """A chart of the report as SVG (drawn once per snapshot). Served as an image: an SVG shown
    by ``<img>`` runs no script."""
    from askscope import registry

    known = {c.name: c.title for c in registry.charts()}
    if name not in known:
        raise HTTPException(status_code=404, detail=f"no chart named {name!r}")
    with reading(request, db) as r:
        found = chart_svg(request, r, document(request, r), name)
    return Response(found or no_data(known[name]), media_type="image/svg+xml", headers={"Cache-Control": "no-cache"})


@router.get("/api/lenses", summary="The lenses' stored results, verdicts and drill-down links")
def api_lenses(
    request: Request, db: str | None = Query(None, description="store name (the first store when omitted)")
) -> dict[str, Any]:
    """The stored lens results (as ``askscope.lens_results``), the verdicts, and for every count
    and share the ``/posts`` link that lists the posts it counts; the report's post lists, most
    active accounts, coordinated groups and the overview's bar charts with their links."""
    from askscope.reports.document import stored_results

    with reading(request, db) as r:
        doc = document(request, r)
        stored = stored_results(Store(r.path, r.con, read_only=True))
        name = r.name
        drill = drilldown_data(request, r, doc["lenses"])
    return {
        "db": name,
        "campaign": doc.get("campaign"),
        "verdicts": doc.get("verdicts"),
        "numbers": lens_numbers(name, doc["lenses"]),
        # the report's lists and tables, and the charts' bars, each count with its /posts link
        "lists": drill["post_lists"],
        "groups": drill["groups"],
        "top_accounts": drill["top_accounts"],
        "charts": drill["bar_charts"],
        "lenses": stored,
    }
