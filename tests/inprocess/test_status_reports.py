"""apply_status_report: a worker's reports move the row, once, and bad ones are refused."""

import pytest

from app.errors import InvalidField, InvalidStatus
from app.executions.lifecycle import ExecutionAlreadyFinished
from app.executions.reports import apply_status_report
from app.executions.store import fetch_execution
from app.status import STATUSES
from tests.conftest import TEST_REPORTER

OUTCOME = ("status", "attempt", "result_payload", "error_message", "error_type",
           "duration_ms")


def _outcome(row: dict) -> dict:
    return {name: row[name] for name in OUTCOME}


@pytest.fixture
def execution(register, make_execution) -> dict:
    return make_execution(register())


def test_running_then_succeeded_records_the_outcome(execution):
    execution_id = execution["execution_id"]

    running = apply_status_report(execution_id, {"status": "running"}, reporter=TEST_REPORTER)
    finished = apply_status_report(execution_id, {
        "status": "succeeded", "result": {"answer": 42}, "duration_ms": 12.7},
            reporter=TEST_REPORTER)

    assert (running["status"], running["attempt"]) == ("running", 1)
    assert running["started_at"] is not None and running["completed_at"] is None
    stored = fetch_execution(execution_id)
    assert _outcome(stored) == {"status": "succeeded", "attempt": 1,
                                "result_payload": {"answer": 42}, "error_message": None,
                                "error_type": None, "duration_ms": 12}
    assert stored["started_at"] == running["started_at"]  # the first start is kept
    assert stored["completed_at"] >= stored["started_at"]
    # The report's answer is the updated row's key columns, as stored.
    assert {name: finished[name] for name in OUTCOME if name != "attempt"} == {
        name: stored[name] for name in OUTCOME if name != "attempt"}


def test_a_failure_keeps_its_message_and_type_and_gets_a_duration(execution):
    apply_status_report(execution["execution_id"], {
        "status": "error", "error": {"message": "no such ticket"}, "error_type": "KeyError",
        "started_at": "2024-01-02T03:04:05Z"}, reporter=TEST_REPORTER)

    stored = fetch_execution(execution["execution_id"])
    assert _outcome(stored) == {**_outcome(stored), "status": "failed", "attempt": 0,
                                "result_payload": None, "error_message": "no such ticket",
                                "error_type": "KeyError"}
    assert stored["started_at"].isoformat() == "2024-01-02T03:04:05+00:00"
    # No duration reported: it is measured from the reported start to the completion.
    expected = (stored["completed_at"] - stored["started_at"]).total_seconds() * 1000
    assert stored["duration_ms"] == int(expected)


def test_a_second_terminal_report_is_refused_and_changes_nothing(execution):
    execution_id = execution["execution_id"]
    apply_status_report(execution_id, {"status": "succeeded", "result": {"n": 1}},
        reporter=TEST_REPORTER)
    before = fetch_execution(execution_id)

    with pytest.raises(ExecutionAlreadyFinished) as raised:
        apply_status_report(execution_id, {"status": "failed", "error": "late"},
            reporter=TEST_REPORTER)

    assert (raised.value.code, raised.value.status) == ("execution_already_finished", 409)
    assert raised.value.details == {"execution_id": execution_id, "status": "succeeded"}
    assert fetch_execution(execution_id) == before


def test_an_unknown_status_is_refused(execution):
    with pytest.raises(InvalidStatus) as raised:
        apply_status_report(execution["execution_id"], {"status": "exploded"},
            reporter=TEST_REPORTER)

    assert (raised.value.code, raised.value.status) == ("invalid_status", 400)
    assert raised.value.details == {"allowed": list(STATUSES)}
    assert str(raised.value) == "unsupported status 'exploded'"
    assert fetch_execution(execution["execution_id"])["status"] == "queued"


@pytest.mark.parametrize("duration", ["12", -1, True, [5]])
def test_a_bad_duration_is_refused_and_the_row_stays_queued(execution, duration):
    with pytest.raises(InvalidField) as raised:
        apply_status_report(execution["execution_id"],
                            {"status": "succeeded", "duration_ms": duration},
                                reporter=TEST_REPORTER)

    assert raised.value.details == {"field": "duration_ms"}
    assert str(raised.value) == "'duration_ms' must be a non-negative number"
    assert fetch_execution(execution["execution_id"])["status"] == "queued"
