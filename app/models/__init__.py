"""Database tables: agent nodes, executions and their notes."""

from app.models.execution import Execution, ExecutionNote
from app.models.node import AgentNode

__all__ = ["AgentNode", "Execution", "ExecutionNote"]
