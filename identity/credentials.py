"""Execution and run credentials as VC-JWTs (W3C VC Data Model 1.1, §6.3.1)."""

import hashlib
import uuid
from datetime import UTC, datetime

from identity.did import public_key_from_did, verification_method_id
from identity.errors import IdentityError, InvalidCredential, InvalidDID, MalformedToken
from identity.jcs import sha256_digest
from identity.jose import ALGORITHM, check_jws, parse_jws, sign_jwt
from identity.keys import SigningKey

CREDENTIAL_TYPE = "AgentExecutionCredential"
RUN_CREDENTIAL_TYPE = "AgentRunCredential"
VC_CONTEXT = "https://www.w3.org/2018/credentials/v1"
_NAMESPACE = uuid.UUID("d324b658-c040-408a-8d68-4102ee1f4190")  # ours; never change it
_RUN_NAMESPACE = uuid.uuid5(_NAMESPACE, "agent-run")


def credential_id(execution_id: str) -> str:
    """Return the deterministic id of an execution's credential (a urn:uuid)."""
    return "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, execution_id))


def run_credential_id(run_id: str) -> str:
    """Return the deterministic id of a run's credential (a urn:uuid)."""
    return "urn:uuid:" + str(uuid.uuid5(_RUN_NAMESPACE, run_id))


def execution_subject(*, execution_id: str, run_id: str, parent_execution_id: str | None,
                      caller_did: str | None, agent_did: str, function_did: str | None,
                      node_id: str, function: str, status: str, created_at: str | None,
                      started_at: str | None, completed_at: str | None,
                      duration_ms: int | None, input_value, output_value,
                      requested_by: str | None = None,
                      reported_by: str | None = None) -> dict:
    """Return the credentialSubject of an execution: its facts and hashes of its data.

    ``requested_by`` names the API key that submitted it, ``reported_by`` the
    authenticated principal that reported its outcome (``key:<id>``, ``control-plane``).
    """
    parent_credential = credential_id(parent_execution_id) if parent_execution_id else None
    return {
        "id": function_did,
        "execution_id": execution_id,
        "run_id": run_id,
        "workflow_id": run_id,
        "parent_execution_id": parent_execution_id,
        "parent_credential_id": parent_credential,
        "caller_did": caller_did,
        "agent_did": agent_did,
        "function_did": function_did,
        "node_id": node_id,
        "function": function,
        "status": status,
        "created_at": created_at,
        "started_at": started_at,
        "completed_at": completed_at,
        "duration_ms": duration_ms,
        "input_hash": sha256_digest(input_value),
        "output_hash": sha256_digest(output_value),
        "requested_by": requested_by,
        "reported_by": reported_by,
    }


def issue_credential(subject: dict, key: SigningKey, issued_at: datetime, *,
                     credential_type: str = CREDENTIAL_TYPE, credential_id_value: str) -> str:
    """Return the VC-JWT of a credential about subject, issued by key's DID."""
    moment = issued_at if issued_at.tzinfo else issued_at.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC).replace(microsecond=0)
    credential = {
        "@context": [VC_CONTEXT],
        "id": credential_id_value,
        "type": ["VerifiableCredential", credential_type],
        "issuer": key.did,
        "issuanceDate": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": subject,
    }
    epoch = int(moment.timestamp())
    payload = {"iss": key.did, "jti": credential_id_value, "nbf": epoch, "iat": epoch,
               "vc": credential}
    if subject.get("id") is not None:  # JWT "sub" is a string; a subject may have no id
        payload["sub"] = subject["id"]
    return sign_jwt(payload, key, verification_method_id(key.did))


def verify_credential(token: str) -> dict:
    """Return the credential of a VC-JWT whose did:key issuer signed it; raise otherwise."""
    jws = parse_jws(token)
    header, payload = jws.header, jws.payload
    if header.get("alg") != ALGORITHM:
        raise InvalidCredential(f"header alg is {header.get('alg')!r}, not {ALGORITHM}")
    issuer = payload.get("iss")
    try:
        public_key = public_key_from_did(issuer)
    except InvalidDID as exc:
        raise InvalidCredential(f"iss is not an Ed25519 did:key: {exc}") from None
    if header.get("kid") != verification_method_id(issuer):
        raise InvalidCredential("header kid does not name the issuer's verification method")
    check_jws(jws, public_key)
    return _check_claims(payload, issuer)


def _check_claims(payload: dict, issuer: str) -> dict:
    credential = payload.get("vc")
    if not isinstance(credential, dict):
        raise InvalidCredential("the payload has no 'vc' object")
    context, types = credential.get("@context"), credential.get("type")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        raise InvalidCredential(f"vc @context does not start with {VC_CONTEXT}")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise InvalidCredential("vc type does not include VerifiableCredential")
    vc_issuer = credential.get("issuer")
    if isinstance(vc_issuer, dict):
        vc_issuer = vc_issuer.get("id")
    if vc_issuer != issuer:
        raise InvalidCredential("vc.issuer differs from iss")
    if payload.get("jti") != credential.get("id"):
        raise InvalidCredential("jti differs from vc.id")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise InvalidCredential("vc has no credentialSubject object")
    if payload.get("sub") != subject.get("id"):
        raise InvalidCredential("sub differs from vc.credentialSubject.id")
    if payload.get("nbf") != _epoch(credential.get("issuanceDate")):
        raise InvalidCredential("nbf differs from vc.issuanceDate")
    return credential


def _epoch(timestamp) -> int | None:
    if not isinstance(timestamp, str):
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp())


def token_sha256(token: str) -> str:
    """Return the hex SHA-256 of a token's bytes (ASCII, as every compact JWS is)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def run_subject(run_id: str, component_tokens: list[str]) -> dict:
    """Return the subject of a run credential: its credential ids in order and their digest."""
    ids = [read_credential_id(token) for token in component_tokens]
    if None in ids:
        raise MalformedToken(f"component #{ids.index(None) + 1} is not a VC-JWT with a vc.id")
    return {
        "id": "urn:run:" + run_id,
        "run_id": run_id,
        "credential_ids": ids,
        "credential_count": len(ids),
        "components_digest": components_digest(ids, component_tokens),
    }


def read_credential_id(token: str) -> str | None:
    """Return a VC-JWT's vc.id without verifying it (None if unreadable or not a string)."""
    try:
        credential = parse_jws(token).payload.get("vc")
    except IdentityError:
        return None
    vc_id = credential.get("id") if isinstance(credential, dict) else None
    return vc_id if isinstance(vc_id, str) else None


def components_digest(ids: list, tokens: list[str]) -> str:
    """Return the digest binding each credential id to the exact token that carries it."""
    pairs = zip(ids, tokens, strict=True)
    return sha256_digest([[vc_id, token_sha256(token)] for vc_id, token in pairs])
