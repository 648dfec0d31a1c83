"""RFC 8785 JSON Canonicalization Scheme (JCS) and the digests built on it."""

import hashlib
import math
import re

from identity.errors import InvalidJSONValue

_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                  "\r": "\\r", "\t": "\\t"}
_EXACT_INT = 2 ** 53  # beyond this an I-JSON number is a rounded IEEE 754 double


def canonicalize(value) -> bytes:
    """Return the RFC 8785 canonical UTF-8 JSON of value (dict/list/str/number/bool/None)."""
    parts: list[str] = []
    try:
        _write(value, parts.append)
    except RecursionError:
        raise InvalidJSONValue("the value is nested too deeply to canonicalize") from None
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidJSONValue("a string holds a lone UTF-16 surrogate") from None


def sha256_digest(value) -> str:
    """Return "sha256:" + the hex SHA-256 of the canonical JSON of value."""
    return "sha256:" + hashlib.sha256(canonicalize(value)).hexdigest()


def _write(value, out) -> None:
    if value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, str):
        out(_string(value))
    elif isinstance(value, int | float):
        out(_number(value))
    elif isinstance(value, dict):
        out("{")
        for index, key in enumerate(sorted(value, key=_utf16_key)):
            if index:
                out(",")
            out(_string(key))
            out(":")
            _write(value[key], out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _write(item, out)
        out("]")
    else:
        raise InvalidJSONValue(f"{type(value).__name__} is not a JSON value")


def _utf16_key(key) -> bytes:
    if not isinstance(key, str):
        raise InvalidJSONValue(f"object keys are strings, not {type(key).__name__}")
    # Big-endian UTF-16 bytes compare exactly as the sequence of UTF-16 code units.
    return key.encode("utf-16-be", "surrogatepass")


def _string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def _escape(match: re.Match) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _number(value: int | float) -> str:
    """Format a number as ECMAScript's Number.prototype.toString does (RFC 8785 §3.2.2.3)."""
    if isinstance(value, int):
        if -_EXACT_INT <= value <= _EXACT_INT:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            raise InvalidJSONValue("integer is beyond the range of an IEEE 754 double") from None
    if not math.isfinite(value):
        raise InvalidJSONValue(f"{value} is not a JSON number")
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    digits, point = _shortest_digits(abs(value))
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    exponent = point - 1
    mantissa = digits if count == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Return (digits, point): value == 0.<digits> * 10**point with the fewest digits.

    Python's repr() already yields the shortest round-tripping digits, choosing the one
    nearest the exact value, which is the digit string ECMAScript requires.
    """
    mantissa, _, exponent = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    leading_zeros = len(all_digits) - len(significant)
    point = len(whole) + int(exponent or 0) - leading_zeros
    return significant.rstrip("0"), point
