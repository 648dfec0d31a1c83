"""did:key: the W3C CCG spec vectors, round trips, documents, and what is rejected."""

import pytest

from identity.base58 import b58decode, b58encode
from identity.did import (
    check_did_document,
    did_document,
    did_from_public_key,
    public_key_from_did,
    verification_method_id,
)
from identity.errors import InvalidDID
from identity.keys import SigningKey

# w3c-ccg/did-method-key test-vectors/ed25519-x25519.json: seed -> DID, publicKeyBase58.
SPEC_VECTORS = [
    (0, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
     "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"),
    (1, "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
     "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt"),
    (2, "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
     "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH"),
    (3, "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ",
     "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2"),
    (4, "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL",
     "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x"),
]


@pytest.mark.parametrize("last_seed_byte, did, public_base58", SPEC_VECTORS)
def test_spec_vectors_decode_and_round_trip(last_seed_byte, did, public_base58):
    public_key = public_key_from_did(did)

    assert len(public_key) == 32
    assert public_key == b58decode(public_base58)
    assert did_from_public_key(public_key) == did


@pytest.mark.parametrize("last_seed_byte, did, public_base58", SPEC_VECTORS)
def test_a_key_from_a_fixed_seed_has_the_spec_did(last_seed_byte, did, public_base58):
    key = SigningKey.from_seed(bytes(31) + bytes([last_seed_byte]))

    assert key.did == did
    assert b58encode(key.public_bytes()) == public_base58


def test_a_fixed_seed_always_maps_to_the_same_did():
    first = SigningKey.from_seed(b"agentfield identity test seed 01")

    assert first.did == SigningKey.from_seed(first.seed()).did
    assert first.did == "did:key:z6MkmrZ4Kj6mFfE98pNRb5S315cpi8s7W3cPZpqcF4ikXncL"
    assert first.did.startswith("did:key:z6Mk") and SigningKey.generate().did != first.did


def test_base58_keeps_leading_zero_bytes():
    for data in (b"", b"\0", b"\0\0\x01", b"\xff" * 5, bytes(range(40))):
        assert b58decode(b58encode(data)) == data
    assert b58encode(b"\0\0\x01") == "112"
    with pytest.raises(ValueError):
        b58decode("0OIl")


def test_the_did_document_is_the_multikey_document_the_spec_derives():
    did = SPEC_VECTORS[0][1]
    multibase = did.removeprefix("did:key:")
    method = f"{did}#{multibase}"

    assert verification_method_id(did) == method
    assert did_document(did) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{"id": method, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": multibase}],
        "authentication": [method],
        "assertionMethod": [method],
        "capabilityDelegation": [method],
        "capabilityInvocation": [method],
    }
    assert check_did_document(did_document(did)) == did


def test_check_did_document_rejects_a_key_that_is_not_the_ids():
    did, other = SPEC_VECTORS[0][1], SPEC_VECTORS[1][1]
    forged = did_document(did)
    forged["verificationMethod"][0]["publicKeyMultibase"] = other.removeprefix("did:key:")

    with pytest.raises(InvalidDID, match="verificationMethod"):
        check_did_document(forged)
    with pytest.raises(InvalidDID, match="service"):
        check_did_document({**did_document(did), "service": []})
    with pytest.raises(InvalidDID):
        check_did_document({**did_document(other), "id": did})
    with pytest.raises(InvalidDID):
        check_did_document(["not", "a", "document"])


@pytest.mark.parametrize("did, reason", [
    ("did:web:example.com", "not a did:key"),
    ("did:key:f" + "ed01" + "00" * 32, "base58btc"),
    ("did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", "not an Ed25519"),  # X25519
    ("did:key:z" + b58encode(b"\xed\x01" + b"\x07" * 31), "32 bytes, not 31"),
    ("did:key:z" + b58encode(b"\xed\x01" + b"\x07" * 33), "32 bytes, not 33"),
    ("did:key:z6Mk", "not an Ed25519"),
    ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDoo0p", "base58btc character"),
    ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#frag", "base58btc character"),
    (None, "string"),
])
def test_anything_but_an_ed25519_did_key_is_invalid(did, reason):
    with pytest.raises(InvalidDID, match=reason) as raised:
        public_key_from_did(did)
    assert raised.value.code == "invalid_did"


def test_a_public_key_must_be_32_bytes():
    with pytest.raises(InvalidDID):
        did_from_public_key(b"\x01" * 31)
