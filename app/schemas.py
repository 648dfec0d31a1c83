"""Registered JSON Schemas: refuse hostile ones, validate execution input against the rest.

A schema comes from an agent's registration and is untrusted input. Three rules keep
validation local and fast, whatever the schema:

- references resolve only inside the schema (``#...``): nothing is ever fetched, from the
  network or the file system (the validator's registry refuses every retrieval);
- ``pattern`` and ``patternProperties`` run on RE2, which matches in linear time, so no
  input can make a pattern backtrack; a pattern RE2 cannot compile is refused;
- a schema is bounded in size and depth (``AGENTFIELD_SCHEMA_MAX_BYTES``, ``_MAX_DEPTH``);
- one validation runs at most ``AGENTFIELD_SCHEMA_MAX_STEPS`` keyword checks, plus twenty per
  value in the input: a few references (``{"anyOf": [{"$ref": "#/$defs/a"}, ...]}`` nested
  a dozen times) would otherwise make a tiny schema take seconds for any input.
"""

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache

import re2
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from app.errors import BadRequest, InputValidationFailed
from app.extensions import get_config

_MAX_REPORTED = 10
_STEPS_PER_INPUT_VALUE = 20
# Keyword checks left in the validation running in this thread (None: not metered).
_steps_left: ContextVar[list[int] | None] = ContextVar("schema_steps_left", default=None)
# Keywords whose values are data, not subschemas: a "$ref" or "pattern" in them is a value.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
# Keywords whose values map names to subschemas: their keys are names, not keywords.
_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                           "dependentSchemas"})
_SCHEMA, _MAP, _DATA = "schema", "map", "data"
# For schemas stored before these rules: deep enough for any schema we would accept.
_STORED_MAX_DEPTH = 256


class InvalidSchema(BadRequest):
    """Raised when a registered ``input_schema`` is not a schema we can validate with."""

    code = "invalid_schema"


class SchemaTooLarge(InvalidSchema):
    """Raised when a registered schema is over the size or depth limit."""

    code = "schema_too_large"


class SchemaRefNotAllowed(InvalidSchema):
    """Raised when a schema references anything outside itself (``http:``, ``file:``...)."""

    code = "schema_ref_not_allowed"


class SchemaPatternUnsupported(InvalidSchema):
    """Raised when a schema's pattern is not one RE2 can match in linear time."""

    code = "schema_pattern_unsupported"


class ValidationTooExpensive(InputValidationFailed):
    """Raised when validating an input would take more keyword checks than allowed."""

    code = "input_validation_too_expensive"


def _refuse_retrieval(uri: str):
    raise NoSuchResource(ref=uri)


# Only the schema itself (and the bundled meta-schemas) can be referenced.
_LOCAL_ONLY: Registry = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def local_registry() -> Registry:
    """Return the registry validators use: it retrieves nothing, from anywhere."""
    return _LOCAL_ONLY


@lru_cache(maxsize=2048)
def _regex(pattern: str):
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        raise ValueError(exc.args[0].decode() if exc.args and isinstance(
            exc.args[0], bytes) else str(exc)) from None


