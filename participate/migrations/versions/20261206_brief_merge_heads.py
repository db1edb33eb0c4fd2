"""Join the heads this branch met when merging main (population's questions) and claims (evidence floors, then
the content language): no schema change. The lead may drop it when re-chaining the heads.

Revision ID: 7d4b2a9e0c15
Revises: 5b1e9c3d7a21, a4c2e8f1d3b7
Create Date: 2026-12-06 04:10:00.000000

"""

revision = "7d4b2a9e0c15"
down_revision = ("5b1e9c3d7a21", "a4c2e8f1d3b7")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
