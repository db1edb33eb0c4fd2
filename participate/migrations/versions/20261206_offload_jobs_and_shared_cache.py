"""Jobs, a cache shared between processes, and each snapshot's group members.

Long work (imports, exports, PDFs, publications, the monitor's figures) runs as jobs whose status every web process
reads; built reports and PDFs are cached once for all processes; "where I stand" reads a participant's group from
one row instead of the snapshot's whole result.

Revision ID: 7a1f0c3e9b52
Revises: c5e3a9d1f7b2
Create Date: 2026-12-06 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "7a1f0c3e9b52"
down_revision = "a4c2e8f1d3b7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "done", "failed", name="job_status", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("progress", sa.SmallInteger(), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name=op.f("ck_job_progress_is_a_percentage")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_job_account_id_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"], ["consultation.id"], name=op.f("fk_job_consultation_id_consultation"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_consultation", "job", ["consultation_id", "kind", "id"], unique=False)
    op.create_table(
        "shared_cache",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_shared_cache_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_shared_cache")),
    )
    op.create_index("ix_shared_cache_consultation", "shared_cache", ["consultation_id"], unique=False)
    op.create_table(
        "snapshot_member",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["analysis_snapshot.id"],
            name=op.f("fk_snapshot_member_snapshot_id_analysis_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "participant_id", name=op.f("pk_snapshot_member")),
    )


def downgrade():
    op.drop_table("snapshot_member")
    op.drop_index("ix_shared_cache_consultation", table_name="shared_cache")
    op.drop_table("shared_cache")
    op.drop_index("ix_job_consultation", table_name="job")
    op.drop_table("job")
