"""RFC 8785 canonical JSON: the RFC's own examples and number table, and what is refused."""

import hashlib
import json
import math
import struct

import pytest

from identity.errors import InvalidJSONValue
from identity.jcs import canonicalize, sha256_digest

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
APPENDIX_B = [
    (0x0000000000000000, "0"), (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"), (0x8000000000000001, "-5e-324"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0xffefffffffffffff, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"), (0xc340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44b52d02c7e14af5, "9.999999999999997e+22"), (0x44b52d02c7e14af6, "1e+23"),
    (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
    (0x444b1ae4d6e2ef4e, "999999999999999700000"),
    (0x444b1ae4d6e2ef4f, "999999999999999900000"), (0x444b1ae4d6e2ef50, "1e+21"),
    (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"), (0x3eb0c6f7a0b5ed8d, "0.000001"),
    (0x41b3de4355555553, "333333333.3333332"), (0x41b3de4355555554, "333333333.33333325"),
    (0x41b3de4355555555, "333333333.3333333"), (0x41b3de4355555556, "333333333.3333334"),
    (0x41b3de4355555557, "333333333.33333343"),
    (0xbecbf647612f3696, "-0.0000033333333333333333"),
    (0x43143ff3c1cb0959, "1424953923781206.2"),
]


@pytest.mark.parametrize("bits, expected", APPENDIX_B, ids=[e for _, e in APPENDIX_B])
def test_appendix_b_numbers(bits, expected):
    value = struct.unpack(">d", bits.to_bytes(8, "big"))[0]

    assert canonicalize(value) == expected.encode()


@pytest.mark.parametrize("text, expected", [
    ("333333333.33333329", "333333333.3333333"), ("1E30", "1e+30"), ("4.50", "4.5"),
    ("2e-3", "0.002"), ("0.000000000000000000000000001", "1e-27"), ("1e21", "1e+21"),
    ("1e-7", "1e-7"), ("0.000001", "0.000001"), ("1.5", "1.5"), ("1.0", "1"),
    ("-0.0", "0"), ("100", "100"), ("-42", "-42"), ("1e20", "100000000000000000000"),
    ("18446744073709551616", "18446744073709552000"),  # an integer beyond 2^53 is a double
])
def test_numbers_print_as_ecmascript_does(text, expected):
    assert canonicalize(json.loads(text)) == expected.encode()


def test_rfc_section_3_2_2_example():
    data = json.loads(r'''{
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    }''')

    assert canonicalize(data) == (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}').encode()


def test_rfc_section_3_2_3_sorts_keys_by_utf16_code_units():
    data = json.loads(r'''{
        "\u20ac": "Euro Sign", "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    }''')

    assert canonicalize(data) == (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode("utf-8")


def test_strings_use_only_the_minimal_escapes():
    text = "tab\t nl\n cr\r bs\b ff\f nul\x00 us\x1f del\x7f quote\" back\\ slash/ é 😀"

    assert canonicalize(text) == (
        '"tab\\t nl\\n cr\\r bs\\b ff\\f nul\\u0000 us\\u001f del\x7f quote\\" back\\\\ '
        'slash/ é 😀"').encode()


def test_nesting_has_no_whitespace_and_tuples_are_arrays():
    value = {"b": [1, {"z": None, "a": True}], "a": ("x", 2.5)}

    assert canonicalize(value) == b'{"a":["x",2.5],"b":[1,{"a":true,"z":null}]}'


@pytest.mark.parametrize("value", [
    math.nan, math.inf, -math.inf, {"k": [math.nan]}, {1: "int key"}, {"s": {1, 2}},
    b"bytes", "lone \ud800 surrogate", 10 ** 400,
])
def test_values_outside_i_json_are_refused(value):
    with pytest.raises(InvalidJSONValue) as raised:
        canonicalize(value)
    assert raised.value.code == "invalid_json_value" and isinstance(raised.value, ValueError)


def test_sha256_digest_hashes_the_canonical_form():
    value = {"b": 1.0, "a": [1e21]}

    assert sha256_digest(value) == "sha256:" + hashlib.sha256(b'{"a":[1e+21],"b":1}').hexdigest()
    assert sha256_digest({"a": [1e21], "b": 1}) == sha256_digest(value)
    assert sha256_digest(None) == "sha256:" + hashlib.sha256(b"null").hexdigest()
