"""Reads and writes: round trips, scope isolation, resolve order, listing, TTLs and limits."""

import itertools
import time
from datetime import datetime

import pytest
import redis

from memory import InvalidKey, InvalidScope, InvalidValue, MemoryStore, Scope, ValueTooLarge
from tests.memory.conftest import NAMESPACE, REDIS_URL


def _moment(stamp: str) -> datetime:
    assert stamp.endswith("Z") and len(stamp) == len("2024-01-01T00:00:00.000Z"), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_set_then_get_round_trips_json_and_keeps_created_at(store):
    first = store.set(Scope.WORKFLOW, "wf1", "plan", {"steps": ["a", "b"], "done": False})
    time.sleep(0.01)
    second = store.set(Scope.WORKFLOW, "wf1", "plan", {"steps": ["a", "b", "c"], "n": 1.5})
    got = store.get(Scope.WORKFLOW, "wf1", "plan")

    assert got == second
    assert got["data"] == {"steps": ["a", "b", "c"], "n": 1.5}
    assert (got["scope"], got["scope_id"], got["key"]) == ("workflow", "wf1", "plan")
    assert got["created_at"] == first["created_at"] == first["updated_at"]
    assert _moment(got["updated_at"]) > _moment(first["updated_at"])


def test_get_of_a_missing_key_is_none(store):
    assert store.get("session", "s1", "nothing") is None
    assert store.get(Scope.GLOBAL, None, "nothing") is None


@pytest.mark.parametrize("data", [None, False, 0, "", [], {}, "text", 12345678901234567,
                                  -2.5, {"nested": {"list": [1, {"x": None}]}}])
def test_every_json_value_round_trips_and_exists(store, data):
    store.set("actor", "agent-1", "value", data)

    assert store.get("actor", "agent-1", "value")["data"] == data
    assert store.exists("actor", "agent-1", "value") is True


def test_integral_floats_are_stored_as_integers_and_keys_sorted(store, memory_redis):
    stored = store.set("global", None, "f", {"b": 3.0, "a": [1.0, 0.5, -0.0]})

    assert stored["data"] == {"a": [1, 0.5, 0], "b": 3}
    assert isinstance(stored["data"]["b"], int)
    raw = memory_redis.hget(f"{NAMESPACE}:mem:global:global:f", "data")
    assert raw == b'{"a":[1,0.5,0],"b":3}'


def test_a_session_value_is_invisible_from_another_session(store):
    store.set(Scope.SESSION, "session-a", "secret", "for a only")

    assert store.get(Scope.SESSION, "session-b", "secret") is None
    assert store.exists(Scope.SESSION, "session-b", "secret") is False
    assert store.list(Scope.SESSION, "session-b") == []
    assert store.get(Scope.SESSION, "session-a", "secret")["data"] == "for a only"


def test_the_same_key_in_different_scopes_is_independent(store):
    for scope in Scope:
        store.set(scope, "same-id", "k", scope.value)
    store.delete(Scope.ACTOR, "same-id", "k")

    assert store.get(Scope.WORKFLOW, "same-id", "k")["data"] == "workflow"
    assert store.get(Scope.SESSION, "same-id", "k")["data"] == "session"
    assert store.get(Scope.ACTOR, "same-id", "k") is None
    assert store.get(Scope.GLOBAL, None, "k")["data"] == "global"


def test_global_scope_ignores_the_given_scope_id(store):
    store.set(Scope.GLOBAL, "whatever", "k", 1)

    got = store.get(Scope.GLOBAL, None, "k")
    assert (got["scope"], got["scope_id"], got["data"]) == ("global", "global", 1)


def test_resolve_returns_the_narrowest_scope_holding_the_key_in_every_combination(store):
    ids = {Scope.WORKFLOW: "wf", Scope.SESSION: "se", Scope.ACTOR: "ac"}
    narrow = list(ids)
    for holders in itertools.chain.from_iterable(
            itertools.combinations(Scope, n) for n in range(5)):
        for scope in Scope:
            if scope in holders:
                store.set(scope, ids.get(scope), "k", scope.value)
            else:
                store.delete(scope, ids.get(scope), "k")
        for given in itertools.chain.from_iterable(
                itertools.combinations(narrow, n) for n in range(4)):
            scope_ids = {scope: (ids[scope] if scope in given else None) for scope in narrow}
            searched = [scope for scope in narrow if scope in given] + [Scope.GLOBAL]
            expected = next((scope for scope in searched if scope in holders), None)

            found = store.resolve(scope_ids, "k")

            if expected is None:
                assert found is None, (holders, given)
            else:
                assert (found["scope"], found["data"]) == (expected.value, expected.value)
                assert found["scope_id"] == ids.get(expected, "global")


