"""Deleted votes leave the results: a per-consultation data version, and snapshot ids SQLite never reuses.

Revision ID: d7a3f1c2b9e4
Revises: c5e1a9d40b7e
Create Date: 2026-12-04 00:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "d7a3f1c2b9e4"
down_revision = "c5e1a9d40b7e"
branch_labels = None
depends_on = None

_CHECKS = ("analysis_robustness", "analysis_integrity")


def _rebuild_snapshots(autoincrement: bool) -> None:
    """SQLite: recreate ``analysis_snapshot`` with or without AUTOINCREMENT, keeping every row and its checks.

    Dropping the old table deletes its checks (foreign keys are on, with ON DELETE CASCADE), so they are set aside
    in temporary tables first and put back afterwards.
    """
    for table in _CHECKS:
        op.execute(f"CREATE TEMPORARY TABLE keep_{table} AS SELECT * FROM {table}")
    with op.batch_alter_table(
        "analysis_snapshot", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
    for table in _CHECKS:
        op.execute(f"DELETE FROM {table}")
        op.execute(f"INSERT INTO {table} SELECT * FROM keep_{table}")
        op.execute(f"DROP TABLE keep_{table}")


def upgrade():
    # In place, never in batch mode: recreating `consultation` on SQLite would cascade-delete its statements and votes.
    op.add_column("consultation", sa.Column("data_version", sa.Integer(), server_default="0", nullable=False))
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_snapshots(autoincrement=True)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_snapshots(autoincrement=False)
    op.drop_column("consultation", "data_version")  # in place (SQLite 3.35+), as upgrade
