"""Time formatting shared by every output: ISO 8601 in UTC with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload


@overload
def iso(value: None) -> None: ...
@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: Any) -> str | None: ...


def iso(value: Any) -> str | None:
    """``2015-03-24T14:00:00Z`` for an aware UTC datetime (other offsets are kept as they are;
    dates print as dates); ``None`` stays ``None``."""
    if value is None:
        return None
    return str(value.isoformat()).replace("+00:00", "Z")


def iso_ms(ms: int) -> str:
    """ISO time of milliseconds since the epoch (UTC)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
