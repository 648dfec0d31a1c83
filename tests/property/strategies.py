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
