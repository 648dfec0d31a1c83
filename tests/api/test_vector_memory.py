"""Vector memory ranks the same data the same way on PostgreSQL and on SQLite."""

import uuid

import pytest
from flask_migrate import upgrade

from app import create_app
from config import Config
from tests.conftest import API_KEY, REDIS_URL, keyed_client

DOCS = {
    "refund-policy": ([0.9, 0.1, 0.0], {"kind": "policy"}),
    "shipping-delay": ([0.1, 0.9, 0.1], {"kind": "faq"}),
    "refund-howto": ([0.8, 0.3, 0.1], {"kind": "faq"}),
    "unrelated": ([0.0, 0.0, 1.0], {"kind": "faq"}),
}
CASES = [
    ({"query_embedding": [1.0, 0.2, 0.0], "top_k": 3},
     ["refund-policy", "refund-howto", "shipping-delay"]),
    ({"query_embedding": [1.0, 0.2, 0.0], "top_k": 2, "filters": {"kind": "faq"}},
     ["refund-howto", "shipping-delay"]),
    ({"query_embedding": [0.0, 0.0, 2.0], "top_k": 1}, ["unrelated"]),
    ({"query_embedding": [1.0, 0.0], "top_k": 5}, []),  # no stored vector of that size
]


class AppClient:
    """The calls against an in-process app, answered as (status, JSON body)."""

    def __init__(self, app):
        self.client = keyed_client(app)

    def post(self, path, json, headers):
        response = self.client.post(path, json=json, headers=headers)
        return response.status_code, response.get_json()


def _sqlite_app(path):
    """The app on a fresh SQLite file, migrated (the embedded default's database)."""
    app = create_app(Config.from_env({"DATABASE_URL": f"sqlite:///{path}",
                                      "REDIS_URL": REDIS_URL,
                                      "AGENTFIELD_API_KEY": API_KEY}))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture(params=["postgresql", "sqlite"])
def client(request, tmp_path):
    if request.param == "sqlite":
        return AppClient(_sqlite_app(tmp_path / "vectors.db"))
    return AppClient(request.getfixturevalue("app"))


def _load(client, headers):
    for key, (embedding, metadata) in DOCS.items():
        status, body = client.post("/api/v1/memory/vector/set", {
            "key": key, "embedding": embedding, "metadata": metadata}, headers)
        assert status == 200 and body["dimensions"] == 3


@pytest.mark.parametrize("query, expected", CASES)
def test_search_ranks_by_cosine_similarity_on_both_databases(client, query, expected):
    headers = {"X-Session-ID": f"vec-{uuid.uuid4().hex[:6]}"}
    _load(client, headers)

    status, hits = client.post("/api/v1/memory/vector/search", query, headers)

    assert status == 200
    assert [hit["key"] for hit in hits] == expected
    assert all(hit["scope"] == "session" for hit in hits)
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores)


def test_vectors_are_scoped_replaced_and_deleted(client):
    mine, other = ({"X-Session-ID": f"vec-{uuid.uuid4().hex[:6]}"} for _ in range(2))
    _load(client, mine)
    client.post("/api/v1/memory/vector/set",
                {"key": "unrelated", "embedding": [1.0, 0.2, 0.0]}, mine)
    client.post("/api/v1/memory/vector/delete", {"key": "refund-policy"}, mine)

    _, top = client.post("/api/v1/memory/vector/search",
                         {"query_embedding": [1.0, 0.2, 0.0], "top_k": 1}, mine)
    _, elsewhere = client.post("/api/v1/memory/vector/search",
                               {"query_embedding": [1.0, 0.2, 0.0]}, other)

    assert top[0]["key"] == "unrelated" and top[0]["score"] == pytest.approx(1.0)
    assert elsewhere == []


@pytest.mark.parametrize("body, field", [
    ({"key": "k", "embedding": []}, "embedding"),
    ({"key": "k", "embedding": ["a"]}, "embedding"),
    ({"key": "k", "embedding": [1.0], "metadata": [1]}, "metadata"),
    # past float4, which pgvector stores (was a 500 DataError on PostgreSQL)
    ({"key": "k", "embedding": [1e39]}, "embedding"),
    ({"key": "k", "embedding": [1.0, -3.5e38]}, "embedding"),
])
def test_bad_vectors_are_refused(client, body, field):
    status, error = client.post("/api/v1/memory/vector/set", body, {})

    assert status == 400 and error["details"] == {"field": field}
