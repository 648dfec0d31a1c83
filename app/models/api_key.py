"""ApiKey: a scoped key for clients and agents, stored as a hash."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import JSONType, utcnow


class ApiKey(db.Model):
    """One key: its scopes, limits and life; the secret itself is never stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    scopes = mapped_column(JSONType)
    # The report-signing secret derived from the token, sealed like DID seeds: the
    # report consumer checks an agent's signed stream entries with it.
    sealed_report_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    rate_limit: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    rate_burst: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    created_at = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    expires_at = mapped_column(sa.DateTime(timezone=True), nullable=True)
    revoked_at = mapped_column(sa.DateTime(timezone=True), nullable=True)
