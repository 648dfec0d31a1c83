"""Authenticate every request and check the scope its view declares.

Each view says what it needs with ``@requires(policy)`` (``app/auth/policy.py``). The
policy is the coarse check, made before the view runs; a view that acts on one node,
execution or memory scope checks that too, with ``current_principal()``.
"""

import logging
from collections.abc import Callable

from flask import Flask, current_app, g, request

from app.auth.errors import AuthenticationError, InsufficientScope, InvalidApiKey
from app.auth.keys import authenticate
from app.auth.policy import required_policy
from app.auth.principal import ANONYMOUS, NOBODY, Principal
from app.auth.ratelimit import take_token
from app.auth.scopes import Grants

log = logging.getLogger("agentfield.audit")
_ALLOWS: dict[str, Callable[[Grants], bool]] = {
    "authenticated": lambda g: True,
    "execute": lambda g: g.may_execute,
    "node": lambda g: g.admin or g.node is not None,
    "memory:read": lambda g: g.may_read_memory,
    "memory:write": lambda g: g.may_write_memory,
    "admin": lambda g: g.admin,
}
_MAX_TOKEN = 512


def init_auth(app: Flask) -> None:
    """Check every request before its view runs; say loudly when checking is off."""
    if app.extensions["agentfield_config"].auth_disabled:
        log.warning("AUTHENTICATION IS OFF (AGENTFIELD_AUTH_DISABLED=1): anyone who can "
                    "reach this server can run, read and change everything, and no "
                    "execution credential is issued")
    app.before_request(check_request)


def check_request() -> None:
    """Authenticate the request and apply its view's policy (raises 401, 403, 429)."""
    # Each proxy is resolved once: this runs before every request.
    req, app = request._get_current_object(), current_app._get_current_object()
    if req.method == "OPTIONS" or req.endpoint is None:
        return  # werkzeug answers these itself (404, 405, the allowed methods)
    policy = required_policy(app.view_functions.get(req.endpoint))
    if policy == "public":
        return
    config = app.extensions["agentfield_config"]
    if config.auth_disabled:
        g.principal = ANONYMOUS
        return
    token = _token(req.environ, req.method)
    if token is None:
        raise AuthenticationError(
            "this endpoint needs an API key: send it as the X-API-Key header or as "
            "'Authorization: Bearer <key>' (streams may use ?api_key=)")
    principal = authenticate(token, config.api_key)
    g.principal = principal
    take_token(principal)
    if not _ALLOWS[policy](principal.grants):
        raise InsufficientScope(f"this key's scopes do not allow {policy!r} actions",
                                {"required": policy})
    if policy == "admin":
        log.info("admin %s %s by key %s", request.method, request.path, principal.key_id)


def current_principal() -> Principal:
    """The caller of the current request (anonymous when authentication is off).

    A request the check did not authenticate (a public endpoint) is nobody: allowed
    nothing, so a view that forgets its policy fails closed.
    """
    return g.get("principal", NOBODY)


def require(allowed: bool, required: str, message: str) -> None:
    """Refuse the action unless ``allowed`` (raises InsufficientScope, 403)."""
    if not allowed:
        raise InsufficientScope(message, {"required": required})


def _token(environ: dict, method: str) -> str | None:
    token = environ.get("HTTP_X_API_KEY")
    if not token:
        scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    if not token and method == "GET":
        token = request.args.get("api_key")
    if not token:
        return None
    if len(token) > _MAX_TOKEN or not token.isascii() or not token.isprintable():
        raise InvalidApiKey("the API key is not valid")
    return token
