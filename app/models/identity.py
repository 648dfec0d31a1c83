"""DID keys held by the control plane, and the credentials issued for executions."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import utcnow

ROOT_NODE = "_control_plane"


class DidKey(db.Model):
    """One Ed25519 key and its did:key: the root, an agent node, or one of its functions."""

    __tablename__ = "did_keys"

    did: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    node_id: Mapped[str] = mapped_column(sa.String(128), index=True)
    # None for the node's own DID; the reasoner or skill name otherwise.
    function: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # root, agent, reasoner, skill
    # The private seed, sealed with AGENTFIELD_SECRET_KEY (AES-GCM): never leaves the server.
    sealed_seed: Mapped[bytes] = mapped_column(sa.LargeBinary)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")  # or inactive, rotated
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    retired_at = mapped_column(sa.DateTime(timezone=True), nullable=True)


class ExecutionCredential(db.Model):
    """The VC-JWT issued when an execution reached a terminal state."""

    __tablename__ = "execution_credentials"

    credential_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    execution_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    run_id: Mapped[str] = mapped_column(sa.String(128), index=True)
    issuer_did: Mapped[str] = mapped_column(sa.String(128))
    vc_jwt: Mapped[str] = mapped_column(sa.Text)
    # Indexed for retention, which deletes the oldest first.
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow, index=True)
