"""A seeded, stratified sample of mutmut's mutants, and the mutation score with its interval.

A full mutmut run over the lens code (``lenses/``, ``classify/frames.py``, ``stages/answers.py``
and ``reports/verdicts.py``: about 4,100 mutants, see setup.cfg [mutmut]) takes hours on two
shared cores, so the score is estimated from a random sample of the mutants, stratified per file,
with a Wilson 95% interval. Mutants that only change the letter
case of an SQL string, leaving its quoted literals and ``$parameters`` as they were, are counted
apart as equivalent: DuckDB reads keywords and identifiers case-insensitively.

Usage, in a copy of the checkout where ``mutmut run`` has generated ``mutants/`` (see
docs/benchmarks.md, "Mutation testing")::

    python bench/mutation_sample.py sample --fraction 0.15 --seed 2026 > sample.txt
    mutmut run --max-children 2 $(cat sample.txt)
    mutmut results --all true > results.txt
    python bench/mutation_sample.py score sample.txt results.txt --root .

``score --root`` adds each file's number of mutants (and of SQL-case-only ones) to the table.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

SQL = re.compile(r"\b(SELECT|FROM|JOIN|WHERE|CREATE|GROUP BY|ORDER BY|WITH|UNION|INSERT|UPDATE|FILTER)\b")
KEPT = re.compile(r"'[^']*'|\$\w+|\"[^\"]*\"")
Z95 = 1.959963984540054


def _functions(path: Path) -> dict[str, ast.AST]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _without_strings(node: ast.AST) -> str:
    class Blank(ast.NodeTransformer):
        def visit_Constant(self, n: ast.Constant) -> ast.AST:
            return ast.Constant("") if isinstance(n.value, str) else n

    copy = Blank().visit(ast.parse(ast.unparse(node)))
    body = copy.body[0]
    body.name = "f"  # type: ignore[attr-defined]
    return ast.dump(copy)


def sql_case_only(original: ast.AST, mutant: ast.AST) -> bool:
    """True when the mutant differs only by the letter case of one SQL string whose quoted
    literals and $parameters are unchanged."""
    if _without_strings(original) != _without_strings(mutant):
        return False
    changed = [(a, b) for a, b in zip(_strings(original), _strings(mutant)) if a != b]
    if len(changed) != 1:
        return False
    a, b = changed[0]
    return a.lower() == b.lower() and bool(SQL.search(a)) and KEPT.findall(a) == KEPT.findall(b)


def mutants(root: Path) -> list[tuple[str, str, bool]]:
    """(file, mutant name, SQL-case-only) for every mutant under ``root/mutants``."""
    out = []
    for meta in sorted((root / "mutants").rglob("*.py.meta")):
        names = json.loads(meta.read_text())["exit_code_by_key"]
        source = meta.with_suffix("")
        functions = _functions(source)
        relative = str(source.relative_to(root / "mutants"))
        for name in names:
            local = name.rsplit(".", 1)[1]
            orig = functions.get(local.split("__mutmut_")[0] + "__mutmut_orig")
            mutated = functions.get(local)
            equivalent = orig is not None and mutated is not None and sql_case_only(orig, mutated)
            out.append((relative, name, equivalent))
    return out


def sample(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    by_file: dict[str, list[str]] = defaultdict(list)
    equivalent: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for file, name, sql_case in mutants(Path(args.root)):
        total[file] += 1
        if sql_case:
            equivalent[file] += 1
        else:
            by_file[file].append(name)
    chosen = []
    for file in sorted(by_file):
        names = by_file[file]
        k = max(1, math.ceil(len(names) * args.fraction))
        chosen += rng.sample(names, k)
        print(f"{file}: {total[file]} mutants, {equivalent[file]} SQL-case-only, {k} sampled", file=sys.stderr)
    print("\n".join(chosen))


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _module(path: str) -> str:
    """``askscope/lenses/stats.py`` (or ``src/askscope/...``) -> ``askscope.lenses.stats``."""
    parts = Path(path).with_suffix("").parts
    return ".".join(parts[1:] if parts[0] == "src" else parts)


def score(args: argparse.Namespace) -> None:
    chosen = set(Path(args.sample).read_text().split())
    totals_by_module: Counter[str] = Counter()
    sql_case_by_module: Counter[str] = Counter()
    if args.root:
        for file, _name, sql_case in mutants(Path(args.root)):
            totals_by_module[_module(file)] += 1
            sql_case_by_module[_module(file)] += sql_case
    status = {}
    for line in Path(args.results).read_text().splitlines():
        if ": " in line:
            name, result = line.strip().rsplit(": ", 1)
            status[name] = result
    per_file: dict[str, Counter[str]] = defaultdict(Counter)
    for name in chosen:
        module = name.split(".x")[0] if ".x" in name else name.rsplit(".", 1)[0]
        per_file[module][status.get(name, "missing")] += 1
    rows = []
    totals: Counter[str] = Counter()
    for module in sorted(per_file):
        counts = per_file[module]
        totals.update(counts)
        rows.append((module, counts))
    rows.append(("all", totals))
    mutant_columns = "mutants | SQL case only | " if args.root else ""
    print(
        f"| file | {mutant_columns}sampled | killed | timeout | survived | no tests | other | "
        "score (killed+timeout) | 95% CI |"
    )
    print("|---|" + ("---:|---:|" if args.root else "") + "---:|---:|---:|---:|---:|---:|---:|---|")
    for module, counts in rows:
        n = sum(counts.values())
        detected = counts["killed"] + counts["timeout"]
        other = n - detected - counts["survived"] - counts["no tests"]
        low, high = _wilson(detected, n)
        if args.root:
            total = sum(totals_by_module.values()) if module == "all" else totals_by_module[module]
            sql_case = sum(sql_case_by_module.values()) if module == "all" else sql_case_by_module[module]
            mutant_cells = f"{total:,} | {sql_case} | "
        else:
            mutant_cells = ""
        print(
            f"| {module} | {mutant_cells}{n} | {counts['killed']} | {counts['timeout']} | {counts['survived']} | "
            f"{counts['no tests']} | {other} | {100 * detected / n:.1f}% | {100 * low:.1f}–{100 * high:.1f}% |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--root", default=".")
    s.add_argument("--fraction", type=float, default=0.15)
    s.add_argument("--seed", type=int, default=2026)
    s.set_defaults(run=sample)
    r = sub.add_parser("score")
    r.add_argument("sample")
    r.add_argument("results")
    r.add_argument("--root", default=None, help="the checkout copy holding mutants/: add the mutant counts")
    r.set_defaults(run=score)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
