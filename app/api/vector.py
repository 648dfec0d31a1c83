"""Vector memory endpoints: set, search and delete embeddings in a memory scope."""

from flask import Blueprint, request

from app import vectors
from app.errors import InvalidField
from app.jsonio import read_json_object
from app.memory_scope import body_key, write_target

bp = Blueprint("vector_memory", __name__, url_prefix="/api/v1/memory/vector")


def _dict(body: dict, field: str) -> dict:
    value = body.get(field) or {}
    if not isinstance(value, dict):
        raise InvalidField(f"'{field}' must be an object", {"field": field})
    return value


@bp.post("/set")
def set_vector():
    body = read_json_object()
    scope, scope_id = write_target(body, request.headers)
    embedding = vectors.check_embedding(body.get("embedding"), "embedding")
    return vectors.set_vector(scope.value, scope_id, body_key(body), embedding,
                              _dict(body, "metadata"))


@bp.post("/search")
def search_vectors():
    body = read_json_object()
    scope, scope_id = write_target(body, request.headers)
    query = vectors.check_embedding(body.get("query_embedding"), "query_embedding")
    top_k = body.get("top_k", 10)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= vectors.MAX_TOP_K:
        raise InvalidField(f"'top_k' must be between 1 and {vectors.MAX_TOP_K}",
                           {"field": "top_k"})
    return vectors.search(scope.value, scope_id, query, top_k, _dict(body, "filters"))


@bp.post("/delete")
def delete_vector():
    body = read_json_object()
    scope, scope_id = write_target(body, request.headers)
    vectors.delete_vector(scope.value, scope_id, body_key(body))
    return "", 204
