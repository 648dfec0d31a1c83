"""Column types shared by the models."""

import hashlib
import logging
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import TypeDecorator, UserDefinedType

log = logging.getLogger(__name__)

# What a stored JSON value that cannot be decoded reads back as (see load_json).
UNREADABLE = "stored_value_unreadable"
_reported: set[str] = set()  # digests of unreadable values already logged (bounded)
_MAX_REPORTED = 1024


class JSONValue(TypeDecorator):
    """Any JSON value (object, array, string, number, boolean, null) in one column.

    JSONB on PostgreSQL. On SQLite the column is declared ``JSON``, which gives it
    NUMERIC affinity: SQLite turns the text of a bare number (``5``, ``1.5``, a
    64-bit overflow) into an INTEGER or REAL, which the JSON decoder then refuses or
    reads back rounded. Such values are bound as bytes (a BLOB is stored as is); the
    decoder reads bytes, text, and the numbers older rows hold.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())

    def bind_processor(self, dialect):
        serialize = super().bind_processor(dialect)
        if dialect.name != "sqlite" or serialize is None:
            return serialize

        def process(value):
            text = serialize(value)
            if isinstance(text, str) and text[:1] in _NUMBER_START:
                return text.encode()
            return text

        return process


_NUMBER_START = frozenset("-0123456789")
JSONType = JSONValue()


def load_json(raw):
    """Decode a stored JSON value; never raise (the engines' ``json_deserializer``).

    A value that cannot be decoded (written by hand, or by an older release) reads
    back as ``{"error": "stored_value_unreadable", "stored": <its start>}`` and is
    logged once per process, without a traceback: a client polling such a row must
    not fill the log.
    """
    if isinstance(raw, int | float):
        return raw  # a bare number SQLite's NUMERIC affinity converted (older rows)
    try:
        return orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError) as exc:
        return _unreadable(raw, exc)


def _unreadable(raw, exc: Exception) -> dict:
    preview = raw if isinstance(raw, str) else repr(raw)
    digest = hashlib.sha256(preview.encode("utf-8", "replace")).hexdigest()
    if digest not in _reported:
        if len(_reported) >= _MAX_REPORTED:
            _reported.clear()
        _reported.add(digest)
        log.warning("a stored JSON value cannot be decoded (%s); it reads as %r: %.80r",
                    exc, UNREADABLE, preview)
    return {"error": UNREADABLE, "stored": preview[:200]}


class PgVector(UserDefinedType):
    """pgvector's ``vector`` type (of any dimension, or a fixed one); lists of floats."""

    cache_ok = True

    def __init__(self, dimensions: int | None = None):
        self.dimensions = dimensions

    def get_col_spec(self, **kw) -> str:
        return f"vector({self.dimensions})" if self.dimensions else "vector"

    def bind_processor(self, dialect):
        def process(value):
            if value is None:
                return None
            return "[" + ",".join(repr(float(x)) for x in value) + "]"
        return process

    def result_processor(self, dialect, coltype):
        def process(value):
            if value is None:
                return None
            return [float(x) for x in value.strip("[]").split(",") if x]
        return process


# So that reflection (``flask db check``) knows the type instead of warning about it.
ischema_names["vector"] = PgVector
# Embeddings: pgvector on PostgreSQL (indexed search), a JSON list on SQLite (exact search).
EmbeddingType = sa.JSON().with_variant(PgVector(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Make a stored timestamp timezone-aware (SQLite hands back naive UTC values)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def isoformat(value: datetime | None) -> str | None:
    """Render a timestamp as RFC 3339 in UTC."""
    if value is None:
        return None
    return as_utc(value).astimezone(UTC).isoformat().replace("+00:00", "Z")
