"""Fuzz every operation of the live /openapi.json with schemathesis: no answer is a 5xx,
and every answer matches the schema the document declares for it.

Runs against the test stack on loopback, bounded: ``TEST_FUZZ_EXAMPLES`` cases per
operation and generation mode (positive: bodies that fit the schema; negative: bodies
that do not), ``TEST_FUZZ_SECONDS`` in all, derandomized so a run is repeatable. The
figures (operations, cases, failures) are printed at the end.

``KNOWN_SERVER_ERRORS`` lists 5xx found here that are not fixed yet, each with the
reason; they are reported, not failed on. It is empty: a new 5xx fails the test.
"""

import os
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.conftest import AUTH

EXAMPLES = int(os.environ.get("TEST_FUZZ_EXAMPLES", "50"))
BUDGET_SECONDS = float(os.environ.get("TEST_FUZZ_SECONDS", "150"))
# An event stream never ends: its cases read the first frame and hang up.
STREAMING = {"GET /api/v1/memory/events/sse"}
STREAM_READ_SECONDS = 1.0
STREAM_EXAMPLES = 5  # each holds the read timeout
# Every answer must match the schema and media type /openapi.json declares for it.
DOCUMENT_CHECKS = [response_schema_conformance, content_type_conformance]
# gunicorn's own refusals (URL past 4094 bytes, headers too large): HTML, never our app's.
GUNICORN_LIMITS = {400, 414, 431}
# A 503 saying a backing service is down is the documented answer to an outage (on a
# shared machine PostgreSQL may run out of connections): counted and shown, not a failure.
OUTAGES = {"database_unavailable", "broker_unavailable"}

# "METHOD /path" -> why it may still answer 5xx, with the smallest failing request and
# what the web log says. Empty: every 5xx this test found is fixed (see the git log).
KNOWN_SERVER_ERRORS: dict[str, str] = {}


@dataclass
class Tally:
    """What the run did: cases per operation, and the first failing case of each kind."""

    operations: int = 0
    cases: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    failures: dict = field(default_factory=dict)
    nothing_to_vary: list = field(default_factory=list)
    outages: Counter = field(default_factory=Counter)
    mismatches: dict = field(default_factory=dict)
    refused_by_gunicorn: Counter = field(default_factory=Counter)
    timed_out: bool = False


def _with_inputs_beyond_the_path(document: dict) -> set[str]:
    """Operations with a body, query or header parameters: negative cases exist for them."""
    return {f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method, operation in item.items()
            if "requestBody" in operation
            or any(p["in"] != "path" for p in operation.get("parameters", []))}


def _send(case, base_url: str, session: requests.Session, tally: Tally) -> tuple[int, str | None]:
    """Send the case and run the checks; return the status and, for a 5xx, its error code.

    A mismatch between an answer and its declared schema or media type is recorded in
    ``tally.mismatches``: the document must tell the truth about every answer.
    """
    label = f"{case.operation.method.upper()} {case.operation.path}"
    if label in STREAMING:
        try:
            response = case.call(base_url=base_url, session=session, stream=True,
                                 timeout=(5, STREAM_READ_SECONDS))
        except (requests.ReadTimeout, requests.ConnectionError):
            return 200, None  # the stream opened and stayed open: not an error
    else:
        response = case.call(base_url=base_url, session=session, timeout=60)
    if _refused_by_gunicorn(response):
        tally.refused_by_gunicorn[response.status_code] += 1
        return response.status_code, None
    try:
        case.validate_response(response, checks=DOCUMENT_CHECKS)
    except FailureGroup as group:
        for failure in group.exceptions:
            key = (label, response.status_code, failure.title)
            tally.mismatches.setdefault(key, case.as_curl_command(base_url=base_url))
    try:
        case.validate_response(response, checks=[not_a_server_error])
    except FailureGroup:
        try:
            return response.status_code, response.json().get("error")
        except ValueError:
            return response.status_code, None
    return response.status_code, None


