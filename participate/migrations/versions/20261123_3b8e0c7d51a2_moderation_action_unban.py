"""Moderators can lift a ban: the moderation log's action may be "unban".

Revision ID: 3b8e0c7d51a2
Revises: f9adbb430124
Create Date: 2026-11-23 22:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "3b8e0c7d51a2"
down_revision = "f9adbb430124"
branch_labels = None
depends_on = None

OLD = ("accept", "reject", "meta", "unmeta", "ban", "edit")
NEW = ("accept", "reject", "meta", "unmeta", "ban", "unban", "edit")
CHECK = "ck_moderation_log_moderation_action"


def _allow(actions: tuple[str, ...]) -> None:
    """Replace the CHECK constraint on moderation_log.action with one allowing ``actions``.

    SQLite cannot alter a constraint, so there the table is copied; nothing references moderation_log, so dropping
    the original cascades nowhere (unlike ``consultation``).
    """
    if op.get_context().dialect.name == "sqlite":
        kind = sa.Enum(*actions, name="moderation_action", native_enum=False, create_constraint=True, length=20)
        with op.batch_alter_table("moderation_log", recreate="always") as batch_op:
            batch_op.alter_column("action", type_=kind, existing_nullable=False)
    else:
        op.drop_constraint(op.f(CHECK), "moderation_log", type_="check")
        listed = ", ".join(f"'{a}'" for a in actions)
        op.create_check_constraint(op.f(CHECK), "moderation_log", f"action IN ({listed})")


def upgrade():
    _allow(NEW)


def downgrade():
    op.execute("DELETE FROM moderation_log WHERE action = 'unban'")
    _allow(OLD)
