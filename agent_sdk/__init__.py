"""The SDK agents are written with: Agent, decorators, context, calls, notes, AI.

May import: nothing of the control plane's (it talks HTTP and to the broker only).
"""

from agent_sdk.agent import Agent
from agent_sdk.context import ExecutionContext
from agent_sdk.errors import (
    AgentSDKError,
    ControlPlaneResponseError,
    ControlPlaneUnavailable,
    ExecutionCancelledError,
    ExecutionFailedError,
    ExecutionTimeoutError,
    InputValidationError,
)

__all__ = [
    "Agent",
    "AgentSDKError",
    "ControlPlaneResponseError",
    "ControlPlaneUnavailable",
    "ExecutionCancelledError",
    "ExecutionContext",
    "ExecutionFailedError",
    "ExecutionTimeoutError",
    "InputValidationError",
]
