"""A column saying a consultation was imported from Pol.is, instead of searching the audit log for it.

Revision ID: e1c4a7b9d2f0
Revises: b7d2e4f6a8c1
Create Date: 2026-12-05 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "e1c4a7b9d2f0"
down_revision = "b7d2e4f6a8c1"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not batch mode: recreating `consultation` on SQLite would cascade-delete its rows.
    op.add_column(
        "consultation", sa.Column("imported_from_polis", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    consultation = sa.table("consultation", sa.column("id"), sa.column("imported_from_polis", sa.Boolean()))
    audit_log = sa.table("audit_log", sa.column("consultation_id"), sa.column("action"))
    imported = sa.select(audit_log.c.consultation_id).where(audit_log.c.action.like("import%"))
    op.execute(consultation.update().where(consultation.c.id.in_(imported)).values(imported_from_polis=True))


def downgrade():
    op.drop_column("consultation", "imported_from_polis")
