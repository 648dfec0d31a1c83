"""``api_doc``: a view's OpenAPI declaration, attached to the function it describes."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__api_doc__"


@dataclass(frozen=True)
class Declaration:
    """What one view accepts and answers, as plain JSON Schema dicts."""

    summary: str
    body: dict | None = None
    body_required: bool = True
    responses: Mapping[int, dict | None] = field(default_factory=dict)
    errors: Sequence[int] = ()
    query: Mapping[str, dict] = field(default_factory=dict)
    headers: Mapping[str, dict] = field(default_factory=dict)
    media_types: Mapping[int, str] = field(default_factory=dict)
    tags: Sequence[str] = ()


def api_doc(summary: str, **declared: Any) -> Callable[[F], F]:
    """Declare a view's request and response schemas; return the view unchanged.

    ``body`` is the JSON request body's schema, ``responses`` maps each success status to
    its schema (None: no body), ``errors`` lists the 4xx/5xx statuses answered with the
    shared error shape, ``query`` and ``headers`` map parameter names to schemas.

    Example::

        @bp.get("/<node_id>")
        @api_doc("Get one node", responses={200: NODE}, errors=(404,))
        def get_node(node_id): ...
    """
    declaration = Declaration(summary, **declared)

    def decorator(view: F) -> F:
        setattr(view, ATTRIBUTE, declaration)
        return view

    return decorator


def declaration_of(view: Callable) -> Declaration | None:
    """Return the view's declaration, or None when it has none."""
    return getattr(view, ATTRIBUTE, None)
