"""Hostile requests against gunicorn: oversized bodies (with and without Content-Length)
and a run id that tries to break out of the export's Content-Disposition."""

from urllib.parse import quote

import pytest

from tests.conftest import count_executions

TARGET = "/api/v1/execute/async/echo-agent.noop"
LIMIT = 8 * 1_048_576  # AGENTFIELD_MAX_BODY_BYTES' default
TOO_LARGE = {
    "error": "payload_too_large",
    "message": f"the request body is larger than {LIMIT} bytes (AGENTFIELD_MAX_BODY_BYTES)",
    "details": {"max_bytes": LIMIT},
}


def _oversized() -> bytes:
    return b'{"input": {"value": "' + b"x" * (LIMIT + 1) + b'"}}'


def test_a_body_over_the_limit_is_413_before_it_is_read(api):
    before = count_executions()
    response = api.post(TARGET, data=_oversized(), headers={"Content-Type": "application/json"})

    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert count_executions() == before


def test_a_chunked_body_over_the_limit_is_413(api):
    # No Content-Length: werkzeug counts as it reads and stops past the limit.
    body = _oversized()

    def chunks():
        for start in range(0, len(body), 65_536):
            yield body[start:start + 65_536]

    before = count_executions()
    try:
        response = api.post(TARGET, data=chunks(), headers={"Content-Type": "application/json"})
    except Exception as exc:  # the server may close before the client has sent everything
        pytest.fail(f"the refusal did not reach the client: {exc!r}")

    assert (response.status_code, response.json()) == (413, TOO_LARGE)
    assert count_executions() == before


def test_the_export_names_a_hostile_run_id_safely(api, stack):
    run_id = 'run"; filename=evil.sh; x="'
    response = api.post("/api/v1/execute/echo-agent.noop", json={"input": {"value": 1}},
                        headers={"X-Run-ID": run_id})
    assert response.status_code == 200, response.text
    stack.wait_until(lambda: api.get(f"/api/v1/did/workflow/{quote(run_id)}/vc-chain").ok,
                     what="the run's credentials", timeout=10)

    export = api.get(f"/api/v1/did/export/{quote(run_id)}")

    assert export.status_code == 200
    assert export.headers["Content-Disposition"] == (
        'attachment; filename="audit-run___filename_evil.sh__x__.json"; '
        "filename*=UTF-8''audit-run%22%3B%20filename%3Devil.sh%3B%20x%3D%22.json")
