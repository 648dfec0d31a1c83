"""The identity package: error codes (its import boundary: tests/unit/test_imports.py)."""

import re

import identity.errors as errors


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
