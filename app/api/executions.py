"""Execution lookup, listing, batch status and the workers' status reports."""

from flask import Blueprint, request

from app.api.params import int_arg
from app.auth.guard import current_principal, require
from app.auth.policy import requires
from app.errors import InvalidField
from app.executions import store
from app.executions.cancellation import cancel_execution
from app.executions.lifecycle import Reporter, reporter_for
from app.executions.reports import apply_status_report
from app.executions.views import status_view
from app.jsonio import read_json_object
from app.openapi import api_doc
from app.openapi import schemas as S
from app.status import STATUSES, normalise_status
from app.webhooks import store as webhook_store
from app.webhooks.delivery import request_redelivery

bp = Blueprint("executions", __name__, url_prefix="/api/v1/executions")
# AgentField's UI route for the same action, so its clients work unchanged.
ui_bp = Blueprint("executions_ui", __name__, url_prefix="/api/ui/v1/executions")

_MAX_PAGE = 200
_MAX_BATCH = 500


@bp.get("/<execution_id>")
@api_doc("Get an execution", responses={200: S.EXECUTION}, errors=(404,))
@requires("authenticated")
def get_execution(execution_id: str):
    row = readable_execution(execution_id)
    body = status_view(row)
    if row["has_webhook"] and current_principal().manages(row):
        # Its URL may carry a token: only the owner (or an admin) sees it.
        body["webhook"], body["webhook_events"] = webhook_store.view(execution_id)
    return body


def readable_execution(execution_id: str) -> dict:
    """The execution, if the caller may read it (404 unknown, 403 someone else's)."""
    row = store.fetch_execution(execution_id)
    require(current_principal().reads(row), "executions:read",
            f"this key may not read execution '{execution_id}'")
    return row


def managed_execution(execution_id: str) -> dict:
    """The execution, if the caller started it (or its run) or is admin."""
    row = store.fetch_execution(execution_id)
    require(current_principal().manages(row), "admin",
            f"only the key that started execution '{execution_id}' (or an admin) may "
            "do that")
    return row


@bp.post("/<execution_id>/webhook/retry")
@bp.post("/<execution_id>/webhook/redeliver")
@ui_bp.post("/<execution_id>/webhook/retry")
@api_doc("Deliver the execution's webhook again", responses={202: S.REDELIVERY},
         errors=(400, 404, 409))
@requires("authenticated")
def redeliver_webhook(execution_id: str):
    managed_execution(execution_id)
    row = request_redelivery(execution_id)
    return {"status": "queued", "execution_id": execution_id,
            "delivery_id": row["delivery_id"]}, 202


@bp.get("")
@api_doc("List executions, newest first", query=S.EXECUTION_FILTERS,
         responses={200: S.EXECUTION_LIST}, errors=(400,))
@requires("authenticated")
def list_executions():
    status = request.args.get("status")
    if status and normalise_status(status) is None:
        raise InvalidField(f"unknown status {status!r}", {"allowed": list(STATUSES)})
    limit = int_arg("limit", 50, 1, _MAX_PAGE)
    offset = int_arg("offset", 0, 0, 10**9)
    filters = {
        "run_id": request.args.get("run_id") or request.args.get("workflow_id"),
        "agent_node_id": request.args.get("node") or request.args.get("node_id"),
        "status": normalise_status(status) if status else None,
        "parent_execution_id": request.args.get("parent_execution_id"),
        "session_id": request.args.get("session_id"),
    }
    rows, total = store.list_executions(filters, limit, offset,
                                        current_principal().visibility())
    return {
        "executions": [status_view(row) for row in rows],
        "total": total, "limit": limit, "offset": offset,
        "has_more": offset + len(rows) < total,
    }


@bp.post("/batch-status")
@api_doc("Status of many executions", body=S.BATCH_STATUS_REQUEST,
         responses={200: S.BATCH_STATUS}, errors=(400,))
@requires("authenticated")
def batch_status():
    ids = read_json_object().get("execution_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise InvalidField("'execution_ids' must be a non-empty list of strings",
                           {"field": "execution_ids"})
    if len(ids) > _MAX_BATCH:
        raise InvalidField(f"at most {_MAX_BATCH} ids per request", {"field": "execution_ids"})
    found = store.fetch_many(ids)
    principal = current_principal()
    return {  # another's execution reads as unknown, as in a listing
        execution_id: status_view(found[execution_id])
        if execution_id in found and principal.reads(found[execution_id])
        else {"execution_id": execution_id, "status": "not_found"}
        for execution_id in ids
    }


@bp.post("/<execution_id>/cancel")
@api_doc("Cancel an execution", body=S.REASON, body_required=False,
         responses={200: S.EXECUTION}, errors=(400, 404, 409))
@requires("authenticated")
def cancel(execution_id: str):
    reason = read_json_object(required=False).get("reason")
    managed_execution(execution_id)
    cancel_execution(execution_id, str(reason)[:500] if reason else None,
                     Reporter(current_principal().reporter))
    return status_view(store.fetch_execution(execution_id))


@bp.post("/<execution_id>/status")
@api_doc("A worker's status report", body=S.STATUS_REPORT,
         responses={200: S.EXECUTION}, errors=(400, 404, 409))
@requires("node")
def report_status(execution_id: str):
    # Results are the report path's to judge (any JSON result): U+0000 included.
    reporter = reporter_for(current_principal())
    apply_status_report(execution_id, read_json_object(nul_ok=True), reporter=reporter)
    return status_view(store.fetch_execution(execution_id))
