"""Shared memory: scoped get/set/delete/list, atomic updates, change events (history, SSE)."""

import orjson
from flask import Blueprint, current_app, request

from app.api.params import int_arg
from app.auth.guard import current_principal
from app.auth.keys import still_usable
from app.auth.policy import requires
from app.errors import InvalidField
from app.jsonio import read_json_object
from app.memory_scope import (
    body_data,
    body_key,
    check_readable,
    check_writable,
    explicit_scope,
    readable_scope_ids,
    write_target,
)
from app.openapi import api_doc
from app.openapi import schemas as S
from app.streams import SHUTTING_DOWN, stream_response
from memory import MemoryNotFound, MemoryStore, Scope, parse_scope
from memory.codec import MAX_TTL_SECONDS

bp = Blueprint("memory", __name__, url_prefix="/api/v1/memory")

SSE_BLOCK_MS = 5000  # one keepalive comment per quiet read
_REPLAY_BATCH = 500


def get_store() -> MemoryStore:
    return current_app.extensions["memory_store"]


def _ttl(body: dict) -> int | None:
    ttl = body.get("ttl")
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool)
                            or not 0 <= ttl <= MAX_TTL_SECONDS):
        raise InvalidField(f"'ttl' must be a whole number of seconds from 0 (never expires) "
                           f"to {MAX_TTL_SECONDS}", {"field": "ttl"})
    return ttl


@bp.post("/set")
@api_doc("Store a value", body=S.MEMORY_SET, headers=S.MEMORY_HEADERS,
         responses={200: S.MEMORY}, errors=(400, 413))
@requires("memory:write")
def set_memory():
    body = read_json_object(nul_ok=True)
    scope, scope_id = _writable(body)
    return get_store().set(scope, scope_id, body_key(body), body_data(body),
                           ttl=_ttl(body))


@bp.post("/get")
@api_doc("Read a value (searching the scopes)", body=S.MEMORY_KEY_REQUEST,
         headers=S.MEMORY_HEADERS, responses={200: S.MEMORY}, errors=(400, 404))
@requires("memory:read")
def get_memory():
    body = read_json_object(nul_ok=True)
    key = body_key(body)
    found = _find(body, key)
    if found is None:
        raise MemoryNotFound(f"no memory under '{key}' in the scopes searched")
    return found


@bp.post("/exists")
@api_doc("Whether a value exists", body=S.MEMORY_KEY_REQUEST,
         headers=S.MEMORY_HEADERS, responses={200: S.EXISTS}, errors=(400,))
@requires("memory:read")
def memory_exists():
    body = read_json_object(nul_ok=True)
    key = body_key(body)
    return {"exists": _find(body, key) is not None}


@bp.post("/delete")
@api_doc("Delete a value", body=S.MEMORY_KEY_REQUEST, headers=S.MEMORY_HEADERS,
         responses={204: None}, errors=(400,))
@requires("memory:write")
def delete_memory():
    body = read_json_object(nul_ok=True)
    get_store().delete(*_writable(body), body_key(body))
    return "", 204


@bp.get("/list")
@api_doc("A scope instance's values", headers=S.MEMORY_HEADERS,
         query={"scope": S.MEMORY_SCOPE, "scope_id": S.STRING, "prefix": S.STRING},
         responses={200: S.MEMORY_LIST}, errors=(400,))
@requires("memory:read")
def list_memory():
    body = {"scope": request.args.get("scope"), "scope_id": request.args.get("scope_id")}
    scope, scope_id = write_target(body, request.headers)
    check_readable(current_principal().grants, scope, scope_id)
    return get_store().list(scope, scope_id, prefix=request.args.get("prefix") or None)


@bp.post("/increment")
@api_doc("Add to a number atomically", body=S.MEMORY_INCREMENT,
         headers=S.MEMORY_HEADERS, responses={200: S.MEMORY}, errors=(400, 409, 413))
@requires("memory:write")
def increment_memory():
    body = read_json_object(nul_ok=True)
    amount = body.get("amount", 1)
    if not isinstance(amount, (int, float)) or isinstance(amount, bool):
        raise InvalidField("'amount' must be a number", {"field": "amount"})
    scope, scope_id = _writable(body)
    return get_store().increment(scope, scope_id, body_key(body), amount, ttl=_ttl(body))


