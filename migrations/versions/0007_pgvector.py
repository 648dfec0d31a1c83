"""Embeddings in a pgvector column on PostgreSQL (indexed cosine search)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 16:50:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return  # SQLite keeps JSON lists and searches exactly
    available = bind.execute(sa.text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")).scalar()
    if not available:
        raise RuntimeError(
            "vector memory needs the pgvector extension on PostgreSQL: install the "
            "distribution's postgresql-<major>-pgvector package (or run "
            "scripts/install_pgvector.sh), then run the upgrade again")
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute("ALTER TABLE memory_vectors ALTER COLUMN embedding TYPE vector "
               "USING (embedding::text)::vector")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("ALTER TABLE memory_vectors ALTER COLUMN embedding TYPE jsonb "
               "USING (embedding::text)::jsonb")
