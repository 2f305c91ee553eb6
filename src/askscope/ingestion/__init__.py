"""Inputs into the store: finding and opening inputs (:mod:`askscope.ingestion.inputs`), planning,
parsing in workers and writing them (:mod:`~askscope.ingestion.engine`), and replaying stored raw
records through today's readers (:mod:`~askscope.ingestion.reparse`)."""

from askscope.ingestion.engine import FileResult, IngestResult, ingest, read_posts
from askscope.ingestion.reparse import ReparseResult, reparse

__all__ = ["FileResult", "IngestResult", "ReparseResult", "ingest", "read_posts", "reparse"]