def _refused_by_gunicorn(response) -> bool:
    """A request line or headers past gunicorn's limits: answered (in HTML) before the app."""
    if response.status_code not in GUNICORN_LIMITS:
        return False
    try:
        return not isinstance(response.json(), dict)
    except ValueError:
        return True


def _fuzz(operation, mode: GenerationMode, base_url: str, tally: Tally, deadline: float):
    session = requests.Session()
    session.headers.update(AUTH)
    label = f"{operation.method.upper()} {operation.path}"

    examples = STREAM_EXAMPLES if label in STREAMING else EXAMPLES

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        if time.monotonic() > deadline:
            tally.timed_out = True
            return
        sent = time.monotonic()
        status, code = _send(case, base_url, session, tally)
        tally.cases[label] += 1
        tally.seconds[label] += time.monotonic() - sent
        if code in OUTAGES:
            tally.outages[code] += 1
        elif status >= 500 and (label, status) not in tally.failures:
            tally.failures[(label, status)] = case.as_curl_command(base_url=base_url)

    try:
        run()
    except Unsatisfiable:
        tally.nothing_to_vary.append(label)
    finally:
        session.close()


def test_no_operation_answers_a_server_error(api, stack, capsys):
    # Given the document the running control plane serves
    document = requests.get(f"{stack.url}/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    variable = _with_inputs_beyond_the_path(document)
    tally = Tally()
    deadline = time.monotonic() + BUDGET_SECONDS
    started = time.monotonic()

    # When every operation is fuzzed with fitting and unfitting requests
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and label not in variable:
                # Only path segments: any string fits, so no request can be made not to.
                tally.nothing_to_vary.append(label)
                continue
            _fuzz(operation, mode, stack.url, tally, deadline)

    # Then none answered 5xx, except the known cases listed (and reported) above
    with capsys.disabled():  # the figures belong in every run's output
        _report(tally, time.monotonic() - started)
    unexpected = {key: curl for key, curl in tally.failures.items()
                  if key[0] not in KNOWN_SERVER_ERRORS}
    assert unexpected == {}, f"server errors (web log: {stack.log_dir}/web.log)"
    assert tally.mismatches == {}, "answers that do not match the document"
    assert tally.operations >= 39 and sum(tally.cases.values()) >= tally.operations


def _report(tally: Tally, elapsed: float) -> None:
    fixed = sorted(set(KNOWN_SERVER_ERRORS) - {label for label, _ in tally.failures})
    lines = [
        f"schemathesis: {tally.operations} operations, {sum(tally.cases.values())} cases "
        f"in {elapsed:.0f} s ({EXAMPLES} per operation and mode"
        f"{', time budget ran out' if tally.timed_out else ''}), "
        f"{len(tally.failures)} distinct server errors",
        "  slowest (seconds waiting for answers): " + ", ".join(
            f"{label} {seconds:.1f}" for label, seconds in tally.seconds.most_common(3)),
        f"  answers not matching their declared schema or media type: {len(tally.mismatches)}",
        *(f"  {status} {label}: {title}\n      {_shorten(curl)}"
          for (label, status, title), curl in sorted(tally.mismatches.items())),
        f"  refused by gunicorn before the app: {dict(tally.refused_by_gunicorn) or 'none'}",
        f"  503 for a backing service outage: {dict(tally.outages) or 'none'}",
        f"  only positive cases (nothing to make unfit): {len(tally.nothing_to_vary)} operations",
        *(f"  {status} {label}{'  (known)' if label in KNOWN_SERVER_ERRORS else ''}\n"
          f"      {_shorten(curl)}" for (label, status), curl in sorted(tally.failures.items())),
        *(f"  known, not met in this run (fixed, or not generated): {label}" for label in fixed),
    ]
    print("\n" + "\n".join(lines))


def _shorten(curl: str, limit: int = 400) -> str:
    return curl if len(curl) <= limit else curl[:limit] + " ... (cut)"
