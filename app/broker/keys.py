"""Every Redis key the control plane reads or writes, by family, under one namespace.

The families shared with agents (``lease``, ``cancel``, ``reports``) must match
agent_sdk/protocol.py; the rest are the control plane's own.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Build keys under ``namespace`` (``AGENTFIELD_NAMESPACE``, default ``af``)."""

    namespace: str

    def lease(self, execution_id: str) -> str:
        """Held by the worker running the execution; ``done`` once it reported."""
        return f"{self.namespace}:lease:{execution_id}"

    def cancel(self, execution_id: str) -> str:
        """Set when the execution is cancelled; workers check it."""
        return f"{self.namespace}:cancel:{execution_id}"

    @property
    def reports(self) -> str:
        """The stream agents append their status reports to."""
        return f"{self.namespace}:reports"

    @property
    def dead_reports(self) -> str:
        """Stream entries the report consumer could not apply (capped), for operators."""
        return f"{self.namespace}:reports:dead"

    def done(self, execution_id: str) -> str:
        """The list a sync request blocks on until its execution ends."""
        return f"{self.namespace}:done:{execution_id}"

    def resent(self, execution_id: str) -> str:
        """Marks a message re-sent by a recovery sweep in the current interval."""
        return f"{self.namespace}:resent:{execution_id}"

    @property
    def refused_reports(self) -> str:
        """How many reports were refused as not from the execution's node (a counter)."""
        return f"{self.namespace}:reports:refused"

    def rate_bucket(self, key_id: str) -> str:
        """An API key's rate-limit bucket (a hash: tokens, at)."""
        return f"{self.namespace}:ratelimit:{key_id}"

    def circuit(self, node_id: str) -> str:
        """The node's circuit state (a hash: state, reason, opened_at, why)."""
        return f"{self.namespace}:circuit:{node_id}"

    def circuit_probe(self, node_id: str) -> str:
        """Taken by the one probe execution a half-open circuit lets through."""
        return f"{self.namespace}:circuit:{node_id}:probe"

    def circuit_outcomes(self, node_id: str) -> str:
        """The node's recent outcomes (a capped list of b"1"/b"0")."""
        return f"{self.namespace}:circuit:{node_id}:outcomes"
