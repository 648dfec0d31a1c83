"""JSON in and out: orjson responses and strict request-body parsing."""

import orjson
from flask import request
from flask.json.provider import JSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import InvalidJSON, InvalidJSONValue, JSONTooDeep, UnsupportedMediaType

# Arrays and objects nested deeper than this are refused: orjson writes at most 254
# levels, and a body is wrapped a few levels deeper on its way (the agent's message, the
# status view, memory events), so the bound leaves room to spare.
MAX_JSON_DEPTH = 64


class OrjsonProvider(JSONProvider):
    """Serialise responses with orjson (faster than the stdlib on every reply)."""

    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s, **kwargs):
        return orjson.loads(s)


def read_json_object(required: bool = True, *, nul_ok: bool = False) -> dict:
    """Return the request body as a dict, or raise the error that says what is wrong.

    ``nul_ok`` lets U+0000 through, for bodies that do not go into PostgreSQL as they are
    (memory values live in Redis, which stores any string).

    Raises:
        UnsupportedMediaType: a body whose Content-Type is not JSON (so a cross-site
            form post, which cannot send application/json, is refused).
        InvalidJSON: an empty (when required), malformed or non-object body.
        JSONTooDeep: arrays and objects nested deeper than MAX_JSON_DEPTH.
        InvalidJSONValue: U+0000 in a string or a name, unless ``nul_ok``.
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A body without Content-Length (chunked) is read up to the limit and no
        # further: one that reaches it is refused, not parsed cut short.
        raise RequestEntityTooLarge()
    if not raw.strip():
        if required:
            raise InvalidJSON("request body is empty; send a JSON object")
        return {}
    if not request.is_json:
        raise UnsupportedMediaType(
            f"send the body as application/json, not {request.mimetype or 'no type'!r}",
            {"content_type": request.content_type})
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidJSON("request body must be a JSON object")
    # Both scans are skipped by a byte count in C for nearly every body.
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:
        _check_depth(body)
    if not nul_ok and b"\\u0000" in raw:
        _check_no_nul(body)
    return body


def _check_depth(body: dict) -> None:
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise JSONTooDeep(f"request body nests arrays and objects more than "
                              f"{MAX_JSON_DEPTH} levels deep", {"max_depth": MAX_JSON_DEPTH})
        items = value.values() if isinstance(value, dict) else value
        stack.extend((item, depth + 1) for item in items if isinstance(item, dict | list))


def _check_no_nul(body: dict) -> None:
    path = nul_path(body)
    if path is not None:
        raise InvalidJSONValue(
            f"'{path}' holds the character U+0000, which cannot be stored",
            {"field": path})


def nul_path(value: object, path: str = "") -> str | None:
    """Return the dotted path of the first string or name holding U+0000, or None."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where or "(root)"
        elif isinstance(item, dict):
            for name, child in item.items():
                child_path = f"{where}.{name}" if where else name
                if "\x00" in name:
                    return child_path
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return None
