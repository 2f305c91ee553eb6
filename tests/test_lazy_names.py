"""The names that askscope and its packages load lazily (PEP 562 ``__getattr__`` over ``_EXPORTS``)
stay the objects they name after every submodule has been imported: a submodule with the same name
as an exported function would replace it (``askscope.coding.agreement`` did)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import askscope

CHECK = """
import importlib, pkgutil, askscope
for info in pkgutil.walk_packages(askscope.__path__, "askscope."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
bad = []
packages = [askscope] + [importlib.import_module(i.name) for i in pkgutil.walk_packages(askscope.__path__, "askscope.") if i.ispkg]
for package in packages:
    for name, module in getattr(package, "_EXPORTS", {}).items():
        if getattr(package, name) is not getattr(importlib.import_module(module), name):
            bad.append(f"{package.__name__}.{name}")
print(" ".join(bad))
"""


def test_lazy_names_survive_importing_every_submodule() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []


def test_every_lazy_package_exports_names_of_its_own_modules() -> None:
    packages = [askscope] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(askscope.__path__, "askscope.")
        if info.ispkg
    ]
    lazy = [p for p in packages if hasattr(p, "_EXPORTS")]
    assert {p.__name__ for p in lazy} >= {"askscope", "askscope.coding", "askscope.classify", "askscope.collect"}
    for package in lazy:
        for name, module in package._EXPORTS.items():
            assert name in package.__all__, (package.__name__, name)
            assert module.startswith("askscope."), module
