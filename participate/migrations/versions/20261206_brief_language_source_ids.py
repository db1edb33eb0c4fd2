"""A consultation's content language, and the source's ids of imported statements and participants.

Revision ID: 5b1e9c3d7a21
Revises: c9a2f4d7e1b3
Create Date: 2026-12-06 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "5b1e9c3d7a21"
down_revision = "c9a2f4d7e1b3"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not batch mode: recreating these tables on SQLite would cascade-delete their rows.
    op.add_column("consultation", sa.Column("language", sa.String(35), server_default="en", nullable=False))
    op.add_column("statement", sa.Column("source_id", sa.BigInteger(), nullable=True))
    op.add_column("participant", sa.Column("source_id", sa.BigInteger(), nullable=True))
    op.add_column("participant", sa.Column("source_group", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("participant", "source_group")
    op.drop_column("participant", "source_id")
    op.drop_column("statement", "source_id")
    op.drop_column("consultation", "language")
