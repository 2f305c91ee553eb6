"""Human coding: samples to code, coders' codes, agreement, and validated (prediction-powered) shares.

>>> import askscope
>>> from askscope.coding import draw_sample, write_sample, import_codes, agreement, estimate
>>> with askscope.open_store("campaign.duckdb") as store:              # doctest: +SKIP
...     sample = draw_sample(store, "discourse", n=300, seed=1)
...     write_sample(sample, "sample.csv")                           # coders fill in 'code'
...     import_codes(store, "sample-coded-by-ana.csv", coder="ana")
...     print(agreement(store, "discourse").alpha, estimate(store, "discourse").as_json())

The web app's coding view is meant to sit on these functions. See docs/coding.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from askscope._lazy import lazy_exports

#: Public name -> module; loaded on first use, so importing this package is cheap.
_EXPORTS = {
    "ADJUDICATION": "askscope.coding.tables",
    "Agreement": "askscope.coding.reliability",
    "CODEBOOK": "askscope.coding.codebook",
    "CODING_TABLES": "askscope.coding.tables",
    "CODING_TASKS": "askscope.coding.codebook",
    "CodingError": "askscope.coding.tables",
    "Estimates": "askscope.coding.estimates",
    "ImportResult": "askscope.coding.importing",
    "Interval": "askscope.coding.ppi",
    "Sample": "askscope.coding.sampling",
    "agreement": "askscope.coding.reliability",
    "codebook_markdown": "askscope.coding.codebook",
    "coded_share": "askscope.coding.ppi",
    "consensus": "askscope.coding.reliability",
    "draw_sample": "askscope.coding.sampling",
    "estimate": "askscope.coding.estimates",
    "import_codes": "askscope.coding.importing",
    "ppi_share": "askscope.coding.ppi",
    "wilson": "askscope.coding.ppi",
    "write_disagreements": "askscope.coding.reliability",
    "write_sample": "askscope.coding.sampling",
}

__all__ = [
    "ADJUDICATION",
    "Agreement",
    "CODEBOOK",
    "CODING_TABLES",
    "CODING_TASKS",
    "CodingError",
    "Estimates",
    "ImportResult",
    "Interval",
    "Sample",
    "agreement",
    "codebook_markdown",
    "coded_share",
    "consensus",
    "draw_sample",
    "estimate",
    "import_codes",
    "ppi_share",
    "wilson",
    "write_disagreements",
    "write_sample",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers
    from askscope.coding.codebook import CODEBOOK, CODING_TASKS, codebook_markdown
    from askscope.coding.estimates import Estimates, estimate
    from askscope.coding.importing import ImportResult, import_codes
    from askscope.coding.ppi import Interval, coded_share, ppi_share, wilson
    from askscope.coding.reliability import Agreement, agreement, consensus, write_disagreements
    from askscope.coding.sampling import Sample, draw_sample, write_sample
    from askscope.coding.tables import ADJUDICATION, CODING_TABLES, CodingError


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
