"""Status reports: the parser refuses with our errors only, and a valid terminal report
always records the status it names."""

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.executions.reports import apply_status_report, outcome_of
from app.status import _ALIASES, RUNNING, STATUSES, SUCCEEDED, TERMINAL, normalise_status
from config.errors import ControlPlaneError
from tests.conftest import TEST_REPORTER
from tests.property.strategies import INT64, JSON, TEXT, json_equal

TERMINAL_WORDS = sorted(TERMINAL) + sorted(a for a, s in _ALIASES.items() if s in TERMINAL)
STATUS_WORDS = st.sampled_from(list(STATUSES) + sorted(_ALIASES)).flatmap(
    lambda word: st.sampled_from([word, word.upper(), f" {word} "]))
TIMESTAMPS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                          timezones=st.just(UTC)).map(lambda t: t.isoformat())
DURATIONS = st.integers(0, 2**31 - 1) | st.floats(0, 2**31 - 1)
NOT_NUMBERS = st.none() | st.booleans() | TEXT | st.lists(JSON, max_size=3) | st.dictionaries(
    TEXT, JSON, max_size=3)
# Fields as a worker sends them, each sometimes well-formed and sometimes anything at all
#
REPORT_FIELDS = {
    "result": JSON, "error": JSON, "error_message": TEXT | JSON, "error_type": TEXT | JSON,
    "duration_ms": DURATIONS | NOT_NUMBERS, "started_at": TIMESTAMPS | JSON,
    "completed_at": TIMESTAMPS | JSON, "attempts": st.lists(JSON, max_size=60) | JSON,
}
REPORTS = st.fixed_dictionaries({}, optional=REPORT_FIELDS)
VALID_REPORTS = st.fixed_dictionaries({}, optional={
    "result": JSON, "error": TEXT, "error_type": TEXT, "duration_ms": DURATIONS,
    "started_at": TIMESTAMPS, "completed_at": TIMESTAMPS, "attempts": st.lists(JSON, max_size=5),
})


@given(st.sampled_from(sorted(TERMINAL)), REPORTS)
def test_the_parser_answers_an_outcome_or_one_of_our_errors(ctx, status, body):
    try:
        outcome = outcome_of(status, body)
    except ControlPlaneError as error:
        assert error.status == 400 and type(error) is not ControlPlaneError
        return
    assert outcome["status"] == status
    assert (outcome["error_message"] is None) == (status == SUCCEEDED)
    assert outcome["error_type"] is None or len(outcome["error_type"]) <= 128
    assert outcome.get("duration_ms") is None or outcome["duration_ms"] >= 0
    assert outcome["attempt_log"] is None or len(outcome["attempt_log"]) <= 50


@given(STATUS_WORDS | TEXT | JSON)
def test_a_status_word_is_one_of_ours_or_none(word):
    assert normalise_status(word) in (*STATUSES, None)


@pytest.fixture
def node(register) -> str:
    return register()


@given(st.sampled_from(TERMINAL_WORDS), VALID_REPORTS)
def test_a_valid_terminal_report_records_the_status_it_names(node, make_execution,
                                                               word, body):
    execution = make_execution(node)

    row = apply_status_report(execution["execution_id"], {**body, "status": word},
        reporter=TEST_REPORTER)

    assert row["status"] == normalise_status(word)
    assert json_equal(row["result_payload"], body.get("result"))


@given(st.sampled_from(TERMINAL_WORDS) | STATUS_WORDS | TEXT | INT64, REPORTS)
def test_any_report_is_recorded_or_refused_with_one_of_our_errors(node, make_execution,
                                                                    word, body):
    execution = make_execution(node)

    try:
        row = apply_status_report(execution["execution_id"], {**body, "status": word},
            reporter=TEST_REPORTER)
    except ControlPlaneError as error:
        assert 400 <= error.status < 500
        return
    status = normalise_status(word)
    # A terminal or running report moves the row; any other status word changes nothing.
    assert row["status"] == (status if status in (*TERMINAL, RUNNING) else "queued")


def test_a_report_for_an_unknown_execution_is_refused(ctx):
    from app.errors import ExecutionNotFound

    with pytest.raises(ExecutionNotFound):
        apply_status_report(f"exec_{uuid.uuid4().hex}", {"status": "succeeded"},
            reporter=TEST_REPORTER)


@pytest.mark.parametrize("body", [
    {"duration_ms": 1e300},  # past BIGINT
    {"duration_ms": 2**63},
    {"started_at": "0001-01-01T00:00:00+14:00"},  # a UTC year of 0
    {"error_type": "x\x00"},  # U+0000 in a text column
    {"result": {"a": "\x00"}},  # U+0000 in JSONB
])
def test_a_poisoned_report_is_recorded_or_refused_with_one_of_our_errors(node, make_execution,
                                                                          body):
    execution = make_execution(node)

    try:
        row = apply_status_report(execution["execution_id"], {**body, "status": "failed"},
            reporter=TEST_REPORTER)
    except ControlPlaneError as error:
        assert 400 <= error.status < 500
        return
    assert row["status"] == "failed"
