"""Runs (workflows): cancel every execution of a run that has not ended."""

from flask import Blueprint

from app.executions.cancellation import cancel_run
from app.jsonio import read_json_object

bp = Blueprint("runs", __name__, url_prefix="/api/v1/runs")


@bp.post("/<run_id>/cancel")
def cancel_whole_run(run_id: str):
    reason = read_json_object(required=False).get("reason")
    cancelled = cancel_run(run_id, str(reason)[:500] if reason else None)
    return {"run_id": run_id, "cancelled": cancelled, "count": len(cancelled)}
