"""A moderation policy per consultation, and the moderation log's SHA-256 in every published report.

Revision ID: d7a3c1e58f20
Revises: b7d2e4f1a903
Create Date: 2026-12-04 22:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "d7a3c1e58f20"
down_revision = "b7d2e4f1a903"
branch_labels = None
depends_on = None


def upgrade():
    # In place, never in batch mode: recreating `consultation` on SQLite would cascade-delete its statements and votes.
    # Existing consultations get "" (the default policy, translated); existing published reports get NULL (no hash).
    op.add_column("consultation", sa.Column("moderation_policy", sa.Text(), server_default="", nullable=False))
    check = "CHECK (moderation_sha256 IS NULL OR length(moderation_sha256) = 64)"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE report_snapshot ADD COLUMN moderation_sha256 VARCHAR(64) "
            f"CONSTRAINT ck_report_snapshot_moderation_sha256_is_hex {check}"
        )
    else:
        op.add_column("report_snapshot", sa.Column("moderation_sha256", sa.String(length=64), nullable=True))
        op.create_check_constraint(
            op.f("ck_report_snapshot_moderation_sha256_is_hex"),
            "report_snapshot",
            "moderation_sha256 IS NULL OR length(moderation_sha256) = 64",
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_report_snapshot_moderation_sha256_is_hex"), "report_snapshot", type_="check")
    op.drop_column("report_snapshot", "moderation_sha256")
    op.drop_column("consultation", "moderation_policy")
