"""Inputs into the store, in the order one input travels: finding and opening it
(:mod:`askscope.ingestion.inputs`), planning (:mod:`~askscope.ingestion.plan`: its format, its
group), parsing it into batches, in worker processes for large JSON lines
(:mod:`~askscope.ingestion.parsing`), and writing the batches (:mod:`~askscope.ingestion.engine`,
with :mod:`askscope.store.write`); :mod:`~askscope.ingestion.reparse` replays stored raw records
through today's readers."""

from askscope.ingestion.engine import FileResult, IngestResult, ingest, read_posts
from askscope.ingestion.reparse import ReparseResult, reparse

__all__ = ["FileResult", "IngestResult", "ReparseResult", "ingest", "read_posts", "reparse"]
