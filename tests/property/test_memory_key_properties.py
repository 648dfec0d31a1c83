"""Memory keys and scopes: the parser accepts or refuses with our errors, and keys never collide."""

from hypothesis import given
from hypothesis import strategies as st

from app.memory_scope import explicit_scope, write_target
from config.errors import ControlPlaneError
from memory import Scope, parse_scope
from memory.errors import InvalidKey, InvalidScope, MemoryStoreError
from memory.scopes import (
    MAX_KEY_LENGTH,
    memory_key,
    scope_instance,
    validate_key,
    validate_scope_id,
)
from tests.property.strategies import JSON, JSON_OBJECT, TEXT

ANY_TEXT = st.text(max_size=300)  # U+0000, whitespace, surrogates... anything a str holds
KEY = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp", "Cf", "Co", "Cn"),
                            exclude_characters=":*?[]"), min_size=1, max_size=MAX_KEY_LENGTH)
KEY = KEY.filter(lambda key: key.isprintable() and not any(c.isspace() for c in key))
SCOPE_ID = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn"),
                                 exclude_characters=":"), min_size=1, max_size=64)
SCOPE_ID = SCOPE_ID.filter(str.isprintable)
SCOPE_NAMES = st.sampled_from([s.value for s in Scope]).flatmap(
    lambda name: st.sampled_from([name, name.upper(), f" {name.title()} "]))
HEADERS = st.fixed_dictionaries({}, optional={
    "X-Workflow-ID": TEXT, "X-Session-ID": TEXT, "X-Actor-ID": TEXT})


@given(ANY_TEXT | JSON)
def test_a_key_is_accepted_whole_or_refused_with_invalid_key(key):
    try:
        accepted = validate_key(key)
    except InvalidKey:
        return
    assert accepted == key and 1 <= len(key) <= MAX_KEY_LENGTH
    assert not set(key) & set(":*?[]")
    assert all(c.isprintable() and not c.isspace() for c in key)


@given(ANY_TEXT | JSON)
def test_a_scope_id_is_accepted_whole_or_refused_with_invalid_scope(scope_id):
    try:
        assert validate_scope_id(scope_id) == scope_id
    except InvalidScope:
        return
    assert ":" not in scope_id and scope_id.isprintable()


@given(SCOPE_NAMES)
def test_a_scope_name_parses_whatever_its_case_and_padding(name):
    assert parse_scope(name) is Scope(name.strip().lower())


@given(ANY_TEXT | JSON)
def test_anything_else_is_refused_as_an_unknown_scope(value):
    try:
        assert parse_scope(value).value == value.strip().lower()
    except InvalidScope:
        pass


@given(st.sampled_from(list(Scope)), SCOPE_ID, KEY, st.sampled_from(list(Scope)), SCOPE_ID, KEY)
def test_distinct_values_never_share_a_redis_key(scope_a, id_a, key_a, scope_b, id_b, key_b):
    a = memory_key("af", scope_a, id_a, key_a)
    b = memory_key("af", scope_b, id_b, key_b)

    same = (scope_instance(scope_a, id_a), key_a) == (scope_instance(scope_b, id_b), key_b)
    assert (a == b) == same
    namespace, family, scope, scope_id, key = a.split(":")  # no part holds a ':'
    assert (namespace, family, scope, key) == ("af", "mem", scope_a.value, key_a)


@given(JSON_OBJECT | st.fixed_dictionaries({}, optional={
    "scope": SCOPE_NAMES | JSON, "scope_id": SCOPE_ID | JSON, "key": KEY | JSON}), HEADERS)
def test_a_request_names_a_scope_or_is_refused_with_our_errors(body, headers):
    try:
        scope, scope_id = write_target(body, headers)
        scope_instance(scope, scope_id)  # what the store checks next
    except (MemoryStoreError, ControlPlaneError):
        return
    assert isinstance(scope, Scope) and isinstance(scope_id, str)
    if explicit_scope(body, headers) is None:  # no scope named: the most specific present
        present = [s for s, h in [(Scope.WORKFLOW, "X-Workflow-ID"),
                                  (Scope.SESSION, "X-Session-ID"),
                                  (Scope.ACTOR, "X-Actor-ID")] if headers.get(h)]
        assert scope is (present[0] if present else Scope.GLOBAL)
