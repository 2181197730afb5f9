"""The import rules of the layout (docs/architecture.md), checked on the source.

Every import counts, including those inside functions (an import moved into a function to dodge a
loop is still a loop); only imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("endrpi_project", "system", "pins")

# Each package's layer: a package imports only packages of lower layers (or of its own layer, as long
# as the packages stay free of loops). The root modules of endrpi_project are the wiring, on top.
LAYERS = {
    "endrpi_project.api": 1,
    "endrpi_project.access": 2,
    "endrpi_project.push": 2,
    "endrpi_project.websocket": 3,
    "endrpi_project.http": 3,
    "endrpi_project.readings": 3,
    "system": 4,
    "pins": 4,
    "system.sensors": 4,
    "endrpi_project.pages": 5,
    "endrpi_project.history": 5,
    "endrpi_project.metrics": 5,
    "endrpi_project.mqtt": 5,
    "endrpi_project.doctor": 5,
    "endrpi_project.testing": 5,
    "endrpi_project": 6,
}
WIRING = "endrpi_project"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[module_name(path)] = path
    return modules


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                yield from _imports(child)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _imports(node)


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (``from a import b`` names ``a.b`` when that is a module)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def package_of(module: str) -> str:
    """The most specific package of :data:`LAYERS` holding ``module``."""
    candidates = [package for package in LAYERS if module == package or module.startswith(package + ".")]
    if not candidates:
        raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS in {__file__}")
    return max(candidates, key=len)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of nodes that reach each other (loops have more than one)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_imports_itself_back_through_others():
    loops = [group for group in strongly_connected(import_graph()) if len(group) > 1]
    assert loops == []


def test_no_package_imports_one_above_it():
    wrong = []
    for module, targets in import_graph().items():
        source = package_of(module)
        for target in targets:
            destination = package_of(target)
            if destination != source and LAYERS[destination] > LAYERS[source]:
                wrong.append(f"{module} (layer {LAYERS[source]}) imports {target} (layer {LAYERS[destination]})")
    assert wrong == []


def test_the_packages_form_no_loop_either():
    packages: dict[str, set[str]] = defaultdict(set)
    for module, targets in import_graph().items():
        packages[package_of(module)].update(package_of(target) for target in targets)
    for package, targets in packages.items():
        targets.discard(package)
    assert [group for group in strongly_connected(packages) if len(group) > 1] == []


def test_nothing_imports_the_wiring():
    wiring = {module for module in project_modules() if package_of(module) == WIRING and module != WIRING}
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if package_of(module) != WIRING
        for target in targets & wiring
    ]
    assert wrong == []


def test_the_architecture_page_gives_each_package_the_layer_checked_here():
    """docs/architecture.md's table (``| `endrpi_project/http/` | 3 | ...``) is this file's LAYERS."""
    rows = re.findall(r"^\| `([\w/]+)/` \| (\d) \|", (ROOT / "docs" / "architecture.md").read_text(), re.MULTILINE)
    assert {path.replace("/", "."): int(layer) for path, layer in rows} == LAYERS


def test_the_benchmarks_do_not_import_the_tests():
    for path in (ROOT / "bench").glob("*.py"):
        for node in _imports(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            assert not any(name == "tests" or name.startswith("tests.") for name in names), path.name


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import pins.services\n", {"pins.services"}),
        ("from pins import services\n", {"pins.services"}),
        ("from pins.services import pins_start\n", {"pins.services"}),
        ("def f():\n    from pins import services\n", {"pins.services"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pins import services\n", set()),
        ("from . import services\n", {"pins.services"}),
    ],
)
def test_the_import_walk_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "module.py"
    path.write_text(source)
    assert imported_modules("pins.actions", path, project_modules()) == expected
