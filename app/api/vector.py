"""Vector memory endpoints: set, search and delete embeddings in a memory scope."""

from flask import Blueprint, request

from app import vectors
from app.auth.guard import current_principal
from app.auth.policy import requires
from app.errors import InvalidField
from app.jsonio import read_json_object
from app.memory_scope import body_key, check_readable, check_writable, write_target
from app.openapi import api_doc
from app.openapi import schemas as S

bp = Blueprint("vector_memory", __name__, url_prefix="/api/v1/memory/vector")


def _dict(body: dict, field: str) -> dict:
    value = body.get(field) or {}
    if not isinstance(value, dict):
        raise InvalidField(f"'{field}' must be an object", {"field": field})
    return value


@bp.post("/set")
@api_doc("Store an embedding", body=S.VECTOR_SET, headers=S.MEMORY_HEADERS,
         responses={200: S.VECTOR_STORED}, errors=(400,))
@requires("memory:write")
def set_vector():
    body = read_json_object()
    scope, scope_id = write_target(body, request.headers)
    check_writable(current_principal().grants, scope, scope_id)
    embedding = vectors.check_embedding(body.get("embedding"), "embedding")
    return vectors.set_vector(scope.value, scope_id, body_key(body), embedding,
                              _dict(body, "metadata"))


@bp.post("/search")
@api_doc("Nearest embeddings, best first", body=S.VECTOR_SEARCH,
         headers=S.MEMORY_HEADERS, responses={200: S.VECTOR_HITS}, errors=(400,))
@requires("memory:read")
def search_vectors():
    body = read_json_object()
    scope, scope_id = write_target(body, request.headers)
    check_readable(current_principal().grants, scope, scope_id)
    query = vectors.check_embedding(body.get("query_embedding"), "query_embedding")
    top_k = body.get("top_k", 10)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= vectors.MAX_TOP_K:
        raise InvalidField(f"'top_k' must be between 1 and {vectors.MAX_TOP_K}",
                           {"field": "top_k"})
    return vectors.search(scope.value, scope_id, query, top_k, _dict(body, "filters"))


@bp.post("/delete")
@api_doc("Delete an embedding", body=S.MEMORY_KEY_REQUEST,
         headers=S.MEMORY_HEADERS, responses={204: None}, errors=(400,))
@requires("memory:write")
def delete_vector():
    body = read_json_object()
    scope, scope_id = write_target(body, request.headers)
    check_writable(current_principal().grants, scope, scope_id)
    vectors.delete_vector(scope.value, scope_id, body_key(body))
    return "", 204
