"""Runs (workflows): cancel every execution of a run that has not ended."""

from flask import Blueprint

from app.auth.guard import current_principal, require
from app.auth.policy import requires
from app.executions import store
from app.executions.cancellation import cancel_run
from app.executions.lifecycle import Reporter
from app.jsonio import read_json_object
from app.openapi import api_doc
from app.openapi import schemas as S

bp = Blueprint("runs", __name__, url_prefix="/api/v1/runs")


@bp.post("/<run_id>/cancel")
@api_doc("Cancel every unfinished execution of a run", body=S.REASON,
         body_required=False, responses={200: S.RUN_CANCELLED}, errors=(400,))
@requires("authenticated")
def cancel_whole_run(run_id: str):
    reason = read_json_object(required=False).get("reason")
    principal = current_principal()
    root = store.run_root(run_id)
    if root is not None:
        require(principal.manages(root), "admin",
                f"only the key that started run '{run_id}' (or an admin) may cancel it")
    cancelled = cancel_run(run_id, str(reason)[:500] if reason else None,
                           Reporter(principal.reporter))
    return {"run_id": run_id, "cancelled": cancelled, "count": len(cancelled)}
