"""``python -m identity verify``: exit 0 verified, 1 a check failed, 2 unreadable input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.identity.chain import STEPS, edit_payload

ROOT = Path(__file__).resolve().parents[2]


def _verify(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "identity", "verify", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture
def write(tmp_path):
    def write(name: str, data) -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else json.dumps(data))
        return path
    return write


def test_an_honest_bundle_and_chain_response_exit_0(chain, bundle, write):
    for path in (write("audit.json", bundle), write("chain.json", chain.chain_response())):
        result = _verify(path)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "RESULT: VERIFIED - all 10 checks passed" in result.stdout
        assert "PASS  chain links" in result.stdout and chain.root.did in result.stdout


def test_a_tampered_bundle_exits_1_naming_the_failed_checks(bundle, write):
    bundle["credentials"][1] = edit_payload(bundle["credentials"][1], lambda p: p["vc"][
        "credentialSubject"].update(status="failed"))

    result = _verify(write("tampered.json", bundle))

    assert result.returncode == 1
    assert "FAIL  credentials verify" in result.stdout and "invalid_signature" in result.stdout
    assert "RESULT: NOT VERIFIED" in result.stdout


def test_a_truncated_file_exits_2_with_a_clear_message(bundle, write):
    text = json.dumps(bundle)

    result = _verify(write("cut.json", text[: len(text) // 2]))

    assert result.returncode == 2
    assert "is not valid JSON (truncated or corrupted?)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content, phrase", [
    ("", "is empty"), ("<html>oops</html>", "not valid JSON"),
    ('{"hello": "world"}', "not an audit bundle"), ("[1, 2]", "expected a JSON object"),
])
def test_unreadable_or_foreign_files_exit_2(write, content, phrase):
    result = _verify(write("odd.json", content))

    assert result.returncode == 2 and phrase in result.stderr


def test_a_missing_file_exits_2(tmp_path):
    result = _verify(tmp_path / "nowhere.json")

    assert result.returncode == 2 and "cannot read file" in result.stderr


def test_input_and_output_files_confirm_the_hashes(bundle, write):
    _, _, _, input_b, output_b = STEPS["B"]
    path = write("audit.json", bundle)
    flags = ["--input", write("in.json", input_b), "--execution-id", "exec_b"]

    good = _verify(path, *flags, "--output", write("out.json", output_b))
    bad = _verify(path, *flags, "--output", write("bad.json", {"hits": []}))

    assert good.returncode == 0, good.stdout
    assert "PASS  input hash" in good.stdout and "PASS  output hash" in good.stdout
    assert bad.returncode == 1 and "FAIL  output hash" in bad.stdout
    assert _verify(path, "--input", write("cut.json", '{"query": ')).returncode == 2


def test_json_output_and_a_pinned_root(chain, bundle, write):
    path = write("audit.json", bundle)

    result = _verify(path, "--json", "--root-did", chain.attacker.did)

    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["ok"] is False and report["failed"] == ["root"]
    assert {"name", "ok", "detail"} == set(report["checks"][0])
    assert _verify(path, "--root-did", chain.root.did).returncode == 0
