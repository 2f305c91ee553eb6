"""askscope's one extension point: pluggy hook specifications.

Every built-in reader, stage, lens, report section, chart, labeler and command is registered
through these hooks (:mod:`askscope.builtins`), and so is every plugin: a module with functions
marked ``@hookimpl`` whose names are the hooks below, made known either by an entry point in the
``askscope`` group of its distribution::

    [project.entry-points.askscope]
    telegram = "askscope_telegram.plugin"

or at run time with :func:`askscope.registry.register`. Each hook returns a list; a plugin
implements only the hooks it needs. ``askscope plugins`` lists what is installed. See
docs/architecture.md ("where does a change go") and examples/plugins/askscope-telegram.

This module imports no other part of askscope (its annotations name the types in words, so
that importing it can never make an import cycle): anything may import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pluggy

PROJECT = "askscope"
#: The entry-point group plugins are discovered by.
ENTRY_POINT_GROUP = "askscope"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def askscope_readers() -> Sequence[Any]:
    """Input formats: :class:`~askscope.readers.base.Reader` subclasses.

    Sniffing asks readers in ascending ``sniff_order`` (cassettes 0, platform readers 50, the
    permissive X readers 80, CSV 90), so a new format's reader (default 50) is asked before the
    catch-alls. ``name`` must be unique: it is what ``--format`` and the ``ingests`` table use.
    """
    raise NotImplementedError


@hookspec
def askscope_stages() -> Sequence[Any]:
    """Analysis stages: :class:`~askscope.stages.base.Stage` subclasses.

    The runner orders stages by the tables they ``requires`` / ``reads`` and ``provides`` (not by
    registration), refuses a stage whose required table nothing provides, and checks after each
    stage that its tables exist."""
    raise NotImplementedError


@hookspec
def askscope_lenses() -> Sequence[Any]:
    """Lenses: :class:`~askscope.lenses.base.Lens` objects. The ``lenses`` stage computes each
    (in ``order``) into ``lens_results`` under its name and flattens its numbers into
    ``metrics``."""
    raise NotImplementedError


@hookspec
def askscope_report_sections() -> Sequence[Any]:
    """Report sections: :class:`~askscope.reports.sections.Section` objects. HTML and Markdown
    render the same list, in ``order``; a section renders stored results only."""
    raise NotImplementedError


@hookspec
def askscope_charts() -> Sequence[Any]:
    """Charts: :class:`~askscope.reports.sections.Chart` objects, drawn from the report
    document (HTML report, ``askscope report --charts``)."""
    raise NotImplementedError


@hookspec
def askscope_labelers() -> Sequence[Any]:
    """Labelers: classes with a ``name`` and the :class:`~askscope.stages.labeling.Labeler`
    methods, built with no arguments. A campaign chooses one by name (``labeler = "NAME"`` in
    its settings, ``askscope analyze --labeler NAME``); ``bundled`` is askscope's own."""
    raise NotImplementedError


@hookspec
def askscope_commands() -> Sequence[Any]:
    """CLI commands (click commands, named by their ``name``). Keep their modules light to
    import: ``askscope --help`` loads every command."""
    raise NotImplementedError
