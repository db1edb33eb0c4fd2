"""Participant IP hash (rate limits, integrity annex) and the integrity annex of analysis snapshots.

Revision ID: 76af62f78cad
Revises: f2f45999e729
Create Date: 2026-11-23 21:11:35.306723

"""

import sqlalchemy as sa
from alembic import op

revision = "76af62f78cad"
down_revision = "f2f45999e729"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "analysis_integrity",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["analysis_snapshot.id"],
            name=op.f("fk_analysis_integrity_snapshot_id_analysis_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", name=op.f("pk_analysis_integrity")),
    )
    # A nullable column added in place (no batch mode: recreating ``participant`` would cascade-delete votes).
    op.add_column("participant", sa.Column("ip_hash", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("participant", recreate="never") as batch_op:
        batch_op.drop_column("ip_hash")
    op.drop_table("analysis_integrity")
