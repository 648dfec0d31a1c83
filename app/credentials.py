"""Issue a verifiable credential for every execution that reaches a terminal state.

Only an outcome reported by an authenticated principal (the node's key, an admin, a
canceller, the control plane's own sweeps) gets one, and the credential names it.

Issued right after the outcome is applied (the sync caller is already woken), and
again by a sweep for any terminal execution still without one, so none is lost when a
process dies in between. Issuing is idempotent: one credential per execution.
"""

import logging
from datetime import timedelta

from sqlalchemy.dialects import postgresql, sqlite

from app.executions import store
from app.extensions import connection, get_config, get_engine
from app.keystore import node_dids, signing_key
from app.models import ExecutionCredential
from app.models.types import isoformat, utcnow
from app.status import TERMINAL
from identity.credentials import credential_id, execution_subject, issue_credential

log = logging.getLogger(__name__)

credentials = ExecutionCredential.__table__


def issue_for_execution(execution_id: str, conn=None, row: dict | None = None) -> str | None:
    """Issue (once) the credential of a finished execution; return its VC-JWT.

    ``row`` (the finished row as just written) saves reading it back.
    """
    if not get_config().credentials_enabled:
        return None
    with connection(conn) as conn:
        row = row or store.fetch_execution(execution_id, conn)
        if row["status"] not in TERMINAL or not row.get("reported_by"):
            return None  # no outcome yet, or one nobody authenticated
        params = _credential_params(row, conn)
        conn.execute(_insert_statement(conn), params)
    return params["vc_jwt"]


def issue_batch(rows: list[dict], conn) -> None:
    """Issue the credentials of several finished rows with one INSERT; never raises."""
    if not rows or not get_config().credentials_enabled:
        return
    batch = []
    for row in rows:
        if not row.get("reported_by"):
            continue  # an outcome nobody authenticated proves nothing
        try:
            batch.append(_credential_params(row, conn))
        except Exception:
            log.exception("credential for %s not signed; the sweep will retry",
                          row["execution_id"])
    try:
        if batch:
            conn.execute(_insert_statement(conn), batch)
    except Exception:
        log.exception("%d credentials not stored; the sweep will retry", len(batch))


def issue_safely(execution_id: str, conn=None, row: dict | None = None) -> None:
    """Issue, logging any failure: the sweep retries what did not land."""
    try:
        issue_for_execution(execution_id, conn, row)
    except Exception:
        log.exception("credential for %s not issued yet; the sweep will retry", execution_id)


def _caller_did(row: dict, conn) -> str | None:
    if not row["parent_execution_id"]:
        return None
    parent_node = store.node_of(row["parent_execution_id"], conn)
    return node_dids(parent_node)["agent"] if parent_node else None


def _sign(row: dict, caller_did: str | None) -> tuple[str, str]:
    dids = node_dids(row["agent_node_id"])
    if dids["agent"] is None:
        raise LookupError(f"node {row['agent_node_id']} has no DID")
    subject = execution_subject(
        execution_id=row["execution_id"], run_id=row["run_id"],
        parent_execution_id=row["parent_execution_id"], caller_did=caller_did,
        agent_did=dids["agent"], function_did=dids["functions"].get(row["reasoner_id"]),
        node_id=row["agent_node_id"], function=row["reasoner_id"], status=row["status"],
        created_at=isoformat(row["created_at"]), started_at=isoformat(row["started_at"]),
        completed_at=isoformat(row["completed_at"]), duration_ms=row["duration_ms"],
        input_value=row["input_payload"], output_value=row["result_payload"],
        requested_by=f"key:{row['key_id']}" if row.get("key_id") else None,
        reported_by=row["reported_by"],
    )
    token = issue_credential(subject, signing_key(dids["agent"]), utcnow(),
                             credential_id_value=credential_id(row["execution_id"]))
    return token, dids["agent"]


def _credential_params(row: dict, conn) -> dict:
    token, issuer = _sign(row, _caller_did(row, conn))
    return {"credential_id": credential_id(row["execution_id"]),
            "execution_id": row["execution_id"], "run_id": row["run_id"],
            "issuer_did": issuer, "vc_jwt": token, "created_at": utcnow()}


# Built once per dialect: one credential per execution, a second attempt is a no-op.
_INSERTS = {
    name: dialect.insert(credentials).on_conflict_do_nothing(index_elements=["execution_id"])
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def _insert_statement(conn):
    return _INSERTS[conn.dialect.name]


def issue_missing(limit: int = 500, older_than_seconds: float = 5.0,
                  window_hours: float = 24.0) -> int:
    """Issue credentials for terminal executions that have none; return how many.

    Only executions created in the last ``window_hours`` are looked at (the
    ``created_at`` index keeps this sweep from scanning the whole table every 30 s).
    """
    if not get_config().credentials_enabled:
        return 0
    now = utcnow()
    with get_engine().connect() as conn:
        missing = store.finished_without_credential(
            created_after=now - timedelta(hours=window_hours),
            completed_before=now - timedelta(seconds=older_than_seconds), limit=limit,
            conn=conn)
        for execution_id in missing:
            issue_safely(execution_id, conn)
    if missing:
        log.warning("issued %d missing credentials", len(missing))
    return len(missing)


def run_credentials(run_id: str) -> list[dict]:
    """Return the run's credentials in execution order (oldest first)."""
    return store.credentials_of_run(run_id)
