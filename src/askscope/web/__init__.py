"""The askscope web app (``askscope serve``): server-rendered pages and a JSON API over one or
more campaign stores, read through snapshots so that an ingest can write the store meanwhile.

Import :func:`askscope.web.app.create_app`; this package imports nothing heavy on its own.
"""
