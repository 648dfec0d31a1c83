"""API keys; who submitted, owns and reported each execution

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 19:40:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_keys',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()),
                                                  'postgresql'), nullable=True),
        sa.Column('sealed_report_key', sa.LargeBinary(), nullable=False),
        sa.Column('rate_limit', sa.Float(), nullable=True),
        sa.Column('rate_burst', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('owner_key_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('reported_by', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_executions_owner_key_id'), ['owner_key_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_executions_owner_key_id'))
        batch_op.drop_column('reported_by')
        batch_op.drop_column('owner_key_id')
        batch_op.drop_column('key_id')
    op.drop_table('api_keys')
