"""Vector memory: store embeddings per scope instance and rank them by cosine similarity.

The search is exact (every embedding of the scope instance and dimension is scored), on
PostgreSQL and SQLite alike, so both give the same results for the same data. pgvector
would index it on PostgreSQL, but no package of it exists for this platform's PostgreSQL
(see docs/ARCHITECTURE.md).
"""

import math

from sqlalchemy import select

from app.errors import InvalidField
from app.extensions import db
from app.models import MemoryVector
from app.models.types import isoformat, utcnow
from memory.scopes import validate_key

MAX_DIMENSIONS = 4096
MAX_TOP_K = 1000


def check_embedding(value, field: str) -> list[float]:
    """Return the embedding as floats, or raise InvalidField saying what is wrong."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_DIMENSIONS:
        raise InvalidField(f"'{field}' must be a list of 1 to {MAX_DIMENSIONS} numbers",
                           {"field": field})
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
               for x in value):
        raise InvalidField(f"'{field}' must hold finite numbers only", {"field": field})
    return [float(x) for x in value]


def set_vector(scope: str, scope_id: str, key: str, embedding: list[float],
               metadata: dict) -> dict:
    """Insert or replace the embedding under ``key``; return its description."""
    validate_key(key)
    row = db.session.scalars(select(MemoryVector).filter_by(
        scope=scope, scope_id=scope_id, key=key)).first()
    now = utcnow()
    if row is None:
        row = MemoryVector(scope=scope, scope_id=scope_id, key=key, created_at=now)
        db.session.add(row)
    row.embedding, row.dimensions, row.vector_metadata = embedding, len(embedding), metadata
    row.updated_at = now
    db.session.commit()
    return {"key": key, "scope": scope, "scope_id": scope_id, "dimensions": len(embedding),
            "metadata": metadata, "created_at": isoformat(row.created_at),
            "updated_at": isoformat(now)}


def delete_vector(scope: str, scope_id: str, key: str) -> bool:
    row = db.session.scalars(select(MemoryVector).filter_by(
        scope=scope, scope_id=scope_id, key=key)).first()
    if row is None:
        return False
    db.session.delete(row)
    db.session.commit()
    return True


def search(scope: str, scope_id: str, query: list[float], top_k: int,
           filters: dict) -> list[dict]:
    """Rank the scope instance's embeddings of the query's dimension, best first."""
    rows = db.session.execute(select(
        MemoryVector.key, MemoryVector.embedding, MemoryVector.vector_metadata,
    ).filter_by(scope=scope, scope_id=scope_id, dimensions=len(query))).all()
    db.session.rollback()
    query_norm = _norm(query)
    hits = [
        {"key": key, "score": _cosine(query, embedding, query_norm), "metadata": metadata or {},
         "scope": scope, "scope_id": scope_id}
        for key, embedding, metadata in rows
        if all((metadata or {}).get(name) == value for name, value in filters.items())
    ]
    hits.sort(key=lambda hit: (-hit["score"], hit["key"]))
    return hits[:top_k]


def _norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def _cosine(query: list[float], other: list[float], query_norm: float) -> float:
    other_norm = _norm(other)
    if query_norm == 0 or other_norm == 0:
        return 0.0
    return round(math.fsum(a * b for a, b in zip(query, other, strict=True))
                 / (query_norm * other_norm), 12)
