"""Validate execution input against a function's JSON Schema."""

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from app.errors import InputValidationFailed

_MAX_REPORTED = 10


def compile_validator(schema: dict | None) -> Draft202012Validator | None:
    """Build a validator once per schema; None when there is nothing to check."""
    if not schema:
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return None  # an agent sent a broken schema: do not block its callers on it
    return Draft202012Validator(schema)


def validate_input(validator: Draft202012Validator | None, data: dict, target: str) -> None:
    """Raise InputValidationFailed listing what is wrong with ``data``."""
    if validator is None:
        return
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    problems = [
        {"path": "/".join(str(p) for p in error.absolute_path) or "(root)",
         "message": error.message}
        for error in errors[:_MAX_REPORTED]
    ]
    raise InputValidationFailed(
        f"input does not match the schema of '{target}': {problems[0]['message']}",
        {"target": target, "problems": problems},
    )
