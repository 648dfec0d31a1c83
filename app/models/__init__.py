"""Database tables: API keys, agent nodes, executions, notes, webhooks, DID keys and credentials."""

from app.models.api_key import ApiKey
from app.models.execution import Execution, ExecutionNote
from app.models.identity import DidKey, ExecutionCredential
from app.models.node import AgentNode
from app.models.vector import MemoryVector
from app.models.webhook import ExecutionWebhook, ExecutionWebhookEvent

__all__ = ["AgentNode", "ApiKey", "DidKey", "Execution", "ExecutionCredential", "ExecutionNote",
           "ExecutionWebhook", "ExecutionWebhookEvent", "MemoryVector"]
