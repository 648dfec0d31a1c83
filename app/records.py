"""Execution rows: single-statement inserts and updates, reads, and their JSON shapes."""

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update

from app.errors import ExecutionNotFound
from app.extensions import get_engine
from app.models import Execution
from app.models.types import isoformat, utcnow
from app.status import QUEUED, RUNNING, TERMINAL

executions = Execution.__table__
_NOT_TERMINAL = executions.c.status.not_in(sorted(TERMINAL))
_c = executions.c

# The two statements of every execution are built once: SQLAlchemy then reuses their
# compiled form and cache key instead of rebuilding them per call (the report consumer
# spent a third of its time there).
_INSERT = insert(executions)
_FINISH = (
    update(executions)
    .where(_c.execution_id == bindparam("b_id"), _NOT_TERMINAL)
    .values(
        status=bindparam("b_status"),
        result_payload=bindparam("b_result", type_=_c.result_payload.type),
        error_message=bindparam("b_error"),
        error_type=bindparam("b_error_type"),
        completed_at=bindparam("b_completed", type_=_c.completed_at.type),
        duration_ms=func.coalesce(bindparam("b_duration", type_=_c.duration_ms.type),
                                  _c.duration_ms),
        started_at=func.coalesce(_c.started_at,
                                 bindparam("b_started", type_=_c.started_at.type)),
        attempt_log=bindparam("b_attempts", type_=_c.attempt_log.type),
        updated_at=bindparam("b_updated", type_=_c.updated_at.type),
    )
    .returning(_c.execution_id, _c.run_id, _c.status, _c.mode, _c.result_payload,
               _c.error_message, _c.error_type, _c.duration_ms, _c.created_at,
               _c.started_at, _c.completed_at,
               # what the execution's credential needs, so issuing it reads nothing
               _c.input_payload, _c.parent_execution_id, _c.agent_node_id, _c.reasoner_id,
               _c.has_webhook)
)


@contextmanager
def connection(conn=None):
    """Use the given connection, or borrow one from the autocommit engine."""
    if conn is not None:
        yield conn
        return
    with get_engine().connect() as borrowed:
        yield borrowed


def insert_execution(values: dict) -> None:
    """Write a new execution row in one autocommitted statement."""
    with connection() as conn:
        conn.execute(_INSERT, values)


def update_execution(execution_id: str, condition, values: dict) -> dict | None:
    """Apply ``values`` where ``condition`` holds; return the updated row or None."""
    values = {**values, "updated_at": utcnow()}
    statement = (
        update(executions)
        .where(executions.c.execution_id == execution_id, condition)
        .values(**values)
        .returning(*executions.c)
    )
    with get_engine().connect() as conn:
        row = conn.execute(statement).mappings().first()
    return dict(row) if row else None


def mark_running(execution_id: str, started_at: datetime | None = None) -> dict | None:
    """Move a queued execution to running; None if it is already past that."""
    return update_execution(
        execution_id,
        executions.c.status.in_(["pending", QUEUED]),
        {"status": RUNNING, "started_at": started_at or utcnow(),
         "attempt": executions.c.attempt + 1},
    )


def finish_execution(execution_id: str, values: dict, conn=None) -> dict | None:
    """Record a terminal outcome unless one is already recorded.

    Returns the key columns of the updated row, or None when it already had an outcome
    (or does not exist).
    """
    params = {
        "b_id": execution_id, "b_status": values["status"],
        "b_result": values.get("result_payload"), "b_error": values.get("error_message"),
        "b_error_type": values.get("error_type"), "b_completed": values["completed_at"],
        "b_duration": values.get("duration_ms"), "b_started": values.get("started_at"),
        "b_attempts": values.get("attempt_log"),
        "b_updated": utcnow(),
    }
    with connection(conn) as active:
        row = active.execute(_FINISH, params).mappings().first()
    return dict(row) if row else None


