"""Admin endpoints for API keys: create (the token is shown once), list, revoke."""

from datetime import timedelta

from flask import Blueprint

from app.auth.guard import current_principal
from app.auth.keys import create_key, list_keys, revoke_key
from app.auth.policy import requires
from app.errors import InvalidField
from app.jsonio import read_json_object
from app.models.types import utcnow
from app.openapi import api_doc
from app.openapi import schemas as S

bp = Blueprint("keys", __name__, url_prefix="/api/v1/admin/keys")

_MAX_NAME = 128
_MAX_LIFETIME = 10 * 365 * 86_400


@bp.post("")
@api_doc("Create an API key (its token is in this answer only)", body=S.KEY_REQUEST,
         responses={201: S.KEY_CREATED}, errors=(400,), tags=["admin"])
@requires("admin")
def create_api_key():
    body = read_json_object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
        raise InvalidField(f"'name' must be 1 to {_MAX_NAME} characters", {"field": "name"})
    scopes = body.get("scopes")
    expires_in = _number(body, "expires_in_seconds", 1, _MAX_LIFETIME)
    rate = _number(body, "rate_limit", 0.001, 100_000)
    burst = _number(body, "rate_burst", 1, 1_000_000, integer=True)
    view, token = create_key(
        name.strip(), scopes, rate_limit=rate, rate_burst=burst,
        expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None,
        created_by=f"key:{current_principal().key_id}")
    return {**view, "token": token}, 201


@bp.get("")
@api_doc("List API keys (prefixes only, never a secret)", responses={200: S.KEY_LIST},
         tags=["admin"])
@requires("admin")
def list_api_keys():
    keys = list_keys()
    return {"keys": keys, "count": len(keys)}


@bp.delete("/<key_id>")
@bp.post("/<key_id>/revoke")
@api_doc("Revoke an API key", responses={200: S.KEY}, errors=(404,), tags=["admin"])
@requires("admin")
def revoke_api_key(key_id: str):
    return revoke_key(key_id, revoked_by=f"key:{current_principal().key_id}")


def _number(body: dict, field: str, low: float, high: float, integer: bool = False):
    value = body.get(field)
    if value is None:
        return None
    kinds = int if integer else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidField(f"'{field}' must be a {'whole ' if integer else ''}number from "
                           f"{low:g} to {high:g}", {"field": field})
    return value
