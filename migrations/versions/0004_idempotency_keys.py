"""Idempotency keys on executions (unique while they live).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 15:02:31.544857

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('request_fingerprint', sa.String(length=64), nullable=True))
    # Partial: rows without a key (nearly all) cost the unique index nothing.
    op.create_index('uq_executions_idempotency_key', 'executions', ['idempotency_key'],
                    unique=True,
                    postgresql_where=sa.text('idempotency_key IS NOT NULL'),
                    sqlite_where=sa.text('idempotency_key IS NOT NULL'))



def downgrade():
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_index('uq_executions_idempotency_key')
        batch_op.drop_column('request_fingerprint')
        batch_op.drop_column('idempotency_key')

