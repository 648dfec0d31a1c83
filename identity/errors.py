"""Errors of the identity package; each has a unique snake_case ``code``."""


class IdentityError(Exception):
    """Root of every identity error."""

    code = "identity_error"


class InvalidDID(IdentityError):
    """Raised when a value is not an Ed25519 did:key or a DID document is not what it derives."""

    code = "invalid_did"


class InvalidSignature(IdentityError):
    """Raised when a JWS signature does not verify with the given key (or uses another alg)."""

    code = "invalid_signature"


class MalformedToken(IdentityError):
    """Raised when a token is not a compact JWS with JSON-object header and payload."""

    code = "malformed_token"


class InvalidCredential(IdentityError):
    """Raised when a signed token is not a consistent VC-JWT of a did:key issuer."""

    code = "invalid_credential"


class InvalidBundle(IdentityError):
    """Raised when data is neither an audit bundle nor a saved vc-chain response."""

    code = "invalid_bundle"


class SecretMismatch(IdentityError):
    """Raised when sealed data does not open: the secret is wrong or the data was altered."""

    code = "secret_mismatch"


class InvalidJSONValue(IdentityError, ValueError):
    """Raised when a value cannot be canonicalized as I-JSON (NaN, Infinity, odd types)."""

    code = "invalid_json_value"