@bp.post("/compare-and-set")
@api_doc("Replace a value if it still equals expected",
         body=S.MEMORY_COMPARE_AND_SET, headers=S.MEMORY_HEADERS,
         responses={200: S.MEMORY}, errors=(400, 409, 413))
@requires("memory:write")
def compare_and_set_memory():
    body = read_json_object(nul_ok=True)
    scope, scope_id = _writable(body)
    return get_store().compare_and_set(scope, scope_id, body_key(body),
                                       body.get("expected"), body_data(body), ttl=_ttl(body))


def _writable(body: dict):
    """Where a write goes, if the caller's key may write there."""
    scope, scope_id = write_target(body, request.headers)
    check_writable(current_principal().grants, scope, scope_id)
    return scope, scope_id


def _find(body: dict, key: str) -> dict | None:
    """Read ``key`` in the named scope, or search the scopes the caller may read."""
    grants = current_principal().grants
    named = explicit_scope(body, request.headers)
    store = get_store()
    if named:
        check_readable(grants, *named)
        return store.get(*named, key)
    ids = readable_scope_ids(request.headers, grants)
    return store.resolve(ids, key, search_global=bool(ids[Scope.GLOBAL]))


def _visible(event: dict) -> bool:
    return current_principal().grants.reads_memory(event["scope"], event["scope_id"])


def _event_filters() -> dict:
    scope = request.args.get("scope") or None
    patterns = [p for p in (request.args.get("patterns") or "").split(",") if p.strip()]
    return {"scope": parse_scope(scope) if scope else None,
            "scope_id": request.args.get("scope_id") or None,
            "patterns": [p.strip() for p in patterns] or None}


@bp.get("/events/history")
@api_doc("Retained change events", query=S.EVENT_FILTERS,
         responses={200: S.EVENT_HISTORY}, errors=(400,))
@requires("memory:read")
def event_history():
    limit = int_arg("limit", 100, 1, 1000)
    events = [event for event in get_store().history(
        limit=limit, since_id=request.args.get("since_id"), **_event_filters())
        if _visible(event)]
    return {"events": events, "count": len(events)}


@bp.get("/events/sse")
@api_doc("Change events as Server-Sent Events", query=S.EVENT_FILTERS,
         headers={"Last-Event-ID": S.STRING}, responses={200: S.SSE_STREAM},
         media_types={200: "text/event-stream"}, errors=(400,))
@requires("memory:read")
def event_stream():
    filters = _event_filters()
    last_id = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    store = current_app.extensions["memory_store_blocking"]
    if last_id:
        store.events_after(last_id, count=1)  # validates the id before the stream starts
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    # One of this process's stream slots (503 too_many_streams when none is left).
    principal = current_principal()
    return stream_response(_frames(store, last_id, filters, principal),
                           mimetype="text/event-stream",
                           headers=headers)


def _frames(store: MemoryStore, last_id: str | None, filters: dict, principal):
    """Replay what the client missed, then follow the stream; keepalives when quiet."""
    grants = principal.grants
    replay = bool(last_id)
    # Taken before "connected" is sent: a write the client makes after seeing it comes
    # after this id, so it is never skipped.
    last_id = last_id or store.latest_event_id()
    yield ": connected\n\n"
    while replay and (batch := store.events_after(last_id, count=_REPLAY_BATCH)):
        for event in batch:
            last_id = event["id"]
            if MemoryStore.matches(event, **filters) and grants.reads_memory(
                    event["scope"], event["scope_id"]):
                yield _frame(event)
    # SHUTTING_DOWN: a restart does not wait on streams (clients reconnect with
    # Last-Event-ID and miss nothing).
    # A revoked or expired key ends the stream within a read (and the key cache's life).
    while not SHUTTING_DOWN.is_set() and still_usable(principal):
        events = store.read_events(last_id, block_ms=SSE_BLOCK_MS)
        if not events:
            yield ": keepalive\n\n"
        for event in events:
            last_id = event["id"]
            if MemoryStore.matches(event, **filters) and grants.reads_memory(
                    event["scope"], event["scope_id"]):
                yield _frame(event)


def _frame(event: dict) -> str:
    return f"id: {event['id']}\nevent: memory_change\ndata: {orjson.dumps(event).decode()}\n\n"



