"""When each analysis began reading the votes: a snapshot begun after a request answers it, in any process.

Revision ID: c5e1a9d40b7e
Revises: a41c9d2e7f03
Create Date: 2026-11-24 00:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "c5e1a9d40b7e"
down_revision = "a41c9d2e7f03"
branch_labels = None
depends_on = None


def upgrade():
    # Existing snapshots get NULL: not known to answer any request, so they are simply recomputed when asked.
    op.add_column("analysis_snapshot", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column("analysis_snapshot", "started_at")
