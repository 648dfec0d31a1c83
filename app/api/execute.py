"""Execute endpoints: sync (waits for the result) and async (202 at once)."""

from flask import Blueprint, request

from app.api.params import seconds_header_or_arg
from app.auth.guard import current_principal
from app.auth.policy import requires
from app.executions import store
from app.executions.submission import submit_execution
from app.executions.views import accepted_view
from app.executions.waiting import poll_until_finished, wait_for_completion
from app.extensions import get_config
from app.jsonio import read_json_object
from app.openapi import api_doc
from app.openapi import schemas as S

bp = Blueprint("execute", __name__, url_prefix="/api/v1/execute")


def _with_ids(body: dict, status: int, row: dict):
    headers = {"X-Execution-ID": row["execution_id"], "X-Run-ID": row["run_id"]}
    if row.get("replayed"):
        headers["Idempotent-Replayed"] = "true"
    return body, status, headers


@bp.post("/<target>")
@api_doc("Execute and wait for the result (202 when the wait runs out)",
         body=S.EXECUTE_REQUEST, headers=S.SYNC_HEADERS, query={"timeout": S.STRING},
         responses={200: S.ref("SyncResult"), 202: S.ref("Accepted")},
         errors=(400, 404, 409, 413, 422, 429, 503))
@requires("execute")
def execute_sync(target: str):
    timeout = _wait_seconds()  # read first: a bad one must not leave an execution behind
    row = submit_execution(target, read_json_object(), request.headers, "sync",
                           current_principal())
    if row.get("replayed"):
        outcome = poll_until_finished(row["execution_id"], timeout)
    else:
        outcome = wait_for_completion(row["execution_id"], timeout)
    if outcome is None:
        # The execution goes on; the caller can look it up by id.
        body = accepted_view(store.fetch_execution(row["execution_id"]))
        body.update(error="sync_wait_timeout",
                    message=f"no result within {timeout:g} s; the execution continues, "
                            f"poll GET /api/v1/executions/{row['execution_id']}")
        return _with_ids(body, 202, row)
    return _with_ids(outcome, 200, row)


@bp.post("/async/<target>")
@api_doc("Queue an execution and answer at once", body=S.EXECUTE_REQUEST,
         headers=S.EXECUTE_HEADERS, responses={202: S.ref("Accepted")},
         errors=(400, 404, 409, 413, 422, 429, 503))
@requires("execute")
def execute_async(target: str):
    row = submit_execution(target, read_json_object(), request.headers, "async",
                           current_principal())
    body = accepted_view(row)
    if row.get("replayed"):
        body["status"] = row["status"]  # the original's, as it stands now
    return _with_ids(body, 202, row)


def _wait_seconds() -> float:
    """Let a caller shorten (never lengthen) the configured sync wait."""
    limit = get_config().sync_timeout
    asked = seconds_header_or_arg("X-Sync-Timeout", "timeout")
    return limit if asked is None else min(asked, limit)
