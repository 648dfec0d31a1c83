"""Identity: DID keys held by the control plane and execution credentials.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:12:11.885674

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('did_keys',
    sa.Column('did', sa.String(length=128), nullable=False),
    sa.Column('node_id', sa.String(length=128), nullable=False),
    sa.Column('function', sa.String(length=128), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sealed_seed', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('did')
    )
    with op.batch_alter_table('did_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_did_keys_node_id'), ['node_id'], unique=False)

    op.create_table('execution_credentials',
    sa.Column('credential_id', sa.String(length=64), nullable=False),
    sa.Column('execution_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=128), nullable=False),
    sa.Column('issuer_did', sa.String(length=128), nullable=False),
    sa.Column('vc_jwt', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('credential_id'),
    sa.UniqueConstraint('execution_id')
    )
    with op.batch_alter_table('execution_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_execution_credentials_run_id'), ['run_id'], unique=False)



def downgrade():
    with op.batch_alter_table('execution_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_execution_credentials_run_id'))

    op.drop_table('execution_credentials')
    with op.batch_alter_table('did_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_did_keys_node_id'))

    op.drop_table('did_keys')
