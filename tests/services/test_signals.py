"""Every change to what an analysis counts announces itself once, after its commit, with the consultation's id."""

import contextlib

import pytest

from participate.extensions import db
from participate.models import Participant, VoteValue
from participate.services import moderation, privacy, simulate
from participate.services.signals import votes_changed
from tests import factories


@contextlib.contextmanager
def announced():
    """The consultation ids sent with ``votes_changed`` while the block runs (and whether each came after a commit)."""
    heard = []

    def receiver(consultation_id, **_):
        heard.append((consultation_id, not db.session.new and not db.session.dirty))

    votes_changed.connect(receiver)
    try:
        yield heard
    finally:
        votes_changed.disconnect(receiver)


@pytest.fixture
def owner(make_account):
    return make_account("facilitator")


def test_the_acts_announce_their_consultation(make_consultation):
    consultation = make_consultation()
    sid = consultation.statements[0].id
    with announced() as heard:
        factories.cast(db.session, consultation, "someone", sid, VoteValue.AGREE)
        factories.submit_statement(db.session, consultation, "someone", "A statement of my own")
    assert heard == [(consultation.id, True), (consultation.id, True)]


def test_a_refused_act_announces_nothing(make_consultation):
    consultation = make_consultation(status="closed")
    with announced() as heard, pytest.raises(Exception, match="closed"):
        factories.cast(db.session, consultation, "someone", consultation.statements[0].id, VoteValue.AGREE)
    assert heard == []


def test_moderation_privacy_and_the_simulator_announce_too(make_consultation, owner):
    consultation = make_consultation()
    statement = factories.submit_statement(db.session, consultation, "author", "Reject me please")
    author = db.session.get(Participant, statement.author_id)
    with announced() as heard:
        moderation.act(db.session, owner, consultation, [statement.id], "reject", "spam")
        moderation.ban(db.session, owner, consultation, author.id, "spam")
        moderation.unban(db.session, owner, consultation, author.id, None)
        privacy.delete_mine(db.session, author)
        simulate.simulate_votes(db.session, consultation, 5)
    assert heard == [(consultation.id, True)] * 5


def test_create_app_connects_the_runner_once(app, make_consultation, monkeypatch):
    """A vote through the web asks the analysis runner once, however many apps the process has made."""
    from participate import create_app, jobs

    create_app(dict(app.config))  # a second app in the process must not make the runner hear each vote twice
    asked = []
    monkeypatch.setattr(jobs, "analysis_wanted", asked.append)
    consultation = make_consultation()
    client = app.test_client()
    csrf = client.get("/api/v1/session").get_json()["csrf_token"]
    answer = client.post(
        "/api/v1/consultations/test/votes",
        json={"statement_id": consultation.statements[0].id, "vote": "agree"},
        headers={"X-CSRFToken": csrf},
    )
    assert answer.status_code == 201 and asked == [consultation.id]
    factories.cast(db.session, consultation, "outside a request", consultation.statements[1].id, VoteValue.PASS)
    assert asked == [consultation.id], "outside a request, whoever changed the votes analyses"
