"""No report can stop the report consumer, and none gets a 500 on the status endpoint.

A terminal report whose content cannot be stored ends its execution ``failed`` with an
``error_type`` saying why; an entry that is not a report goes to the capped
dead-letter stream, counted by ``GET /api/v1/health``. Either way it is acknowledged
and the consumer goes on, within the batch and after it.
"""

import time
from dataclasses import replace

import orjson
import pytest

from app.executions.report_stream import GROUP, ReportConsumer
from app.executions.store import fetch_execution
from tests.conftest import NAMESPACE, signed

STREAM, DEAD = f"{NAMESPACE}:reports", f"{NAMESPACE}:reports:dead"


class Nested(dict):
    """A report whose result is nested ``depth`` deep (orjson decodes it, cannot encode it)."""

    def __init__(self, depth: int):
        super().__init__(status="succeeded")
        self.raw = b'{"status":"succeeded","result":' + b"[" * depth + b"]" * depth + b"}"


# Terminal reports whose content cannot be recorded: (report, error_type, HTTP code).
NOT_STORABLE = [
    ({"status": "succeeded", "result": {"text": "a\x00b"}}, "result_not_storable",
     "result_not_storable"),
    ({"status": "succeeded", "result": {"k\x00": 1}}, "result_not_storable",
     "result_not_storable"),
    ({"status": "succeeded", "result": "\x00"}, "result_not_storable",
     "result_not_storable"),
    # Over HTTP, the body reader refuses it first (deeper than any request may be).
    (Nested(300), "result_not_storable", "json_too_deep"),
    ({"status": "failed", "attempts": [{"error": "a\x00"}]}, "result_not_storable",
     "result_not_storable"),
    ({"status": "succeeded", "result": 1, "duration_ms": 1e300}, "invalid_report",
     "invalid_field"),
    ({"status": "succeeded", "duration_ms": "12"}, "invalid_report", "invalid_field"),
    ({"status": "succeeded", "duration_ms": True}, "invalid_report", "invalid_field"),
    ({"status": "succeeded", "duration_ms": -1}, "invalid_report", "invalid_field"),
    ({"status": "failed", "attempts": "x"}, "invalid_report", "invalid_field"),
    ({"status": "succeeded", "completed_at": 5}, "invalid_report", "invalid_field"),
    ({"status": "succeeded", "completed_at": {"a": 1}}, "invalid_report", "invalid_field"),
    ({"status": "succeeded", "started_at": "0001-01-01T00:00:00+01:00"}, "invalid_report",
     "invalid_field"),
]
# Entries that are no report of an execution we can end: set aside, the row untouched.
NOT_A_REPORT = [
    lambda eid: {"report": b'{"status":"succeeded"}'},
    lambda eid: {"execution_id": eid.encode() + b"\x00", "report": b'{"status":"failed"}'},
    lambda eid: {"execution_id": b"\xff\xfe", "report": b'{"status":"failed"}'},
    lambda eid: {"execution_id": b"x" * 65, "report": b'{"status":"failed"}'},
    lambda eid: {"execution_id": b"exec_unknown", "report": b'{"status":"failed"}'},
    lambda eid: {"execution_id": eid, "report": b"{nope"},
    lambda eid: {"execution_id": eid, "report": b'{"status":"succeeded","result":NaN}'},
    lambda eid: {"execution_id": eid, "report": b'{"status":"succeeded","result":1e400}'},
    lambda eid: {"execution_id": eid, "report": b"[1, 2]"},
    lambda eid: {"execution_id": eid, "report": b'"a string"'},
    lambda eid: {"execution_id": eid, "report": b"\x00\xff"},
    lambda eid: {"execution_id": eid},
    lambda eid: {"execution_id": eid, "report": b'{"status": 5}'},
    lambda eid: {"execution_id": eid, "report": b'{"status": ["succeeded"]}'},
    lambda eid: {"execution_id": eid, "report": b'{"status": "running", "started_at": 5}'},
    lambda eid: {"garbage": b"\x00\xff"},
]


