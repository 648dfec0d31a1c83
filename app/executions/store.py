"""The executions table: the only module that reads or writes it.

Hot-path statements are single autocommitted round trips, built once. Everything
else that needs execution rows (recovery, idempotency, credentials, webhooks) asks
here rather than building its own query.
"""

from datetime import datetime

from sqlalchemy import bindparam, delete, exists, false, func, insert, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from app.errors import ExecutionNotFound
from app.extensions import connection, get_engine
from app.models import Execution, ExecutionCredential
from app.models.types import utcnow
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
        reported_by=bindparam("b_reporter", type_=_c.reported_by.type),
        updated_at=bindparam("b_updated", type_=_c.updated_at.type),
    )
    .returning(_c.execution_id, _c.run_id, _c.status, _c.mode, _c.result_payload,
               _c.error_message, _c.error_type, _c.duration_ms, _c.created_at,
               _c.started_at, _c.completed_at,
               # what the execution's credential needs, so issuing it reads nothing
               _c.input_payload, _c.parent_execution_id, _c.agent_node_id, _c.reasoner_id,
               _c.has_webhook, _c.reported_by, _c.key_id)
)


# The same, for a reporter that acts as one node: another node's execution is left
# alone, so an outcome is only ever recorded from its owner.
_FINISH_OWN = _FINISH.where(_c.agent_node_id == bindparam("b_node"))


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


def mark_running(execution_id: str, started_at: datetime | None = None,
                 node_id: str | None = None) -> dict | None:
    """Move a queued execution to running; None if it is already past that.

    With ``node_id``, only an execution of that node moves.
    """
    owned = true() if node_id is None else executions.c.agent_node_id == node_id
    return update_execution(
        execution_id,
        executions.c.status.in_(["pending", QUEUED]) & owned,
        {"status": RUNNING, "started_at": started_at or utcnow(),
         "attempt": executions.c.attempt + 1},
    )


def finish_execution(execution_id: str, values: dict, conn=None, *,
                     reported_by: str | None = None,
                     node_id: str | None = None) -> dict | None:
    """Record a terminal outcome unless one is already recorded.

    ``reported_by`` names who reported it; with ``node_id``, only an execution of that
    node is changed. Returns the key columns of the updated row, or None when it
    already had an outcome, belongs to another node, or does not exist.
    """
    params = {
        "b_id": execution_id, "b_status": values["status"],
        "b_result": values.get("result_payload"), "b_error": values.get("error_message"),
        "b_error_type": values.get("error_type"), "b_completed": values["completed_at"],
        "b_duration": values.get("duration_ms"), "b_started": values.get("started_at"),
        "b_attempts": values.get("attempt_log"),
        "b_reporter": reported_by,
        "b_updated": utcnow(),
    }
    statement = _FINISH
    if node_id is not None:
        statement, params["b_node"] = _FINISH_OWN, node_id
    with connection(conn) as active:
        row = active.execute(statement, params).mappings().first()
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
    """Return the rows of the ids that exist, by id."""
    with get_engine().connect() as conn:
        rows = conn.execute(
            select(executions).where(executions.c.execution_id.in_(execution_ids))
        ).mappings().all()
    return {row["execution_id"]: dict(row) for row in rows}


def list_executions(filters: dict, limit: int, offset: int,
                    visible: dict | None = None) -> tuple[list[dict], int]:
    """Return one page of executions, newest first, and the total that match.

    ``visible`` (from ``Principal.visibility()``) keeps only the rows its caller may read.
    """
    conditions = [getattr(executions.c, column) == value
                  for column, value in filters.items() if value]
    if visible is not None:
        conditions.append(_visible_to(visible))
    page = (select(executions).where(*conditions)
            .order_by(executions.c.created_at.desc(), executions.c.execution_id.desc())
            .limit(limit).offset(offset))
    count = select(func.count()).select_from(executions).where(*conditions)
    with get_engine().connect() as conn:
        rows = conn.execute(page).mappings().all()
        total = conn.execute(count).scalar_one()
    return [dict(row) for row in rows], total


