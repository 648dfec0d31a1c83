"""Audit bundles of an A -> B -> C run: the honest one verifies, every tampering is named."""

import json

import pytest

from identity.audit import AUDIT_FORMAT, build_bundle, verify_bundle
from identity.did import did_document
from identity.errors import InvalidBundle
from identity.report import Report
from tests.identity.chain import STEPS, edit_payload

ALL_CHECKS = ["format", "credentials verify", "issuers", "did documents", "run id",
              "chain links", "run credential", "root", "chain complete", "components digest"]


def test_build_bundle_holds_tokens_in_order_and_every_issuers_document(chain):
    run_token = chain.run_token(chain.tokens)

    bundle = build_bundle(chain.run_id, chain.tokens, run_token, chain.root.did, "t")

    assert bundle["format"] == AUDIT_FORMAT and bundle["credentials"] == chain.tokens
    assert bundle["run_credential"] == run_token and bundle["generated_at"] == "t"
    dids = [chain.root.did, *(chain.agents[name].did for name in "ABC")]
    assert list(bundle["did_documents"]) == dids
    assert bundle["did_documents"][dids[1]] == did_document(dids[1])


def test_the_honest_bundle_verifies(bundle):
    report = verify_bundle(bundle)

    assert report.ok, report.render()
    assert [check.name for check in report.checks] == ALL_CHECKS
    assert report.render().endswith(f"RESULT: VERIFIED - all {len(ALL_CHECKS)} checks passed")


def test_the_saved_vc_chain_response_verifies(chain):
    response = json.loads(json.dumps(chain.chain_response()))

    report = verify_bundle(response)

    assert report.ok, report.render()
    assert "vc-chain response" in report.check("format").detail


def test_a_vc_chain_entry_naming_another_issuer_fails(chain):
    response = chain.chain_response()
    response["credentials"][1]["issuer_did"] = chain.attacker.did

    assert verify_bundle(response).failed == ["issuers"]


def _failed(bundle) -> list[str]:
    report = verify_bundle(bundle)
    assert not report.ok and "NOT VERIFIED" in report.render()
    return report.failed


def test_output_hash_changed_and_re_signed_by_an_attacker_key(chain, bundle):
    forged = chain.token("B", signer=chain.attacker, output_hash="sha256:" + "0" * 64)
    bundle["credentials"][1] = forged

    failed = _failed(bundle)

    assert "issuers" in failed and "components digest" in failed
    assert "credentials verify" not in failed  # it is a valid signature, by the wrong key


def test_output_hash_changed_in_a_self_consistent_attacker_credential(chain, bundle):
    forged = chain.token("B", signer=chain.attacker, output_hash="sha256:" + "0" * 64,
                         agent_did=chain.attacker.did)
    bundle["credentials"][1] = forged  # a self-consistent credential the root never saw

    assert _failed(bundle) == ["components digest"]


def test_output_hash_edited_without_re_signing(bundle):
    bundle["credentials"][1] = edit_payload(bundle["credentials"][1], lambda p: p["vc"][
        "credentialSubject"].update(output_hash="sha256:" + "0" * 64))

    report = verify_bundle(bundle)

    assert "credentials verify" in report.failed
    assert "invalid_signature" in report.check("credentials verify").detail


def test_status_changed(bundle):
    bundle["credentials"][2] = edit_payload(bundle["credentials"][2], lambda p: p["vc"][
        "credentialSubject"].update(status="failed"))

    report = verify_bundle(bundle)

    assert "credentials verify" in report.failed and "components digest" in report.failed
    assert "#3" in report.check("credentials verify").detail


def test_a_credential_signed_by_the_wrong_agents_key(chain, bundle):
    as_itself = chain.token("B", signer=chain.agents["C"])
    as_b = chain.resign_as(chain.tokens[1], chain.agents["C"], kid_of=chain.agents["B"])

    bundle["credentials"][1] = as_itself
    assert "issuers" in _failed(bundle)
    bundle["credentials"][1] = as_b
    assert "credentials verify" in _failed(bundle)


def test_a_step_removed_from_the_chain(bundle):
    bundle["credentials"].pop(1)

    report = verify_bundle(bundle)

    assert {"chain links", "chain complete", "components digest"} <= set(report.failed)
    assert "names parent exec_b, which is not in the chain" in report.render()


