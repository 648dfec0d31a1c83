"""did:key for Ed25519 keys (W3C CCG did:key): encode, decode and the derived DID document."""

from functools import lru_cache

from identity.base58 import b58decode, b58encode
from identity.errors import InvalidDID

PREFIX = "did:key:"
ED25519_MULTICODEC = b"\xed\x01"  # varint of 0xed, the ed25519-pub multicodec
# An Ed25519 did:key is 56 characters; anything much longer is refused before base58
# decoding, which is quadratic in the length (200,000 characters took 18 s).
MAX_DID_LENGTH = 100
DOCUMENT_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityDelegation",
                  "capabilityInvocation")


def did_from_public_key(public_key: bytes) -> str:
    """Return the did:key naming a 32-byte Ed25519 public key."""
    if not isinstance(public_key, bytes | bytearray) or len(public_key) != 32:
        raise InvalidDID("an Ed25519 public key is 32 bytes")
    return PREFIX + "z" + b58encode(ED25519_MULTICODEC + bytes(public_key))


def public_key_from_did(did: str) -> bytes:
    """Return the 32-byte Ed25519 public key a did:key names; InvalidDID for anything else."""
    if not isinstance(did, str):
        raise InvalidDID(f"a DID is a string, not {type(did).__name__}")
    if len(did) > MAX_DID_LENGTH:
        raise InvalidDID(f"{did[:40]!r}... is {len(did)} characters: too long for an "
                         "Ed25519 did:key")
    return _decode(did)


@lru_cache(maxsize=4096)
def _decode(did: str) -> bytes:
    shown = did if len(did) <= 80 else did[:77] + "..."
    if not did.startswith(PREFIX):
        raise InvalidDID(f"{shown!r} is not a did:key")
    multibase = did[len(PREFIX):]
    if not multibase.startswith("z"):
        raise InvalidDID(f"{shown!r}: only base58btc multibase ('z') is defined for did:key")
    try:
        raw = b58decode(multibase[1:])
    except ValueError as exc:
        raise InvalidDID(f"{shown!r}: {exc}") from None
    if raw[:2] != ED25519_MULTICODEC:
        raise InvalidDID(f"{shown!r} is not an Ed25519 key (multicodec 0xed01)")
    if len(raw) != 34:
        raise InvalidDID(f"{shown!r}: an Ed25519 key is 32 bytes, not {len(raw) - 2}")
    return raw[2:]


def verification_method_id(did: str) -> str:
    """Return the id of the DID's only verification method: ``did#<multibase key>``."""
    public_key_from_did(did)
    return did + "#" + did[len(PREFIX):]


def did_document(did: str) -> dict:
    """Return the DID document a did:key derives (Multikey verification method)."""
    method = verification_method_id(did)
    document = {
        "@context": list(DOCUMENT_CONTEXT),
        "id": did,
        "verificationMethod": [{
            "id": method,
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": did[len(PREFIX):],
        }],
    }
    document.update({relationship: [method] for relationship in _RELATIONSHIPS})
    return document


def check_did_document(document: dict) -> str:
    """Return the document's DID if it is exactly what its did:key derives; else InvalidDID."""
    if not isinstance(document, dict):
        raise InvalidDID("a DID document is a JSON object")
    did = document.get("id")
    if not isinstance(did, str):
        raise InvalidDID("the DID document has no string 'id'")
    expected = did_document(did)
    differing = sorted(key for key in expected.keys() | document.keys()
                       if document.get(key) != expected.get(key))
    if differing:
        raise InvalidDID(f"the document of {did} is not the one its did:key derives "
                         f"(differs in: {', '.join(differing)})")
    return did
