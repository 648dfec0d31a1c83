"""Atomic updates: increment, compare_and_set and update() never lose a concurrent writer."""

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from memory import CompareFailed, ContentionTooHigh, InvalidValue, NotANumber
from tests.memory.conftest import NAMESPACE, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def _run_threads(count: int, target) -> None:
    errors = []

    def guarded(index):
        try:
            target(index)
        except Exception as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert not any(thread.is_alive() for thread in threads)


def test_increment_from_20_threads_loses_no_update(store):
    def work(_):
        for _ in range(50):
            store.increment("workflow", "wf", "counter")

    _run_threads(20, work)

    assert store.get("workflow", "wf", "counter")["data"] == 1000


_INCREMENTER = textwrap.dedent("""
    import sys
    import redis
    from memory import MemoryStore

    client = redis.Redis.from_url(sys.argv[1])
    store = MemoryStore(client, sys.argv[2])
    client.blpop(sys.argv[2] + ":test-go", timeout=30)
    for _ in range(int(sys.argv[3])):
        store.increment("global", None, "counter", 2)
""")


def test_increment_from_two_processes_loses_no_update(store, memory_redis):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", _INCREMENTER, REDIS_URL, NAMESPACE, "300"]
    processes = [subprocess.Popen(argv, env=env, cwd=ROOT) for _ in range(2)]
    try:
        memory_redis.rpush(f"{NAMESPACE}:test-go", "go", "go")
        assert [process.wait(timeout=60) for process in processes] == [0, 0]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert store.get("global", None, "counter")["data"] == 1200


def test_increment_starts_a_missing_key_at_zero_and_adds_floats(store):
    assert store.increment("session", "s", "n")["data"] == 1
    assert store.increment("session", "s", "n", 41)["data"] == 42
    assert store.increment("session", "s", "n", -50)["data"] == -8
    assert store.increment("session", "s", "f", 0.1)["data"] == 0.1
    assert store.increment("session", "s", "f", 0.2)["data"] == 0.1 + 0.2
    assert store.increment("session", "s", "f", 0.7)["data"] == 1
    assert store.get("session", "s", "f")["data"] == 0.1 + 0.2 + 0.7
    assert store.increment("session", "s", "n", 2.0)["data"] == -6


def test_increment_of_big_integers_is_exact(store):
    store.set("global", None, "big", 2**62)

    assert store.increment("global", None, "big", 12345)["data"] == 2**62 + 12345


@pytest.mark.parametrize("stored", ["a string", "12", [1], {"n": 1}, None, True])
def test_increment_of_a_value_that_is_not_a_number_fails(store, stored):
    store.set("workflow", "wf", "k", stored)

    with pytest.raises(NotANumber) as raised:
        store.increment("workflow", "wf", "k")

    assert (raised.value.status, raised.value.code) == (409, "memory_not_a_number")
    assert store.get("workflow", "wf", "k")["data"] == stored


def test_increment_past_the_64_bit_range_fails_and_keeps_the_value(store):
    store.set("workflow", "wf", "k", 2**63 - 1)

    with pytest.raises(NotANumber):
        store.increment("workflow", "wf", "k")
    assert store.get("workflow", "wf", "k")["data"] == 2**63 - 1


@pytest.mark.parametrize("amount", [True, "1", None, float("nan"), float("inf"), 2**64])
def test_increment_by_something_other_than_a_finite_number_is_rejected(store, amount):
    with pytest.raises(InvalidValue):
        store.increment("workflow", "wf", "k", amount)
    assert store.exists("workflow", "wf", "k") is False


def test_compare_and_set_writes_when_the_value_matches(store):
    store.set("workflow", "wf", "k", {"state": "draft", "rev": 1})

    written = store.compare_and_set("workflow", "wf", "k", {"rev": 1, "state": "draft"},
                                    {"state": "final", "rev": 2})

    assert written["data"] == {"state": "final", "rev": 2}
    assert store.get("workflow", "wf", "k")["data"] == {"state": "final", "rev": 2}


def test_compare_and_set_fails_on_another_value_and_reports_it(store, stream_length):
    store.set("workflow", "wf", "k", [1, 2])

    with pytest.raises(CompareFailed) as raised:
        store.compare_and_set("workflow", "wf", "k", [2, 1], "new")

    assert (raised.value.status, raised.value.code) == (409, "memory_compare_failed")
    assert raised.value.current["data"] == [1, 2]
    assert store.get("workflow", "wf", "k")["data"] == [1, 2]
    assert stream_length() == 1


def test_compare_and_set_with_expected_none_requires_absence(store):
    assert store.compare_and_set("actor", "a", "lock", None, "mine")["data"] == "mine"

    with pytest.raises(CompareFailed) as raised:
        store.compare_and_set("actor", "a", "lock", None, "theirs")
    assert raised.value.current["data"] == "mine"

    with pytest.raises(CompareFailed) as absent:
        store.compare_and_set("actor", "a", "missing", "anything", "x")
    assert absent.value.current is None
    assert store.exists("actor", "a", "missing") is False


def test_compare_and_set_compares_numbers_by_value(store):
    store.set("global", None, "n", 3.0)
    store.compare_and_set("global", None, "n", 3, 0.1)
    incremented = store.increment("global", None, "n", 0.2)["data"]

    assert store.compare_and_set("global", None, "n", incremented, "done")["data"] == "done"
    store.set("global", None, "n", 3)
    with pytest.raises(CompareFailed):
        store.compare_and_set("global", None, "n", "3", "no")


def test_compare_and_set_lets_exactly_one_of_many_racers_win(store):
    winners = []

    def race(index):
        try:
            store.compare_and_set("session", "s", "owner", None, f"racer-{index}")
            winners.append(index)
        except CompareFailed:
            pass

    _run_threads(10, race)

    assert len(winners) == 1
    assert store.get("session", "s", "owner")["data"] == f"racer-{winners[0]}"


def test_update_from_many_threads_appends_every_element(store):
    def work(index):
        for step in range(20):
            store.update("workflow", "wf", "log",
                         lambda items, item=f"{index}-{step}": [*(items or []), item])

    _run_threads(10, work)

    items = store.get("workflow", "wf", "log")["data"]
    assert sorted(items) == sorted(f"{index}-{step}" for index in range(10) for step in range(20))


def test_update_sees_none_for_a_missing_key_and_keeps_created_at(store):
    seen = []
    first = store.update("session", "s", "k", lambda data: seen.append(data) or {"n": 1})
    second = store.update("session", "s", "k", lambda data: {"n": data["n"] + 1}, ttl=0)

    assert seen == [None]
    assert second["data"] == {"n": 2} and second["ttl_seconds"] is None
    assert second["created_at"] == first["created_at"]
    assert store.get("session", "s", "k") == second


def test_update_gives_up_with_contention_too_high(store, memory_redis):
    calls = []

    def meddle(data):
        calls.append(data)
        memory_redis.hset(f"{NAMESPACE}:mem:workflow:wf:k", "data", "7")  # a rival write
        return data + 1

    store.set("workflow", "wf", "k", 1)

    with pytest.raises(ContentionTooHigh) as raised:
        store.update("workflow", "wf", "k", meddle, max_attempts=3)

    assert (raised.value.status, raised.value.code) == (409, "memory_contention")
    assert len(calls) == 3


def test_update_leaves_the_value_alone_when_fn_raises(store, stream_length):
    store.set("workflow", "wf", "k", 1)

    with pytest.raises(ZeroDivisionError):
        store.update("workflow", "wf", "k", lambda data: data / 0)

    assert store.get("workflow", "wf", "k")["data"] == 1
    assert stream_length() == 1
