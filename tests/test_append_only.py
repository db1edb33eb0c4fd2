"""Append-only records stay verifiable (issue 23, M5): a participant deleting their data adds a "redact" row and
rewrites no moderation-log row, so a published report's SHA-256 still verifies with ``participate verify``."""

import pytest
from sqlalchemy import select, update

from participate.extensions import db
from participate.models import ModerationLogEntry, Participant, Statement
from participate.services import moderation, publishing
from participate.services.snapshots import runner


def _log_rows():
    return [
        (e.id, e.action.value, e.statement_id, e.participant_id, e.reason)
        for e in db.session.scalars(select(ModerationLogEntry).order_by(ModerationLogEntry.id))
    ]


@pytest.fixture
def published(app, client, other_client, make_consultation, make_account):
    """Two participants' statements moderated (one rejected, one author banned), then the report published."""
    consultation = make_consultation()
    consultation.deleted_statements = "remove"  # the deletion takes the statements (and their ids) too
    db.session.commit()
    staff = make_account("admin")
    for browser, text in ((client, "A statement to reject"), (other_client, "The banned one's statement")):
        assert browser.post_form("/c/test/statements", {"text": text}).status_code == 302
    rejected = db.session.scalar(select(Statement).where(Statement.text == "A statement to reject"))
    moderation.act(db.session, staff, consultation, [rejected.id], "reject", "Off topic")
    banned = db.session.scalar(select(Statement).where(Statement.text == "The banned one's statement"))
    moderation.ban(db.session, staff, consultation, banned.author_id, "Spam")
    runner.analyse(db.session, consultation.id)
    return publishing.publish(db.session, consultation, account=staff)


def _verify(app, token):
    return app.test_cli_runner().invoke(args=["verify", "--", token])


def test_deleting_ones_data_adds_a_row_and_rewrites_none(app, client, other_client, published):
    before = _log_rows()
    assert any(row[3] is not None for row in before) and any(row[2] is not None for row in before)
    for browser in (client, other_client):
        assert browser.post_form("/c/test/mine/delete", {"confirmed": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Participant.id).limit(1)) is None  # the participants are gone
    after = _log_rows()
    assert after[: len(before)] == before  # every earlier row exactly as it was
    assert [row[1] for row in after[len(before) :]] == ["redact", "redact"]
    result = _verify(app, published.token)
    assert result.exit_code == 0, result.output
    assert "moderation log: verified" in result.output
    assert "votes: explained" in result.output and "deleted their data since" in result.output


def test_verify_reports_a_rewritten_row(app, published):
    assert "moderation log: verified" in _verify(app, published.token).output
    db.session.execute(update(ModerationLogEntry).values(reason="Something else"))
    db.session.commit()
    result = _verify(app, published.token)
    assert result.exit_code == 1 and "moderation log: mismatch" in result.output


def test_verify_takes_the_reports_address(app, published):
    result = app.test_cli_runner().invoke(args=["verify", f"https://example.org/r/{published.token}"])
    assert result.exit_code == 0 and "moderation log: verified" in result.output


def test_verify_refuses_an_unknown_token(app):
    result = _verify(app, "no-such-report")
    assert result.exit_code != 0 and "There is no published report" in result.output
