"""Test helpers: fixed keys and a three-execution run chain (A -> B -> C) to tamper with."""

import base64
import json
from datetime import UTC, datetime

from identity.audit import build_bundle
from identity.credentials import (
    RUN_CREDENTIAL_TYPE,
    credential_id,
    execution_subject,
    issue_credential,
    run_credential_id,
    run_subject,
)
from identity.did import did_document, verification_method_id
from identity.jose import decode_jwt, sign_jwt
from identity.keys import SigningKey

ISSUED_AT = datetime(2026, 11, 24, 14, 0, 5, tzinfo=UTC)
STEPS = {  # name: (node, function, parent, input, output)
    "A": ("planner", "plan", None, {"goal": "summarise the report", "max_words": 120},
          {"summary": "Q3 grew 4.5%", "steps": 2}),
    "B": ("researcher", "search", "A", {"query": "Q3 revenue", "top_k": 3},
          {"hits": [{"doc": "q3.pdf", "score": 0.93}]}),
    "C": ("writer", "draft", "B", {"facts": ["revenue +4.5%"], "tone": "neutral"},
          {"text": "Revenue rose 4.5% in Q3.", "tokens": 9}),
}


def key(number: int) -> SigningKey:
    """Return the fixed key whose seed is 32 bytes of number."""
    return SigningKey.from_seed(bytes([number]) * 32)


def edit_payload(token: str, change) -> str:
    """Return token with change(payload) applied and the original signature kept."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(data)
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return ".".join([header, base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), signature])


class Chain:
    """A run of three executions on three agents, each credential signed by its agent."""

    run_id = "run_audit_0001"

    def __init__(self):
        self.root = key(1)
        self.agents = {"A": key(2), "B": key(3), "C": key(4)}
        self.functions = {"A": key(12), "B": key(13), "C": key(14)}
        self.attacker = key(99)
        self.tokens = [self.token(name) for name in STEPS]

    def execution_id(self, name: str) -> str:
        return f"exec_{name.lower()}"

    def subject(self, name: str, **overrides) -> dict:
        node, function, parent, value_in, value_out = STEPS[name]
        subject = execution_subject(
            execution_id=self.execution_id(name), run_id=self.run_id,
            parent_execution_id=parent and self.execution_id(parent),
            caller_did=parent and self.agents[parent].did, agent_did=self.agents[name].did,
            function_did=self.functions[name].did, node_id=node, function=function,
            status="succeeded", created_at=f"2026-11-24T14:00:0{ord(name) - 64}Z",
            started_at=f"2026-11-24T14:00:0{ord(name) - 64}.100000Z",
            completed_at="2026-11-24T14:00:05Z", duration_ms=850,
            input_value=value_in, output_value=value_out)
        return {**subject, **overrides}

    def token(self, name: str, signer: SigningKey | None = None, **overrides) -> str:
        return issue_credential(self.subject(name, **overrides), signer or self.agents[name],
                                ISSUED_AT, credential_id_value=credential_id(
                                    self.execution_id(name)))

    def run_token(self, tokens: list[str], signer: SigningKey | None = None) -> str:
        return issue_credential(run_subject(self.run_id, tokens), signer or self.root,
                                ISSUED_AT, credential_type=RUN_CREDENTIAL_TYPE,
                                credential_id_value=run_credential_id(self.run_id))

    def bundle(self) -> dict:
        """Return the audit bundle, as a plain JSON round trip (what a file holds)."""
        bundle = build_bundle(self.run_id, self.tokens, self.run_token(self.tokens),
                              self.root.did, "2026-11-24T14:01:00Z")
        return json.loads(json.dumps(bundle))

    def chain_response(self) -> dict:
        """Return what GET /api/v1/did/workflow/<run>/vc-chain answers for this run."""
        rows = []
        for name, token in zip(STEPS, self.tokens, strict=True):
            parent = STEPS[name][2]
            rows.append({"credential_id": credential_id(self.execution_id(name)),
                         "execution_id": self.execution_id(name),
                         "issuer_did": self.agents[name].did, "vc_jwt": token,
                         "status": "succeeded",
                         "parent_execution_id": parent and self.execution_id(parent)})
        return {"run_id": self.run_id, "workflow_id": self.run_id, "root_did": self.root.did,
                "credentials": rows, "total": len(rows),
                "run_credential": {"credential_id": run_credential_id(self.run_id),
                                   "issuer_did": self.root.did,
                                   "vc_jwt": self.run_token(self.tokens)}}

    def resign_as(self, token: str, signer: SigningKey, kid_of: SigningKey) -> str:
        """Return token's payload signed by signer under kid_of's key id (iss unchanged)."""
        _, payload = decode_jwt(token)
        return sign_jwt(payload, signer, verification_method_id(kid_of.did))

    def forged_document(self, name: str) -> dict:
        """Return agent name's DID document with the attacker's key put in."""
        document = did_document(self.agents[name].did)
        forged_key = self.attacker.did.split(":")[-1]
        document["verificationMethod"][0]["publicKeyMultibase"] = forged_key
        return document
