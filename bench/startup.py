"""How fast askscope starts: ``askscope --version``, ``askscope --help`` and ``import askscope``,
against a bare interpreter and ``import duckdb`` measured in the same run.

Usage: python bench/startup.py [--runs 30]

Each command runs ``--runs`` times in a fresh process (after two unmeasured runs each), the
commands taking turns so that a change in the machine's load falls on all of them alike. Reported
per command: the median wall time (what a user waits), the median CPU time of the process (user +
system; a shared machine's load changes it far less than the wall time) and the ratios of the
medians to ``python -c pass`` (the interpreter alone) and to ``python -c "import duckdb"`` (the
store's engine, which the light commands must not load). Issue 12 asks for ``--version`` and
``--help`` under 0.5 s; ``tests/test_architecture.py`` checks what they import, without timing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = sys.executable
#: The console script pip installed beside this interpreter (pyproject: askscope = "askscope.cli:main").
ASKSCOPE = str(Path(PYTHON).parent / "askscope")

#: name -> command; the first three are askscope's, the last two the comparisons.
COMMANDS = {
    "askscope --version": [ASKSCOPE, "--version"],
    "askscope --help": [ASKSCOPE, "--help"],
    'python -c "import askscope"': [PYTHON, "-c", "import askscope"],
    'python -c "import duckdb"': [PYTHON, "-c", "import duckdb"],
    "python -c pass": [PYTHON, "-c", "pass"],
}
TARGET_S = 0.5


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run; fails if the command fails."""
    cpu = children_cpu()
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="measured runs per command (default 30)")
    args = parser.parse_args()
    if not os.path.exists(ASKSCOPE):
        sys.exit(f"no askscope console script at {ASKSCOPE}: pip install -e . into this interpreter's environment")
    load_before = os.getloadavg()[0]
    for command in COMMANDS.values():  # warm the file cache and the bytecode
        for _ in range(2):
            run_once(command)
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            w, c = run_once(command)
            wall[name].append(w)
            cpu[name].append(c)
    load_after = os.getloadavg()[0]
    median_wall = {name: statistics.median(values) for name, values in wall.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    bare, duckdb = median_wall["python -c pass"], median_wall['python -c "import duckdb"']
    print(
        f"{args.runs} runs per command, {os.cpu_count()} CPUs, load average {load_before:.1f} before "
        f"and {load_after:.1f} after; Python {sys.version.split()[0]}"
    )
    print()
    print("| command | median wall (ms) | min-max wall (ms) | median CPU (ms) | x python -c pass | x import duckdb |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in COMMANDS:
        print(
            f"| `{name}` | {1000 * median_wall[name]:.0f} | {1000 * min(wall[name]):.0f}-{1000 * max(wall[name]):.0f} "
            f"| {1000 * median_cpu[name]:.0f} | {median_wall[name] / bare:.2f} | {median_wall[name] / duckdb:.2f} |"
        )
    print()
    for name in ("askscope --version", "askscope --help"):
        verdict = "under" if median_wall[name] < TARGET_S else "NOT under"
        print(f"{name}: median {1000 * median_wall[name]:.0f} ms, {verdict} the {1000 * TARGET_S:.0f} ms target")


if __name__ == "__main__":
    main()
