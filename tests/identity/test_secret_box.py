"""Signing keys and the SecretBox that seals their seeds at rest."""

import pytest

from identity.errors import IdentityError, SecretMismatch
from identity.keys import SecretBox, SigningKey, verify_signature


def test_a_key_survives_seal_and_open_of_its_seed():
    box = SecretBox("a secret from AGENTFIELD_SECRET_KEY")
    original = SigningKey.generate()

    sealed = box.seal(original.seed())

    restored = SigningKey.from_seed(box.open(sealed))
    assert restored.did == original.did and restored.public_bytes() == original.public_bytes()
    assert original.seed() not in sealed and len(sealed) == 12 + 32 + 16
    assert SecretBox("a secret from AGENTFIELD_SECRET_KEY").open(sealed) == original.seed()


def test_every_seal_uses_a_fresh_nonce():
    box = SecretBox("s")

    first, second = box.seal(b"same"), box.seal(b"same")

    assert first[:12] != second[:12] and first != second
    assert box.open(first) == box.open(second) == b"same"


def test_a_wrong_secret_or_altered_data_does_not_open():
    sealed = SecretBox("right").seal(b"\x01" * 32)
    altered = bytearray(sealed)
    altered[20] ^= 1

    for box, data in ((SecretBox("wrong"), sealed), (SecretBox("right"), bytes(altered)),
                      (SecretBox("right"), sealed[:20])):
        with pytest.raises(SecretMismatch) as raised:
            box.open(data)
        assert raised.value.code == "secret_mismatch"
        assert isinstance(raised.value, IdentityError)


def test_open_accepts_a_memoryview_as_databases_return():
    box = SecretBox("right")

    assert box.open(memoryview(box.seal(b"seed"))) == b"seed"


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError):
        SecretBox("")


def test_seeds_must_be_32_bytes_and_signatures_verify():
    signer = SigningKey.from_seed(bytes(range(32)))
    signature = signer.sign(b"data")

    assert signer.seed() == bytes(range(32)) and len(signature) == 64
    assert verify_signature(signer.public_bytes(), signature, b"data")
    assert not verify_signature(signer.public_bytes(), signature, b"other")
    assert not verify_signature(signer.public_bytes(), signature[:63], b"data")
    assert not verify_signature(b"\x00" * 31, signature, b"data")
    assert not verify_signature("not bytes", signature, b"data")
    assert signer.did in repr(signer) and signer.seed().hex() not in repr(signer)
    with pytest.raises(ValueError):
        SigningKey.from_seed(b"short")
