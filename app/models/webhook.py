"""Webhooks registered with async executions, and every attempt to deliver one."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import JSONType, utcnow


class ExecutionWebhook(db.Model):
    """Where to announce an execution's end, and how far delivery has got.

    ``state`` moves pending -> delivering -> delivered | pending (a retry) | failed; the
    move to delivering is a conditional UPDATE, so one attempt runs at a time.
    """

    __tablename__ = "execution_webhooks"

    execution_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text)
    # Sealed with AGENTFIELD_SECRET_KEY (AES-GCM); never returned by any endpoint.
    sealed_secret: Mapped[bytes | None] = mapped_column(sa.LargeBinary, nullable=True)
    headers = mapped_column(JSONType, nullable=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending", index=True)
    # Stays the same across retries and redeliveries, so receivers can drop duplicates.
    delivery_id: Mapped[str] = mapped_column(sa.String(64))
    # The exact body sent, fixed at the first attempt: every retry sends the same bytes.
    payload: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    attempt_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at = mapped_column(sa.DateTime(timezone=True), nullable=True)
    lease_until = mapped_column(sa.DateTime(timezone=True), nullable=True)
    last_attempt_at = mapped_column(sa.DateTime(timezone=True), nullable=True)
    delivered_at = mapped_column(sa.DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class ExecutionWebhookEvent(db.Model):
    """One delivery attempt: when, what came back, and how long it took."""

    __tablename__ = "execution_webhook_events"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    delivery_id: Mapped[str] = mapped_column(sa.String(64))
    attempt: Mapped[int] = mapped_column(sa.Integer)
    event_type: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16))  # delivered or failed
    http_status: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    response_body: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
