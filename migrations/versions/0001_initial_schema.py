"""Initial schema: agent nodes, executions, execution notes.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 13:28:03.107412

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_nodes',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('base_url', sa.Text(), nullable=True),
    sa.Column('team_id', sa.String(length=128), nullable=False),
    sa.Column('reasoners', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('lifecycle_status', sa.String(length=32), nullable=False),
    sa.Column('health_status', sa.String(length=32), nullable=False),
    sa.Column('heartbeat_streak', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=128), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_heartbeat', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('execution_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('execution_id', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('execution_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_execution_notes_execution_id'), ['execution_id'], unique=False)

    op.create_table('executions',
    sa.Column('execution_id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=128), nullable=False),
    sa.Column('parent_execution_id', sa.String(length=64), nullable=True),
    sa.Column('agent_node_id', sa.String(length=128), nullable=False),
    sa.Column('reasoner_id', sa.String(length=128), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('input_payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('result_payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_type', sa.String(length=128), nullable=True),
    sa.Column('session_id', sa.String(length=128), nullable=True),
    sa.Column('actor_id', sa.String(length=128), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('execution_id')
    )
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_executions_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_executions_agent_node_id'), ['agent_node_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_executions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_executions_parent_execution_id'), ['parent_execution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_executions_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_executions_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_executions_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('executions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_executions_status'))
        batch_op.drop_index(batch_op.f('ix_executions_session_id'))
        batch_op.drop_index(batch_op.f('ix_executions_run_id'))
        batch_op.drop_index(batch_op.f('ix_executions_parent_execution_id'))
        batch_op.drop_index(batch_op.f('ix_executions_created_at'))
        batch_op.drop_index(batch_op.f('ix_executions_agent_node_id'))
        batch_op.drop_index(batch_op.f('ix_executions_actor_id'))

    op.drop_table('executions')
    with op.batch_alter_table('execution_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_execution_notes_execution_id'))

    op.drop_table('execution_notes')
    op.drop_table('agent_nodes')
