"""The offline verifier on hostile files: a reason, never a traceback, in bounded time.

Exit 2 with one line on stderr for a file it cannot read as an audit file; exit 1 with
named failed checks for one it can read but that does not verify (a field of the wrong
type inside a validly signed credential is such a failed check). Never the catch-all
("malformed input the verifier cannot read"): that would be a crash we did not foresee.
"""

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.__main__ import main
from identity.credentials import RUN_CREDENTIAL_TYPE, issue_credential, run_credential_id
from identity.jose import decode_jwt, sign_jwt
from tests.identity.chain import ISSUED_AT, Chain

ROOT = Path(__file__).resolve().parents[2]
CATCH_ALL = "malformed input the verifier cannot read"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                          allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8),
                                                                inner, max_size=4),
    max_leaves=12)
FIELDS = ("format", "run_id", "generated_at", "root_did", "credentials", "run_credential",
          "did_documents")
CHAIN = Chain()
BUNDLE = CHAIN.bundle()


def _run(data, *extra) -> tuple[int, str, str, float]:
    """Run the verifier in this process on data written to a file: (status, out, err, s)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.json"
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(["verify", str(path), *extra])
        return status, out.getvalue(), err.getvalue(), time.perf_counter() - started


def _assert_handled(status: int, err: str, elapsed: float) -> None:
    # 0 happens too: generated_at is not signed, and did_documents may be left empty.
    assert status in (0, 1, 2), err
    assert CATCH_ALL not in err, err
    if status == 2:
        assert err.count("\n") == 1 and err.startswith("error: "), err
    assert elapsed < 1.0


def _resign(token: str, change, signer) -> str:
    header, payload = decode_jwt(token)
    change(payload)
    return sign_jwt(payload, signer, header["kid"])


def _paths(value, prefix=()):
    """Every path into a JSON value, containers included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _set(value, path, new):
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


# -- handmade --------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 100_000 + "1" + "}" * 100_000,
    '{"run_id": "r", "root_did": "d", "credentials": [' + "[" * 50_000 + "]" * 50_000
    + '], "run_credential": "x"}',
])
def test_deep_nesting_exits_2_with_one_line_in_a_subprocess(tmp_path, text):
    path = tmp_path / "deep.json"
    path.write_text(text)

    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "identity", "verify", str(path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert result.returncode == 2
    assert result.stderr == f"error: file {path} is nested too deeply to be an audit file\n"
    assert time.perf_counter() - started < 5  # interpreter start included, on a busy machine


def test_a_huge_did_is_refused_in_milliseconds():
    huge = "did:key:z" + "2" * 200_000
    token = _resign(BUNDLE["credentials"][0], lambda p: p.update(iss=huge),
                    CHAIN.agents["A"])
    bundle = {**BUNDLE, "root_did": huge, "credentials": [token, *BUNDLE["credentials"][1:]],
              "did_documents": {huge: {"id": huge}, **BUNDLE["did_documents"]}}

    status, out, err, elapsed = _run(bundle)

    _assert_handled(status, err, elapsed)
    assert status == 1 and "too long for an Ed25519 did:key" in out
    assert elapsed < 0.2


@pytest.mark.parametrize("credential_ids", [5, "urn:uuid:x", {"a": 1}, None, [[1]]])
def test_a_signed_run_credential_with_odd_credential_ids_fails_a_check(credential_ids):
    # Given a run credential validly signed (by a root the file names) with odd ids
    subject = {"id": "urn:run:" + CHAIN.run_id, "run_id": CHAIN.run_id,
               "credential_ids": credential_ids, "credential_count": 3,
               "components_digest": "sha256:0"}
    run_token = issue_credential(subject, CHAIN.attacker, ISSUED_AT,
                                 credential_type=RUN_CREDENTIAL_TYPE,
                                 credential_id_value=run_credential_id(CHAIN.run_id))
    bundle = {**BUNDLE, "root_did": CHAIN.attacker.did, "run_credential": run_token}

    status, out, err, elapsed = _run(bundle)

    _assert_handled(status, err, elapsed)
    assert status == 1 and "FAIL  chain complete" in out


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", [None, 0, 1.5, True, "x", "", [], {}, [1], [None],
                                   {"a": 1}, ["a.b.c"], {"did:key:z": 5}])
def test_a_wrong_type_in_any_field_gets_a_reason(field, value):
    status, _, err, elapsed = _run({**BUNDLE, field: value})

    _assert_handled(status, err, elapsed)


def test_wrong_types_in_every_field_of_a_chain_response():
    response = CHAIN.chain_response()
    for field in ("credentials", "run_credential", "root_did", "run_id"):
        for value in (None, 7, "x", [7], [{"vc_jwt": 7}], {"vc_jwt": [1]}):
            status, _, err, elapsed = _run({**response, field: value})

            _assert_handled(status, err, elapsed)


def test_odd_input_and_output_files_get_a_reason(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 990 + "]" * 990)  # parses, then nests too deep to canonicalize

    status, out, err, elapsed = _run(BUNDLE, "--input", str(deep), "--execution-id",
                                     "exec_a")

    _assert_handled(status, err, elapsed)
    assert status == 2 or "FAIL  input hash" in out


# -- generated -------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=1000,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=4))
def test_generated_bundle_fields_get_a_reason(changes):
    status, _, err, elapsed = _run({**BUNDLE, **changes})

    _assert_handled(status, err, elapsed)


TOKENS = {0: "A", 1: "B", 2: "C"}


@FUZZ
@given(st.sampled_from([0, 1, 2, "run"]), st.data(), JSON_VALUES)
def test_generated_claims_in_validly_signed_tokens_get_a_reason(which, data, value):
    # Given a token re-signed by its own issuer with one claim replaced by any JSON value
    token = BUNDLE["run_credential"] if which == "run" else BUNDLE["credentials"][which]
    signer = CHAIN.root if which == "run" else CHAIN.agents[TOKENS[which]]
    _, payload = decode_jwt(token)
    path = data.draw(st.sampled_from([p for p in _paths(payload) if p]))
    token = _resign(token, lambda p: _set(p, path, value), signer)
    bundle = json.loads(json.dumps(BUNDLE))
    if which == "run":
        bundle["run_credential"] = token
    else:
        bundle["credentials"][which] = token

    status, _, err, elapsed = _run(bundle)

    _assert_handled(status, err, elapsed)


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=200).map(
    lambda raw: raw.decode("latin-1")))
def test_generated_garbage_files_get_a_reason(text):
    status, _, err, elapsed = _run(text)

    _assert_handled(status, err, elapsed)
