"""The package's imports form no cycle, counting imports deferred into function bodies too:
a cycle worked around by a deferred import is still a cycle (issue 14)."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "rental_analytics"


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package -> the package's modules it imports, anywhere in it."""
    modules = {_module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        # A package's own __init__ naming its submodules is not a cycle back to itself.
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def test_the_package_has_no_import_cycle():
    try:
        order = list(TopologicalSorter(import_graph()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None
    assert "rental_analytics.storage" in order and len(order) > 50


def test_a_cycle_is_found(tmp_path):
    """The check itself: two modules importing each other, one of them in a function."""
    package = tmp_path / "rental_analytics"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from rental_analytics.b import f\n")
    (package / "b.py").write_text("def f():\n    from rental_analytics import a\n")
    graph = import_graph(package)
    assert graph["rental_analytics.b"] == {"rental_analytics", "rental_analytics.a"}
    try:
        list(TopologicalSorter(graph).static_order())
    except CycleError:
        return
    raise AssertionError("the cycle a -> b -> a was not found")
