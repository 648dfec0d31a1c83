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
        batch_op.create_unique_constraint('uq_executions_idempotency_key', ['idempotency_key'])



def downgrade():
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_executions_idempotency_key', type_='unique')
        batch_op.drop_column('request_fingerprint')
        batch_op.drop_column('idempotency_key')

