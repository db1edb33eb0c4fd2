"""Who runs a consultation and how to reach them, shown to participants.

Revision ID: b7d2e4f6a8c1
Revises: d7a3c1e58f20
Create Date: 2026-12-04 22:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "b7d2e4f6a8c1"
down_revision = "d7a3c1e58f20"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN, not batch mode: recreating `consultation` on SQLite would cascade-delete its rows.
    op.add_column("consultation", sa.Column("organiser", sa.String(200), server_default="", nullable=False))
    op.add_column("consultation", sa.Column("contact", sa.String(200), server_default="", nullable=False))


def downgrade():
    op.drop_column("consultation", "contact")
    op.drop_column("consultation", "organiser")
