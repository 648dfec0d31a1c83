"""The identity package: error codes, and imports limited to the stdlib and cryptography."""

import ast
import re
import sys
from pathlib import Path

import identity.errors as errors

PACKAGE = Path(__file__).resolve().parents[2] / "identity"


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_error_codes_are_unique_snake_case_with_one_line_docstrings():
    classes = [errors.IdentityError, *_all_subclasses(errors.IdentityError)]
    codes = [cls.__dict__["code"] for cls in classes]

    assert len(codes) == len(set(codes)) >= 8
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)
    assert all(cls.__doc__ and "\n" not in cls.__doc__ for cls in classes)
    for name in ("InvalidDID", "InvalidSignature", "MalformedToken", "InvalidCredential",
                 "InvalidBundle", "SecretMismatch"):
        assert issubclass(getattr(errors, name), errors.IdentityError)


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_identity_imports_only_the_stdlib_cryptography_and_itself():
    allowed = set(sys.stdlib_module_names) | {"cryptography", "identity"}
    modules = list(PACKAGE.glob("*.py"))

    offenders = {path.name: _imported_roots(path) - allowed for path in modules
                 if _imported_roots(path) - allowed}

    assert offenders == {}
    assert len(modules) >= 10  # the walk really saw the package