def test_resolve_accepts_scope_names_and_skips_empty_ids(store):
    store.set("session", "s1", "k", "from session")
    store.set("global", None, "k", "from global")

    assert store.resolve({"session": "s1", "workflow": ""}, "k")["data"] == "from session"
    assert store.resolve({"session": None}, "k")["data"] == "from global"
    assert store.resolve({}, "k")["scope"] == "global"


def test_exists_is_true_only_while_a_value_is_stored(store):
    assert store.exists("workflow", "wf", "k") is False
    store.set("workflow", "wf", "k", None)
    assert store.exists("workflow", "wf", "k") is True
    store.delete("workflow", "wf", "k")
    assert store.exists("workflow", "wf", "k") is False


def test_delete_reports_whether_something_was_deleted(store):
    store.set("actor", "a1", "k", [1])

    assert store.delete("actor", "a1", "k") is True
    assert store.delete("actor", "a1", "k") is False
    assert store.get("actor", "a1", "k") is None
    assert store.list_keys("actor", "a1") == []


def test_list_returns_values_sorted_by_key_with_prefix_and_limit(store):
    for key in ("b", "a/2", "a/10", "c", "a/1", "ab"):
        store.set("workflow", "wf", key, key.upper())
    store.set("workflow", "other", "a/9", "elsewhere")

    listed = store.list("workflow", "wf")
    assert [item["key"] for item in listed] == ["a/1", "a/10", "a/2", "ab", "b", "c"]
    assert [item["data"] for item in listed] == ["A/1", "A/10", "A/2", "AB", "B", "C"]
    assert listed[0] == store.get("workflow", "wf", "a/1")
    assert store.list_keys("workflow", "wf", prefix="a/") == ["a/1", "a/10", "a/2"]
    assert store.list_keys("workflow", "wf", prefix="a") == ["a/1", "a/10", "a/2", "ab"]
    assert store.list_keys("workflow", "wf", limit=2) == ["a/1", "a/10"]
    assert store.list_keys("workflow", "wf", prefix="zzz") == []


def test_list_prunes_expired_keys_from_the_index(store, memory_redis):
    store.set("session", "s", "short", 1, ttl=1)
    store.set("session", "s", "long", 2, ttl=0)
    assert store.list_keys("session", "s") == ["long", "short"]

    time.sleep(1.2)

    assert [item["key"] for item in store.list("session", "s")] == ["long"]
    assert store.list_keys("session", "s") == ["long"]
    assert memory_redis.zrange(f"{NAMESPACE}:memidx:session:s", 0, -1) == [b"long"]
    assert memory_redis.zrange(f"{NAMESPACE}:memexp:session:s", 0, -1) == [b"long"]


def test_the_index_expires_with_its_last_member(store, memory_redis):
    store.set("workflow", "wf", "a", 1, ttl=100)
    store.set("workflow", "wf", "b", 1, ttl=200)
    index = f"{NAMESPACE}:memidx:workflow:wf"
    assert 199 <= memory_redis.ttl(index) <= 200

    store.set("workflow", "wf", "c", 1, ttl=0)
    assert memory_redis.ttl(index) == -1
    store.delete("workflow", "wf", "c")
    assert 99 <= memory_redis.ttl(index) <= 200
    store.delete("workflow", "wf", "a")
    store.delete("workflow", "wf", "b")
    assert memory_redis.exists(index, f"{NAMESPACE}:memexp:workflow:wf") == 0


def test_a_per_write_ttl_sets_the_remaining_lifetime(store, memory_redis):
    stored = store.set("workflow", "wf", "k", "v", ttl=100)
    got = store.get("workflow", "wf", "k")

    assert stored["ttl_seconds"] == 100 and got["ttl_seconds"] in (99, 100)
    assert 99 <= memory_redis.ttl(f"{NAMESPACE}:mem:workflow:wf:k") <= 100
    gap = _moment(got["expires_at"]) - _moment(got["updated_at"])
    assert gap.total_seconds() == 100


