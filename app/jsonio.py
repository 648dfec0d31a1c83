"""JSON in and out: orjson responses and strict request-body parsing."""

import orjson
from flask import request
from flask.json.provider import JSONProvider

from app.errors import InvalidJSON


class OrjsonProvider(JSONProvider):
    """Serialise responses with orjson (faster than the stdlib on every reply)."""

    def dumps(self, obj, **kwargs) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s, **kwargs):
        return orjson.loads(s)


def read_json_object(required: bool = True) -> dict:
    """Return the request body as a dict, or raise InvalidJSON with the reason."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise InvalidJSON("request body is empty; send a JSON object")
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidJSON("request body must be a JSON object")
    return body
