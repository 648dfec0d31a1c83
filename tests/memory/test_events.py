"""Change events: one per write, in order, filtered history, a blocking feed, a bounded stream."""

import threading
import time

import pytest

from memory import InvalidValue, MemoryStore, event_from_entry, matches
from tests.memory.conftest import NAMESPACE


def _id(event: dict) -> tuple[int, int]:
    milliseconds, sequence = event["id"].split("-")
    return int(milliseconds), int(sequence)


def test_every_write_appends_one_event_with_data_and_previous_data_in_order(store):
    store.set("workflow", "wf", "k", {"v": 1})
    store.set("workflow", "wf", "k", {"v": 2})
    store.delete("workflow", "wf", "k")
    store.delete("workflow", "wf", "k")  # nothing to delete: no event
    store.increment("workflow", "wf", "n", 5)
    store.compare_and_set("workflow", "wf", "n", 5, "five")
    store.update("workflow", "wf", "n", lambda data: data + "!")

    events = store.events_after(None)

    assert [(e["action"], e["key"], e["data"], e["previous_data"]) for e in events] == [
        ("set", "k", {"v": 1}, None),
        ("set", "k", {"v": 2}, {"v": 1}),
        ("delete", "k", None, {"v": 2}),
        ("set", "n", 5, None),
        ("set", "n", "five", 5),
        ("set", "n", "five!", "five"),
    ]
    assert all((e["scope"], e["scope_id"]) == ("workflow", "wf") for e in events)
    assert [_id(e) for e in events] == sorted({_id(e) for e in events})
    assert events[-1]["timestamp"] == store.get("workflow", "wf", "n")["updated_at"]


def test_events_after_pages_strictly_after_an_id(store):
    for number in range(5):
        store.set("global", None, "k", number)
    everything = store.events_after(None)

    page = store.events_after(everything[1]["id"], count=2)

    assert [e["data"] for e in page] == [2, 3]
    assert store.events_after(everything[-1]["id"]) == []
    with pytest.raises(InvalidValue):
        store.events_after(None, count=0)


def test_event_from_entry_decodes_a_raw_stream_entry(store, memory_redis):
    store.set("session", "s1", "k", ["x"])
    ((entry_id, fields),) = memory_redis.xrange(f"{NAMESPACE}:memevents")

    event = event_from_entry(entry_id, fields)

    assert event == store.events_after(None)[0]
    assert event["id"] == entry_id.decode()
    assert set(event) == {"id", "scope", "scope_id", "key", "action", "data", "previous_data",
                          "timestamp"}


def test_history_filters_by_scope_scope_id_and_key_patterns_newest_last(store):
    store.set("workflow", "wf1", "plan", 1)
    store.set("workflow", "wf2", "plan", 2)
    store.set("session", "s1", "user.name", 3)
    store.set("session", "s1", "user.age", 4)
    store.set("session", "s2", "cart", 5)
    store.set("global", None, "config", 6)

    def data(**filters):
        return [e["data"] for e in store.history(**filters)]

    assert data() == [1, 2, 3, 4, 5, 6]
    assert data(scope="workflow") == [1, 2]
    assert data(scope="workflow", scope_id="wf2") == [2]
    assert data(scope_id="s1") == [3, 4]
    assert data(patterns=["user.*"]) == [3, 4]
    assert data(patterns=["user.age", "c*"]) == [4, 5, 6]
    assert data(patterns=[]) == [1, 2, 3, 4, 5, 6]
    assert data(limit=2) == [5, 6]
    assert data(scope="session", limit=2) == [4, 5]
    since = store.history()[2]["id"]
    assert data(since_id=since) == [4, 5, 6]


def test_history_scans_past_one_batch_to_fill_its_limit(store):
    store.set("actor", "needle", "k", "first")
    for number in range(1200):
        store.set("actor", "hay", "k", number)

    found = store.history(scope_id="needle")

    assert [e["data"] for e in found] == ["first"]


def test_matches_treats_no_patterns_as_every_key_and_globs_case_sensitively():
    event = {"scope": "session", "scope_id": "s1", "key": "User.Name"}

    assert matches(event) and matches(event, patterns=None) and matches(event, patterns=[])
    assert matches(event, "session", "s1", ["User.*"])
    assert not matches(event, patterns=["user.*"])
    assert not matches(event, scope="workflow")
    assert not matches(event, scope_id="s2")
    assert MemoryStore.matches(event, patterns=["*Name", "nothing"])


def test_read_events_wakes_when_another_thread_writes(store):
    def write_later():
        time.sleep(0.3)
        store.set("workflow", "wf", "wake", "up")

    writer = threading.Thread(target=write_later)
    started = time.monotonic()
    writer.start()
    try:
        events = store.read_events("$", block_ms=5000)
    finally:
        writer.join()
    waited = time.monotonic() - started

    assert [(e["key"], e["data"]) for e in events] == [("wake", "up")]
    assert 0.25 <= waited < 2.0


def test_read_events_returns_backlog_after_an_id_and_times_out_empty(store):
    store.set("global", None, "a", 1)
    first = store.events_after(None)[0]["id"]
    store.set("global", None, "b", 2)

    assert [e["key"] for e in store.read_events(first, block_ms=100)] == ["b"]
    assert [e["key"] for e in store.read_events("0", block_ms=0)] == ["a", "b"]
    started = time.monotonic()
    assert store.read_events("$", block_ms=200) == []
    assert time.monotonic() - started >= 0.15


def test_the_event_stream_is_bounded_by_length(make_store, stream_length):
    store = make_store(event_max_len=10)
    for number in range(400):
        store.set("global", None, "k", number)

    # MAXLEN ~ trims whole stream nodes (stream-node-max-entries, 100 by default)
    assert 10 <= stream_length() <= 10 + 100
    assert store.events_after(None, count=1000)[-1]["data"] == 399


def test_the_event_stream_drops_events_older_than_the_max_age(make_store, stream_length):
    store = make_store(event_max_age_seconds=1)
    for number in range(300):
        store.set("global", None, "k", number)
    oldest = store.events_after(None, count=1)[0]

    time.sleep(1.1)
    store.set("global", None, "k", "fresh")

    assert stream_length() < 301
    assert _id(store.events_after(None, count=1)[0]) > _id(oldest)
    assert store.history(limit=1)[0]["data"] == "fresh"


@pytest.mark.parametrize("bad_id", ["", "abc", "1-2-3", "$", "(5", "-", 7])
def test_malformed_event_ids_are_rejected(store, bad_id):
    with pytest.raises(InvalidValue):
        store.history(since_id=bad_id)
    with pytest.raises(InvalidValue):
        store.events_after(bad_id)
    if bad_id != "$":
        with pytest.raises(InvalidValue):
            store.read_events(bad_id, block_ms=0)


def test_latest_event_id_starts_a_feed_that_misses_nothing(store):
    assert store.latest_event_id() == "0-0"
    store.set("global", None, "old", 1)
    start = store.latest_event_id()
    store.set("global", None, "new", 2)  # written between the two calls: must not be missed

    assert [e["key"] for e in store.read_events(start, block_ms=100)] == ["new"]
    assert [e["key"] for e in store.read_events("0-0", block_ms=0)] == ["old", "new"]
