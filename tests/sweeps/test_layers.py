"""The package's layering: no import cycle, and at most 7 levels of module-level imports."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import sweeps

MAX_LEVELS = 7


def _imports(top_level_only: bool) -> dict[str, set[str]]:
    """Module -> the sweeps modules it imports (at module level, or anywhere)."""
    root = Path(sweeps.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        nodes = tree.body if top_level_only else ast.walk(tree)
        found = set()
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        # a module importing its own package's __init__ is not a level (Python runs it first anyway)
        graph[name] = {m for m in found if m in modules and m != name and not name.startswith(m + ".")}
    return graph


def _levels(graph: dict[str, set[str]]) -> dict[str, int]:
    @functools.cache
    def level(name: str) -> int:
        return 1 + max((level(m) for m in graph[name]), default=0)

    return {name: level(name) for name in graph}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                return path[path.index(other):] + [other]
            if other not in state and (found := visit(other, path + [other])):
                return found
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name, [name])):
            return found
    return None


def test_no_import_cycle_even_through_imports_inside_functions():
    assert _cycle(_imports(top_level_only=False)) is None


def test_module_level_imports_are_at_most_seven_levels_deep():
    levels = _levels(_imports(top_level_only=True))
    deepest = max(levels, key=levels.get)
    assert levels[deepest] <= MAX_LEVELS, f"{deepest} is {levels[deepest]} levels deep"


def test_the_store_does_not_import_the_run_layer():
    graph = _imports(top_level_only=False)
    for name, imported in graph.items():
        if name.startswith(("sweeps.store", "sweeps.spec", "sweeps.models", "sweeps.measure")):
            assert not any(m.split(".")[:2] == ["sweeps", "execution"] for m in imported), name
