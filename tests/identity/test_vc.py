"""Execution and run credentials as VC-JWTs: shape, determinism, and what verification refuses."""

import re
from datetime import datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from identity.credentials import (
    CREDENTIAL_TYPE,
    components_digest,
    credential_id,
    issue_credential,
    run_credential_id,
    run_subject,
    token_sha256,
    verify_credential,
)
from identity.did import verification_method_id
from identity.errors import InvalidCredential, InvalidSignature, MalformedToken
from identity.jcs import sha256_digest
from identity.jose import decode_jwt, sign_jwt
from tests.identity.chain import ISSUED_AT, STEPS, edit_payload

UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                      r"[0-9a-f]{12}")


def test_credential_ids_are_deterministic_uuid5_urns():
    assert credential_id("exec_1") == credential_id("exec_1") != credential_id("exec_2")
    assert UUID_URN.fullmatch(credential_id("exec_1"))
    assert UUID_URN.fullmatch(run_credential_id("exec_1"))
    assert run_credential_id("exec_1") != credential_id("exec_1")


def test_the_subject_records_facts_and_hashes_not_data(chain):
    subject = chain.subject("B")

    assert subject["id"] == subject["function_did"] == chain.functions["B"].did
    assert subject["parent_execution_id"] == "exec_a"
    assert subject["parent_credential_id"] == credential_id("exec_a")
    assert subject["workflow_id"] == subject["run_id"] == chain.run_id
    assert subject["caller_did"] == chain.agents["A"].did
    assert subject["input_hash"] == sha256_digest(STEPS["B"][3])
    assert subject["output_hash"] == sha256_digest(STEPS["B"][4])
    assert "Q3 revenue" not in str(subject)
    assert chain.subject("A")["parent_credential_id"] is None


def test_an_issued_credential_is_a_vc_jwt_per_vc_data_model_1_1(chain):
    token = chain.tokens[0]
    agent = chain.agents["A"]

    header, payload = decode_jwt(token)

    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": verification_method_id(agent.did)}
    epoch = int(ISSUED_AT.timestamp())
    assert {k: payload[k] for k in ("iss", "sub", "jti", "nbf", "iat")} == {
        "iss": agent.did, "sub": chain.functions["A"].did, "jti": credential_id("exec_a"),
        "nbf": epoch, "iat": epoch}
    assert payload["vc"] == {
        "@context": ["https://www.w3.org/2018/credentials/v1"], "id": credential_id("exec_a"),
        "type": ["VerifiableCredential", CREDENTIAL_TYPE], "issuer": agent.did,
        "issuanceDate": "2026-11-24T14:00:05Z", "credentialSubject": chain.subject("A")}
    assert verify_credential(token) == payload["vc"]


def test_pyjwt_accepts_our_credentials(chain):
    public = Ed25519PublicKey.from_public_bytes(chain.agents["C"].public_bytes())

    claims = jwt.decode(chain.tokens[2], public, algorithms=["EdDSA"],
                        options={"verify_aud": False})

    assert claims["vc"]["credentialSubject"]["execution_id"] == "exec_c"


def test_a_naive_issue_time_is_utc_and_a_subject_without_id_has_no_sub(chain):
    subject = {**chain.subject("A"), "id": None, "function_did": None}

    token = issue_credential(subject, chain.agents["A"], datetime(2026, 1, 2, 3, 4, 5, 999),
                             credential_id_value="urn:uuid:x")

    header, payload = decode_jwt(token)
    assert "sub" not in payload and payload["vc"]["issuanceDate"] == "2026-01-02T03:04:05Z"
    assert verify_credential(token)["credentialSubject"]["id"] is None


def _signed(chain, change) -> str:
    """Return A's credential with change(payload) applied and properly re-signed by A."""
    _, payload = decode_jwt(chain.tokens[0])
    change(payload)
    agent = chain.agents["A"]
    return sign_jwt(payload, agent, verification_method_id(agent.did))


@pytest.mark.parametrize("change, message", [
    (lambda p: p["vc"].update(issuer="did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
     "vc.issuer"),
    (lambda p: p.update(jti="urn:uuid:other"), "jti"),
    (lambda p: p.update(sub="did:key:other"), "sub"),
    (lambda p: p.update(nbf=p["nbf"] + 60), "nbf"),
    (lambda p: p["vc"].update(type=["AgentExecutionCredential"]), "VerifiableCredential"),
    (lambda p: p["vc"].pop("credentialSubject"), "credentialSubject"),
    (lambda p: p.pop("vc"), "'vc'"),
    (lambda p: p.update(iss="did:web:example.com"), "did:key"),
])
def test_inconsistent_claims_are_invalid_even_when_signed(chain, change, message):
    with pytest.raises(InvalidCredential, match=message) as raised:
        verify_credential(_signed(chain, change))
    assert raised.value.code == "invalid_credential"


def test_signatures_and_kids_are_checked(chain):
    token = chain.tokens[0]
    agent, other = chain.agents["A"], chain.agents["B"]
    _, payload = decode_jwt(token)

    with pytest.raises(InvalidSignature):
        verify_credential(edit_payload(token, lambda p: p["vc"]["credentialSubject"].update(
            status="failed")))
    with pytest.raises(InvalidSignature):
        verify_credential(sign_jwt(payload, other, verification_method_id(agent.did)))
    with pytest.raises(InvalidCredential, match="kid"):
        verify_credential(sign_jwt(payload, agent, verification_method_id(other.did)))
    with pytest.raises(MalformedToken):
        verify_credential("not.a.token")


def test_the_run_subject_binds_ids_to_exact_tokens(chain):
    subject = run_subject(chain.run_id, chain.tokens)

    ids = [credential_id(e) for e in ("exec_a", "exec_b", "exec_c")]
    assert subject == {
        "id": "urn:run:" + chain.run_id, "run_id": chain.run_id, "credential_ids": ids,
        "credential_count": 3,
        "components_digest": sha256_digest([[i, token_sha256(t)]
                                            for i, t in zip(ids, chain.tokens, strict=True)])}
    assert subject["components_digest"] == components_digest(ids, chain.tokens)
    assert components_digest(ids, [*chain.tokens[:2], chain.token("C", status="failed")]) != (
        subject["components_digest"])
    with pytest.raises(MalformedToken):
        run_subject(chain.run_id, ["garbage"])