def count_running(node_id: str) -> int:
    """How many of the node's executions run now (a partial index keeps this small)."""
    statement = select(func.count()).select_from(executions).where(
        executions.c.agent_node_id == node_id, executions.c.status == RUNNING)
    with connection() as conn:
        return conn.execute(statement).scalar_one()


def fetch_execution(execution_id: str, conn=None) -> dict:
    """Return the row as a dict, or raise ExecutionNotFound."""
    with connection(conn) as conn:
        row = conn.execute(
            select(executions).where(executions.c.execution_id == execution_id)
        ).mappings().first()
    if row is None:
        raise ExecutionNotFound(f"execution '{execution_id}' not found",
                                {"execution_id": execution_id})
    return dict(row)


def fetch_many(execution_ids: list[str]) -> dict[str, dict]:
    with get_engine().connect() as conn:
        rows = conn.execute(
            select(executions).where(executions.c.execution_id.in_(execution_ids))
        ).mappings().all()
    return {row["execution_id"]: dict(row) for row in rows}


def list_executions(filters: dict, limit: int, offset: int) -> tuple[list[dict], int]:
    """Return one page of executions, newest first, and the total that match."""
    conditions = [getattr(executions.c, column) == value
                  for column, value in filters.items() if value]
    page = (select(executions).where(*conditions)
            .order_by(executions.c.created_at.desc(), executions.c.execution_id.desc())
            .limit(limit).offset(offset))
    count = select(func.count()).select_from(executions).where(*conditions)
    with get_engine().connect() as conn:
        rows = conn.execute(page).mappings().all()
        total = conn.execute(count).scalar_one()
    return [dict(row) for row in rows], total


def status_view(row: dict) -> dict:
    """Render a row as ``GET /api/v1/executions/{id}`` answers it."""
    return {
        "execution_id": row["execution_id"],
        "run_id": row["run_id"],
        "workflow_id": row["run_id"],
        "parent_execution_id": row["parent_execution_id"],
        "node_id": row["agent_node_id"],
        "agent_node_id": row["agent_node_id"],
        "reasoner_id": row["reasoner_id"],
        "target": f"{row['agent_node_id']}.{row['reasoner_id']}",
        "type": row["type"],
        "status": row["status"],
        "input": row["input_payload"],
        "result": row["result_payload"],
        "error": row["error_message"],
        "error_type": row["error_type"],
        "session_id": row["session_id"],
        "actor_id": row["actor_id"],
        "attempt": row["attempt"],
        "attempts": row.get("attempt_log") or [],
        "created_at": isoformat(row["created_at"]),
        "started_at": isoformat(row["started_at"]),
        "completed_at": isoformat(row["completed_at"]),
        "duration_ms": row["duration_ms"],
        "webhook_registered": bool(row.get("has_webhook")),
    }


def sync_view(row: dict) -> dict:
    """Render a row as the sync execute endpoint answers it (AgentField's shape)."""
    body = {
        "execution_id": row["execution_id"],
        "run_id": row["run_id"],
        "status": row["status"],
        "result": row["result_payload"],
        "duration_ms": row["duration_ms"],
        "finished_at": isoformat(row["completed_at"]),
    }
    if row["error_message"] is not None:
        body["error_message"] = row["error_message"]
        body["error_type"] = row["error_type"]
    if row.get("has_webhook"):
        body["webhook_registered"] = True
    return body


def accepted_view(row: dict) -> dict:
    """Render a row as the async execute endpoint answers it (202)."""
    created = isoformat(row["created_at"])
    return {
        "execution_id": row["execution_id"],
        "run_id": row["run_id"],
        "workflow_id": row["run_id"],
        "status": row["status"],
        "target": f"{row['agent_node_id']}.{row['reasoner_id']}",
        "type": row["type"],
        "created_at": created,
        "enqueued_at": created,
        "webhook_registered": bool(row.get("has_webhook")),
        **({"webhook_error": row["webhook_error"]} if row.get("webhook_error") else {}),
    }
