"""AgentNode: a registered agent, its functions and its liveness."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import JSONType, utcnow


class AgentNode(db.Model):
    """One agent node; all its instances share the row and the queue."""

    __tablename__ = "agent_nodes"

    id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(64), default="")
    base_url: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    team_id: Mapped[str] = mapped_column(sa.String(128), default="default")
    reasoners: Mapped[list] = mapped_column(JSONType, default=list)
    skills: Mapped[list] = mapped_column(JSONType, default=list)
    node_metadata: Mapped[dict] = mapped_column("metadata", JSONType, default=dict)
    lifecycle_status: Mapped[str] = mapped_column(sa.String(32), default="starting")
    health_status: Mapped[str] = mapped_column(sa.String(32), default="active")
    heartbeat_streak: Mapped[int] = mapped_column(sa.Integer, default=0)
    instance_id: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    registered_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    last_heartbeat = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
