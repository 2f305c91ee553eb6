"""The archive form of a campaign: Parquet datasets in a directory, for data beyond one store.

* :mod:`askscope.archive.parquet`: ``askscope export DB --parquet DIR`` writes every table of a
  store as a Parquet dataset (``posts/`` partitioned by platform and day, hive style) with a
  ``manifest.json``; ``askscope import DIR DB`` makes a store from it, table for table.
* :mod:`askscope.archive.dask_ingest`: ``askscope ingest ARCHIVE_DIR PATH... --dask local:N``
  parses the inputs on dask.distributed workers and merges them into the archive with the
  embedded store's own write rules.
* :mod:`askscope.archive.cluster`: the ``--dask`` address (``local:N`` or ``tcp://host:port``)
  to a client; dask is imported only there (``pip install 'askscope[archive]'``).

docs/archive.md says what runs distributed and what does not yet.
"""
