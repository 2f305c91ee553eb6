"""The registry: what is installed, built-ins and plugins alike, through the hooks of
:mod:`askscope.hookspecs`.

The plugin manager is built on first use: it registers askscope's own hook implementations
(:data:`BUILTIN_PLUGINS`), then every module named by an entry point of the ``askscope`` group.
The functions below collect one hook each, check names are unique and return the result in a
fixed order; nothing here imports a reader, stage or command until it is asked for one. They are
typed ``Any`` on purpose: the registry sits below every layer and imports none of them (the
typed accessors are :func:`askscope.readers.readers`, :func:`askscope.stages.base.registered`,
and so on).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pluggy

from askscope import hookspecs
from askscope.errors import AskscopeError

#: Modules holding askscope's own hook implementations, registered before any plugin.
BUILTIN_PLUGINS = ("askscope.builtins",)

_lock = threading.Lock()
_manager: pluggy.PluginManager | None = None
_extra: list[tuple[object, str]] = []
T = TypeVar("T")


class RegistryError(AskscopeError):
    """Two plugins claim the same name, or a plugin cannot be loaded."""

    code = "E040"


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin: its name, where it comes from and the hooks it implements."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    builtin: bool


def manager() -> pluggy.PluginManager:
    """The plugin manager, built on first use (built-ins, then entry points, then plugins added
    with :func:`register`)."""
    global _manager
    with _lock:
        if _manager is None:
            pm = pluggy.PluginManager(hookspecs.PROJECT)
            pm.add_hookspecs(hookspecs)
            for name in BUILTIN_PLUGINS:
                pm.register(importlib.import_module(name), name=name)
            try:
                pm.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP)
            except Exception as exc:  # a broken plugin: say which, keep askscope usable to remove it
                raise RegistryError(
                    f"a plugin of the {hookspecs.ENTRY_POINT_GROUP!r} entry-point group failed to load: {exc}",
                    "askscope plugins lists them; uninstall or fix the failing one",
                ) from exc
            for plugin, plugin_name in _extra:
                pm.register(plugin, name=plugin_name)
            _manager = pm
        return _manager


def register(plugin: object, name: str | None = None) -> None:
    """Register a plugin (a module or object with ``@hookimpl`` functions) at run time, for
    library users and tests; :func:`unregister` removes it."""
    plugin_name = name or getattr(plugin, "__name__", None) or repr(plugin)
    with _lock:
        _extra.append((plugin, plugin_name))
        if _manager is not None:
            _manager.register(plugin, name=plugin_name)


def unregister(name: str) -> None:
    """Remove a plugin added with :func:`register`."""
    with _lock:
        _extra[:] = [(p, n) for p, n in _extra if n != name]
        if _manager is not None and _manager.get_plugin(name) is not None:
            _manager.unregister(name=name)


def _collect(hook_name: str) -> list[tuple[str, Any]]:
    """(plugin name, item) for every item every plugin returns from one hook, built-ins first."""
    pm = manager()
    hook = getattr(pm.hook, hook_name)
    out: list[tuple[str, Any]] = []
    # pluggy calls the last registered first; askscope wants registration order (built-ins first)
    for impl in hook.get_hookimpls():
        for item in impl.function() or ():
            out.append((impl.plugin_name, item))
    return out


def _unique(kind: str, items: Iterable[tuple[str, T]], key: Callable[[T], str]) -> dict[str, T]:
    found: dict[str, T] = {}
    owners: dict[str, str] = {}
    for plugin, item in items:
        name = key(item)
        if name in found and found[name] is not item:
            raise RegistryError(
                f"two {kind}s are named {name!r}: one from {owners[name]}, one from {plugin}",
                "uninstall one of the plugins or rename its " + kind,
            )
        found[name] = item
        owners[name] = plugin
    return found


def readers() -> list[Any]:
    """Reader classes in sniffing order (``sniff_order``, then registration order)."""
    found = _unique("reader", _collect("askscope_readers"), lambda cls: cls.name)
    return sorted(found.values(), key=lambda cls: getattr(cls, "sniff_order", 50))


def stages() -> dict[str, Any]:
    """Stage classes by name, in registration order (the runner orders them by tables)."""
    return _unique("stage", _collect("askscope_stages"), lambda cls: cls.name)


def lenses() -> list[Any]:
    """Lenses in the order they are computed."""
    found = _unique("lens", _collect("askscope_lenses"), lambda lens: lens.name)
    return sorted(found.values(), key=lambda lens: lens.order)


def report_sections() -> list[Any]:
    """Report sections in the order both renderers show them."""
    found = _unique("report section", _collect("askscope_report_sections"), lambda section: section.name)
    return sorted(found.values(), key=lambda section: section.order)


def charts() -> list[Any]:
    """Charts in report order."""
    found = _unique("chart", _collect("askscope_charts"), lambda chart: chart.name)
    return sorted(found.values(), key=lambda chart: chart.order)


def labelers() -> dict[str, Any]:
    """Labeler classes by name."""
    return _unique("labeler", _collect("askscope_labelers"), lambda cls: cls.name)


def commands() -> dict[str, Any]:
    """CLI commands by name, in registration order."""
    return _unique("command", _collect("askscope_commands"), lambda command: command.name or "")


def plugins() -> list[PluginInfo]:
    """Every registered plugin with its distribution and the hooks it implements."""
    pm = manager()
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(id(plugin))
        hooks = tuple(sorted(caller.name for caller in (pm.get_hookcallers(plugin) or [])))
        out.append(
            PluginInfo(
                name=name,
                module=getattr(plugin, "__name__", type(plugin).__name__),
                distribution=dist.metadata["name"] if dist is not None else None,
                version=dist.version if dist is not None else None,
                hooks=hooks,
                builtin=name in BUILTIN_PLUGINS,
            )
        )
    return out
