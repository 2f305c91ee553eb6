"""Two real campaigns for the web tests, built once per version of the code and cached.

* ``uber``: the demo, @Uber_Sydney answering the people who replied to it during the Sydney
  siege (RumourEval/PHEME, bundled in ``askscope.demo``): 103 posts, 22 by the host.
* ``ferguson``: a RumourEval thread of its own: @andybankertv's post on the Ferguson store
  video (15 August 2014) and its 52 replies, 4 of them by @andybankertv
  (``../shared/data/rumoureval/train/ferguson/500391222075076610``).

Both are analysed with the bundled classifiers, as a user would. The tests copy a store before
writing to it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from conftest import shared

FERGUSON_THREAD = ("rumoureval", "train", "ferguson", "500391222075076610")
FERGUSON_CAMPAIGN = {
    "name": "andybankertv on the Ferguson store video",
    "hosts": ["andybankertv"],
    "hashtags": ["ferguson"],
    "start": "2014-08-15T18:00:00Z",
    "end": "2014-08-17T18:00:00Z",
}


def _digest() -> str:
    import askscope

    digest = hashlib.sha256(Path(__file__).read_bytes())
    root = Path(askscope.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if "web" in path.relative_to(root).parts:
            continue  # the web app does not change the stores
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def campaign_store(name: str) -> Path:
    """The analysed store of campaign ``name`` (``uber`` or ``ferguson``), cached in the
    temporary folder (written atomically, so parallel runs never see half a store)."""
    import askscope
    from askscope.analysis import analyze
    from askscope.campaign import load_campaign, parse_campaign

    folder = Path(tempfile.gettempdir()) / "askscope-test-web-campaigns" / _digest()
    path = folder / f"{name}.duckdb"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder))
    db = work / f"{name}.duckdb"
    if name == "uber":
        package = resources.files("askscope.demo")
        data = work / "uber_sydney.zip"
        with resources.as_file(package.joinpath("uber_sydney.zip")) as source:
            shutil.copyfile(source, data)
        toml = work / "campaign.toml"
        toml.write_text(package.joinpath("campaign.toml").read_text(encoding="utf-8"), encoding="utf-8")
        askscope.ingest(str(db), [str(data)])
        analyze(str(db), load_campaign(toml))
    elif name == "ferguson":
        thread = shared(*FERGUSON_THREAD)
        askscope.ingest(str(db), [str(thread / "source-tweet"), str(thread / "replies")])
        analyze(str(db), parse_campaign(FERGUSON_CAMPAIGN))
    else:
        raise ValueError(name)
    os.replace(db, path)
    shutil.rmtree(work, ignore_errors=True)
    return path


def copy_of(name: str, folder: Path) -> str:
    """A private copy of a campaign store (for tests that write)."""
    target = folder / f"{name}.duckdb"
    shutil.copyfile(campaign_store(name), target)
    return str(target)
