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

from askscope.coding.agreement import Agreement, agreement, consensus, write_disagreements
from askscope.coding.codebook import CODEBOOK, CODING_TASKS, codebook_markdown
from askscope.coding.estimates import Estimates, estimate
from askscope.coding.importing import ImportResult, import_codes
from askscope.coding.ppi import Interval, coded_share, ppi_share, wilson
from askscope.coding.sampling import Sample, draw_sample, write_sample
from askscope.coding.tables import ADJUDICATION, CODING_TABLES, CodingError

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
