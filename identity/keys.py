"""Ed25519 signing keys and the box that seals their private seeds at rest."""

import os
from functools import lru_cache

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from identity.did import did_from_public_key
from identity.errors import SecretMismatch

SEED_BYTES = 32
NONCE_BYTES = 12
_BOX_SALT = b"agentfield/secret-box/v1"
_BOX_INFO = b"AES-256-GCM key sealing Ed25519 seeds"


class SigningKey:
    """An Ed25519 private key, known to others by its did:key."""

    __slots__ = ("_private", "_public", "_did")

    def __init__(self, private: Ed25519PrivateKey):
        self._private = private
        self._public = private.public_key().public_bytes_raw()
        self._did: str | None = None

    @classmethod
    def generate(cls) -> "SigningKey":
        """Create a new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> "SigningKey":
        """Rebuild a key from its 32-byte private seed."""
        if not isinstance(seed, bytes | bytearray) or len(seed) != SEED_BYTES:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    def seed(self) -> bytes:
        """Return the 32-byte private seed (seal it before storing it)."""
        return self._private.private_bytes_raw()

    def public_bytes(self) -> bytes:
        """Return the 32-byte public key."""
        return self._public

    @property
    def did(self) -> str:
        """Return the did:key of the public key."""
        if self._did is None:
            self._did = did_from_public_key(self._public)
        return self._did

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of data."""
        return self._private.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey({self.did})"


@lru_cache(maxsize=1024)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_signature(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Return whether signature is a valid Ed25519 signature of data under public_key."""
    try:
        if len(public_key) != 32 or len(signature) != 64:
            return False
        _public_key(bytes(public_key)).verify(bytes(signature), bytes(data))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


class SecretBox:
    """Seal and open small secrets with AES-256-GCM under a key derived from a secret string."""

    __slots__ = ("_aead",)

    def __init__(self, secret: str):
        if not isinstance(secret, str) or not secret:
            raise ValueError("SecretBox needs a non-empty secret string")
        key = HKDF(algorithm=SHA256(), length=32, salt=_BOX_SALT,
                   info=_BOX_INFO).derive(secret.encode("utf-8"))
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes) -> bytes:
        """Encrypt plaintext; return nonce || ciphertext (with its 16-byte tag)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, bytes(plaintext), None)

    def open(self, sealed: bytes) -> bytes:
        """Decrypt what seal returned; SecretMismatch for a wrong secret or altered data."""
        sealed = bytes(sealed)
        if len(sealed) < NONCE_BYTES + 16:
            raise SecretMismatch("sealed data is too short to be a SecretBox output")
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None)
        except InvalidTag:
            raise SecretMismatch("sealed data does not open with this secret "
                                 "(wrong AGENTFIELD_SECRET_KEY, or the data was altered)"
                                 ) from None
