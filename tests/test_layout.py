"""The rings of docs/architecture.md, checked on the source: which ring imports which,
no import cycles between files, and no module past 500 lines."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SOURCE / "hubbub"
MODULES = {
    ".".join(path.relative_to(SOURCE).with_suffix("").parts).removesuffix(".__init__"): path
    for path in PACKAGE.rglob("*.py")
}


def imports_of(module: str) -> Iterator[str]:
    """The hubbub modules ``module`` imports (at the top, in functions, or for typing),
    each resolved to a module file."""
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from package import module" names a module; "from module import name" not.
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name if name in MODULES else node.module for name in names]
        else:
            continue
        yield from (name for name in names if name in MODULES and name != module)


GRAPH = {module: set(imports_of(module)) for module in MODULES}


def ring(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


@pytest.mark.parametrize(
    ("inner", "allowed"),
    [
        ("wire", {"wire"}),
        ("core", {"core", "wire"}),
        ("cluster", {"cluster", "core", "wire"}),
        ("accounts", {"accounts", "core", "wire"}),
        ("doors", {"doors", "core", "accounts", "wire"}),
        ("storage", {"storage", "core", "accounts", "wire"}),
        ("client", {"client", "wire"}),
    ],
)
def test_a_ring_imports_only_itself_and_the_rings_inside_it(inner: str, allowed: set[str]) -> None:
    # The package's own face (hubbub/__init__.py: the version) is everyone's.
    crossings = {
        (module, imported)
        for module, imported_set in GRAPH.items()
        if ring(module) == inner
        for imported in imported_set
        if imported != "hubbub" and ring(imported) not in allowed
    }
    assert not crossings


def test_there_are_no_import_cycles_between_files() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    path: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in sorted(GRAPH[module]):
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                walk(imported)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            walk(module)
    assert not cycles


def test_the_checks_above_see_imports() -> None:
    """The graph is not empty by mistake: the hub imports the operations and apply."""
    assert {"hubbub.core.apply", "hubbub.core.channel_ops"} <= GRAPH["hubbub.core.hub"]
    assert "hubbub.core.ports" in GRAPH["hubbub.storage.errors"]


def test_no_module_is_longer_than_500_lines() -> None:
    long = {
        module: length
        for module, path in MODULES.items()
        if (length := len(path.read_text().splitlines())) > 500
    }
    assert not long
