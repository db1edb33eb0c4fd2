"""Migrations and models describe the same schema: a model change without a migration fails here."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from participate.extensions import db


def test_models_match_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; run 'participate db migrate': {diff}"


def test_downgrade_then_upgrade_round_trips(app):
    downgrade(revision="base")
    assert db.inspect(db.engine).get_table_names() == ["alembic_version"]
    upgrade()
    assert "current_vote" in db.inspect(db.engine).get_table_names()
