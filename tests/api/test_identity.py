"""DIDs at registration, a credential per execution, and a run chain that verifies offline."""

import json
import subprocess
import sys
import uuid

import pytest

from tests.conftest import ROOT


def _register(api, node_id, reasoners):
    return api.post("/api/v1/nodes/register", json={
        "id": node_id, "reasoners": [{"id": r} for r in reasoners]}).json()


def _credential(api, stack, execution_id):
    return stack.wait_until(
        lambda: (r := api.get(f"/api/v1/executions/{execution_id}/credential")).ok and r.json(),
        what=f"the credential of {execution_id}", timeout=10)


def test_registration_gives_stable_dids_and_retires_removed_functions(api):
    node_id = f"did-{uuid.uuid4().hex[:6]}"
    first = _register(api, node_id, ["plan", "review"])["identity_package"]

    second = _register(api, node_id, ["plan"])["identity_package"]

    assert first["agent_did"].startswith("did:key:z6Mk")
    assert second["agent_did"] == first["agent_did"]
    assert second["reasoner_dids"] == {"plan": first["reasoner_dids"]["plan"]}
    removed = api.get(f"/api/v1/did/document/{first['reasoner_dids']['review']}").json()
    assert removed["status"] == "inactive" and removed["function"] == "review"
    resolved = api.get(f"/api/v1/did/resolve/{first['agent_did']}").json()
    assert resolved["didDocument"]["id"] == first["agent_did"]
    assert resolved["didDocumentMetadata"] == {"deactivated": False}


def test_every_finished_execution_gets_a_credential_issued_by_its_agent(api, stack):
    body = api.execute("echo-agent.explode", {"message": "no"}).json()

    credential = _credential(api, stack, body["execution_id"])

    node = api.get("/api/v1/nodes/echo-agent").json()
    assert credential["issuer_did"] == node["did"]
    from identity.credentials import credential_id, verify_credential

    vc = verify_credential(credential["vc_jwt"])
    subject = vc["credentialSubject"]
    assert credential["credential_id"] == credential_id(body["execution_id"]) == vc["id"]
    assert (subject["status"], subject["function"], subject["function_did"]) == (
        "failed", "explode", node["function_dids"]["explode"])
    assert subject["input_hash"].startswith("sha256:") and "message" not in json.dumps(vc)


def test_a_three_agent_run_exports_a_bundle_that_verifies_offline(api, stack, tmp_path):
    body = api.execute("relay-agent.start", {"text": "great, thanks"}).json()
    run_id = body["run_id"]
    rows = api.get("/api/v1/executions", params={"run_id": run_id}).json()["executions"]
    for row in rows:
        _credential(api, stack, row["execution_id"])

    chain = api.get(f"/api/v1/did/workflow/{run_id}/vc-chain").json()
    export = api.get(f"/api/v1/did/export/{run_id}")

    assert chain["total"] == 3 and len({c["issuer_did"] for c in chain["credentials"]}) == 3
    assert "attachment" in export.headers["Content-Disposition"]
    bundle_file = tmp_path / "audit.json"
    bundle_file.write_bytes(export.content)
    chain_file = tmp_path / "chain.json"
    chain_file.write_text(json.dumps(chain))
    top = next(r for r in rows if r["target"] == "relay-agent.start")
    (tmp_path / "in.json").write_text(json.dumps(top["input"]))
    (tmp_path / "out.json").write_text(json.dumps(body["result"]))
    for path in (bundle_file, chain_file):
        result = _verify(path, "--input", tmp_path / "in.json", "--output",
                         tmp_path / "out.json", "--execution-id", top["execution_id"])
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_tampered_export_fails_offline_verification(api, stack, tmp_path):
    body = api.execute("relay-agent.start", {"text": "terrible"}).json()
    for row in api.get("/api/v1/executions", params={"run_id": body["run_id"]}).json()[
            "executions"]:
        _credential(api, stack, row["execution_id"])
    bundle = api.get(f"/api/v1/did/export/{body['run_id']}").json()
    bundle["credentials"].pop(1)  # a step removed from the chain
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(bundle))

    result = _verify(path)

    assert result.returncode == 1, result.stdout


def test_rotation_gives_a_new_did_and_old_credentials_still_verify(api, stack):
    node_id = f"rot-{uuid.uuid4().hex[:6]}"
    before = _register(api, node_id, ["plan"])["identity_package"]["agent_did"]

    rotated = api.post(f"/api/v1/did/rotate/{node_id}").json()

    assert rotated["previous_did"] == before and rotated["did"] != before
    old = api.get(f"/api/v1/did/document/{before}").json()
    assert old["status"] == "rotated"
    assert api.get(f"/api/v1/nodes/{node_id}").json()["did"] == rotated["did"]


@pytest.mark.parametrize("path, code", [
    ("/api/v1/did/document/did:key:z6MkNotOurs", "did_not_found"),
    ("/api/v1/did/resolve/did:web:example.com", "did_not_found"),
    ("/api/v1/did/workflow/run_nothing/vc-chain", "credential_not_found"),
])
def test_identity_lookups_that_miss_are_404(api, path, code):
    response = api.get(path)

    assert response.status_code == 404 and response.json()["error"] == code


def _verify(path, *extra):
    return subprocess.run([sys.executable, "-m", "identity", "verify", str(path),
                           *map(str, extra)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_the_sweep_issues_a_credential_a_crash_left_out(api, stack, app):
    import psycopg2

    from app.credentials import issue_missing
    from tests.conftest import DATABASE_URL

    body = api.execute("sentiment-agent.analyze", {"text": "fine"}).json()
    _credential(api, stack, body["execution_id"])
    conn = psycopg2.connect(DATABASE_URL)
    with conn, conn.cursor() as cur:  # as if the process died before issuing it
        cur.execute("DELETE FROM execution_credentials WHERE execution_id = %s",
                    (body["execution_id"],))
    conn.close()

    with app.app_context():
        issued = issue_missing(older_than_seconds=0)

    assert issued >= 1
    assert _credential(api, stack, body["execution_id"])["issuer_did"]
