"""The schema refuses invalid data by itself, whatever the Python code does."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError

from participate.extensions import db
from participate.models import Participant, Statement, StatementOrigin, Vote


def _participant(consultation) -> Participant:
    participant = Participant(consultation_id=consultation.id, token_hash="a" * 64)
    db.session.add(participant)
    db.session.commit()
    return participant


def test_vote_value_must_be_agree_disagree_or_pass(make_consultation):
    consultation = make_consultation()
    participant = _participant(consultation)
    statement = consultation.statements[0]
    db.session.add(
        Vote(consultation_id=consultation.id, participant_id=participant.id, statement_id=statement.id, value=2)
    )
    with pytest.raises(IntegrityError):
        db.session.commit()


@pytest.mark.parametrize("length", [0, 281])
def test_statement_text_length_is_checked(make_consultation, length):
    consultation = make_consultation()
    db.session.add(
        Statement(
            consultation_id=consultation.id, text="x" * length, text_key=f"k{length}", origin=StatementOrigin.SEED
        )
    )
    with pytest.raises((IntegrityError, DataError)):  # PostgreSQL's VARCHAR(280) refuses it before the CHECK
        db.session.commit()


def test_duplicate_statement_key_is_refused(make_consultation):
    consultation = make_consultation(statements=["Hello world"])
    db.session.add(
        Statement(
            consultation_id=consultation.id, text="HELLO  world", text_key="hello world", origin=StatementOrigin.SEED
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_same_text_allowed_in_another_consultation(make_consultation):
    make_consultation("one", statements=["Hello world"])
    other = make_consultation("two", statements=["Hello world"])
    assert [s.text for s in other.statements] == ["Hello world"]


def test_seed_statement_cannot_have_an_author(make_consultation):
    consultation = make_consultation()
    participant = _participant(consultation)
    db.session.add(
        Statement(
            consultation_id=consultation.id,
            text="Mine",
            text_key="mine",
            origin=StatementOrigin.SEED,
            author_id=participant.id,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_foreign_keys_are_enforced(make_consultation):
    consultation = make_consultation()
    db.session.add(
        Vote(consultation_id=consultation.id, participant_id=9999, statement_id=consultation.statements[0].id, value=1)
    )
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_sqlite_runs_in_wal_mode(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite-only settings")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
