"""askscope's own readers, stages, lenses, report sections, charts, labelers and commands,
registered through the same hooks as any plugin (:mod:`askscope.hookspecs`).

Each hook imports what it returns only when called, so ``askscope --version`` loads none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from askscope.hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover - types only
    import click

    from askscope.lenses.base import Lens
    from askscope.readers.base import Reader
    from askscope.reports.sections import Chart, Section
    from askscope.stages.base import Stage


@hookimpl
def askscope_readers() -> Sequence[type[Reader]]:
    from askscope.readers.bluesky import BlueskyReader
    from askscope.readers.cassette import CassetteReader
    from askscope.readers.csv import CsvReader
    from askscope.readers.mastodon import MastodonReader
    from askscope.readers.reddit import RedditReader
    from askscope.readers.x_v1 import XV1Reader
    from askscope.readers.x_v2 import XV2Reader

    return [CassetteReader, MastodonReader, BlueskyReader, RedditReader, XV2Reader, XV1Reader, CsvReader]


@hookimpl
def askscope_stages() -> Sequence[type[Stage]]:
    from askscope.authenticity.stage import Authenticity
    from askscope.stages.answers import Answers
    from askscope.stages.labeling import Classify
    from askscope.stages.lenses import Lenses
    from askscope.stages.relations import Relations
    from askscope.stages.reply_trees import ReplyTrees

    return [ReplyTrees, Relations, Classify, Authenticity, Answers, Lenses]


@hookimpl
def askscope_lenses() -> Sequence[Lens]:
    from askscope.lenses.authenticity import AUTHENTICITY
    from askscope.lenses.backfire import BACKFIRE
    from askscope.lenses.engagement import ENGAGEMENT
    from askscope.lenses.framing import FRAMING
    from askscope.lenses.posts import POSTS
    from askscope.lenses.store import STORE

    return [BACKFIRE, ENGAGEMENT, FRAMING, AUTHENTICITY, POSTS, STORE]


@hookimpl
def askscope_report_sections() -> Sequence[Section]:
    from askscope.reports.builtin_sections import SECTIONS

    return SECTIONS


@hookimpl
def askscope_charts() -> Sequence[Chart]:
    from askscope.reports.charts import CHARTS

    return CHARTS


@hookimpl
def askscope_labelers() -> Sequence[Any]:
    from askscope.stages.labeling import BundledFastLabeler, BundledLabeler

    return [BundledLabeler, BundledFastLabeler]


@hookimpl
def askscope_commands() -> Sequence[click.Command]:
    from askscope.cli.analysis import analyze, demo, init, report, stages
    from askscope.cli.archive import export_command, import_command
    from askscope.cli.authenticity import authenticity_command
    from askscope.cli.classify import classify_command
    from askscope.cli.code import code_command
    from askscope.cli.collect import collect_command
    from askscope.cli.live import live
    from askscope.cli.plugins import plugins
    from askscope.cli.serve import serve
    from askscope.cli.store import formats, info, ingest, reparse, sql

    return [
        ingest,
        info,
        sql,
        reparse,
        formats,
        init,
        analyze,
        stages,
        report,
        demo,
        classify_command,
        collect_command,
        authenticity_command,
        code_command,
        plugins,
        serve,
        export_command,
        import_command,
        live,
    ]
