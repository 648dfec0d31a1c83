"""Package boundaries: each package imports only what docs/ARCHITECTURE.md allows."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)
OURS = {"app", "tasks", "config", "memory", "identity", "agent_sdk"}


def _imports(path: Path) -> set[str]:
    """Every absolute module a file imports (``a.b.c`` for ``from a.b import c``)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _offenders(package: str, forbidden) -> dict[str, set[str]]:
    found = {str(path.relative_to(ROOT)): forbidden(_imports(path))
             for path in _files(package)}
    return {name: bad for name, bad in found.items() if bad}


def _roots_outside(allowed: set[str]):
    return lambda names: _roots(names) - allowed


def _ours_except(*allowed: str):
    return lambda names: _roots(names) & (OURS - set(allowed))


def _prefixed(*prefixes: str):
    """Names that are (or are inside) any of ``prefixes``."""
    return lambda names: {n for n in names
                          if any(n == p or n.startswith(p + ".") for p in prefixes)}


@pytest.mark.parametrize("package, forbidden, at_least", [
    # The SDK ships alone: anything but the control plane's packages.
    ("agent_sdk", _ours_except("agent_sdk"), 8),
    ("identity", _roots_outside(STDLIB | {"cryptography", "identity"}), 10),
    ("memory", _roots_outside(STDLIB | {"redis", "orjson", "config", "memory"}), 6),
    ("config", _roots_outside(STDLIB | {"config"}), 3),
    # The control plane never reaches back into its process entry points or the SDK.
    ("app", _ours_except("app", "config", "memory", "identity"), 40),
    ("tasks", _ours_except("tasks", "app", "config"), 4),
    # The wire leaf: config and third-party packages only, nothing else of app.
    ("app/broker", lambda names: {n for n in names if _ours_except("config")({n})}
     - _prefixed("app.broker")(names), 4),
    # Nodes never ask executions (executions ask nodes).
    ("app/nodes", _prefixed("app.executions"), 7),
    # Authentication is asked by everyone and asks none of them.
    ("app/auth", _prefixed("app.executions", "app.nodes", "app.api", "app.webhooks"), 9),
])
def test_package_imports_stay_within_its_boundary(package, forbidden, at_least):
    assert _offenders(package, forbidden) == {}
    assert len(_files(package)) >= at_least  # the walk saw the package


def test_only_the_store_names_the_executions_table():
    # Every other module reads and writes executions through app/executions/store.py.
    users = {str(path.relative_to(ROOT)) for path in _files("app")
             if "Execution.__table__" in path.read_text()
             or ".executions.c." in path.read_text()}
    assert users == {"app/executions/store.py"}
