"""DIDs, credentials, run credential chains and the offline audit export."""

import re
from urllib.parse import quote

import orjson
from flask import Blueprint, Response
from sqlalchemy import select

from app.api.executions import readable_execution
from app.auth.guard import current_principal, require
from app.auth.policy import requires
from app.credentials import run_credentials
from app.errors import NotFound
from app.executions import store
from app.extensions import db
from app.keystore import root_did, rotate_agent_key, signing_key
from app.models import DidKey, ExecutionCredential
from app.models.types import isoformat, utcnow
from app.openapi import api_doc
from app.openapi import schemas as S
from identity.audit import build_bundle
from identity.credentials import (
    RUN_CREDENTIAL_TYPE,
    issue_credential,
    run_credential_id,
    run_subject,
)
from identity.did import did_document
from identity.errors import InvalidDID

bp = Blueprint("identity", __name__, url_prefix="/api/v1")


class DidNotFound(NotFound):
    """Raised when a DID is not one of ours (or not a valid did:key)."""

    code = "did_not_found"


class CredentialNotFound(NotFound):
    """Raised when an execution or run has no credential yet."""

    code = "credential_not_found"


@bp.get("/did/root")
@api_doc("The control plane's root DID", responses={200: S.ROOT_DID})
@requires("authenticated")
def get_root_did():
    did = root_did()
    return {"did": did, "document": did_document(did)}


@bp.get("/did/document/<path:did>")
@api_doc("One of our DIDs", responses={200: S.DID_INFO}, errors=(404,))
@requires("authenticated")
def get_did_document(did: str):
    row = db.session.get(DidKey, did)
    if row is None:
        raise DidNotFound(f"'{did}' is not a DID of this control plane", {"did": did})
    return {"did": did, "document": did_document(did), "node_id": row.node_id,
            "function": row.function, "kind": row.kind, "status": row.status,
            "created_at": isoformat(row.created_at), "retired_at": isoformat(row.retired_at)}


@bp.get("/did/resolve/<path:did>")
@api_doc("Resolve any did:key", responses={200: S.DID_RESOLUTION}, errors=(404,))
@requires("authenticated")
def resolve_did(did: str):
    """Resolve any did:key (it is self-certifying), in the W3C resolution-result shape."""
    try:
        document = did_document(did)
    except InvalidDID as exc:
        raise DidNotFound(f"cannot resolve '{did}': {exc}", {"did": did}) from None
    row = db.session.get(DidKey, did)
    metadata = {"deactivated": row is not None and row.status != "active"}
    return {"didDocument": document,
            "didResolutionMetadata": {"contentType": "application/did+ld+json"},
            "didDocumentMetadata": metadata}


@bp.post("/did/rotate/<node_id>")
@api_doc("Give a node a new DID", responses={200: S.DID_ROTATED}, errors=(404,))
@requires("admin")
def rotate_node_key(node_id: str):
    try:
        old, new = rotate_agent_key(node_id)
    except LookupError:
        raise DidNotFound(f"node '{node_id}' has no DID", {"node_id": node_id}) from None
    return {"node_id": node_id, "previous_did": old, "did": new}


@bp.get("/executions/<execution_id>/credential")
@api_doc("An execution's credential", responses={200: S.EXECUTION_CREDENTIAL},
         errors=(404,))
@requires("authenticated")
def get_execution_credential(execution_id: str):
    readable_execution(execution_id)  # 404 unknown, 403 someone else's
    row = db.session.scalars(select(ExecutionCredential).where(
        ExecutionCredential.execution_id == execution_id)).first()
    if row is None:
        raise CredentialNotFound(f"execution '{execution_id}' has no credential yet",
                                 {"execution_id": execution_id})
    return {"execution_id": execution_id, "credential_id": row.credential_id,
            "issuer_did": row.issuer_did, "vc_jwt": row.vc_jwt}


@bp.get("/did/workflow/<run_id>/vc-chain")
@api_doc("A run's credential chain", responses={200: S.VC_CHAIN}, errors=(404,))
@requires("authenticated")
def get_vc_chain(run_id: str):
    return _chain(run_id)


@bp.get("/did/export/<run_id>")
@api_doc("A run's audit file (a download)", responses={200: S.AUDIT_BUNDLE},
         errors=(404,))
@requires("authenticated")
def export_audit_bundle(run_id: str):
    chain = _chain(run_id)
    bundle = build_bundle(run_id, [c["vc_jwt"] for c in chain["credentials"]],
                          chain["run_credential"]["vc_jwt"], chain["root_did"],
                          isoformat(utcnow()))
    return Response(orjson.dumps(bundle), mimetype="application/json", headers={
        "Content-Disposition": _attachment(f"audit-{run_id}.json")})


def _attachment(filename: str) -> str:
    """Name a download safely: the id is the caller's, so quotes and CR/LF must not pass."""
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _chain(run_id: str) -> dict:
    root, principal = store.run_root(run_id), current_principal()
    # Credentials outlive their executions: a run whose rows are gone is shown only to
    # a key that reads every execution.
    allowed = (principal.reads(root) if root is not None
               else principal.grants.admin or principal.grants.read_all)
    require(allowed, "executions:read", f"this key may not read run '{run_id}'")
    components = run_credentials(run_id)
    if not components:
        raise CredentialNotFound(f"run '{run_id}' has no credentials", {"run_id": run_id})
    root_key = root_did()
    tokens = [c["vc_jwt"] for c in components]
    run_token = issue_credential(run_subject(run_id, tokens), signing_key(root_key), utcnow(),
                                 credential_type=RUN_CREDENTIAL_TYPE,
                                 credential_id_value=run_credential_id(run_id))
    return {
        "run_id": run_id,
        "workflow_id": run_id,
        "root_did": root_key,
        "credentials": components,
        "run_credential": {"credential_id": run_credential_id(run_id), "issuer_did": root_key,
                           "vc_jwt": run_token},
        "total": len(components),
    }
