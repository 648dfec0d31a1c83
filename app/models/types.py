"""Column types shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType

JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


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
