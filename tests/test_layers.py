"""The package's layers: every import points down or stays in its folder, and no import cycle."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "traffic_sync"
NAME = "traffic_sync"
ENTRY = "entry"  # the top modules: cli, cli_demo, settings, actions, sync
ENTRY_MODULES = {
    "__init__",
    "__main__",
    "cli",
    "cli_check",
    "cli_demo",
    "settings",
    "actions",
    "sync",
}
BELOW_STAGES = {"core", "branch", "pages", "github", "sinks"}
# What each layer may import, its own folder included; a folder not named here fails the test.
MAY_IMPORT: dict[str, set[str]] = {
    "core": {"core"},
    "branch": {"core", "branch"},
    "pages": {"core", "branch", "pages"},
    "github": {"core", "github"},
    "sinks": {"core", "sinks"},
    "stages": BELOW_STAGES | {"stages"},
    "imports": BELOW_STAGES | {"stages", "imports"},
    "demo": BELOW_STAGES | {"stages", "demo"},
}
MAY_IMPORT[ENTRY] = {*MAY_IMPORT, ENTRY}


@dataclass(frozen=True)
class Edge:
    """One import of a traffic_sync module by another, where it is written."""

    source: str
    target: str
    where: str


def module_name(path: Path) -> str:
    """The dotted name of a file under the package (a package's __init__ is the package)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> str:
    """The layer a module belongs to: its folder, or the entry layer for the top modules."""
    parts = module.split(".")[1:]
    if len(parts) >= 2 or (parts and parts[0] in MAY_IMPORT):
        return parts[0]
    assert not parts or parts[0] in ENTRY_MODULES, f"{module} is a top module outside the entry set"
    return ENTRY


def imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The package's modules one import statement names (a submodule when the name is one)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == NAME]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
        base = ".".join([*anchor, *([base] if base else [])])
    if base.split(".")[0] != NAME:
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def edges() -> list[Edge]:
    """Every import between the package's modules: module level, in functions, typing-only."""
    found = modules()
    known = set(found)
    result = []
    for module, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in imported(node, module, path.name == "__init__.py", known):
                where = f"{path.relative_to(PACKAGE.parent.parent)}:{node.lineno}"
                result.append(Edge(module, target, where))
    return result


def cycle_from(start: str, graph: dict[str, set[str]]) -> list[str]:
    """A shortest import path from start back to start, or [] when there is none."""
    paths = {target: [start, target] for target in graph.get(start, set())}
    queue = list(paths)
    while queue:
        current = queue.pop(0)
        if current == start:
            return paths[current]
        for target in sorted(graph.get(current, set())):
            if target not in paths:
                paths[target] = [*paths[current], target]
                queue.append(target)
    return []


def rotated(cycle: list[str]) -> tuple[str, ...]:
    """A cycle written from its smallest module, so that each cycle is shown once."""
    first = cycle.index(min(cycle))
    return (*cycle[first:-1], *cycle[:first], cycle[first])


def test_every_module_has_a_layer() -> None:
    """Each module sits in a known layer folder or is one of the entry modules."""
    for module in modules():
        assert layer_of(module) in MAY_IMPORT, module


def test_imports_point_down_the_layers() -> None:
    """No module imports from a higher layer or from a sibling layer it may not use."""
    wrong = {
        f"{e.where}: {e.source} ({layer_of(e.source)}) imports {e.target} ({layer_of(e.target)})"
        for e in edges()
        if layer_of(e.target) not in MAY_IMPORT[layer_of(e.source)]
    }
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    """No module reaches itself through imports, typing-only imports included."""
    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], str] = {}
    for edge in edges():
        if edge.source != edge.target:
            graph.setdefault(edge.source, set()).add(edge.target)
            where.setdefault((edge.source, edge.target), edge.where)
    cycles = {rotated(c) for m in sorted(graph) if (c := cycle_from(m, graph))}
    shown = [c[0] + "".join(f" -> {b} ({where[a, b]})" for a, b in pairwise(c)) for c in cycles]
    assert not cycles, "import cycles:\n" + "\n".join(sorted(shown))


TESTS = Path(__file__).resolve().parent


def imported_test_modules(path: Path) -> list[str]:
    """The `tests.test_*` modules that the file at `path` imports, in any import form."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            if node.module == "tests":
                found += [f"tests.{alias.name}" for alias in node.names]
    return sorted({name for name in found if name.startswith("tests.test_")})


def test_no_test_module_imports_another() -> None:
    """Tests share code through tests/helpers/ and conftest.py, never through a test_*.py file."""
    imports = {
        str(path.relative_to(TESTS)): imported_test_modules(path)
        for path in sorted(TESTS.rglob("*.py"))
        if "node_modules" not in path.parts
    }
    assert {path: names for path, names in imports.items() if names} == {}
