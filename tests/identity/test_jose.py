"""Compact JWS with EdDSA: RFC 8037 vector, strict parsing, and PyJWT interoperability."""

import base64
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from identity.errors import InvalidSignature, MalformedToken
from identity.jose import b64url_encode, decode_jwt, sign_jwt, verify_jwt
from identity.keys import SigningKey, verify_signature
from tests.identity.chain import edit_payload, key


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_rfc_8037_appendix_a_ed25519_signature():
    signer = SigningKey.from_seed(_b64("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"))
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    expected = _b64("hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9"
                    "g7sVvpAr_MuM0KAg")

    assert signer.public_bytes() == _b64("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    assert signer.sign(signing_input) == expected
    assert verify_signature(signer.public_bytes(), expected, signing_input)
    assert not verify_signature(signer.public_bytes(), expected, signing_input + b"x")


def test_sign_and_verify_round_trip_with_header_and_no_padding():
    signer = key(5)
    payload = {"iss": signer.did, "n": 1, "text": "é"}

    token = sign_jwt(payload, signer, "kid-1")

    assert "=" not in token and token.count(".") == 2
    assert decode_jwt(token) == ({"alg": "EdDSA", "kid": "kid-1", "typ": "JWT"}, payload)
    assert verify_jwt(token, signer.public_bytes()) == payload


def test_an_edited_payload_or_another_key_does_not_verify():
    signer = key(5)
    token = sign_jwt({"status": "succeeded"}, signer, "kid")

    with pytest.raises(InvalidSignature) as raised:
        verify_jwt(edit_payload(token, lambda p: p.update(status="failed")), signer.public_bytes())
    assert raised.value.code == "invalid_signature"
    with pytest.raises(InvalidSignature):
        verify_jwt(token, key(6).public_bytes())


def test_only_eddsa_is_accepted():
    signer = key(5)
    body = b64url_encode(b'{"a":1}')
    for header in (b'{"alg":"none"}', b'{"alg":"HS256"}', b'{"alg":"EdDSA","crit":["x"]}'):
        signing_input = f"{b64url_encode(header)}.{body}"
        token = f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode()))}"
        with pytest.raises(InvalidSignature):
            verify_jwt(token, signer.public_bytes())


@pytest.mark.parametrize("token", [
    "only.two", "a.b.c.d", "", 42,
    "eyJhbGciOiJFZERTQSJ9=.e30.AA",  # padding
    "eyJhbGciOiJFZERTQSJ9.e30.A",  # impossible base64 length
    "eyJhbGciOiJFZERTQSJ9.e31.AA",  # non-canonical trailing bits
    "eyJhbGciOiJFZERTQSJ9.e+/.AA",  # standard, not url-safe, alphabet
    b64url_encode(b"[1]") + ".e30.AA",  # header is not an object
    "eyJhbGciOiJFZERTQSJ9." + b64url_encode(b"{not json") + ".AA",
    "eyJhbGciOiJFZERTQSJ9." + b64url_encode(b'{"a":1,"a":2}') + ".AA",  # duplicate names
    "eyJhbGciOiJFZERTQSJ9." + b64url_encode(b'{"a":NaN}') + ".AA",
])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(MalformedToken) as raised:
        decode_jwt(token)
    assert raised.value.code == "malformed_token"


def test_pyjwt_verifies_our_tokens():
    signer = key(7)
    now = int(time.time())
    payload = {"iss": signer.did, "sub": "did:key:subject", "jti": "urn:uuid:1",
               "nbf": now, "iat": now, "vc": {"credentialSubject": {"x": [1, 2.5]}}}
    token = sign_jwt(payload, signer, signer.did + "#" + signer.did[8:])

    decoded = jwt.decode(token, Ed25519PublicKey.from_public_bytes(signer.public_bytes()),
                         algorithms=["EdDSA"], options={"verify_aud": False})

    assert decoded == payload
    assert jwt.get_unverified_header(token)["kid"] == signer.did + "#" + signer.did[8:]


def test_pyjwt_rejects_our_token_with_an_edited_payload():
    signer = key(7)
    token = edit_payload(sign_jwt({"n": 1}, signer, "k"), lambda p: p.update(n=2))

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, Ed25519PublicKey.from_public_bytes(signer.public_bytes()),
                   algorithms=["EdDSA"])


def test_we_verify_tokens_pyjwt_signs():
    private = Ed25519PrivateKey.generate()
    payload = {"iss": "someone", "n": 3, "nested": {"b": [True, None]}}

    token = jwt.encode(payload, private, algorithm="EdDSA")

    public = private.public_key().public_bytes_raw()
    assert verify_jwt(token, public) == payload
    assert decode_jwt(token)[0]["alg"] == "EdDSA"
    with pytest.raises(InvalidSignature):
        verify_jwt(token, key(8).public_bytes())
