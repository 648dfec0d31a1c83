"""The context of the execution a function is running in (ids, session, actor)."""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agent_sdk.protocol import MESSAGE_OPTIONAL_IDS, MESSAGE_REQUIRED

# Asks the broker whether an execution was cancelled (execution id -> cancelled?).
CancelProbe = Callable[[str], bool]


@dataclass(frozen=True)
class ExecutionContext:
    """What a running reasoner or skill knows about its own execution."""

    execution_id: str
    run_id: str
    node_id: str
    function: str
    workflow_id: str | None = None
    parent_execution_id: str | None = None
    session_id: str | None = None
    actor_id: str | None = None
    extra: dict = field(default_factory=dict)
    # Set by the executor that runs the execution; None outside a worker.
    cancel_probe: CancelProbe | None = field(default=None, compare=False, repr=False)

    @property
    def cancelled(self) -> bool:
        """True once the control plane has cancelled this execution (checks Redis)."""
        return bool(self.cancel_probe and self.cancel_probe(self.execution_id))

    def child_headers(self) -> dict[str, str]:
        """Headers that make a call from this execution its child in the same run."""
        headers = {
            "X-Run-ID": self.run_id,
            "X-Workflow-ID": self.workflow_id or self.run_id,
            "X-Parent-Execution-ID": self.execution_id,
            "X-Execution-ID": self.execution_id,
            "X-Agent-Node-ID": self.node_id,
            "X-Caller-Agent-ID": self.node_id,
        }
        if self.session_id:
            headers["X-Session-ID"] = self.session_id
        if self.actor_id:
            headers["X-Actor-ID"] = self.actor_id
        return headers

    @classmethod
    def from_message(cls, message: dict[str, Any],
                     cancel_probe: CancelProbe | None = None) -> "ExecutionContext":
        """Read the context from an execution message (KeyError if a required id is missing)."""
        ids: dict[str, Any] = {name: message[name] for name in MESSAGE_REQUIRED}
        ids.update((name, message.get(name)) for name in MESSAGE_OPTIONAL_IDS)
        return cls(
            **ids,
            extra=message.get("context") or {},
            cancel_probe=cancel_probe,
        )


current_context: ContextVar[ExecutionContext | None] = ContextVar(
    "agentfield_execution_context", default=None
)


def get_context() -> ExecutionContext | None:
    """Return the context of the execution running in this thread or task, if any."""
    return current_context.get()
