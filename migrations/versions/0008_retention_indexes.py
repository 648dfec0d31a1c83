"""Indexes the retention job deletes by: executions.completed_at, credentials.created_at

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_executions_completed_at'), ['completed_at'],
                              unique=False)
    with op.batch_alter_table('execution_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_execution_credentials_created_at'),
                              ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('execution_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_execution_credentials_created_at'))
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_executions_completed_at'))
