"""askscope's hooks implemented by this plugin (found through the ``askscope`` entry point in
pyproject.toml): a reader, a lens and a report section. Each hook imports what it returns only
when called, so that ``askscope --help`` stays light."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from askscope.hookspecs import hookimpl


@hookimpl
def askscope_readers() -> Sequence[Any]:
    from askscope_telegram.reader import TelegramExportReader

    return [TelegramExportReader]


@hookimpl
def askscope_lenses() -> Sequence[Any]:
    from askscope_telegram.lens import TELEGRAM

    return [TELEGRAM]


@hookimpl
def askscope_report_sections() -> Sequence[Any]:
    from askscope_telegram.section import TELEGRAM_SECTION

    return [TELEGRAM_SECTION]
