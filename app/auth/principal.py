"""The caller of a request: which key it used and what that key allows."""

from dataclasses import dataclass
from datetime import datetime

from app.auth.scopes import FULL_ACCESS, Grants
from app.auth.tokens import ENV_KEY_ID


@dataclass(frozen=True)
class Principal:
    """An authenticated caller (or, with authentication off, the anonymous one)."""

    key_id: str | None  # None: authentication is off
    name: str
    grants: Grants
    expires_at: datetime | None = None
    revoked: bool = False
    rate_limit: float | None = None
    rate_burst: int | None = None

    @property
    def reporter(self) -> str | None:
        """How an outcome this caller reports is recorded (None: unauthenticated)."""
        return f"key:{self.key_id}" if self.key_id else None

    def acts_as(self, node_id: str) -> bool:
        """May this caller speak for ``node_id`` (register, report, note...)?"""
        return self.grants.admin or self.grants.node == node_id

    def owns(self, row: dict) -> bool:
        """Did this caller start the execution, or the run it belongs to?"""
        return self.key_id is not None and self.key_id in (row.get("key_id"),
                                                            row.get("owner_key_id"))

    def reads(self, row: dict) -> bool:
        """May this caller see the execution (input, result, notes, credential)?"""
        g = self.grants
        return (g.admin or g.read_all or self.owns(row)
                or (g.node is not None and g.node == row.get("agent_node_id"))
                or row.get("session_id") in g.read_sessions
                or row.get("actor_id") in g.read_actors)

    def manages(self, row: dict) -> bool:
        """May this caller cancel it, redeliver its webhook, see the webhook's URL?"""
        return self.grants.admin or self.owns(row)

    def visibility(self) -> dict | None:
        """The listing filter for ``reads`` (None: everything is visible)."""
        g = self.grants
        if g.admin or g.read_all:
            return None
        return {"key_id": self.key_id, "node_id": g.node,
                "sessions": sorted(g.read_sessions), "actors": sorted(g.read_actors)}


ANONYMOUS = Principal(key_id=None, name="anonymous (authentication off)",
                      grants=FULL_ACCESS)
# Who a request is before the check has said otherwise (public endpoints): allowed nothing.
NOBODY = Principal(key_id=None, name="nobody", grants=Grants())


# The holder of the server's AGENTFIELD_API_KEY: full access, as in AgentField.
ENV_PRINCIPAL = Principal(key_id=ENV_KEY_ID, name="AGENTFIELD_API_KEY", grants=FULL_ACCESS)
