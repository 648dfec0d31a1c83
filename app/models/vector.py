"""Vector memory: embeddings with metadata, scoped like the rest of memory."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import EmbeddingType, JSONType, utcnow


class MemoryVector(db.Model):
    """One embedding under a key in a scope instance."""

    __tablename__ = "memory_vectors"
    __table_args__ = (sa.UniqueConstraint("scope", "scope_id", "key"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(sa.String(16))
    scope_id: Mapped[str] = mapped_column(sa.String(256))
    key: Mapped[str] = mapped_column(sa.String(256))
    dimensions: Mapped[int] = mapped_column(sa.Integer)
    embedding = mapped_column(EmbeddingType)
    vector_metadata = mapped_column("metadata", JSONType, default=dict)
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
