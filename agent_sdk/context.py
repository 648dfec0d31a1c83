"""The context of the execution a function is running in (ids, session, actor)."""

from contextvars import ContextVar
from dataclasses import dataclass, field


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

    @property
    def cancelled(self) -> bool:
        """True once the control plane has cancelled this execution (checks Redis)."""
        return bool(_cancel_probe and _cancel_probe(self.execution_id))

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
    def from_message(cls, message: dict) -> "ExecutionContext":
        return cls(
            execution_id=message["execution_id"],
            run_id=message["run_id"],
            node_id=message["node_id"],
            function=message["function"],
            workflow_id=message.get("workflow_id"),
            parent_execution_id=message.get("parent_execution_id"),
            session_id=message.get("session_id"),
            actor_id=message.get("actor_id"),
            extra=message.get("context") or {},
        )


# Set by the Agent once it can reach the broker: execution id -> cancelled?
_cancel_probe = None


def set_cancel_probe(probe) -> None:
    """Install the function ``ExecutionContext.cancelled`` asks."""
    global _cancel_probe
    _cancel_probe = probe


current_context: ContextVar[ExecutionContext | None] = ContextVar(
    "agentfield_execution_context", default=None
)


def get_context() -> ExecutionContext | None:
    """Return the context of the execution running in this thread or task, if any."""
    return current_context.get()
