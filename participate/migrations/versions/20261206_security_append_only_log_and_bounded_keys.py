"""The moderation log is append-only (its statement and participant ids are no longer foreign keys that deletions
rewrite; a "redact" action records a participant's deletion), and duplicate keys longer than their column become
their SHA-256.

Revision ID: c5e3a9d1f7b2
Revises: e1c4a7b9d2f0
Create Date: 2026-12-06 03:00:00.000000

"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "c5e3a9d1f7b2"
down_revision = "6a1e22c0ffee"
branch_labels = None
depends_on = None

OLD = ("accept", "reject", "meta", "unmeta", "ban", "unban", "edit")
NEW = (*OLD, "redact")
CHECK = "ck_moderation_log_moderation_action"
KEY_LENGTH = 280  # models.STATEMENT_MAX_LENGTH
FOREIGN_KEYS = (
    ("fk_moderation_log_statement_id_statement", "statement_id", "statement"),
    ("fk_moderation_log_participant_id_participant", "participant_id", "participant"),
)


def _kind(actions):
    return sa.Enum(*actions, name="moderation_action", native_enum=False, create_constraint=True, length=20)


def upgrade():
    # Nothing references moderation_log, so SQLite's copy of the table (batch mode) cascades nowhere.
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("moderation_log", recreate="always") as batch_op:
            for name, _column, _table in FOREIGN_KEYS:
                batch_op.drop_constraint(name, type_="foreignkey")
            batch_op.alter_column("action", type_=_kind(NEW), existing_nullable=False)
    else:
        for name, _column, _table in FOREIGN_KEYS:
            op.drop_constraint(name, "moderation_log", type_="foreignkey")
        op.drop_constraint(op.f(CHECK), "moderation_log", type_="check")
        op.create_check_constraint(
            op.f(CHECK), "moderation_log", "action IN ({})".format(", ".join(f"'{a}'" for a in NEW))
        )
    # Keys the old code stored longer than the column (possible on SQLite only): their SHA-256, as text_key() does.
    statement = sa.table("statement", sa.column("id", sa.Integer), sa.column("text_key", sa.String))
    bind = op.get_bind()
    for sid, key in bind.execute(sa.select(statement.c.id, statement.c.text_key)).all():
        if len(key) > KEY_LENGTH:
            hashed = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
            bind.execute(sa.update(statement).where(statement.c.id == sid).values(text_key=hashed))


def downgrade():
    op.execute("DELETE FROM moderation_log WHERE action = 'redact'")
    # Ids of deleted rows cannot point at anything once the foreign keys are back: they are cleared, as before.
    op.execute("UPDATE moderation_log SET statement_id = NULL WHERE statement_id NOT IN (SELECT id FROM statement)")
    op.execute(
        "UPDATE moderation_log SET participant_id = NULL WHERE participant_id NOT IN (SELECT id FROM participant)"
    )
    if op.get_context().dialect.name == "sqlite":
        with op.batch_alter_table("moderation_log", recreate="always") as batch_op:
            for name, column, table in FOREIGN_KEYS:
                batch_op.create_foreign_key(name, table, [column], ["id"], ondelete="SET NULL")
            batch_op.alter_column("action", type_=_kind(OLD), existing_nullable=False)
    else:
        for name, column, table in FOREIGN_KEYS:
            op.create_foreign_key(name, "moderation_log", table, [column], ["id"], ondelete="SET NULL")
        op.drop_constraint(op.f(CHECK), "moderation_log", type_="check")
        op.create_check_constraint(
            op.f(CHECK), "moderation_log", "action IN ({})".format(", ".join(f"'{a}'" for a in OLD))
        )