def _visible_to(visible: dict):
    """Rows a caller started (or whose run it owns), of its node, sessions or actors."""
    key_id = visible["key_id"]
    shown = [_c.key_id == key_id, _c.owner_key_id == key_id] if key_id else []
    if visible["node_id"]:
        shown.append(_c.agent_node_id == visible["node_id"])
    if visible["sessions"]:
        shown.append(_c.session_id.in_(visible["sessions"]))
    if visible["actors"]:
        shown.append(_c.actor_id.in_(visible["actors"]))
    return or_(false(), *shown)


def run_root(run_id: str) -> dict | None:
    """The run's first execution (its root), or None when the run has none."""
    with connection() as conn:
        row = conn.execute(select(executions).where(_c.run_id == run_id)
                           .order_by(_c.created_at).limit(1)).mappings().first()
    return dict(row) if row else None


def set_duration(execution_id: str, duration_ms: int) -> dict | None:
    """Fill in the duration of a row whose report gave none; return the row."""
    return update_execution(execution_id, true(), {"duration_ms": duration_ms})


def active_ids_of_run(run_id: str) -> list[str]:
    """Ids of the run's executions that have not ended."""
    with connection() as conn:
        return list(conn.execute(select(_c.execution_id).where(
            _c.run_id == run_id, _NOT_TERMINAL)).scalars())


def queued_before(cutoff: datetime, limit: int) -> list[dict]:
    """Executions still queued that were created before ``cutoff``."""
    return _select(limit, _c.status == QUEUED, _c.created_at < cutoff)


def running_since_before(cutoff: datetime, limit: int) -> list[dict]:
    """Executions running that started before ``cutoff``."""
    return _select(limit, _c.status == RUNNING, _c.started_at < cutoff)


def _select(limit: int, *conditions) -> list[dict]:
    with connection() as conn:
        return [dict(r) for r in conn.execute(
            select(executions).where(*conditions).limit(limit)).mappings()]


def requeue(execution_id: str) -> bool:
    """Move a running execution back to queued (its worker vanished)."""
    with connection() as conn:
        return bool(conn.execute(update(executions).where(
            _c.execution_id == execution_id, _c.status == RUNNING,
        ).values(status=QUEUED, updated_at=utcnow())).rowcount)


def node_of(execution_id: str, conn=None) -> str | None:
    """The node an execution ran on, or None when there is no such execution."""
    with connection(conn) as active:
        return active.execute(select(_c.agent_node_id)
                              .where(_c.execution_id == execution_id)).scalar()


def is_finished(execution_id_column):
    """A SQL condition: the execution named by ``execution_id_column`` has ended."""
    return exists().where(_c.execution_id == execution_id_column,
                          _c.status.in_(sorted(TERMINAL)))


# -- idempotency keys ------------------------------------------------------------------

