import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import SHOWN_STATES, CurrentVote, ModerationMode, ModerationState, Statement, StatementOrigin
from participate.services import Conflict, InvalidInput, statements
from participate.services.participation import draw, identity
from tests import factories


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Trim me  ", "Trim me"),
        ("Line\nbreaks\tand   spaces", "Line breaks and spaces"),
        ("cafe\u0301", "café"),
        ("zero\u200bwidth", "zerowidth"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ],
)
def test_clean_text_normalises(raw, clean):
    assert statements.clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 281, "281 characters long; the limit is 280"),
        ("bell\x07", "control characters"),
        ("evil\u202etxt", "text-direction"),
        (42, "must be text"),
    ],
)
def test_clean_text_refuses_with_a_reason(raw, message):
    with pytest.raises(InvalidInput, match=message):
        statements.clean_text(raw)


def test_exactly_280_characters_is_accepted():
    assert len(statements.clean_text("y" * 280)) == 280


def test_submission_is_pending_and_author_agrees(make_consultation):
    consultation = make_consultation()
    statement = factories.submit_statement(db.session, consultation, "tok", "  A new   idea ")
    assert statement.text == "A new idea"
    assert statement.origin == StatementOrigin.PARTICIPANT
    assert statement.moderation == ModerationState.PENDING
    author = identity.find(db.session, consultation, "tok")
    assert statement.author_id == author.id
    vote = db.session.scalar(select(CurrentVote).where(CurrentVote.statement_id == statement.id))
    assert (vote.participant_id, vote.value) == (author.id, 1)


@pytest.mark.parametrize(("mode", "visible_to_others"), [(ModerationMode.POST, True), (ModerationMode.PRE, False)])
def test_moderation_mode_decides_visibility(make_consultation, mode, visible_to_others):
    consultation = make_consultation(moderation=mode, statements=[])
    factories.submit_statement(db.session, consultation, "author", "Visible or not")
    other = identity.find_or_add(db.session, consultation, "reader")
    db.session.commit()
    nxt = draw.next_statement(db.session, consultation, other)
    assert (nxt.statement is not None) == visible_to_others


@pytest.mark.parametrize("variant", ["seed one", "SEED   ONE", " Seed\tOne "])
def test_duplicates_are_refused_case_and_space_insensitively(make_consultation, variant):
    consultation = make_consultation()
    with pytest.raises(Conflict, match="already"):
        factories.submit_statement(db.session, consultation, "tok", variant)
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 3
    assert db.session.scalar(select(func.count()).select_from(CurrentVote)) == 0


def test_closed_or_statementless_consultation_refuses(make_consultation):
    closed = make_consultation("closed", status="closed")
    with pytest.raises(Conflict, match="closed"):
        factories.submit_statement(db.session, closed, "tok", "New")
    no_statements = make_consultation("quiet", allow_statements=False)
    with pytest.raises(Conflict, match="does not accept"):
        factories.submit_statement(db.session, no_statements, "tok", "New")


def test_rejected_text_changes_nothing(make_consultation):
    consultation = make_consultation()
    with pytest.raises(InvalidInput):
        factories.submit_statement(db.session, consultation, "tok", "x" * 500)
    assert identity.find(db.session, consultation, "tok") is None
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 3


@pytest.mark.parametrize(
    ("mode", "reportable"),
    [
        (ModerationMode.PRE, {"accepted", "meta"}),  # a pending statement has been seen by its author only
        (ModerationMode.POST, {"accepted", "pending", "meta"}),  # shown to everyone until a moderator rejects it
    ],
)
def test_which_statements_a_report_may_show_and_count(make_consultation, mode, reportable):
    consultation = make_consultation("modes", moderation=mode, statements=["accepted", "meta"])
    other = make_consultation("other", moderation=mode, statements=["accepted elsewhere"])
    by_text = {s.text: s for s in consultation.statements}
    by_text["meta"].is_meta = True
    for text, state in (("pending", ModerationState.PENDING), ("rejected", ModerationState.REJECTED)):
        statement = statements.seed(consultation.id, text)
        statement.moderation = state
        db.session.add(statement)
    db.session.commit()
    assert other.id != consultation.id

    def texts(condition) -> set[str]:
        return set(db.session.scalars(select(Statement.text).where(condition)))

    assert texts(statements.reportable(consultation)) == reportable
    assert texts(statements.counted(consultation)) == reportable - {"meta"}  # meta statements are never counted
    # The same statements are open for voting: a report shows what participants were shown.
    rows = db.session.scalars(select(Statement).where(Statement.consultation_id == consultation.id)).all()
    assert {s.text for s in rows if s.moderation in SHOWN_STATES[consultation.moderation]} == reportable
