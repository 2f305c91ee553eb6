"""The backfire lens's audience summarised on Dask (askscope.archive.dask_lenses): the parts
written by the analysing process, summarised by tasks on a LocalCluster's workers, merged in
part order, give the lens results of the embedded path to the bit, with the coordinated accounts'
split and the estimator's probability bins across parts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lens_campaign import SEED, analysed_store

pytest.importorskip("dask.distributed")

import askscope  # noqa: E402
from askscope.archive.cluster import dask_client  # noqa: E402  (after the skip: dask is an extra)
from askscope.archive.dask_lenses import DaskAudience  # noqa: E402
from askscope.classify.quantify import Validation  # noqa: E402
from askscope.lenses import backfire as backfire_module  # noqa: E402
from askscope.lenses.authenticity import authenticity  # noqa: E402
from askscope.lenses.common import load_input  # noqa: E402
from askscope.lenses.engagement import engagement  # noqa: E402
from askscope.vocabulary import CATEGORIES  # noqa: E402


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with dask_client("local:2") as connected:
        yield connected


def _validation() -> Validation:
    """A pacc validation set for the discourse labels: 12 posts per category, two of each
    labelled as the next category, with probability vectors leaning to the label."""
    k = len(CATEGORIES)
    gold = np.repeat(np.arange(k), 12)
    predicted = gold.copy()
    predicted[::6] = (gold[::6] + 1) % k
    probabilities = np.full((len(gold), k), 0.2 / (k - 1))
    probabilities[np.arange(len(gold)), predicted] = 0.8
    return Validation("discourse", CATEGORIES, gold, predicted, probabilities, method="pacc", data="hand-made")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """The lens campaign's store with probability vectors on its discourse labels and two
    coordinated accounts."""
    path = tmp_path / "campaign.duckdb"
    shutil.copyfile(analysed_store("campaign"), path)
    with askscope.open_store(str(path)) as store:
        k = len(CATEGORIES)
        # each label's vector: 0.5-0.7 on the label by the post id (several bins), the rest spread
        store.con.execute(
            "UPDATE labels SET probabilities = list_transform(range(?), lambda i: CASE WHEN i = "
            "list_position(?, label) - 1 THEN 0.5 + (CAST(post_id AS BIGINT) % 5) / 20.0 "
            "ELSE (0.5 - (CAST(post_id AS BIGINT) % 5) / 20.0) / (? - 1) END)::FLOAT[] WHERE task = 'discourse'",
            [k, list(CATEGORIES), k],
        )
        store.con.execute(
            "CREATE OR REPLACE TABLE coordinated_accounts AS SELECT * FROM (VALUES ('x', '101', 'co_reply'), "
            "('x', '105', 'co_reply')) v(platform, author_id, network)"
        )
        store.con.execute("CHECKPOINT")
    return path


def _lenses(path: Path, summarise: Any) -> dict[str, Any]:
    with askscope.open_store(str(path)) as store:
        inp = load_input(store, SEED)
        inp = replace(inp, validations={"discourse": _validation()}, summarise=summarise)
        results: dict[str, Any] = {"backfire": backfire_module.backfire(inp), "engagement": engagement(inp)}
        results["authenticity"] = authenticity(inp, results)
        return json.loads(json.dumps(results, sort_keys=True, default=str))


def _close(a: Any, b: Any) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _close(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    else:
        assert a == b


@pytest.mark.parametrize("part", [3, 100])
def test_the_audience_summarised_on_dask_is_the_embedded_audience(
    client: Any, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: int
) -> None:
    monkeypatch.setattr(backfire_module, "AUDIENCE_PART", part)
    summariser = DaskAudience(client, tmp_path / "work")
    embedded = _lenses(store_path, None)
    on_dask = _lenses(store_path, summariser)
    # the corrected shares came from the estimator's bins (pacc), the authenticity lens's second
    # backfire from the same pass's split (the two coordinated accounts' 4 posts left out)
    shares = embedded["backfire"]["category_shares"]["mockery"]["corrected"]
    assert shares["method"].startswith("pacc")
    without = embedded["authenticity"]["without_coordinated"]["backfire"]
    assert embedded["backfire"]["volume"]["audience_posts"] - without["audience_posts"] == 4
    assert on_dask == embedded  # the same parts, code and merge: the same to the bit
    assert summariser.calls == 1  # one pass: the coordinated accounts' split came with it
    assert not list((tmp_path / "work").iterdir())  # the parts' files are removed
    # in parts or at once, the same figures up to the order of floating-point sums
    monkeypatch.setattr(backfire_module, "AUDIENCE_PART", 500_000)
    _close(_lenses(store_path, None), embedded)
