"""Registrations: a function, its kind and the input schema built from its signature."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, create_model

from agent_sdk.errors import (
    DuplicateRegistration,
    InputValidationError,
    InvalidSignature,
    NotRegistered,
)


@dataclass(frozen=True)
class RunPolicy:
    """How a function is run: retries for retryable failures, and a hard time limit.

    An exception is retryable when it is an instance of ``retry_on`` or carries
    ``retryable = True``; attempt n waits ``backoff * 2**(n-1)`` seconds first.
    """

    retries: int = 0
    retry_on: tuple[type[BaseException], ...] = ()
    backoff: float = 1.0
    timeout: float | None = None


@dataclass
class Registration:
    """One reasoner or skill: what the control plane is told, and how input is checked."""

    name: str
    kind: str  # "reasoner" or "skill"
    fn: Callable[..., Any]
    input_model: type[BaseModel]
    output_schema: dict
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    policy: RunPolicy = field(default_factory=RunPolicy)
    options: dict[str, Any] = field(default_factory=dict)  # as decorated, for middleware

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)

    def input_schema(self) -> dict:
        return self.input_model.model_json_schema()

    def to_wire(self) -> dict:
        """Describe the function as AgentField's registration body lists it."""
        body = {
            "id": self.name,
            "input_schema": self.input_schema(),
            "output_schema": self.output_schema,
            "tags": self.tags,
            "vc_enabled": True,
        }
        if self.description:
            body["description"] = self.description
        return body

    def bind(self, data: dict) -> dict:
        """Validate input and return the keyword arguments for the function.

        Raises:
            InputValidationError: listing each problem with its field path.
        """
        try:
            model = self.input_model.model_validate(data)
        except ValidationError as exc:
            problems = [{"path": "/".join(str(p) for p in e["loc"]) or "(root)",
                         "message": e["msg"]} for e in exc.errors()]
            raise InputValidationError(
                f"input does not match {self.name}(): {problems[0]['message']} "
                f"at '{problems[0]['path']}'", problems) from None
        kwargs = {name: getattr(model, name) for name in type(model).model_fields}
        kwargs.update(model.model_extra or {})
        return kwargs


def build_registration(fn: Callable, kind: str, name: str | None = None,
                       tags: list[str] | None = None,
                       description: str | None = None,
                       policy: RunPolicy | None = None,
                       options: dict[str, Any] | None = None) -> Registration:
    """Turn a function's signature and type hints into a Registration (at import time)."""
    if not callable(fn):
        raise InvalidSignature(f"{fn!r} is not callable")
    name = name or fn.__name__
    return Registration(
        name=name,
        kind=kind,
        fn=fn,
        input_model=_input_model(fn, name),
        output_schema=_output_schema(fn),
        tags=list(tags or []),
        description=description or _summary(fn),
        policy=policy or RunPolicy(),
        options=dict(options or {}),
    )


def _input_model(fn: Callable, name: str) -> type[BaseModel]:
    try:
        signature = inspect.signature(fn, eval_str=True)
    except (NameError, TypeError, ValueError) as exc:
        raise InvalidSignature(f"cannot read the signature of {name}(): {exc}") from exc
    fields: dict[str, Any] = {}
    extra: Literal["allow", "forbid"] = "forbid"
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            extra = "allow"
            continue
        if param.kind in (param.VAR_POSITIONAL, param.POSITIONAL_ONLY):
            raise InvalidSignature(
                f"{name}(): parameter '{param.name}' must be passable by keyword")
        annotation = Any if param.annotation is param.empty else param.annotation
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (annotation, default)
    config = ConfigDict(extra=extra, arbitrary_types_allowed=True)
    try:
        model: type[BaseModel] = create_model(f"{name}_input", __config__=config, **fields)
        model.model_json_schema()
    except Exception as exc:  # pydantic reports unsupported hints in several ways
        raise InvalidSignature(f"{name}(): cannot build an input schema: {exc}") from exc
    return model


def _output_schema(fn: Callable) -> dict:
    annotation = inspect.signature(fn, eval_str=True).return_annotation
    if annotation is inspect.Signature.empty:
        return {}
    try:
        return TypeAdapter(annotation).json_schema()
    except Exception:
        return {}


def _summary(fn: Callable) -> str | None:
    doc = inspect.getdoc(fn)
    return doc.strip().splitlines()[0] if doc else None


class Registry:
    """Registrations by name; reasoners and skills share one namespace per node."""

    def __init__(self) -> None:
        self._by_name: dict[str, Registration] = {}

    def add(self, registration: Registration) -> None:
        if registration.name in self._by_name:
            raise DuplicateRegistration(
                f"a function named '{registration.name}' is already registered")
        self._by_name[registration.name] = registration

    def get(self, name: str) -> Registration:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotRegistered(f"no reasoner or skill named '{name}'") from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def of_kind(self, kind: str) -> list[Registration]:
        return [r for r in self._by_name.values() if r.kind == kind]
