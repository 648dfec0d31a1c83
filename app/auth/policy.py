"""What a view needs, declared beside it: ``@requires(policy)``.

A view without a declaration needs ``admin`` (closed by default), and a test fails for
any route that has none. Stdlib only, so the OpenAPI builder can read it too.
"""

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__required_scope__"
# public: no key; authenticated: any valid key (the view may check more); the others
# name the family of scopes the key needs (app/auth/scopes.py).
POLICIES = ("public", "authenticated", "execute", "node", "memory:read", "memory:write",
            "admin")


def requires(policy: str) -> Callable[[F], F]:
    """Declare what a view needs, one of ``POLICIES``; return the view unchanged.

    Example::

        @bp.post("/<node_id>/heartbeat")
        @requires("node")
        def heartbeat(node_id): ...
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; one of {POLICIES}")

    def decorator(view: F) -> F:
        setattr(view, ATTRIBUTE, policy)
        return view

    return decorator


def required_policy(view: Callable | None) -> str:
    """The policy a view declared; ``admin`` when it declared none."""
    return getattr(view, ATTRIBUTE, "admin")


def declared_policy(view: Callable | None) -> str | None:
    """The policy a view declared, or None (for the test that wants one everywhere)."""
    return getattr(view, ATTRIBUTE, None)
