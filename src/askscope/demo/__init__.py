"""``askscope demo``: a whole analysis on real bundled data, from raw posts to the report.

The data: @Uber_Sydney's post during the Sydney siege (15 December 2014) and the 102 replies to
it, 21 of them by @Uber_Sydney itself answering repliers: real public posts in raw X API v1.1
JSON from RumourEval 2017 (PHEME), the reply tree as collected (annotations CC-BY 4.0; the posts
remain their authors'). All replies are in English (PHEME collected English posts), so the
language lens shows one language.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from askscope.analysis import analyze
from askscope.campaign import load_campaign
from askscope.ingestion.engine import ingest
from askscope.reports import report

DATA = "uber_sydney.zip"
CAMPAIGN = "campaign.toml"


def run_demo(
    folder: str | Path, *, settings: dict[str, Any] | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Build ``folder/demo.duckdb`` from the bundled data, analyse it and write the reports
    (``report.html``, ``report.md``, ``report.json``). Returns the paths and the verdicts."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "demo.duckdb"
    for stale in (store, Path(str(store) + ".wal")):
        if stale.exists():
            stale.unlink()
    package = resources.files("askscope.demo")
    data = out / DATA
    campaign_file = out / CAMPAIGN
    with resources.as_file(package.joinpath(DATA)) as source:
        shutil.copyfile(source, data)
    campaign_file.write_text(package.joinpath(CAMPAIGN).read_text(encoding="utf-8"), encoding="utf-8")
    ingested = ingest(str(store), [str(data)])
    campaign = load_campaign(campaign_file)
    summaries = analyze(str(store), campaign, settings=settings, progress=progress)
    paths = {}
    for fmt, name in (("html", "report.html"), ("md", "report.md"), ("json", "report.json")):
        path = out / name
        path.write_text(report(str(store), format=fmt), encoding="utf-8")
        paths[fmt] = str(path)
    import json

    document = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    return {
        "store": str(store),
        "campaign": str(campaign_file),
        "reports": paths,
        "ingested": ingested.totals.as_dict(),
        "stages": summaries,
        "verdicts": document["verdicts"],
    }
