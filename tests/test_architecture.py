"""The shape of the package, checked from the code (issue 12): no import cycles, the command line
above the library and nothing importing back into it, and a light start.

The import graph is drawn by grimp from every import statement of ``src/askscope``: module level,
inside functions and under ``TYPE_CHECKING`` alike. Which modules a command loads is read from a
real ``askscope`` process's ``sys.modules`` when it exits (no timing here: the times are measured
by ``bench/startup.py`` and recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import grimp
import networkx as nx
import pytest

import askscope
from askscope._version import __version__

#: Libraries that take long to import (DuckDB and Arrow, numpy, matplotlib, httpx, the ONNX
#: runtime): `askscope --version`, `askscope --help` and `import askscope` load none of them.
HEAVY = ("duckdb", "numpy", "pyarrow", "matplotlib", "httpx", "onnxruntime")

#: The only modules outside ``askscope.cli`` that may import it, and why. Both sit above every
#: layer and are imported by no module: ``python -m askscope`` runs the command line, and the
#: built-ins register askscope's own commands through the same ``askscope_commands`` hook as any
#: plugin's (the registry loads them by name, like an entry point).
CLI_WIRING = {
    "askscope.__main__": "python -m askscope",
    "askscope.builtins": "the askscope_commands hook of the built-ins",
}

#: What the package exports as functions to call (issue 12: the library does what the CLI does).
API_FUNCTIONS = ("analyze", "report", "ingest", "query", "posts", "metrics")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """askscope's import graph, every import counted; no cache folder written into the tree."""
    built = grimp.build_graph("askscope", exclude_type_checking_imports=False, cache_dir=None)
    # a graph that lost the package would make every check below pass: make sure it is whole
    assert {"askscope", "askscope.cli.main", "askscope.registry", "askscope.store.core"} <= built.modules
    assert len(built.modules) > 100
    return built


def _digraph(graph: grimp.ImportGraph) -> nx.DiGraph[str]:
    edges = nx.DiGraph()
    for module in graph.modules:
        edges.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            edges.add_edge(module, imported)
    return edges


def _describe_cycle(graph: grimp.ImportGraph, edges: nx.DiGraph[str], component: set[str]) -> str:
    """One cycle through ``component``, each step with the line that imports."""
    steps = []
    for importer, imported in nx.find_cycle(edges.subgraph(component)):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details) or "?"
        steps.append(f"  {importer} -> {imported}   ({where})")
    return "\n".join(steps)


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    edges = _digraph(graph)
    cycles = [component for component in nx.strongly_connected_components(edges) if len(component) > 1]
    report = "\n\n".join(
        f"{len(c)} modules import each other: {', '.join(sorted(c))}\n{_describe_cycle(graph, edges, c)}"
        for c in cycles
    )
    assert not cycles, f"import cycles in src/askscope:\n{report}"


def test_only_the_wiring_imports_the_command_line(graph: grimp.ImportGraph) -> None:
    """No library module imports ``askscope.cli``, directly or through other modules (so neither
    wiring module is imported by the library either: that would make its importers reach the CLI)."""
    cli = {m for m in graph.modules if m == "askscope.cli" or m.startswith("askscope.cli.")}
    reaching = graph.find_downstream_modules("askscope.cli", as_package=True) - cli
    wrong = reaching - set(CLI_WIRING)
    direct = {
        f"{importer} -> {imported}"
        for importer in wrong
        for imported in graph.find_modules_directly_imported_by(importer) & cli
    }
    assert not wrong, (
        f"{len(wrong)} modules outside askscope.cli import it, directly or through others; "
        f"the direct imports: {', '.join(sorted(direct))}"
    )


def _loaded_by(code: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run ``code`` in a fresh interpreter; which of :data:`HEAVY` it had loaded when it exited."""
    probe = (
        "import atexit, json, sys\n"
        f"HEAVY = {HEAVY!r}\n"
        "atexit.register(lambda: sys.__stderr__.write('\\nLOADED ' + json.dumps(sorted("
        "{name.split('.')[0] for name in sys.modules} & set(HEAVY))) + '\\n'))\n" + code
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    marker = [line for line in proc.stderr.splitlines() if line.startswith("LOADED ")]
    assert len(marker) == 1, proc.stderr
    loaded: list[str] = json.loads(marker[0].removeprefix("LOADED "))
    return proc, loaded


@pytest.mark.parametrize(
    ("args", "expected_output"),
    [
        # the version line of click's version option
        (["--version"], f"askscope, version {__version__}"),
        # the help lists the commands, so every command module has been imported
        (["--help"], "Commands:"),
    ],
)
def test_command_line_starts_without_heavy_imports(args: list[str], expected_output: str) -> None:
    # what the `askscope` console script does (pyproject: askscope = "askscope.cli:main")
    proc, loaded = _loaded_by(f"sys.argv = ['askscope', *{args!r}]\nfrom askscope.cli import main\nsys.exit(main())")
    assert proc.returncode == 0, proc.stderr
    assert expected_output in proc.stdout
    if args == ["--help"]:
        assert {"ingest", "analyze", "report", "code", "collect", "plugins"} <= set(proc.stdout.split())
    assert loaded == [], f"askscope {' '.join(args)} loaded {loaded}"


def test_import_askscope_is_light_and_exports_functions() -> None:
    proc, loaded = _loaded_by("import askscope")
    assert proc.returncode == 0, proc.stderr
    assert loaded == [], f"import askscope loaded {loaded}"
    for name in API_FUNCTIONS:
        value: Any = getattr(askscope, name)
        # a function, not a module (askscope.analyze used to be the module askscope.analyze)
        assert callable(value), f"askscope.{name} is {value!r}"
        assert name in askscope.__all__
