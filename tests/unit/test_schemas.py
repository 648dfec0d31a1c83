"""The RE2-backed validator answers as jsonschema's own does, on schemas both can run."""

import pytest
from jsonschema import Draft202012Validator

from app.schemas import LocalValidator, local_registry

CASES = [
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2, "c": 3}),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"b": 2}),
    ({"patternProperties": {"^x": {}, "^y": {}}, "additionalProperties": False},
     {"b": 2, "c": 1, "x1": 0}),
    ({"patternProperties": {"^x": {"type": "string"}}, "additionalProperties": {
        "type": "integer"}}, {"x1": 1, "b": "s", "y": 2}),
    ({"type": "string", "pattern": r"^[A-Z]{3}-\d+$"}, "ab-1"),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"ok": 1, "Not": 2}),
    ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, "2"]),
]


@pytest.mark.parametrize("schema, data", CASES)
def test_errors_are_jsonschema_s_own(schema, data):
    ours = LocalValidator(schema, registry=local_registry())
    stock = Draft202012Validator(schema)

    def errors(validator):
        return sorted((list(e.absolute_path), e.message) for e in validator.iter_errors(data))

    assert errors(ours) == errors(stock) != []
