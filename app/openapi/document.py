"""Build the OpenAPI 3.1 document from the app's URL map and the views' declarations."""

import re

from flask import Flask
from werkzeug.routing import Rule

from app.auth.policy import required_policy
from app.openapi import schemas
from app.openapi.declaration import Declaration, declaration_of

VERSION = "0.1.0"
_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_METHODS = ("get", "post", "put", "patch", "delete")
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
            400: "Bad request", 404: "Not found", 409: "Conflict", 413: "Too large",
            401: "No valid API key", 403: "Outside the key's scopes",
            422: "Input does not match the schema", 429: "Too many requests",
            503: "Unavailable; retry later"}


def openapi_path(rule: str) -> str:
    """Turn a Flask rule into an OpenAPI path: ``/x/<path:did>`` -> ``/x/{did}``."""
    return _ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule)


def build_document(app: Flask) -> dict:
    """Return the OpenAPI 3.1 document of every route the app serves (static aside)."""
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        declaration = declaration_of(view)
        item = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted(rule.methods or ()):
            if method.lower() in _METHODS:
                operation = _operation(rule, method.lower(), declaration)
                item[method.lower()] = _secured(operation, required_policy(view),
                                                method.lower())
    return {
        "openapi": "3.1.0",
        "info": {"title": "AgentField control plane (Flask + Celery)", "version": VERSION,
                 "description": "Wire-compatible with AgentField's REST API. Every error "
                                "is answered with the Error object."},
        "paths": paths,
        "components": {"schemas": schemas.COMPONENTS, "securitySchemes": _SCHEMES},
        "security": _ANY_KEY,
    }


# The key travels as AgentField's clients send it; ?api_key= only on GET (streams).
_SCHEMES = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "bearer": {"type": "http", "scheme": "bearer"},
    "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key"},
}
_ANY_KEY = [{"apiKey": []}, {"bearer": []}]


def _secured(operation: dict, policy: str, method: str) -> dict:
    """Say who may call the operation: ``security`` and the scope family it needs."""
    operation["x-required-scope"] = policy
    if policy == "public":
        operation["security"] = []
    else:
        operation["security"] = _ANY_KEY + (
            [{"apiKeyQuery": []}] if method == "get" else [])
        operation["responses"].setdefault("401", _error_response("No valid API key"))
        if policy != "authenticated":
            operation["responses"].setdefault(
                "403", _error_response(f"The key lacks the {policy!r} scope"))
    return operation


def _operation(rule: Rule, method: str, declaration: Declaration | None) -> dict:
    operation_id = f"{rule.endpoint}.{method}" + (
        "" if rule.rule == _canonical_rule(rule) else f".{_slug(rule.rule)}")
    if declaration is None:
        return {"operationId": operation_id, "summary": "(undeclared)",
                "responses": {"default": _error_response("Any error")}}
    operation: dict = {"operationId": operation_id, "summary": declaration.summary,
                       "tags": list(declaration.tags) or [rule.endpoint.split(".")[0]]}
    parameters = _path_parameters(rule) + [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in declaration.query.items()
    ] + [
        {"name": name, "in": "header", "required": False, "schema": schema}
        for name, schema in declaration.headers.items()
    ]
    if parameters:
        operation["parameters"] = parameters
    if declaration.body is not None:
        operation["requestBody"] = {
            "required": declaration.body_required,
            "content": {"application/json": {"schema": declaration.body}},
        }
    operation["responses"] = _responses(declaration)
    return operation


def _canonical_rule(rule: Rule) -> str:
    """The first rule of the endpoint: aliases of it get an operationId suffix."""
    return next(iter(rule.map.iter_rules(rule.endpoint))).rule


def _slug(rule: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", openapi_path(rule).lower()).strip("_")


def _path_parameters(rule: Rule) -> list[dict]:
    parameters = []
    for match in _ARGUMENT.finditer(rule.rule):
        schema: dict = {"type": "string", "minLength": 1}
        if match["converter"] != "path":
            schema["pattern"] = "^[^/]+$"
        parameters.append({"name": match["name"], "in": "path", "required": True,
                           "schema": schema})
    return parameters


def _responses(declaration: Declaration) -> dict:
    responses: dict = {}
    for status, schema in declaration.responses.items():
        response: dict = {"description": _REASONS.get(status, "OK")}
        if schema is not None:
            media = declaration.media_types.get(status, "application/json")
            response["content"] = {media: {"schema": schema}}
        responses[str(status)] = response
    for status in declaration.errors:
        responses[str(status)] = _error_response(_REASONS.get(status, "Error"))
    # Any operation may also answer 400 (bad body), 404/405, or 503 (a backend is down).
    responses["default"] = _error_response("Any other error, in the one error shape")
    return responses


def _error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": schemas.ERROR}}}
