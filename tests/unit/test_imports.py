"""Package boundaries: each package imports only what docs/ARCHITECTURE.md allows."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)
OURS = {"app", "tasks", "config", "memory", "identity", "agent_sdk"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _offenders(package: str, forbidden) -> dict[str, set[str]]:
    found = {path.name: forbidden(_imported_roots(path))
             for path in (ROOT / package).glob("*.py")}
    return {name: bad for name, bad in found.items() if bad}


@pytest.mark.parametrize("package, allowed, at_least", [
    # The SDK ships alone: anything but the control plane's packages.
    ("agent_sdk", None, 8),
    ("identity", STDLIB | {"cryptography", "identity"}, 10),
    ("memory", STDLIB | {"redis", "orjson", "config", "memory"}, 6),
])
def test_package_imports_stay_within_its_boundary(package, allowed, at_least):
    if allowed is None:
        forbidden = lambda roots: roots & (OURS - {package})  # noqa: E731
    else:
        forbidden = lambda roots: roots - allowed  # noqa: E731

    assert _offenders(package, forbidden) == {}
    assert len(list((ROOT / package).glob("*.py"))) >= at_least  # the walk saw the package
