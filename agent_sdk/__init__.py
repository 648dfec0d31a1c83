"""The SDK agents are written with: Agent, decorators, context, calls, notes, AI.

May import: nothing of the control plane's (it talks HTTP and to the broker only).
Names that need Celery or pydantic load on first use, so ``agent_sdk.protocol``,
``agent_sdk.settings`` and ``agent_sdk.errors`` import with the stdlib alone.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from agent_sdk.context import ExecutionContext
from agent_sdk.errors import (
    AgentSDKError,
    ControlPlaneResponseError,
    ControlPlaneUnavailable,
    DuplicateRegistration,
    ExecutionCancelledError,
    ExecutionFailedError,
    ExecutionRevoked,
    ExecutionTimeoutError,
    InputValidationError,
    InvalidSettings,
    InvalidSignature,
    NotRegistered,
    RegistrationClosed,
)
from agent_sdk.settings import AgentSettings

if TYPE_CHECKING:
    from agent_sdk.agent import Agent
    from agent_sdk.middleware import Invocation, Middleware, Retries, TimeLimit
    from agent_sdk.registry import RunPolicy

_LAZY = {
    "Agent": "agent_sdk.agent",
    "Invocation": "agent_sdk.middleware",
    "Middleware": "agent_sdk.middleware",
    "Retries": "agent_sdk.middleware",
    "TimeLimit": "agent_sdk.middleware",
    "RunPolicy": "agent_sdk.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agent_sdk' has no attribute {name!r}")


__all__ = [
    "Agent",
    "AgentSDKError",
    "AgentSettings",
    "ControlPlaneResponseError",
    "ControlPlaneUnavailable",
    "DuplicateRegistration",
    "ExecutionCancelledError",
    "ExecutionContext",
    "ExecutionFailedError",
    "ExecutionRevoked",
    "ExecutionTimeoutError",
    "InputValidationError",
    "InvalidSettings",
    "InvalidSignature",
    "Invocation",
    "Middleware",
    "NotRegistered",
    "RegistrationClosed",
    "Retries",
    "RunPolicy",
    "TimeLimit",
]
