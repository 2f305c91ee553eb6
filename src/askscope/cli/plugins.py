"""``askscope plugins``: what is installed, built-ins and plugins alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from askscope.cli.common import dumps


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins(as_json: bool) -> None:
    """List the installed plugins (askscope's own and those of the 'askscope' entry-point group)
    and what each adds: readers, stages, lenses, report sections, charts, labelers, commands."""
    from askscope import registry

    contributed: dict[str, dict[str, list[str]]] = {}
    kinds: dict[str, tuple[str, Callable[[Any], str]]] = {
        "askscope_readers": ("readers", lambda item: item.name),
        "askscope_stages": ("stages", lambda item: item.name),
        "askscope_lenses": ("lenses", lambda item: item.name),
        "askscope_report_sections": ("report sections", lambda item: item.name),
        "askscope_charts": ("charts", lambda item: item.name),
        "askscope_labelers": ("labelers", lambda item: item.name),
        "askscope_commands": ("commands", lambda item: item.name or ""),
    }
    pm = registry.manager()
    for hook_name, (label, name_of) in kinds.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            items = [name_of(item) for item in impl.function() or ()]
            contributed.setdefault(impl.plugin_name, {})[label] = items
    rows: list[dict[str, Any]] = [
        {
            "name": info.name,
            "module": info.module,
            "distribution": info.distribution,
            "version": info.version,
            "builtin": info.builtin,
            "adds": contributed.get(info.name, {}),
        }
        for info in registry.plugins()
    ]
    if as_json:
        click.echo(dumps(rows))
        return
    for row in rows:
        origin = (
            "built in"
            if row["builtin"]
            else f"{row['distribution'] or 'registered at run time'} {row['version'] or ''}"
        )
        click.echo(f"{row['name']} ({origin.strip()})")
        for label, names in row["adds"].items():
            if names:
                click.echo(f"  {label}: {', '.join(names)}")