def _search(pattern: str, text: str) -> bool:
    return _regex(pattern).search(text) is not None


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for name, value in instance.items():
            if _search(pattern, name):
                yield from validator.descend(value, subschema, path=name,
                                             schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    known, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
    extras = [name for name in instance if name not in known
              and not any(_search(pattern, name) for pattern in patterns)]
    if validator.is_type(additional, "object"):
        for name in extras:
            yield from validator.descend(instance[name], additional, path=name)
    elif not additional and extras:  # jsonschema's own messages
        shown = ", ".join(repr(name) for name in sorted(extras))
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            regexes = ", ".join(repr(pattern) for pattern in sorted(patterns))
            yield ValidationError(f"{shown} {verb} not match any of the regexes: {regexes}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({shown} {verb} "
                                  "unexpected)")


def _metered(keyword):
    def metered(validator, value, instance, schema):
        left = _steps_left.get()
        if left is not None:
            left[0] -= 1
            if left[0] < 0:
                raise ValidationTooExpensive(
                    "validating the input against this schema takes too many steps",
                    {"max_steps": left[1]})
        return keyword(validator, value, instance, schema)
    return metered


# Draft 2020-12 with every regex keyword on RE2 (unevaluatedProperties would still run
# patternProperties through Python's re: _scan refuses that combination), and every
# keyword metered.
LocalValidator = validators.extend(Draft202012Validator, {
    name: _metered(keyword) for name, keyword in {
        **Draft202012Validator.VALIDATORS,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    }.items()})


@dataclass
class _Scan:
    refs: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    keywords: set[str] = field(default_factory=set)
    nested_ids: bool = False


def _scan(schema: dict, max_depth: int, where: str) -> _Scan:
    """Walk the schema once (no recursion): bound its depth, collect refs and patterns."""
    found = _Scan()
    stack: list[tuple[object, int, str]] = [(schema, 1, _SCHEMA)]
    while stack:
        node, depth, kind = stack.pop()
        if depth > max_depth:
            raise SchemaTooLarge(f"'{where}' is nested deeper than {max_depth} levels",
                                 {"field": where, "max_depth": max_depth})
        if isinstance(node, dict):
            if kind == _SCHEMA:
                _collect(node, found, depth)
            stack.extend((value, depth + 1, _child_kind(kind, key))
                         for key, value in node.items() if isinstance(value, dict | list))
        elif isinstance(node, list):
            stack.extend((item, depth + 1, kind) for item in node
                         if isinstance(item, dict | list))
    return found


def _child_kind(kind: str, key: str) -> str:
    if kind == _DATA:
        return _DATA
    if kind == _MAP:
        return _SCHEMA
    return _DATA if key in _DATA_KEYWORDS else _MAP if key in _MAP_KEYWORDS else _SCHEMA


def _collect(node: dict, found: _Scan, depth: int) -> None:
    found.keywords.update(key for key in node if isinstance(key, str))
    for key in ("$ref", "$dynamicRef"):
        if isinstance(node.get(key), str):
            found.refs.append(node[key])
    if isinstance(node.get("pattern"), str):
        found.patterns.append(node["pattern"])
    if isinstance(node.get("patternProperties"), dict):
        found.patterns.extend(node["patternProperties"])
    found.nested_ids = found.nested_ids or (depth > 1 and "$id" in node)


def check_schema(schema: dict, where: str, max_bytes: int, max_depth: int) -> None:
    """Refuse a schema we will not validate with: too big, remote refs, or bad patterns.

    Raises:
        SchemaTooLarge, SchemaRefNotAllowed, SchemaPatternUnsupported, InvalidSchema:
            each with ``details["field"]`` naming ``where``.
    """
    found = _scan(schema, max_depth, where)
    size = len(json.dumps(schema, separators=(",", ":")).encode())
    if size > max_bytes:
        raise SchemaTooLarge(f"'{where}' is {size} bytes of JSON, over {max_bytes}",
                             {"field": where, "max_bytes": max_bytes})
    _check_rules(schema, found, where)


def _check_rules(schema: dict, found: _Scan, where: str) -> None:
    try:
        LocalValidator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidSchema(f"'{where}' is not a valid JSON Schema: {exc.message}",
                            {"field": where}) from None
    for ref in found.refs:
        if not ref.startswith("#"):
            raise SchemaRefNotAllowed(
                f"'{where}' references {ref[:200]!r}: only references inside the schema "
                "('#...') are allowed", {"field": where, "ref": ref[:200]})
    for pattern in found.patterns:
        try:
            _regex(pattern)
        except ValueError as exc:
            raise SchemaPatternUnsupported(
                f"'{where}' has a pattern RE2 cannot run ({exc}): {pattern[:200]!r}",
                {"field": where, "pattern": pattern[:200]}) from None
    if {"unevaluatedProperties", "patternProperties"} <= found.keywords:
        raise SchemaPatternUnsupported(
            f"'{where}' combines unevaluatedProperties with patternProperties, which is "
            "not supported", {"field": where})
    if not found.nested_ids:
        resolver = _LOCAL_ONLY.resolver_with_root(DRAFT202012.create_resource(schema))
        for ref in found.refs:
            try:
                resolver.lookup(ref)
            except Unresolvable:
                raise InvalidSchema(f"'{where}' references {ref[:200]!r}, which is not in "
                                    "the schema", {"field": where, "ref": ref[:200]}) from None


def compile_validator(schema: dict | None) -> Draft202012Validator | None:
    """Build a validator once per schema; None when there is nothing to check."""
    if not schema:
        return None
    try:
        _check_rules(schema, _scan(schema, _STORED_MAX_DEPTH, "input_schema"),
                     "input_schema")
    except InvalidSchema:
        return None  # stored before registration refused it: do not block its callers
    return LocalValidator(schema, registry=local_registry())


def _count_values(data) -> int:
    count, stack = 0, [data]
    while stack:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def validate_input(validator: Draft202012Validator | None, data: dict, target: str) -> None:
    """Raise InputValidationFailed listing what is wrong with ``data``."""
    if validator is None:
        return
    budget = get_config().schema_max_steps + _STEPS_PER_INPUT_VALUE * _count_values(data)
    token = _steps_left.set([budget, budget])
    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    except Unresolvable as exc:  # registration refuses these; never fetched either way
        raise InvalidSchema(f"the input schema of '{target}' has a reference that does "
                            f"not resolve: {exc}", {"target": target}) from None
    except ValidationTooExpensive as exc:
        raise ValidationTooExpensive(
            f"validating the input of '{target}' against its schema takes more than "
            f"{budget} steps: the schema is too complex for it", {"target": target,
                                                                  **exc.details}) from None
    finally:
        _steps_left.reset(token)
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
