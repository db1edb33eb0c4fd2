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


def test_snapshot_autoincrement_migration_keeps_snapshots_and_their_checks(app, make_consultation):
    """On SQLite the snapshot table is rebuilt (AUTOINCREMENT); its rows and their checks must survive it."""
    from sqlalchemy import text

    cid = make_consultation().id
    db.session.close()
    downgrade(revision="c5e1a9d40b7e")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO analysis_snapshot (id, consultation_id, vote_count, last_vote_id, computed_at, seconds,"
                " result) VALUES (5, :c, 3, 9, '2026-01-01 00:00:00', 0.1, '{}')"
            ),
            {"c": cid},
        )
        connection.execute(
            text(
                "INSERT INTO analysis_robustness (snapshot_id, computed_at, seconds, result)"
                " VALUES (5, '2026-01-01', 1, '{}')"
            )
        )
        connection.execute(
            text("INSERT INTO analysis_integrity (snapshot_id, computed_at, result) VALUES (5, '2026-01-01', '{}')")
        )
    upgrade()
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT id, last_vote_id FROM analysis_snapshot")).all() == [(5, 9)]
        for table in ("analysis_robustness", "analysis_integrity"):
            assert connection.execute(text(f"SELECT snapshot_id FROM {table}")).all() == [(5,)]
        assert connection.execute(text("SELECT data_version FROM consultation")).scalar() == 0
        if connection.dialect.name != "sqlite":
            return  # PostgreSQL's sequences never hand out an id twice; the id 5 above bypassed the sequence
        connection.execute(text("DELETE FROM analysis_snapshot"))
        connection.execute(
            text(
                "INSERT INTO analysis_snapshot (consultation_id, vote_count, last_vote_id, computed_at, seconds,"
                " result) VALUES (:c, 1, 1, '2026-01-02 00:00:00', 0.1, '{}')"
            ),
            {"c": cid},
        )
        assert connection.execute(text("SELECT id FROM analysis_snapshot")).scalar() > 5  # never a deleted id


def test_consultations_imported_before_the_column_are_marked_imported(app, make_consultation):
    """The migration reads the audit log once, so that reports of earlier imports keep their attribution."""
    from sqlalchemy import text

    imported = make_consultation(slug="imported").id
    make_consultation(slug="made-here")
    db.session.close()
    downgrade(revision="b7d2e4f6a8c1")
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (consultation_id, action, details, created_at)"
                " VALUES (:c, 'imported', '{}', '2026-01-01 00:00:00')"
            ),
            {"c": imported},
        )
    upgrade()
    with db.engine.begin() as connection:
        rows = connection.execute(text("SELECT slug, imported_from_polis FROM consultation ORDER BY slug")).all()
    assert [(slug, bool(flag)) for slug, flag in rows] == [("imported", True), ("made-here", False)]
