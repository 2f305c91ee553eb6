"""Names a package exports but loads only when first used (PEP 562), so that importing the package
is cheap: ``__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)`` in its ``__init__``, with
``_EXPORTS`` mapping each public name to the module that defines it. A submodule must not share a
name with an exported object (importing it would rebind the name): tests/test_lazy_names.py."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: a name of ``exports`` is imported from its
    module on first use and kept in the package's namespace."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
