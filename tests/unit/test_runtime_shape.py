"""The runtime package stays readable: no module does so much it passes about 250 lines, and no import runs in a
circle (a cycle means two modules are one job split badly, and the order they load in starts to matter)."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "runtime"
MAX_LINES = 250


def runtime_imports(path: Path) -> set[str]:
    """The runtime modules a module imports, those under TYPE_CHECKING included: a cycle there is still a cycle in
    what a reader must hold in mind."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module == "runtime":
                found.update(f"runtime.{alias.name}" for alias in node.names)
            elif node.module.startswith("runtime."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("runtime."))
    modules = {f"runtime.{p.stem}" for p in RUNTIME.glob("*.py")}
    return found & modules


def import_graph() -> dict[str, set[str]]:
    return {f"runtime.{p.stem}": runtime_imports(p) for p in sorted(RUNTIME.glob("*.py"))}


def a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            cycle = visit(imported, [*path, module])
            if cycle is not None:
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module, [])
        if cycle is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_and_passes_a_tree() -> None:
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert a_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_runtime_module_imports_itself_back_through_another() -> None:
    assert a_cycle(import_graph()) is None


def test_no_runtime_module_is_over_about_250_lines() -> None:
    too_long = {
        p.name: lines for p in sorted(RUNTIME.glob("*.py")) if (lines := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