def _entry(execution_id: str, report: dict) -> dict:
    raw = report.raw if isinstance(report, Nested) else orjson.dumps(report)
    return signed({"execution_id": execution_id, "report": raw})


def _signed_if_whole(fields: dict) -> dict:
    """Sign an entry that has both fields, so what sets it aside is its content."""
    return signed(fields) if "execution_id" in fields and "report" in fields else fields


@pytest.fixture
def consumer(ctx):
    """Start the real consumer on the test's Redis database when asked; stop it after."""
    started = []

    def start() -> ReportConsumer:
        started.append(ReportConsumer(ctx))
        started[-1].thread = started[-1].start()
        return started[-1]

    yield start
    for each in started:
        each.stop()
    for each in started:
        each.thread.join(timeout=10)
        each.redis.close()


def _wait(check, what: str, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _ended(execution_id: str) -> bool:
    return fetch_execution(execution_id)["status"] not in ("queued", "running")


def test_poisoned_entries_neither_stop_the_consumer_nor_spoil_their_batch(
        register, make_execution, consumer, redis_db, client):
    # Given one batch holding every poisoned entry and good reports between them
    node = register()
    poisoned = [make_execution(node)["execution_id"] for _ in NOT_STORABLE]
    untouched = make_execution(node)["execution_id"]
    good = [make_execution(node)["execution_id"] for _ in range(2)]
    redis_db.xadd(STREAM, _entry(good[0], {"status": "succeeded", "result": 1}))
    for execution_id, (report, _, _) in zip(poisoned, NOT_STORABLE, strict=True):
        redis_db.xadd(STREAM, _entry(execution_id, report))
    for make in NOT_A_REPORT:
        redis_db.xadd(STREAM, _signed_if_whole(make(untouched)))
    redis_db.xadd(STREAM, _entry(good[1], {"status": "succeeded", "result": {"n": 2}}))

    # When the consumer takes them
    running = consumer()
    _wait(lambda: redis_db.xlen(STREAM) == 0, "every entry to be acknowledged")

    # Then each poisoned execution failed saying why, the good ones succeeded, the rest
    # is set aside and counted, and the consumer still applies what comes next.
    for execution_id, (_, error_type, _) in zip(poisoned, NOT_STORABLE, strict=True):
        row = fetch_execution(execution_id)
        assert (row["status"], row["error_type"], row["result_payload"]) == (
            "failed", error_type, None), execution_id
        assert row["error_message"].startswith("the agent's report could not be recorded")
    assert [fetch_execution(e)["result_payload"] for e in good] == [1, {"n": 2}]
    assert fetch_execution(untouched)["status"] == "queued"
    assert redis_db.xlen(DEAD) == len(NOT_A_REPORT)
    assert redis_db.xpending(STREAM, GROUP)["pending"] == 0
    assert running.thread.is_alive()
    assert client.get("/api/v1/health").get_json()["reports"] == {
        "dead_letters": len(NOT_A_REPORT), "refused": 0}
    after = make_execution(node)["execution_id"]
    redis_db.xadd(STREAM, _entry(after, {"status": "succeeded", "result": "after"}))
    _wait(lambda: _ended(after), "a report after the poison")
    assert fetch_execution(after)["result_payload"] == "after"


def test_a_dead_entry_keeps_what_an_operator_needs(register, make_execution, consumer,
                                                    redis_db):
    execution_id = make_execution(register())["execution_id"]
    redis_db.xadd(STREAM, {"execution_id": execution_id, "report": b"{nope"})

    consumer()
    _wait(lambda: redis_db.xlen(DEAD) == 1, "the entry to be set aside")

    [(_, fields)] = redis_db.xrange(DEAD)
    assert fields[b"execution_id"] == execution_id.encode()
    assert fields[b"report"] == b"{nope"
    assert fields[b"reason"].startswith(b"not_a_report: the report is not JSON")


def test_an_error_text_holding_nul_is_kept_readable(register, make_execution, consumer,
                                                     redis_db):
    execution_id = make_execution(register())["execution_id"]
    redis_db.xadd(STREAM, _entry(execution_id, {
        "status": "failed", "error": "bad\x00byte", "error_type": "Value\x00Error"}))

    consumer()
    _wait(lambda: _ended(execution_id), "the report")

    row = fetch_execution(execution_id)
    assert (row["status"], row["error_message"], row["error_type"]) == (
        "failed", "bad\ufffdbyte", "Value\ufffdError")


def test_a_result_over_the_limit_fails_its_execution(register, make_execution, consumer,
                                                     redis_db, ctx):
    config = ctx.extensions["agentfield_config"]
    ctx.extensions["agentfield_config"] = replace(config, max_result_bytes=1000)
    big = make_execution(register())["execution_id"]
    fits = make_execution(register())["execution_id"]
    redis_db.xadd(STREAM, _entry(big, {"status": "succeeded", "result": {"t": "x" * 1000}}))
    redis_db.xadd(STREAM, _entry(fits, {"status": "succeeded", "result": {"t": "x" * 900}}))

    consumer()
    _wait(lambda: _ended(big) and _ended(fits), "both reports")

    row = fetch_execution(big)
    assert (row["status"], row["error_type"], row["result_payload"]) == (
        "failed", "result_not_storable", None)
    assert "1008 bytes as JSON, over the 1000-byte limit" in row["error_message"]
    assert fetch_execution(fits)["result_payload"] == {"t": "x" * 900}


def test_a_long_error_text_is_cut_not_refused(register, make_execution, consumer, redis_db):
    execution_id = make_execution(register())["execution_id"]
    redis_db.xadd(STREAM, _entry(execution_id, {"status": "failed", "error": "e" * 100_000}))

    consumer()
    _wait(lambda: _ended(execution_id), "the report")

    message = fetch_execution(execution_id)["error_message"]
    assert message == "e" * 16_384 + " [cut]"


def test_a_restarted_consumer_survives_poison_left_pending(register, make_execution,
                                                          consumer, redis_db):
    # Given poisoned entries taken by a consumer that died before acknowledging them
    node = register()
    poisoned = make_execution(node)["execution_id"]
    good = make_execution(node)["execution_id"]
    redis_db.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    redis_db.xadd(STREAM, _entry(poisoned, {"status": "succeeded", "result": {"\x00": 1}}))
    redis_db.xadd(STREAM, {"execution_id": poisoned, "report": b"\x00"})
    redis_db.xadd(STREAM, _entry(good, {"status": "succeeded", "result": True}))
    redis_db.xreadgroup(GROUP, "dead-consumer", {STREAM: ">"}, count=10)
    assert redis_db.xpending(STREAM, GROUP)["pending"] == 3

    # When a new consumer claims them (AGENTFIELD_REPORT_CLAIM_IDLE_MS: 1 s here)
    running = consumer()
    _wait(lambda: redis_db.xpending(STREAM, GROUP)["pending"] == 0, "the claim", 20)

    # Then it applied them and lives on
    assert fetch_execution(poisoned)["error_type"] == "result_not_storable"
    assert fetch_execution(good)["result_payload"] is True
    assert redis_db.xlen(DEAD) == 1
    assert running.thread.is_alive()


@pytest.mark.parametrize("report, _error_type, code", NOT_STORABLE,
                         ids=[str(i) for i in range(len(NOT_STORABLE))])
def test_the_status_endpoint_refuses_a_bad_report_with_400(
        register, make_execution, client, report, _error_type, code):
    execution_id = make_execution(register())["execution_id"]
    before = fetch_execution(execution_id)

    response = client.post(f"/api/v1/executions/{execution_id}/status",
                           data=_entry(execution_id, report)["report"],
                           content_type="application/json")

    assert response.status_code == 400, response.text
    assert response.get_json()["error"] == code
    assert fetch_execution(execution_id) == before


@pytest.mark.parametrize("path_id, status, code", [
    ("exec%00x", 400, "invalid_character"),  # refused for every route, before the view
    ("x" * 65, 404, "execution_not_found"),
])
def test_the_status_endpoint_refuses_an_impossible_id(client, path_id, status, code):
    response = client.post(f"/api/v1/executions/{path_id}/status",
                           json={"status": "succeeded"})

    assert response.status_code == status
    assert response.get_json()["error"] == code

