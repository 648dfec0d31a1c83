"""Compact JWS/JWT with EdDSA (Ed25519), per RFC 7515, RFC 7519 and RFC 8037."""

import base64
import binascii
import json
import re
from typing import NamedTuple

from identity.errors import InvalidSignature, MalformedToken
from identity.keys import SigningKey, verify_signature

ALGORITHM = "EdDSA"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class Jws(NamedTuple):
    """A parsed compact JWS: decoded header and payload, and what the signature covers."""

    header: dict
    payload: dict
    signing_input: bytes
    signature: bytes


def b64url_encode(data: bytes) -> str:
    """Return base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str = "value") -> bytes:
    """Decode unpadded base64url strictly; MalformedToken for anything else."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedToken(f"the JWS {what} is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken(f"the JWS {what} is not unpadded base64url") from None
    if b64url_encode(data) != text:  # stray low bits: one token, one encoding
        raise MalformedToken(f"the JWS {what} is non-canonical base64url")
    return data


def _json_segment(value: dict) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return b64url_encode(text.encode("utf-8"))


def sign_jwt(payload: dict, key: SigningKey, kid: str) -> str:
    """Return the compact JWS of payload signed with key, header alg EdDSA and kid."""
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": kid}
    signing_input = _json_segment(header) + "." + _json_segment(payload)
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))


def parse_jws(token: str) -> Jws:
    """Split and decode a compact JWS without verifying it; MalformedToken on bad shape."""
    if not isinstance(token, str):
        raise MalformedToken(f"a compact JWS is a string, not {type(token).__name__}")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken(f"a compact JWS has 3 dot-separated parts, not {len(parts)}")
    header = _json_object(parts[0], "header")
    payload = _json_object(parts[1], "payload")
    signature = b64url_decode(parts[2], "signature")
    return Jws(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def decode_jwt(token: str) -> tuple[dict, dict]:
    """Return (header, payload) of a compact JWS without verifying it."""
    jws = parse_jws(token)
    return jws.header, jws.payload


def check_jws(jws: Jws, public_key: bytes) -> dict:
    """Return the payload of a parsed JWS if its EdDSA signature verifies; else raise."""
    alg = jws.header.get("alg")
    if alg != ALGORITHM:
        raise InvalidSignature(f"alg {alg!r} is not accepted (only {ALGORITHM})")
    if "crit" in jws.header:
        raise InvalidSignature("critical header extensions are not supported")
    if not verify_signature(public_key, jws.signature, jws.signing_input):
        raise InvalidSignature("the signature does not verify with the issuer's key")
    return jws.payload


def verify_jwt(token: str, public_key: bytes) -> dict:
    """Return the payload of an EdDSA-signed compact JWS that verifies with public_key."""
    return check_jws(parse_jws(token), public_key)


def _json_object(segment: str, what: str) -> dict:
    raw = b64url_decode(segment, what)
    try:
        value = json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedToken(f"the JWS {what} is not JSON: {exc}") from None
    except RecursionError:
        raise MalformedToken(f"the JWS {what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"the JWS {what} is not a JSON object")
    return value


def _unique_keys(pairs: list) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member names")
    return result


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")
