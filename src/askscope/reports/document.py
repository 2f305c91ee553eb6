"""The report document: every number of the report, under stable keys (docs/report.md).

Built from what the analysis stored, never from the campaign's tables: the lenses' results
(``lens_results``: every series and list the report shows is computed by a lens) and the stage
runs' summaries. The JSON, Markdown and HTML renderers all read this one document, so they never
disagree, and the report can never show a number that differs from the stored one.
Deterministic: sorted lists, seeded intervals, no clock (the same store and settings give
byte-identical JSON).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from askscope._version import __version__
from askscope.errors import AskscopeError
from askscope.reports.verdicts import verdicts
from askscope.stages.base import last_runs
from askscope.store.core import Store
from askscope.store.schema import SCHEMA_VERSION

#: Stage summary keys that describe a run, not the campaign (left out: the report is reproducible).
VOLATILE = {"classified_now", "reused", "distinct_texts"}
#: The lens whose figures become the document's top-level keys rather than ``lenses.store``.
STORE_LENS = "store"
#: The lists of posts a pseudonymised report rewrites (``lenses.posts``).
POST_LISTS = ("mocking_posts", "host_answers", "unanswered_questions", "answered_questions")


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


def stored_results(store: Store) -> dict[str, Any]:
    """The lenses' results as the ``lenses`` stage stored them."""
    rows = store.con.execute("SELECT results FROM lens_results").fetchall()
    results: dict[str, Any] = json.loads(rows[0][0]) if rows else {}
    return results


def _pseudonymise(results: dict[str, Any], names: Pseudonyms) -> None:
    """Replace participants' handles (and @-mentions in texts) in the results, in place."""
    for cluster in (results.get("authenticity") or {}).get("largest_duplicate_clusters", []):
        cluster["first_author_id"] = None
        cluster["first_post_id"] = None
        cluster["text"] = names.text(cluster.get("text"))
    posts = results.get("posts") or {}
    for key in POST_LISTS:
        for post in posts.get(key, []):
            post["author"] = names.name(post.get("author"))
            post["text"] = names.text(post.get("text"))


def build(store: Store, *, pseudonymise: bool = False) -> dict[str, Any]:
    """The report document of an analysed store."""
    runs = last_runs(store)
    if "lenses" not in runs:
        raise ReportError(
            f"{store.path} has not been analysed", f"run first: askscope analyze {store.path} --campaign CAMPAIGN.toml"
        )
    results = copy.deepcopy(stored_results(store))
    summary = results.pop(STORE_LENS, None)
    if summary is None:
        raise ReportError(
            f"{store.path} was analysed by an older askscope (its lens results lack the store figures)",
            f"analyse it again: askscope analyze {store.path} --campaign CAMPAIGN.toml",
        )
    campaign = runs["lenses"]["campaign"]
    hosts = summary["hosts"]
    names = Pseudonyms(pseudonymise, {h["handle"] for h in hosts if h["handle"]}, campaign.get("name", ""))
    if pseudonymise:
        _pseudonymise(results, names)
    doc: dict[str, Any] = {
        "askscope_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "synthetic": summary["synthetic"],
        "pseudonymised": pseudonymise,
        "campaign": campaign,
        "window": summary["window"],
        "hosts": hosts,
        "store": summary["counts"],
        "coverage": _coverage(runs, summary["api_errors"]),
        "relations": runs.get("relations", {}).get("summary", {}).get("by_relation", {}),
        "lenses": results,
        "classifiers": summary["classifiers"],
        "stages": {
            name: {"summary": {k: v for k, v in run["summary"].items() if k not in VOLATILE}}
            for name, run in sorted(runs.items())
        },
    }
    doc["verdicts"] = verdicts(doc)
    doc["caveats"] = _caveats(doc)
    return doc


def _coverage(runs: dict[str, Any], api_errors: int) -> dict[str, Any]:
    threads = runs.get("reply_trees", {}).get("summary", {})
    return {
        "replies": threads.get("replies"),
        "edges_rebuilt": threads.get("edges_rebuilt"),
        "replies_with_missing_parent": threads.get("replies_with_missing_parent"),
        "missing_parents": threads.get("missing_parents"),
        "missing_parents_explained_by_api": threads.get("missing_parents_explained_by_api"),
        "api_errors": api_errors,
        "hosts_unresolved": runs.get("relations", {}).get("summary", {}).get("hosts_unresolved", []),
    }


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
