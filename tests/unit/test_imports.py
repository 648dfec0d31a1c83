"""The SDK ships alone: it must not import any control-plane package."""

import ast
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "agent_sdk"
FORBIDDEN = {"app", "tasks", "config", "memory", "identity"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_agent_sdk_imports_nothing_of_the_control_plane():
    offenders = {path.name: _imported_roots(path) & FORBIDDEN
                 for path in SDK.glob("*.py") if _imported_roots(path) & FORBIDDEN}

    assert offenders == {}
    assert len(list(SDK.glob("*.py"))) >= 8  # the walk really saw the package
