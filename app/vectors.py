"""Vector memory: store embeddings per scope instance and rank them by cosine similarity.

On PostgreSQL the embeddings are pgvector ``vector`` values, and each dimension in use
gets an HNSW index (cosine) on ``embedding::vector(d)``, limited to rows of that
dimension; it is created the first time a vector of that size is stored. pgvector 0.8's
iterative scans keep a filtered search (scope, metadata) from returning too few rows.
On SQLite the search is exact. Both give the same ranking for the same data.
"""

import logging
import math

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import JSONB

from app.errors import InvalidField
from app.extensions import db
from app.models import MemoryVector
from app.models.types import PgVector, isoformat, utcnow
from memory.scopes import validate_key

log = logging.getLogger(__name__)

MAX_DIMENSIONS = 4096
MAX_TOP_K = 1000
HNSW_MAX_DIMENSIONS = 2000  # pgvector's limit for an HNSW index on ``vector``
FLOAT4_MAX = 3.4028234663852886e38  # the largest 4-byte float: pgvector's element type
_indexed: set[int] = set()
_iterative: bool | None = None


def check_embedding(value, field: str) -> list[float]:
    """Return the embedding as floats, or raise InvalidField saying what is wrong."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_DIMENSIONS:
        raise InvalidField(f"'{field}' must be a list of 1 to {MAX_DIMENSIONS} numbers",
                           {"field": field})
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
               and abs(x) <= FLOAT4_MAX for x in value):
        raise InvalidField(f"'{field}' must hold finite numbers of at most {FLOAT4_MAX:.4g} "
                           "in size (pgvector stores 4-byte floats)", {"field": field})
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
    if _on_postgres():
        _ensure_index(len(embedding))
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


def _on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _ensure_index(dimensions: int) -> None:
    """Create the HNSW index for this dimension once (every process remembers it)."""
    if dimensions in _indexed or dimensions > HNSW_MAX_DIMENSIONS:
        return
    statement = sa.text(
        f"CREATE INDEX IF NOT EXISTS ix_memory_vectors_hnsw_{dimensions} ON memory_vectors "
        f"USING hnsw ((embedding::vector({dimensions})) vector_cosine_ops) "
        f"WHERE dimensions = {dimensions}")
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(statement)
    except sa.exc.DBAPIError as exc:  # two processes raced to create it: it exists
        log.info("HNSW index for %d dimensions not created here: %s", dimensions, exc.orig)
    _indexed.add(dimensions)


def search(scope: str, scope_id: str, query: list[float], top_k: int,
           filters: dict) -> list[dict]:
    """Rank the scope instance's embeddings of the query's dimension, best first."""
    if _on_postgres():
        return _search_postgres(scope, scope_id, query, top_k, filters)
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


def _search_postgres(scope, scope_id, query, top_k, filters) -> list[dict]:
    dimensions = len(query)
    typed = PgVector(dimensions)  # the cast the dimension's index is built on
    distance = sa.cast(MemoryVector.embedding, typed).op("<=>", return_type=sa.Float)(
        sa.cast(sa.literal(query, typed), typed))
    conditions = [MemoryVector.scope == scope, MemoryVector.scope_id == scope_id,
                  MemoryVector.dimensions == dimensions]
    conditions += [MemoryVector.vector_metadata[name] == sa.cast(sa.literal(value, JSONB), JSONB)
                   for name, value in filters.items()]
    statement = (select(MemoryVector.key, MemoryVector.vector_metadata, distance)
                 .where(*conditions).order_by(distance, MemoryVector.key).limit(top_k))
    if _iterative_scans():
        db.session.execute(sa.text("SET LOCAL hnsw.iterative_scan = strict_order"))
    rows = db.session.execute(statement).all()
    db.session.rollback()
    hits = [{"key": key, "score": _similarity(distance_value), "metadata": metadata or {},
             "scope": scope, "scope_id": scope_id}
            for key, metadata, distance_value in rows]
    hits.sort(key=lambda hit: (-hit["score"], hit["key"]))
    return hits


def _iterative_scans() -> bool:
    """Whether the server's pgvector (0.8+) can keep scanning the index past filtered rows.

    Older versions reject the setting; managed databases may still run one.
    """
    global _iterative
    if _iterative is None:
        version = db.session.execute(sa.text(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'")).scalar() or "0"
        _iterative = tuple(int(p) for p in version.split(".")[:2] if p.isdigit()) >= (0, 8)
        if not _iterative:
            log.warning("pgvector %s has no iterative index scans: a filtered vector search "
                        "may return fewer than top_k hits; upgrade to 0.8 or later", version)
    return _iterative


def _similarity(distance: float | None) -> float:
    """Cosine similarity from pgvector's distance (NaN for a zero vector: 0, as on SQLite)."""
    if distance is None or math.isnan(distance):
        return 0.0
    return round(1.0 - distance, 12)


def _norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def _cosine(query: list[float], other: list[float], query_norm: float) -> float:
    other_norm = _norm(other)
    if query_norm == 0 or other_norm == 0:
        return 0.0
    return round(math.fsum(a * b for a, b in zip(query, other, strict=True))
                 / (query_norm * other_norm), 12)
