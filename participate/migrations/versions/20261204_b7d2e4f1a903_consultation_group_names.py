"""Names the facilitators give the opinion groups, for the report's brief.

Revision ID: b7d2e4f1a903
Revises: 9d3b7e1f2a64
Create Date: 2026-12-04 22:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b7d2e4f1a903"
down_revision = "9d3b7e1f2a64"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN, not batch mode: recreating `consultation` on SQLite would cascade-delete its rows.
    op.add_column("consultation", sa.Column("group_names", sa.JSON(), nullable=True))


def downgrade():
    op.drop_column("consultation", "group_names")
