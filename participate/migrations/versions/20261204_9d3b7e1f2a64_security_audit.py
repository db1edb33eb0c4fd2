"""Security audit: a ban list that survives deletion, signed XIDs, and a length limit on descriptions.

Revision ID: 9d3b7e1f2a64
Revises: d7a3f1c2b9e4
Create Date: 2026-12-04 23:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "9d3b7e1f2a64"
down_revision = "d7a3f1c2b9e4"
branch_labels = None
depends_on = None

CHECK = "ck_consultation_description_length"  # length(description) <= 10000, as models.DESCRIPTION_MAX_LENGTH
# SQLite cannot add a CHECK to a table without copying it (which would cascade): triggers enforce the same there.
SQLITE_TRIGGERS = {
    "consultation_description_length_insert": "CREATE TRIGGER consultation_description_length_insert "
    "BEFORE INSERT ON consultation WHEN length(NEW.description) > 10000 "
    "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ck_consultation_description_length'); END",
    "consultation_description_length_update": "CREATE TRIGGER consultation_description_length_update "
    "BEFORE UPDATE OF description ON consultation WHEN length(NEW.description) > 10000 "
    "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: ck_consultation_description_length'); END",
}


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
    op.execute("UPDATE consultation SET description = substr(description, 1, 10000) WHERE length(description) > 10000")
    if op.get_context().dialect.name == "sqlite":
        for create in SQLITE_TRIGGERS.values():
            op.execute(create)
    else:
        op.create_check_constraint(op.f(CHECK), "consultation", "length(description) <= 10000")


def downgrade():
    if op.get_context().dialect.name == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(sa.text("DROP TRIGGER IF EXISTS " + trigger))
    else:
        op.drop_constraint(op.f(CHECK), "consultation", type_="check")
    op.drop_column("consultation", "xid_unsigned")
    op.drop_column("consultation", "xid_secret")
    op.drop_table("banned_identity")
