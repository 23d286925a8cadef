"""The import graph: no cycle (not even one hidden inside a function), and no stage importing a later one.

Data flows config → corpus → alignment → candidates → scores → report; the
modules are layered the same way. Read from the source (every `import`
statement, at any depth), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "evalkit"

# Which modules each stage may not import (prefixes): a report is a view of results, a backend knows
# nothing of runs, a metric nothing of backends.
FORBIDDEN = {
    "evalkit.corpus": ["evalkit.align", "evalkit.backends", "evalkit.scorers", "evalkit.pipeline", "evalkit.report",
                       "evalkit.config", "evalkit.cli", "evalkit.results"],
    "evalkit.align": ["evalkit.backends", "evalkit.scorers", "evalkit.pipeline", "evalkit.report", "evalkit.cli",
                      "evalkit.results"],
    "evalkit.backends": ["evalkit.align", "evalkit.scorers", "evalkit.pipeline", "evalkit.report", "evalkit.config",
                         "evalkit.cli", "evalkit.results", "evalkit.compare"],
    "evalkit.scorers": ["evalkit.align", "evalkit.backends", "evalkit.pipeline", "evalkit.report", "evalkit.config",
                        "evalkit.cli", "evalkit.results"],
    "evalkit.results": ["evalkit.pipeline", "evalkit.report", "evalkit.cli", "evalkit.backends", "evalkit.scorers"],
    "evalkit.report": ["evalkit.pipeline", "evalkit.cli", "evalkit.config", "evalkit.scorers", "evalkit.backends"],
    "evalkit.pipeline": ["evalkit.report", "evalkit.cli"],
    "evalkit.errors": ["evalkit."],
    "evalkit.memo": ["evalkit."],
    "evalkit.testsets": ["evalkit.pipeline", "evalkit.report", "evalkit.cli", "evalkit.backends", "evalkit.scorers",
                         "evalkit.align", "evalkit.results", "evalkit.evalset"],
    "evalkit.evalset": ["evalkit.pipeline", "evalkit.report", "evalkit.cli", "evalkit.backends", "evalkit.scorers"],
    "evalkit.survey": ["evalkit.pipeline", "evalkit.report", "evalkit.cli", "evalkit.backends", "evalkit.scorers",
                       "evalkit.evalset", "evalkit.results"],
    "evalkit.hf_models": ["evalkit.backends", "evalkit.scorers", "evalkit.pipeline", "evalkit.report", "evalkit.config"],
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every evalkit module this file imports, at any depth, resolved to existing modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return {name for name in found if name.startswith("evalkit") and name != here}


def _walk_runtime(tree: ast.AST):
    """Every node except those under `if TYPE_CHECKING:` (annotations only: never imported at run time)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            test = child.test if isinstance(child, ast.If) else None
            if test is not None and "TYPE_CHECKING" in ast.unparse(test):
                pending += child.orelse
                continue
            pending.append(child)


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}


def test_no_import_cycle():
    graph = _graph()
    # Tarjan's strongly connected components; a package's __init__ importing its own submodules is not a cycle
    # unless a submodule imports the package back.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_stage_imports_a_later_one():
    wrong = []
    for module, imported in sorted(_graph().items()):
        for stage, banned in FORBIDDEN.items():
            if module == stage or module.startswith(stage + "."):
                wrong += [f"{module} imports {m}" for m in sorted(imported) if any(m.startswith(b) for b in banned)]
    assert wrong == []
