"""Each consultation chooses what deleting one's data does to one's statements (NULL: the site's setting).

Revision ID: a41c9d2e7f03
Revises: 3b8e0c7d51a2
Create Date: 2026-11-23 22:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "a41c9d2e7f03"
down_revision = "3b8e0c7d51a2"
branch_labels = None
depends_on = None


def upgrade():
    # In place, never in batch mode: recreating `consultation` on SQLite would cascade-delete its statements and votes.
    # Existing consultations get NULL, so they keep following the site's DELETED_STATEMENTS as before.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE consultation ADD COLUMN deleted_statements VARCHAR(20) "
            "CONSTRAINT ck_consultation_deleted_statements CHECK (deleted_statements IN ('anonymise', 'remove'))"
        )
    else:
        kind = sa.Enum(
            "anonymise", "remove", name="deleted_statements", native_enum=False, create_constraint=True, length=20
        )
        op.add_column("consultation", sa.Column("deleted_statements", kind, nullable=True))


def downgrade():
    # In place too (SQLite 3.35+ drops a column with its own CHECK constraint).
    op.drop_column("consultation", "deleted_statements")
