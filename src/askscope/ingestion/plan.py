"""Planning an ingest: which inputs exist and in which format, and which small inputs are
written together in one transaction (a group)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from askscope.errors import AskscopeError, UnknownFormatError
from askscope.ingestion.inputs import InputSource, OpenedInput, expand_paths
from askscope.readers import Reader, detect, make_head, reader_for
from askscope.readers.records import HEAD_BYTES

#: Inputs up to this size are written in groups (one transaction for many files).
SMALL_INPUT_BYTES = 2 << 20
GROUP_INPUTS = 2000
GROUP_BYTES = 32 << 20


@dataclass(slots=True)
class Plan:
    source: InputSource
    reader: Reader
    opened: OpenedInput | None  # kept open only for stdin (it cannot be re-opened)
    compression: str | None
    framing: str


@dataclass
class Unknown:
    """An input no reader recognised: stored as a file-level reject, the others read on."""

    source: InputSource
    why: str
    head: bytes


def plan_inputs(
    paths: Sequence[str], format: str | None, options: dict[str, Any], strict: bool = False
) -> tuple[list[Plan], list[Unknown]]:
    """What to read and how. An input of unknown format, named or found in a folder, is set
    aside (``--strict``: an error at once) so that the others are still read."""
    if not paths:
        raise AskscopeError("no input given", "give one or more files, folders or - for stdin")
    plans: list[Plan] = []
    skipped: list[Unknown] = []
    for source in expand_paths(list(paths)):
        opened = OpenedInput(source, HEAD_BYTES)
        try:
            head = make_head(opened.head)
            reader = reader_for(format, options) if format else detect(head, source.name, options)
            if format and not reader.sniff(head) and head.layout == "text" and reader.name != "csv":
                raise UnknownFormatError(
                    f"{source.name} is not {format}: it is not JSON", "leave out --format to let askscope recognise it"
                )
        except UnknownFormatError as exc:
            opened.close()
            if strict:
                raise
            why = f"{exc.message}; {exc.hint}" if exc.hint and "--map" in exc.hint else exc.message
            skipped.append(Unknown(source, why, opened.head[:400]))
            continue
        except BaseException:
            opened.close()
            raise
        plans.append(Plan(source, reader, opened if source.is_stdin else None, opened.compression, head.layout))
        if not source.is_stdin:
            opened.close()
    return plans, skipped
    # The store itself failed (out of memory or disk; DuckDB then refuses every further
    # statement): the error already on its way says why; committed batches stay stored.


# --- many small inputs -------------------------------------------------------------------------


def group_plans(plans: list[Plan], strict: bool) -> Iterator[list[Plan]]:
    """Consecutive small files go together (one transaction, one upsert per table); everything
    else alone. ``--strict`` keeps every input alone, so it can stop exactly at a bad record."""
    group: list[Plan] = []
    size = 0
    for plan in plans:
        small = (
            not strict
            and plan.opened is None
            and plan.source.size is not None
            and plan.source.size <= SMALL_INPUT_BYTES
        )
        if small and group and len(group) < GROUP_INPUTS and size + (plan.source.size or 0) <= GROUP_BYTES:
            group.append(plan)
            size += plan.source.size or 0
            continue
        if group:
            yield group
        group, size = ([plan], plan.source.size or 0) if small else ([], 0)
        if not small:
            yield [plan]
    if group:
        yield group
