"""The packages' dependencies: inward only, and no import cycle, not even under TYPE_CHECKING."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Each package's layer: a package imports only packages of a lower layer (and itself).
# core <- the stores and the HTTP app <- composition <- the command line.
LAYERS = {
    "taskflow_core": 0,
    "taskflow_postgres": 1,
    "taskflow_sqlite": 1,
    "taskflow_falcon": 1,
    # The client for other services: the core's errors and value types, httpx, nothing more.
    "taskflow_client": 1,
    "taskflow_compose": 2,
    "taskflow_cli": 3,
}
PACKAGES = list(LAYERS)
# The deprecated gunicorn entry point, kept where existing deployments name it (SPEC §5).
UPWARD_ALLOWED = {("taskflow_falcon.app", "taskflow_compose")}
DRIVERS = {"psycopg", "psycopg_pool", "sqlite3", "taskflow_postgres", "taskflow_sqlite"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module an import statement anywhere in the file names (functions and
    ``if TYPE_CHECKING:`` blocks included), resolved to absolute names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            found.add(origin)
            # `from . import x` and `from pkg import submodule` name modules too.
            found.update(f"{origin}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    # A module's own packages are initialised before it whatever it imports, so naming one
    # (`from . import sibling`) is no edge of its own.
    return {
        name: {m for m in imports_of(path) if m in modules and not name.startswith(f"{m}.")}
        for name, path in modules.items()
    }


def test_no_module_imports_itself_through_a_cycle() -> None:
    edges = graph()
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if node in done:
            return
        path.append(node)
        for target in sorted(edges[node]):
            visit(target)
        path.pop()
        done.add(node)

    for node in sorted(edges):
        visit(node)


def test_the_core_imports_only_the_standard_library_and_attrs() -> None:
    allowed = set(sys.stdlib_module_names) | {"attrs", "taskflow_core"}
    for path in (ROOT / "taskflow_core").rglob("*.py"):
        outside = {m for m in imports_of(path) if m.split(".")[0] not in allowed}
        assert not outside, f"{module_name(path)} imports {sorted(outside)}"


def test_the_command_line_imports_no_database_driver() -> None:
    for path in (ROOT / "taskflow_cli").rglob("*.py"):
        drivers = {m for m in imports_of(path) if m.split(".")[0] in DRIVERS}
        assert not drivers, f"{module_name(path)} imports {sorted(drivers)}"


def test_the_core_imports_no_adapter() -> None:
    adapters = {p for p in PACKAGES if p != "taskflow_core"}
    for path in (ROOT / "taskflow_core").rglob("*.py"):
        found = {m for m in imports_of(path) if m.split(".")[0] in adapters}
        assert not found, f"{module_name(path)} imports {sorted(found)}"


def test_every_package_has_a_layer() -> None:
    found = {p.name for p in ROOT.glob("taskflow_*") if (p / "__init__.py").exists()}
    assert found <= set(LAYERS), f"place {sorted(found - set(LAYERS))} in LAYERS"


def test_no_package_imports_one_above_it_or_beside_it() -> None:
    wrong = []
    for name, targets in graph().items():
        own = name.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other == own or (name, other) in UPWARD_ALLOWED:
                continue
            if LAYERS[other] >= LAYERS[own]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_layer_check_sees_the_one_upward_import_it_allows() -> None:
    # Proof the check reads such an edge at all: without the allowance, this one would fail.
    assert "taskflow_compose.wsgi" in graph()["taskflow_falcon.app"]


# The core's rooms, and the rooms each may import (besides itself): the domain needs nothing
# else of the core; the application builds on the domain and the storage port; the work
# beside requests builds on both; the face (service.py) and the package import them all.
ROOMS = {
    "domain": {"errors"},
    "application": {"domain", "errors", "ports"},
    "background": {"domain", "application", "errors", "ports"},
    "memory": {"domain", "application", "errors", "ports"},
}


def test_the_cores_rooms_import_only_the_rooms_below_them() -> None:
    wrong = []
    for name, targets in graph().items():
        parts = name.split(".")
        if parts[0] != "taskflow_core" or len(parts) < 2 or parts[1] not in ROOMS:
            continue
        for target in targets:
            room = target.split(".")[1] if target.count(".") else ""
            if room != parts[1] and room not in ROOMS[parts[1]]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))