def test_scope_default_ttls_apply_when_no_ttl_is_given(make_store, memory_redis):
    store = make_store(default_ttls={Scope.SESSION: 50, "actor": 70})

    assert store.set("workflow", "wf", "k", 1)["ttl_seconds"] == 7 * 86_400
    assert store.set("session", "s", "k", 1)["ttl_seconds"] == 50
    assert store.set("actor", "a", "k", 1)["ttl_seconds"] == 70
    assert store.set("global", None, "k", 1)["ttl_seconds"] is None
    assert memory_redis.ttl(f"{NAMESPACE}:mem:global:global:k") == -1
    assert MemoryStore(memory_redis).default_ttls[Scope.SESSION] == 30 * 86_400


def test_ttl_zero_means_the_value_never_expires(store, memory_redis):
    store.set("workflow", "wf", "k", 1, ttl=30)
    stored = store.set("workflow", "wf", "k", 2, ttl=0)
    got = store.get("workflow", "wf", "k")

    assert stored["ttl_seconds"] is None and stored["expires_at"] is None
    assert got["ttl_seconds"] is None and got["expires_at"] is None
    assert memory_redis.ttl(f"{NAMESPACE}:mem:workflow:wf:k") == -1


def test_an_expired_value_is_gone(store):
    store.set("actor", "a", "k", 1, ttl=1)
    time.sleep(1.2)

    assert store.get("actor", "a", "k") is None
    assert store.exists("actor", "a", "k") is False


@pytest.mark.parametrize("ttl", [-1, 1.5, "10", True])
def test_a_bad_ttl_is_rejected(store, ttl):
    with pytest.raises(InvalidValue):
        store.set("workflow", "wf", "k", 1, ttl=ttl)


def test_a_value_over_the_size_limit_is_refused_and_nothing_is_written(
        make_store, stream_length):
    store = make_store(max_value_bytes=100)
    store.set("workflow", "wf", "fits", "x" * 98)  # 100 bytes with its quotes
    before = stream_length()

    with pytest.raises(ValueTooLarge) as raised:
        store.set("workflow", "wf", "big", "x" * 99)
    with pytest.raises(ValueTooLarge):
        store.compare_and_set("workflow", "wf", "big", None, ["y" * 200])
    with pytest.raises(ValueTooLarge):
        store.update("workflow", "wf", "big", lambda _: "z" * 200)

    assert (raised.value.status, raised.value.code) == (413, "memory_value_too_large")
    assert store.exists("workflow", "wf", "big") is False
    assert store.list_keys("workflow", "wf") == ["fits"]
    assert stream_length() == before == 1


def test_data_that_is_not_json_is_rejected(store):
    for data in ({1: "int key"}, {"s": {1, 2}}, 2**70):
        with pytest.raises(InvalidValue):
            store.set("workflow", "wf", "k", data)
    assert store.exists("workflow", "wf", "k") is False


def test_invalid_keys_and_scopes_are_rejected_before_touching_redis(make_store):
    store = make_store()
    store._client = None  # any Redis call would fail with AttributeError
    with pytest.raises(InvalidKey):
        store.set("workflow", "wf", "a:b", 1)
    with pytest.raises(InvalidKey):
        store.get("workflow", "wf", "")
    with pytest.raises(InvalidScope):
        store.set("tenant", "t", "k", 1)
    with pytest.raises(InvalidScope):
        store.set("workflow", None, "k", 1)
    with pytest.raises(InvalidScope):
        store.exists("session", "a:b", "k")


def test_a_client_that_decodes_responses_works_the_same(memory_redis):
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        store = MemoryStore(client, NAMESPACE)
        store.set("workflow", "wf", "k", {"a": 1}, ttl=60)
        store.update("workflow", "wf", "k", lambda data: {**data, "b": 2})
        store.increment("workflow", "wf", "n")

        assert store.get("workflow", "wf", "k")["data"] == {"a": 1, "b": 2}
        assert [item["key"] for item in store.list("workflow", "wf")] == ["k", "n"]
        assert store.list_keys("workflow", "wf") == ["k", "n"]
        assert [event["action"] for event in store.history()] == ["set", "set", "set"]
        assert store.delete("workflow", "wf", "k") is True
    finally:
        client.close()
