"""Typed errors with a hint.

Every error a user can cause (a wrong path, a file in no known format, a store written by another
version) is an :class:`AskscopeError` carrying a short message and a hint saying what to do. The
CLI prints ``Error: <message>`` and ``Hint: <hint>`` and exits 1; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations


class AskscopeError(Exception):
    """Base class of user-facing errors: ``message`` says what is wrong, ``hint`` what to do."""

    code = "E000"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(AskscopeError):
    """An input path cannot be opened or read."""

    code = "E001"


class UnknownFormatError(AskscopeError):
    """No reader recognised the content of an input."""

    code = "E002"


class RecordError(AskscopeError):
    """A record is broken; raised in ``--strict`` mode, otherwise recorded in ``rejects``."""

    code = "E003"

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        source_file: str = "",
        source_line: int = 0,
        reason: str = "",
    ) -> None:
        super().__init__(message, hint)
        self.source_file = source_file
        self.source_line = source_line
        self.reason = reason


class StoreError(AskscopeError):
    """The campaign store cannot be opened or used."""

    code = "E004"


class StoreBusyError(StoreError):
    """Another process is writing the store (DuckDB admits one writer and, meanwhile, no reader
    from another process). Long-lived readers use :class:`askscope.store.snapshot.Snapshots`."""


class StoreVersionError(StoreError):
    """The store was written with a schema this version cannot use."""

    code = "E005"


class QueryError(AskscopeError):
    """A user's SQL query failed."""

    code = "E006"


class UsageError(AskscopeError):
    """Options that do not fit together, or a malformed option value."""

    code = "E007"
