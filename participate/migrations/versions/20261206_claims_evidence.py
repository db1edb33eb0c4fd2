"""Evidence floors per consultation, whether its votes carry times, and what statements say about their origin.

Consultation: ``floor_voters`` and ``floor_group_voters`` (a facilitator may raise the report's evidence floors;
NULL keeps the defaults), ``vote_times`` (false for an import whose source recorded no vote times: the stored times
are then the import's, and nothing reads them as when people voted). Statement: ``about_participants`` (a meta
statement where participants describe themselves, "I am over 65") and ``origin_stated`` (false when an imported
source did not say whether the organisers or a participant wrote it).

Revision ID: c9a2f4d7e1b3
Revises: c5e3a9d1f7b2
Create Date: 2026-12-06 03:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = "c9a2f4d7e1b3"
down_revision = "c5e3a9d1f7b2"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not batch mode: recreating a table on SQLite would cascade-delete the rows that refer to it.
    op.add_column("consultation", sa.Column("floor_voters", sa.Integer(), nullable=True))
    op.add_column("consultation", sa.Column("floor_group_voters", sa.Integer(), nullable=True))
    op.add_column("consultation", sa.Column("vote_times", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column(
        "statement", sa.Column("about_participants", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("statement", sa.Column("origin_stated", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    op.drop_column("statement", "origin_stated")
    op.drop_column("statement", "about_participants")
    op.drop_column("consultation", "vote_times")
    op.drop_column("consultation", "floor_group_voters")
    op.drop_column("consultation", "floor_voters")
