"""Hypothesis strategies for JSON values, as the API receives them (orjson-decoded)."""

from hypothesis import strategies as st

# Text as JSON can carry it. U+0000 is left to its own tests: PostgreSQL's JSONB refuses it.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
NUMBERS = INT64 | FINITE
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=20,
)
# A top level that is not a bare number (what SQLite stores as a SQL number today).
JSON_DOCUMENT = st.none() | st.booleans() | TEXT | st.lists(JSON, max_size=5) | st.dictionaries(
    TEXT, JSON, max_size=5)
JSON_OBJECT = st.dictionaries(TEXT, JSON, max_size=6)


def json_equal(a, b) -> bool:
    """Equal as JSON: a number is its value, so 4.8e16 and 48000000000000000 are one number
    (JSONB keeps numbers as decimals and may hand an integral float back as an int)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b if type(a) is type(b) else float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b
