"""Scopes, key and scope id validation, Redis key layout and error codes."""

import re

import pytest

import memory.errors as errors
from memory import SEARCH_ORDER, InvalidKey, InvalidScope, Scope, memory_key, parse_scope
from memory.scopes import validate_key, validate_scope_id


def test_scopes_are_strings_searched_from_narrowest_to_global():
    assert [scope.value for scope in Scope] == ["workflow", "session", "actor", "global"]
    assert SEARCH_ORDER == (Scope.WORKFLOW, Scope.SESSION, Scope.ACTOR, Scope.GLOBAL)
    assert Scope.SESSION == "session" and f"{Scope.ACTOR}" == "actor"


def test_parse_scope_accepts_names_and_scopes_and_rejects_the_rest():
    assert parse_scope("workflow") is Scope.WORKFLOW
    assert parse_scope(Scope.GLOBAL) is Scope.GLOBAL
    for bad in ("user", "", None, 3, "work flow"):
        with pytest.raises(InvalidScope):
            parse_scope(bad)


def test_memory_key_layout_puts_global_under_the_global_id():
    assert memory_key("af", Scope.WORKFLOW, "wf-1", "plan") == "af:mem:workflow:wf-1:plan"
    assert memory_key("af", "session", "s1", "a/b") == "af:mem:session:s1:a/b"
    assert memory_key("af", Scope.GLOBAL, None, "k") == "af:mem:global:global:k"
    assert memory_key("af", Scope.GLOBAL, "ignored", "k") == "af:mem:global:global:k"


@pytest.mark.parametrize("key", [
    "a", "plan", "user@example.com", "path/to/file.json", "a+b=c", "under_score-dash",
    "x" * 256, "ключ", "emoji-🙂", "percent%and#hash",
])
def test_validate_key_accepts_printable_keys_without_reserved_characters(key):
    assert validate_key(key) == key


@pytest.mark.parametrize("key", [
    "", "a:b", "a*", "what?", "a[0]", "b]", " ", "   ", "\t", "two words", "a\x00b",
    "line\nbreak", "bell\x07", "x" * 257, None, 5, b"bytes",
])
def test_validate_key_rejects_empty_long_reserved_whitespace_and_control_characters(key):
    with pytest.raises(InvalidKey):
        validate_key(key)


@pytest.mark.parametrize("scope_id", ["", "a:b", "x" * 257, "nul\x00", "tab\there", None, 7])
def test_validate_scope_id_rejects_empty_long_colon_and_control_characters(scope_id):
    with pytest.raises(InvalidScope):
        validate_scope_id(scope_id)


def test_validate_scope_id_accepts_ordinary_ids():
    for scope_id in ("wf_123", "session-9f8e", "agent.node@host", "x" * 256):
        assert validate_scope_id(scope_id) == scope_id


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_error_codes_are_unique_snake_case_with_statuses_and_one_line_docstrings():
    classes = [errors.MemoryStoreError, *_all_subclasses(errors.MemoryStoreError)]
    codes = [cls.__dict__["code"] for cls in classes]

    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", code) for code in codes)
    assert all(cls.__doc__ and "\n" not in cls.__doc__ for cls in classes)
    expected = {"InvalidKey": (400, "invalid_memory_key"),
                "InvalidScope": (400, "invalid_memory_scope"),
                "ValueTooLarge": (413, "memory_value_too_large"),
                "MemoryNotFound": (404, "memory_not_found"),
                "CompareFailed": (409, "memory_compare_failed"),
                "NotANumber": (409, "memory_not_a_number"),
                "ContentionTooHigh": (409, "memory_contention")}
    for name, (status, code) in expected.items():
        cls = getattr(errors, name)
        assert issubclass(cls, errors.MemoryStoreError)
        assert (cls.status, cls.code) == (status, code)
    assert not {"MemoryError", "TimeoutError"} & set(vars(errors))