def test_steps_reordered(bundle):
    bundle["credentials"].reverse()

    report = verify_bundle(bundle)

    assert {"chain links", "chain complete"} <= set(report.failed)
    assert "different order" in report.check("chain complete").detail


def test_a_forged_did_document(chain, bundle):
    bundle["did_documents"][chain.agents["B"].did] = chain.forged_document("B")

    report = verify_bundle(bundle)

    assert report.failed == ["did documents"]
    assert chain.agents["B"].did in report.check("did documents").detail


def test_a_document_filed_under_another_did(chain, bundle):
    bundle["did_documents"][chain.agents["B"].did] = did_document(chain.attacker.did)

    assert _failed(bundle) == ["did documents"]


def test_a_run_credential_not_issued_by_the_root(chain, bundle):
    bundle["run_credential"] = chain.run_token(chain.tokens, signer=chain.attacker)

    assert _failed(bundle) == ["root"]


def test_a_replaced_root_is_caught_by_pinning_the_expected_root(chain, bundle):
    bundle["run_credential"] = chain.run_token(chain.tokens, signer=chain.attacker)
    bundle["root_did"] = chain.attacker.did

    assert verify_bundle(bundle).ok  # self-consistent: only the trust anchor can tell
    assert verify_bundle(bundle, root_did=chain.root.did).failed == ["root"]


def test_an_unreadable_run_credential_fails_everything_it_anchors(bundle):
    bundle["run_credential"] = "garbage"

    assert _failed(bundle) == ["run credential", "root", "chain complete", "components digest"]


def test_another_format_version_fails_the_format_check(bundle):
    bundle["format"] = "agentfield-audit/9"

    assert _failed(bundle) == ["format"]


def test_input_and_output_hashes_are_confirmed(chain, bundle):
    _, _, _, input_a, output_a = STEPS["A"]
    _, _, _, input_c, output_c = STEPS["C"]

    assert verify_bundle(bundle, input_value=input_a, output_value=output_a).ok
    assert verify_bundle(bundle, input_value=input_c, output_value=output_c,
                         execution_id="exec_c").ok
    wrong = verify_bundle(bundle, input_value=input_a, output_value={**output_a, "steps": 3})
    assert wrong.failed == ["output hash"]
    assert "hashes to sha256:" in wrong.check("output hash").detail
    assert verify_bundle(bundle, output_value=None).failed == ["output hash"]  # null is data
    assert verify_bundle(bundle, input_value=1, execution_id="exec_x").failed == ["input hash"]


@pytest.mark.parametrize("data", [[], {}, {"run_id": "r", "root_did": "d"},
                                  {"run_id": "r", "root_did": "d", "credentials": "x",
                                   "run_credential": "t"}])
def test_data_that_is_no_bundle_is_refused(data):
    with pytest.raises(InvalidBundle) as raised:
        verify_bundle(data)
    assert raised.value.code == "invalid_bundle"


def test_garbage_entries_fail_checks_instead_of_crashing(bundle):
    bundle["credentials"].append(42)
    bundle["did_documents"] = "nope"

    failed = _failed(bundle)

    assert {"credentials verify", "did documents", "chain complete"} <= set(failed)


def test_odd_values_in_a_validly_signed_credential_fail_checks(chain, bundle):
    bundle["credentials"][2] = chain.token("C", parent_execution_id=["exec_b"],
                                           execution_id={"x": 1}, run_id=None)

    failed = _failed(bundle)

    assert {"run id", "chain links", "components digest"} <= set(failed)


def test_a_report_renders_one_line_per_check_and_a_summary():
    report = Report(title="T")
    report.add("first", True, "fine")
    report.add_problems("second", [f"p{i}" for i in range(7)], "unused")

    lines = report.render().splitlines()

    assert lines[0] == "T" and lines[1].startswith("PASS  first ") and len(lines) == 4
    assert lines[2].endswith("p0; p1; p2; p3; p4; and 2 more")
    assert lines[3] == "RESULT: NOT VERIFIED - 1 of 2 checks failed: second"
    assert report.to_dict()["failed"] == ["second"] and not Report().ok
