"""Two consultation settings: event mode (a room full of people joining from one network) and unlisted.

Revision ID: 6a1e22c0ffee
Revises: e1c4a7b9d2f0
Create Date: 2026-12-06 03:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "6a1e22c0ffee"
down_revision = "e1c4a7b9d2f0"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not batch mode: recreating `consultation` on SQLite would cascade-delete its rows.
    op.add_column("consultation", sa.Column("event_mode", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("consultation", sa.Column("unlisted", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column("consultation", "unlisted")
    op.drop_column("consultation", "event_mode")
