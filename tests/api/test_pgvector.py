"""On PostgreSQL, vector memory is stored in pgvector and searched through an HNSW index."""

import uuid

import psycopg2
import pytest

from tests.conftest import DATABASE_URL


def _query(sql: str, *args):
    conn = psycopg2.connect(DATABASE_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("SET enable_seqscan = off")  # as on a table too big to scan
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def five_dimensional(api):
    session = f"pgv-{uuid.uuid4().hex[:6]}"
    for n in range(20):
        api.post("/api/v1/memory/vector/set", headers={"X-Session-ID": session}, json={
            "key": f"doc-{n}", "embedding": [1.0, n / 10, 0.5, 0.0, (n % 3) / 3],
            "metadata": {"n": n}})
    return session


def test_embeddings_are_pgvector_values(five_dimensional):
    [(column_type,)] = _query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                              "WHERE attrelid = 'memory_vectors'::regclass "
                              "AND attname = 'embedding'")
    [(typed,)] = _query("SELECT pg_typeof(embedding)::text FROM memory_vectors "
                        "WHERE scope_id = %s LIMIT 1", five_dimensional)
    assert (column_type, typed) == ("vector", "vector")


def test_each_dimension_gets_an_hnsw_index_that_the_search_uses(five_dimensional):
    [(definition,)] = _query("SELECT indexdef FROM pg_indexes "
                             "WHERE indexname = 'ix_memory_vectors_hnsw_5'")
    assert "USING hnsw" in definition and "vector_cosine_ops" in definition
    plan = "\n".join(row[0] for row in _query(
        "EXPLAIN SELECT key FROM memory_vectors WHERE dimensions = 5 "
        "ORDER BY embedding::vector(5) <=> '[1,0.3,0.5,0,0]'::vector(5) LIMIT 3"))
    assert "ix_memory_vectors_hnsw_5" in plan, plan


def test_the_search_ranks_like_an_exact_scan(api, five_dimensional):
    query = [1.0, 0.7, 0.5, 0.0, 0.3]
    hits = api.post("/api/v1/memory/vector/search", headers={"X-Session-ID": five_dimensional},
                    json={"query_embedding": query, "top_k": 5}).json()
    exact = _query("SELECT key, 1 - (embedding <=> %s::vector) AS score FROM memory_vectors "
                   "WHERE scope_id = %s ORDER BY embedding <=> %s::vector, key LIMIT 5",
                   str(query), five_dimensional, str(query))
    assert [hit["key"] for hit in hits] == [key for key, _ in exact]
    assert [hit["score"] for hit in hits] == pytest.approx([score for _, score in exact])
    filtered = api.post("/api/v1/memory/vector/search",
                        headers={"X-Session-ID": five_dimensional},
                        json={"query_embedding": query, "top_k": 3, "filters": {"n": 2}}).json()
    assert [hit["key"] for hit in filtered] == ["doc-2"]
