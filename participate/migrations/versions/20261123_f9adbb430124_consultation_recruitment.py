"""How participants were recruited, for the report's caveats.

Revision ID: f9adbb430124
Revises: 76af62f78cad
Create Date: 2026-11-23 21:56:22.653340

"""
import sqlalchemy as sa
from alembic import op

revision = "f9adbb430124"
down_revision = "76af62f78cad"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN, not batch mode: recreating `consultation` on SQLite would cascade-delete its rows.
    op.add_column("consultation", sa.Column("recruitment", sa.Text(), server_default="", nullable=False))


def downgrade():
    op.drop_column("consultation", "recruitment")
