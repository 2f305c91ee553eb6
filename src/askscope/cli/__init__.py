"""The ``askscope`` command line: :mod:`askscope.cli.main` (the group, error handling), one
module per command group (:mod:`~askscope.cli.store`, :mod:`~askscope.cli.analysis`,
:mod:`~askscope.cli.classify`, :mod:`~askscope.cli.code`, :mod:`~askscope.cli.collect`,
:mod:`~askscope.cli.authenticity`, :mod:`~askscope.cli.plugins`) and what they share
(:mod:`~askscope.cli.common`). Command modules never import :mod:`askscope.cli.main`."""

from askscope.cli.main import main

__all__ = ["main"]
