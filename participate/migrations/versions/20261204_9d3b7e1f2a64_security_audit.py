"""Security audit: a ban list that survives deletion, signed XIDs, and a length limit on descriptions.

Revision ID: 9d3b7e1f2a64
Revises: c5e1a9d40b7e
Create Date: 2026-12-04 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "9d3b7e1f2a64"
down_revision = "c5e1a9d40b7e"
branch_labels = None
depends_on = None

DESCRIPTION_MAX_LENGTH = 10_000
CHECK = "ck_consultation_description_length"
TRIGGERS = ("consultation_description_length_insert", "consultation_description_length_update")


def upgrade():
    op.create_table(
        "banned_identity",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("identity_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_banned_identity_consultation_id_consultation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consultation_id", "identity_hash", name=op.f("pk_banned_identity")),
    )
    # Plain ADD COLUMN, not batch mode: recreating `consultation` on SQLite would cascade-delete its rows.
    op.add_column("consultation", sa.Column("xid_secret", sa.String(length=64), nullable=True))
    op.add_column("consultation", sa.Column("xid_unsigned", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Allow-list consultations that exist already keep working as before (unsigned), and their settings warn.
    op.execute("UPDATE consultation SET xid_unsigned = true WHERE eligibility = 'xid'")
    # Existing over-long descriptions (possible only through an import) are cut to the limit first.
    op.execute(
        f"UPDATE consultation SET description = substr(description, 1, {DESCRIPTION_MAX_LENGTH}) "
        f"WHERE length(description) > {DESCRIPTION_MAX_LENGTH}"
    )
    if op.get_context().dialect.name == "sqlite":
        # SQLite cannot add a CHECK to a table without copying it (which would cascade); triggers enforce the same.
        for trigger, event in zip(TRIGGERS, ("INSERT", "UPDATE OF description"), strict=True):
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE {event} ON consultation "
                f"WHEN length(NEW.description) > {DESCRIPTION_MAX_LENGTH} "
                f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {CHECK}'); END"
            )
    else:
        op.create_check_constraint(op.f(CHECK), "consultation", f"length(description) <= {DESCRIPTION_MAX_LENGTH}")


def downgrade():
    if op.get_context().dialect.name == "sqlite":
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.drop_constraint(op.f(CHECK), "consultation", type_="check")
    op.drop_column("consultation", "xid_unsigned")
    op.drop_column("consultation", "xid_secret")
    op.drop_table("banned_identity")
