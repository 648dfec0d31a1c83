"""Database tables: agent nodes, executions, notes, DID keys and credentials."""

from app.models.execution import Execution, ExecutionNote
from app.models.identity import DidKey, ExecutionCredential
from app.models.node import AgentNode
from app.models.vector import MemoryVector

__all__ = ["AgentNode", "DidKey", "Execution", "ExecutionCredential", "ExecutionNote",
           "MemoryVector"]
