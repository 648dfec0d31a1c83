"""Execution and ExecutionNote: the durable record of every call."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import JSONType, utcnow


class Execution(db.Model):
    """One call of a reasoner or skill, written before anything runs."""

    __tablename__ = "executions"
    # Partial: rows without a key (nearly all) cost the unique index nothing.
    __table_args__ = (
        sa.Index("uq_executions_idempotency_key", "idempotency_key", unique=True,
                 postgresql_where=sa.text("idempotency_key IS NOT NULL"),
                 sqlite_where=sa.text("idempotency_key IS NOT NULL")),
        # Only running rows: counting a node's running executions stays cheap.
        sa.Index("ix_executions_running_by_node", "agent_node_id",
                 postgresql_where=sa.text("status = 'running'"),
                 sqlite_where=sa.text("status = 'running'")),
    )

    execution_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(128), index=True)
    parent_execution_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    agent_node_id: Mapped[str] = mapped_column(sa.String(128), index=True)
    reasoner_id: Mapped[str] = mapped_column(sa.String(128))
    type: Mapped[str] = mapped_column(sa.String(16), default="reasoner")
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    # How the caller waits: "sync" (a request blocks on it), "async", or "inline"
    # (the calling agent runs it in-process; nothing is enqueued).
    mode: Mapped[str] = mapped_column(sa.String(8), default="async")
    input_payload = mapped_column(JSONType, nullable=True)
    context = mapped_column(JSONType, nullable=True)
    result_payload = mapped_column(JSONType, nullable=True)
    error_message: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    error_type: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    session_id: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    actor_id: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    attempt: Mapped[int] = mapped_column(sa.Integer, default=0)
    # A client's Idempotency-Key (unique while it lives) and what the request looked like.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    # The failed tries a worker retried within one run (per the function's policy).
    attempt_log = mapped_column(JSONType, nullable=True)
    # True when an execution_webhooks row announces its end (saves a lookup per finish).
    has_webhook: Mapped[bool] = mapped_column(sa.Boolean, default=False,
                                              server_default=sa.false())
    # Who asked: the API key that submitted it, and the key that owns its run (the
    # root's submitter, inherited by every child); None with authentication off.
    key_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    owner_key_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True,
                                                     index=True)
    # Who reported the outcome ("key:<id>", "control-plane"); a credential is issued
    # only when it is set, and names it.
    reported_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
    started_at = mapped_column(sa.DateTime(timezone=True), nullable=True)
    # Indexed for retention: the oldest ended executions are deleted first.
    completed_at = mapped_column(sa.DateTime(timezone=True), nullable=True, index=True)
    duration_ms: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    updated_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class ExecutionNote(db.Model):
    """A note an agent attached to an execution with ``app.note()``."""

    __tablename__ = "execution_notes"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    execution_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    message: Mapped[str] = mapped_column(sa.Text)
    tags = mapped_column(JSONType, default=list)
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