_KEYED_INSERTS = {
    name: dialect.insert(executions)
    .on_conflict_do_nothing(index_elements=["idempotency_key"],
                            index_where=_c.idempotency_key.isnot(None))
    .returning(_c.execution_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def insert_keyed(row: dict, released_before: datetime) -> tuple[bool, dict | None]:
    """Insert a row that carries an idempotency key: ``(True, None)`` when it is new.

    A key last used before ``released_before`` is released first. When the key is
    taken, returns ``(False, the row holding it)``, or ``(False, None)`` if that row
    released it meanwhile (the caller tries again).
    """
    key = row["idempotency_key"]
    with connection() as conn:
        conn.execute(update(executions)
                     .where(_c.idempotency_key == key, _c.created_at < released_before)
                     .values(idempotency_key=None))
        if conn.execute(_KEYED_INSERTS[conn.dialect.name], row).first() is not None:
            return True, None
        original = conn.execute(executions.select().where(
            _c.idempotency_key == key)).mappings().first()
    return False, dict(original) if original is not None else None


# -- credentials -------------------------------------------------------------------------

credentials = ExecutionCredential.__table__


def finished_without_credential(created_after: datetime, completed_before: datetime,
                                limit: int, conn) -> list[str]:
    """Ids of ended executions that have no credential yet (the ``created_at`` index
    keeps this from scanning the whole table)."""
    query = (
        select(_c.execution_id)
        .select_from(executions.outerjoin(
            credentials, credentials.c.execution_id == _c.execution_id))
        .where(credentials.c.execution_id.is_(None), _c.created_at > created_after,
               _c.status.in_(sorted(TERMINAL)), _c.completed_at < completed_before,
               # an outcome nobody authenticated gets no credential
               _c.reported_by.is_not(None))
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def credentials_of_run(run_id: str) -> list[dict]:
    """The run's credentials with their execution's status and parent, oldest first.

    Credentials are kept longer than executions (retention): one whose execution is
    gone still belongs to the chain, with ``status`` and ``parent_execution_id`` None
    (its signed subject carries both).
    """
    query = (
        select(credentials.c.credential_id, credentials.c.execution_id,
               credentials.c.issuer_did, credentials.c.vc_jwt, _c.status,
               _c.parent_execution_id)
        .outerjoin(executions, _c.execution_id == credentials.c.execution_id)
        .where(credentials.c.run_id == run_id)
        .order_by(func.coalesce(_c.created_at, credentials.c.created_at),
                  credentials.c.execution_id)
    )
    with get_engine().connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


# -- growth: queue age and retention ---------------------------------------------------


def queued_oldest_first(cutoff: datetime, limit: int) -> list[dict]:
    """Executions still queued that were created before ``cutoff``, oldest first, so the
    ones closest to their queue timeout are never starved by a large backlog."""
    with connection() as conn:
        return [dict(r) for r in conn.execute(
            select(executions).where(_c.status == QUEUED, _c.created_at < cutoff)
            .order_by(_c.created_at).limit(limit)).mappings()]


def _ended_before(cutoff: datetime, batch_size: int):
    """The ids of up to ``batch_size`` executions that ended before ``cutoff``, oldest
    first (the ``completed_at`` index serves it)."""
    return (select(_c.execution_id)
            .where(_c.status.in_(sorted(TERMINAL)), _c.completed_at < cutoff)
            .order_by(_c.completed_at).limit(batch_size))


def delete_ended_before(cutoff: datetime, batch_size: int, children: list) -> int:
    """Delete one batch of executions that ended before ``cutoff``, with their rows in
    ``children`` (tables keyed by ``execution_id``); return how many executions went.

    PostgreSQL does it in one statement (data-modifying CTEs); SQLite, which has none,
    in one transaction of a statement per table.
    """
    with get_engine().connect() as conn:
        if conn.dialect.name == "postgresql":
            doomed = _ended_before(cutoff, batch_size).cte("doomed")
            ids = select(doomed.c.execution_id)
            statement = delete(executions).where(_c.execution_id.in_(ids)).add_cte(*[
                delete(table).where(table.c.execution_id.in_(ids)).cte(f"gone_{table.name}")
                for table in children])
            return conn.execute(statement).rowcount
        with conn.begin():
            ids_list = list(conn.execute(_ended_before(cutoff, batch_size)).scalars())
            for table in [*children, executions]:
                conn.execute(delete(table).where(table.c.execution_id.in_(ids_list)))
        return len(ids_list)


def delete_credentials_before(cutoff: datetime, batch_size: int) -> int:
    """Delete one batch of credentials issued before ``cutoff``; return how many."""
    oldest = (select(credentials.c.credential_id)
              .where(credentials.c.created_at < cutoff)
              .order_by(credentials.c.created_at).limit(batch_size))
    with connection() as conn:
        return conn.execute(delete(credentials).where(
            credentials.c.credential_id.in_(oldest.scalar_subquery()))).rowcount
