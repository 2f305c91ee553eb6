"""The report document: every number of the report, under stable keys (docs/report.md).

Built from the store after ``analyze``; the JSON, Markdown and HTML renderers all read this one
document, so they never disagree. Deterministic: sorted lists, seeded intervals, no clock (the
same store and settings give byte-identical JSON).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from askscope._version import __version__
from askscope.errors import AskscopeError
from askscope.lenses.common import bucket_for, campaign_span
from askscope.reports.verdicts import verdicts
from askscope.stages.base import last_runs
from askscope.store.core import Store, table_names
from askscope.store.schema import SCHEMA_VERSION
from askscope.timefmt import iso
from askscope.vocabulary import CATEGORIES, HOSTILE

TOP = 10
#: Stage summary keys that describe a run, not the campaign (left out: the report is reproducible).
VOLATILE = {"classified_now", "reused"}
QUESTION_LIST = 25


class ReportError(AskscopeError):
    code = "E030"


class Pseudonyms:
    """Stable pseudonyms for non-host accounts (``--pseudonymise``): participant-<hash>."""

    def __init__(self, enabled: bool, hosts: set[str], salt: str) -> None:
        self.enabled = enabled
        self.hosts = {h.lower() for h in hosts}
        self.salt = salt

    def name(self, handle: str | None) -> str | None:
        if not self.enabled or handle is None or handle.lower() in self.hosts:
            return handle
        digest = hashlib.blake2b(f"{self.salt}:{handle.lower()}".encode(), digest_size=4).hexdigest()
        return f"participant-{digest}"

    def text(self, text: str | None) -> str | None:
        if not self.enabled or text is None:
            return text
        return re.sub(r"@(\w{1,50})", lambda m: "@" + (self.name(m.group(1)) or ""), text)


def _rows(store: Store, sql: str, params: Any = None) -> list[dict[str, Any]]:
    cursor = store.con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def build(store: Store, *, pseudonymise: bool = False) -> dict[str, Any]:
    """The report document of an analysed store."""
    runs = last_runs(store)
    if "lenses" not in runs:
        raise ReportError(
            f"{store.path} has not been analysed", f"run first: askscope analyze {store.path} --campaign CAMPAIGN.toml"
        )
    con = store.con
    results = json.loads(con.execute("SELECT results FROM lens_results").fetchall()[0][0])
    campaign = runs["lenses"]["campaign"]
    window = _rows(store, 'SELECT start, "end", end_inclusive, from_campaign_file FROM campaign_window')[0]
    hosts = _rows(store, "SELECT platform, author_id, handle, role FROM hosts ORDER BY role, handle")
    names = Pseudonyms(pseudonymise, {h["handle"] for h in hosts if h["handle"]}, campaign.get("name", ""))
    if pseudonymise:
        for cluster in (results.get("authenticity") or {}).get("largest_duplicate_clusters", []):
            cluster["first_author_id"] = None
            cluster["first_post_id"] = None
            cluster["text"] = names.text(cluster.get("text"))
    bucket = bucket_for(*campaign_span(store))
    doc: dict[str, Any] = {
        "askscope_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "synthetic": _is_synthetic(store),
        "pseudonymised": pseudonymise,
        "campaign": campaign,
        "window": {
            "start": iso(window["start"]),
            "end": iso(window["end"]),
            "from_campaign_file": window["from_campaign_file"],
        },
        "hosts": [
            {
                "platform": h["platform"],
                "author_id": h["author_id"],
                "handle": h["handle"],
                "role": h["role"],
                "found": h["author_id"] is not None,
            }
            for h in hosts
        ],
        "store": _store_summary(store),
        "coverage": _coverage(store, runs),
        "relations": runs.get("relations", {}).get("summary", {}).get("by_relation", {}),
        "lenses": results,
        "series": _series(store, bucket),
        "top": _top(store, names),
        "classifiers": _classifiers(store),
        "stages": {
            name: {"summary": {k: v for k, v in run["summary"].items() if k not in VOLATILE}}
            for name, run in sorted(runs.items())
        },
    }
    doc["verdicts"] = verdicts(doc)
    doc["caveats"] = _caveats(doc)
    return doc


def _is_synthetic(store: Store) -> bool:
    rows = store.con.execute("SELECT count(*) FROM ingests WHERE source_file LIKE 'synthetic:%'").fetchall()
    return bool(rows[0][0])


def _store_summary(store: Store) -> dict[str, Any]:
    row = store.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT is_context), count(*) FILTER (WHERE is_context) FROM posts"
    ).fetchall()[0]
    rejects = store.con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
    inputs = store.con.execute("SELECT count(*) FROM ingests WHERE superseded_by IS NULL").fetchall()[0][0]
    return {"posts": row[0], "matched": row[1], "context": row[2], "rejects": rejects, "inputs": inputs}


def _coverage(store: Store, runs: dict[str, Any]) -> dict[str, Any]:
    threads = runs.get("reply_trees", {}).get("summary", {})
    api_errors = store.con.execute("SELECT count(*) FROM api_errors").fetchall()[0][0]
    return {
        "replies": threads.get("replies"),
        "edges_rebuilt": threads.get("edges_rebuilt"),
        "replies_with_missing_parent": threads.get("replies_with_missing_parent"),
        "missing_parents": threads.get("missing_parents"),
        "missing_parents_explained_by_api": threads.get("missing_parents_explained_by_api"),
        "api_errors": api_errors,
        "hosts_unresolved": runs.get("relations", {}).get("summary", {}).get("hosts_unresolved", []),
    }


def _series(store: Store, bucket: str) -> dict[str, Any]:
    con = store.con
    by_category = _rows(
        store,
        "SELECT time_bucket(CAST(? AS INTERVAL), p.created_at) AS t, coalesce(l.label, 'unlabelled') AS category, "
        "count(*) AS n FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "LEFT JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'discourse' "
        "WHERE r.in_campaign AND r.relation <> 'host' GROUP BY ALL ORDER BY 1, 2",
        [bucket],
    )
    timeline: dict[str, dict[str, int]] = {}
    for row in by_category:
        timeline.setdefault(iso(row["t"]) or "", {})[row["category"]] = int(row["n"])
    host = dict(
        con.execute(
            "SELECT time_bucket(CAST(? AS INTERVAL), p.created_at), count(*) FROM relations r JOIN posts p "
            "ON p.platform = r.platform AND p.id = r.post_id WHERE r.in_campaign AND r.relation = 'host' GROUP BY 1",
            [bucket],
        ).fetchall()
    )
    from askscope.lenses.stats import wilson

    points = []
    for t, counts in sorted(timeline.items()):
        n = sum(counts.values())
        k = sum(v for c, v in counts.items() if c in HOSTILE)
        share = wilson(k, n)
        points.append(
            {
                "t": t,
                "counts": {c: counts.get(c, 0) for c in (*CATEGORIES, "unlabelled") if counts.get(c)},
                "posts": n,
                "hostile_share": share["value"],
                "hostile_ci": share["ci"],
            }
        )
    for t, n in sorted(host.items(), key=lambda kv: kv[0]):
        key = iso(t) or ""
        match = next((p for p in points if p["t"] == key), None)
        if match is None:
            points.append({"t": key, "counts": {}, "posts": 0, "hostile_share": None, "hostile_ci": [None, None]})
            match = points[-1]
        match["host_posts"] = int(n)
    points.sort(key=lambda p: p["t"])
    latencies = [
        r[0] for r in con.execute("SELECT latency_s FROM answers WHERE latency_s IS NOT NULL ORDER BY 1").fetchall()
    ]
    edges = [1, 5, 15, 30, 60, 120, 240, 480, 1440]
    histogram = []
    lower = 0
    for upper in edges + [None]:
        count = sum(1 for x in latencies if x / 60 >= lower and (upper is None or x / 60 < upper))
        histogram.append({"from_min": lower, "to_min": upper, "answers": count})
        lower = upper if upper is not None else lower
    # Each participant counted once, under the language most of their posts are in (ties: the
    # first by name), so the participants add up to the audience.
    languages = _rows(
        store,
        "WITH per AS (SELECT p.platform, p.author_id, coalesce(l.label, p.lang, 'und') AS language, count(*) AS posts "
        "FROM relations r JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "LEFT JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'language' "
        "WHERE r.in_campaign AND r.relation <> 'host' GROUP BY ALL), "
        "ranked AS (SELECT *, row_number() OVER (PARTITION BY platform, author_id ORDER BY posts DESC, language) AS k, "
        "sum(posts) OVER (PARTITION BY platform, author_id) AS all_posts FROM per) "
        "SELECT language, count(*) AS participants, sum(all_posts)::BIGINT AS posts FROM ranked WHERE k = 1 "
        "GROUP BY 1 ORDER BY participants DESC, language",
    )
    depth = _rows(
        store,
        "SELECT tr.max_depth AS depth, count(*) AS threads FROM thread_roots tr WHERE tr.root_id IN "
        "(SELECT DISTINCT t.root_id FROM threads t JOIN relations r ON r.platform = t.platform AND r.post_id = t.post_id "
        "WHERE r.in_campaign) GROUP BY 1 ORDER BY 1",
    )
    answered = _rows(
        store,
        "SELECT coalesce(category, 'unlabelled') AS category, count(*) AS questions, count(answer_id) AS answered "
        "FROM answers GROUP BY 1 ORDER BY 1",
    )
    return {
        "bucket": bucket,
        "timeline": points,
        "latency_histogram": histogram,
        "languages": languages,
        "thread_depth": depth,
        "answers_by_category": answered,
    }


def _post(row: dict[str, Any], names: Pseudonyms) -> dict[str, Any]:
    return {
        "id": row["id"],
        "author": names.name(row.get("author_handle")),
        "created_at": iso(row["created_at"]),
        "text": names.text(row.get("text")),
        "reposts": row.get("reposts"),
        "likes": row.get("likes"),
        "category": row.get("category"),
    }


def _top(store: Store, names: Pseudonyms) -> dict[str, Any]:
    mocking = _rows(
        store,
        "SELECT p.id, p.author_handle, p.created_at, p.text, coalesce(p.repost_count, 0) AS reposts, "
        "coalesce(p.like_count, 0) AS likes, l.label AS category FROM relations r "
        "JOIN posts p ON p.platform = r.platform AND p.id = r.post_id "
        "JOIN labels l ON l.platform = r.platform AND l.post_id = r.post_id AND l.task = 'discourse' "
        "WHERE r.in_campaign AND r.relation <> 'host' AND l.label = 'mockery' "
        "ORDER BY reposts DESC, likes DESC, p.id LIMIT ?",
        [TOP],
    )
    answers = _rows(
        store,
        "SELECT p.id, p.author_handle, p.created_at, p.text, coalesce(p.repost_count, 0) AS reposts, "
        "coalesce(p.like_count, 0) AS likes, NULL AS category FROM answers a "
        "JOIN posts p ON p.platform = a.platform AND p.id = a.answer_id "
        "ORDER BY reposts DESC, likes DESC, p.id LIMIT ?",
        [TOP],
    )
    questions = _rows(
        store,
        "SELECT p.id, p.author_handle, p.created_at, p.text, coalesce(p.repost_count, 0) AS reposts, "
        "coalesce(p.like_count, 0) AS likes, a.category, a.answer_id, a.latency_s, a.answer_kind, "
        "CASE a.category WHEN 'question_critical' THEN 0 WHEN 'mockery' THEN 1 WHEN 'question_genuine' THEN 2 ELSE 3 END AS rank "
        "FROM answers a JOIN posts p ON p.platform = a.platform AND p.id = a.question_id "
        "ORDER BY rank, reposts DESC, p.id",
    )
    unanswered = [q for q in questions if q["answer_id"] is None][:QUESTION_LIST]
    answered = [q for q in questions if q["answer_id"] is not None][:QUESTION_LIST]

    def question(row: dict[str, Any]) -> dict[str, Any]:
        out = _post(row, names)
        out.update({"answer_id": row["answer_id"], "latency_s": row["latency_s"], "answer_kind": row["answer_kind"]})
        return out

    return {
        "mocking_posts": [_post(r, names) for r in mocking],
        "host_answers": [_post(r, names) for r in answers],
        "unanswered_questions": [question(q) for q in unanswered],
        "answered_questions": [question(q) for q in answered],
    }


def _classifiers(store: Store) -> dict[str, Any]:
    tables = table_names(store.con)
    if "label_models" not in tables:
        return {}
    out = {}
    for task, model, rates, labeler in store.con.execute(
        "SELECT task, model, error_rates, labeler FROM label_models ORDER BY task"
    ).fetchall():
        entry: dict[str, Any] = {"model": model, "labeler": labeler}
        if labeler == "bundled":
            try:
                from askscope.classify import model_info

                info = model_info(task)
                validation = info.get("validation", {})
                entry["validation"] = {k: v for k, v in validation.items() if k in ("data", "metric", "value", "score")}
            except Exception:  # noqa: BLE001 - the report still renders without model cards
                pass
        parsed = json.loads(rates or "{}")
        classes = parsed.get("classes", parsed)
        entry["error_rates"] = {
            k: {m: round(v[m], 4) for m in ("tpr", "fpr") if m in v}
            for k, v in sorted(classes.items())
            if isinstance(v, dict)
        }
        out[task] = entry
    return out


def _caveats(doc: dict[str, Any]) -> list[str]:
    notes = []
    if doc["synthetic"]:
        notes.append(
            "SYNTHETIC DATA: this store was produced by the askscope simulator; "
            "its numbers are not evidence about any real campaign."
        )
    coverage = doc["coverage"]
    if coverage.get("replies_with_missing_parent"):
        notes.append(
            f"{coverage['replies_with_missing_parent']:,} replies point to "
            f"{coverage['missing_parents']:,} posts that are not in the store "
            f"({coverage.get('missing_parents_explained_by_api') or 0:,} reported missing by the API): "
            "their threads are incomplete."
        )
    if coverage.get("hosts_unresolved"):
        notes.append(
            "Host accounts not found among the posts or accounts of the store: "
            + ", ".join(coverage["hosts_unresolved"])
            + " (matched by handle in mentions only)."
        )
    if not doc["window"]["from_campaign_file"]:
        notes.append(
            "The window was taken from the data (first to last campaign post); "
            "give start and end in the campaign file to fix it."
        )
    corrected = doc["lenses"]["backfire"]["hostile_share"].get("corrected")
    if corrected:
        notes.append(
            "Discourse categories come from a classifier; shares are given as counted and corrected for the "
            "classifier's validation error rates, each with a 95% interval."
        )
    else:
        notes.append(
            "Discourse categories come from a classifier whose category rule has no validated error rates: "
            "shares are as counted (95% intervals cover sampling, not classifier error). See the model cards."
        )
    authenticity = doc["lenses"].get("authenticity") or {}
    crowded = {name: n for name, n in (authenticity.get("networks") or {}).items() if n.get("crowded_actions")}
    if crowded:
        parts = ", ".join(
            f"{name.replace('_', ' ')} {n['crowded_actions']:,} of {n['actions']:,}"
            for name, n in sorted(crowded.items())
        )
        notes.append(
            "Co-action networks leave out actions made inside crowds (more than "
            f"{authenticity.get('max_crowd') or 'max_crowd'} actions on the same object within the coordination interval), which show "
            f"joining a crowd, not coordination: {parts}. Coordination only inside crowds is not seen there."
        )
    notes.append("Reach sums the followers of participants: an upper bound, audiences overlap.")
    return notes
