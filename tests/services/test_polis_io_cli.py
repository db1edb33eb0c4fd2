"""``participate export-polis`` and ``participate import-polis`` through Flask's CLI runner."""

from sqlalchemy import select

from participate.extensions import db
from participate.models import AuditLogEntry, VoteValue
from participate.services import consultations
from tests import factories


def test_export_then_import_from_the_command_line(app, make_consultation, make_account, tmp_path):
    consultation = make_consultation("cli")
    for token in ("a", "b"):
        factories.cast(db.session, consultation, token, consultation.statements[0].id, VoteValue.AGREE)
    runner = app.test_cli_runner()
    exported = runner.invoke(args=["export-polis", "cli", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "out" / "votes.csv").is_file() and "consultation.json" in exported.output
    assert db.session.scalar(select(AuditLogEntry.action).where(AuditLogEntry.consultation_id == consultation.id)) == (
        "exported"
    )
    owner = make_account("facilitator")
    imported = runner.invoke(args=["import-polis", str(tmp_path / "out"), "--slug", "cli-copy", "--owner", owner.email])
    assert imported.exit_code == 0, imported.output
    assert "Imported /c/cli-copy: 2 current votes from 2 participants (closed)" in imported.output
    copy = consultations.get_any(db.session, "cli-copy")
    assert copy.owner.id == owner.id


def test_command_line_errors_are_one_line(app, tmp_path):
    runner = app.test_cli_runner()
    assert "no consultation" in runner.invoke(args=["export-polis", "nope", str(tmp_path)]).output
    (tmp_path / "comments.csv").write_text("comment-id,comment-body\n0,Hi\n")
    (tmp_path / "votes.csv").write_text("timestamp,datetime,comment-id,voter-id,vote\nsoon,x,0,1,1\n")
    failed = runner.invoke(args=["import-polis", str(tmp_path)])
    assert failed.exit_code != 0
    assert "votes.csv row 2: invalid timestamp" in failed.output
    missing_owner = runner.invoke(args=["import-polis", str(tmp_path), "--owner", "ghost@example.org"])
    assert "no account for ghost@example.org" in missing_owner.output
