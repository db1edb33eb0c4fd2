import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import (
    AnalysisSnapshot,
    ConsultationStatus,
    CurrentVote,
    Eligibility,
    ModerationMode,
    ModerationState,
    Participant,
    Statement,
    StatementOrigin,
    Vote,
    VoteValue,
    utcnow,
)
from participate.services import Conflict, Forbidden, InvalidInput, NotFound
from participate.services.participation import acts, draw, gate, identity
from participate.services.participation import votes as vote_writer
from tests import factories

TOKEN = "token-a"


def _ids(consultation):
    return [s.id for s in sorted(consultation.statements, key=lambda s: s.id)]


def test_vote_records_history_and_current_value(make_consultation):
    consultation = make_consultation()
    sid = _ids(consultation)[0]
    factories.cast(db.session, consultation, TOKEN, sid, VoteValue.AGREE)
    factories.cast(db.session, consultation, TOKEN, sid, VoteValue.DISAGREE)
    factories.cast(db.session, consultation, TOKEN, sid, VoteValue.PASS)
    history = db.session.scalars(select(Vote.value).order_by(Vote.id)).all()
    assert history == [1, -1, 0]
    current = db.session.scalars(select(CurrentVote)).all()
    assert [(c.statement_id, c.value) for c in current] == [(sid, 0)]
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1


def test_votes_from_two_browsers_are_two_participants(make_consultation):
    consultation = make_consultation()
    sid = _ids(consultation)[0]
    factories.cast(db.session, consultation, "one", sid, VoteValue.AGREE)
    factories.cast(db.session, consultation, "two", sid, VoteValue.DISAGREE)
    assert vote_writer.counts(db.session, consultation) == (2, 2)


def test_participant_key_is_not_the_cookie_and_differs_per_consultation(make_consultation):
    first, second = make_consultation("a"), make_consultation("b")
    assert identity.token_hash(TOKEN, first.id) != identity.token_hash(TOKEN, second.id)
    factories.cast(db.session, first, TOKEN, _ids(first)[0], VoteValue.AGREE)
    stored = db.session.scalar(select(Participant.token_hash))
    assert TOKEN not in stored


def test_unknown_statement_or_other_consultations_statement_is_not_found(make_consultation):
    consultation = make_consultation("a")
    other = make_consultation("b")
    with pytest.raises(NotFound):
        factories.cast(db.session, consultation, TOKEN, 999_999, VoteValue.AGREE)
    with pytest.raises(NotFound):
        factories.cast(db.session, consultation, TOKEN, _ids(other)[0], VoteValue.AGREE)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_closed_consultation_refuses_votes(make_consultation):
    consultation = make_consultation(status="closed")
    with pytest.raises(Conflict, match="closed"):
        factories.cast(db.session, consultation, TOKEN, _ids(consultation)[0], VoteValue.AGREE)
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 0


@pytest.mark.parametrize(
    ("mode", "state", "allowed"),
    [
        (ModerationMode.POST, ModerationState.PENDING, True),
        (ModerationMode.PRE, ModerationState.PENDING, False),
        (ModerationMode.POST, ModerationState.REJECTED, False),
        (ModerationMode.PRE, ModerationState.ACCEPTED, True),
    ],
)
def test_only_statements_open_for_voting_take_votes(make_consultation, mode, state, allowed):
    consultation = make_consultation(moderation=mode, statements=[])
    statement = Statement(
        consultation_id=consultation.id, text="x", text_key="x", origin=StatementOrigin.SEED, moderation=state
    )
    db.session.add(statement)
    db.session.commit()
    if allowed:
        factories.cast(db.session, consultation, TOKEN, statement.id, VoteValue.AGREE)
    else:
        with pytest.raises(Conflict):
            factories.cast(db.session, consultation, TOKEN, statement.id, VoteValue.AGREE)
    assert (draw.next_statement(db.session, consultation, None).statement is not None) == allowed


@pytest.mark.parametrize("bad", ["yes", "", None, 1, "AGREEE"])
def test_parse_vote_refuses_unknown_values(bad):
    with pytest.raises(InvalidInput, match="agree, disagree, pass"):
        vote_writer.parse_vote(bad)


@pytest.mark.parametrize("bad", ["3", 2.5, True, None])
def test_statement_id_must_be_an_integer(make_consultation, bad):
    consultation = make_consultation()
    with pytest.raises(InvalidInput):
        factories.cast(db.session, consultation, TOKEN, bad, VoteValue.AGREE)


def test_next_statement_never_repeats_and_counts_down(make_consultation):
    consultation = make_consultation(statements=[f"Statement {i}" for i in range(6)])
    seen = []
    rng = random.Random(1)
    participant = None
    for remaining in range(6, 0, -1):
        nxt = draw.next_statement(db.session, consultation, participant, rng=rng)
        assert nxt.remaining == remaining
        assert nxt.statement.id not in seen
        seen.append(nxt.statement.id)
        factories.cast(db.session, consultation, TOKEN, nxt.statement.id, VoteValue.PASS)
        participant = identity.find(db.session, consultation, TOKEN)
    assert draw.next_statement(db.session, consultation, participant) == draw.Next(None, 0)


def test_fewest_votes_first_without_analysis(make_consultation):
    consultation = make_consultation(statements=["a", "b", "c"])
    a, b, c = _ids(consultation)
    for token in ("x", "y"):
        factories.cast(db.session, consultation, token, a, VoteValue.AGREE)
        factories.cast(db.session, consultation, token, b, VoteValue.AGREE)
    for seed in range(10):
        nxt = draw.next_statement(db.session, consultation, None, rng=random.Random(seed))
        assert nxt.statement.id == c


def test_priorities_weight_the_draw(make_consultation):
    consultation = make_consultation(statements=["a", "b"])
    a, b = _ids(consultation)
    rng = random.Random(0)
    draws = [
        draw.next_statement(db.session, consultation, None, priorities={a: 99.0, b: 1.0}, rng=rng).statement.id
        for _ in range(400)
    ]
    assert 0.95 < draws.count(a) / len(draws) <= 1.0
    only_b = draw.next_statement(db.session, consultation, None, priorities={a: 0.0, b: 1.0}, rng=rng)
    assert only_b.statement.id == b


def test_my_votes_lists_current_values(make_consultation):
    consultation = make_consultation()
    a, b, _ = _ids(consultation)
    factories.cast(db.session, consultation, TOKEN, a, VoteValue.AGREE)
    factories.cast(db.session, consultation, TOKEN, b, VoteValue.AGREE)
    factories.cast(db.session, consultation, TOKEN, a, VoteValue.DISAGREE)
    participant = identity.find(db.session, consultation, TOKEN)
    mine = {s.id: v for s, v in vote_writer.my_votes(db.session, participant)}
    assert mine == {a: -1, b: 1}


# ---- vote_and_next: the vote request's fast path must decide exactly as the full checks do ----


def _voted_before(consultation, token=TOKEN):
    """A participant who has voted once (so their next vote may take the fast path); the statement they voted on."""
    sid = _ids(consultation)[0]
    acts.vote(db.session, consultation.slug, token, sid, VoteValue.AGREE)
    return sid


def _stored_votes():
    return db.session.scalar(select(func.count()).select_from(Vote))


def test_vote_and_next_records_the_vote_and_draws_an_unvoted_statement(make_consultation):
    consultation = make_consultation()
    a, b, c = _ids(consultation)
    first = acts.vote(db.session, "test", TOKEN, a, VoteValue.AGREE, rng=random.Random(1))
    assert (first.statement_id, first.value, first.consultation_id) == (a, VoteValue.AGREE, consultation.id)
    assert first.next.remaining == 2 and first.next.statement.id in {b, c}
    shown = first.next.statement
    assert shown.text == db.session.get(Statement, shown.id).text
    second = acts.vote(db.session, "test", TOKEN, shown.id, VoteValue.DISAGREE)
    assert second.next.remaining == 1 and second.next.statement.id == ({b, c} - {shown.id}).pop()
    changed = acts.vote(db.session, "test", TOKEN, a, VoteValue.PASS)  # a changed vote
    assert changed.next.remaining == 1
    last = acts.vote(db.session, "test", TOKEN, second.next.statement.id, VoteValue.PASS)
    assert last.next == draw.Next(None, 0)
    assert db.session.scalars(select(Vote.value).order_by(Vote.id)).all() == [1, -1, 0, 0]
    current = dict(db.session.execute(select(CurrentVote.statement_id, CurrentVote.value)).all())
    assert current == {a: 0, shown.id: -1, second.next.statement.id: 0}
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1


def test_vote_and_next_follows_the_priorities_of_the_latest_analysis(make_consultation):
    consultation = make_consultation(statements=("One", "Two", "Three", "Four"))
    a, b, c, d = _ids(consultation)
    _voted_before(consultation)
    snapshot = AnalysisSnapshot(
        consultation_id=consultation.id,
        vote_count=1,
        last_vote_id=1,
        seconds=0.0,
        result={"priorities": {str(b): 0.0, str(c): 0.0, str(d): 1.0}},
    )
    db.session.add(snapshot)
    db.session.commit()
    draws = {acts.vote(db.session, "test", TOKEN, a, VoteValue.PASS).next.statement.id for _ in range(20)}
    assert draws == {d}


def _close(consultation):
    consultation.status = ConsultationStatus.CLOSED


def _draft(consultation):
    consultation.status = ConsultationStatus.DRAFT


def _close_by_schedule(consultation):
    consultation.scheduled_close_at = utcnow() - timedelta(minutes=1)


def _invitation_only(consultation):
    consultation.eligibility = Eligibility.XID


def _ban(consultation):
    db.session.scalar(select(Participant)).is_banned = True


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (_close, Conflict, "closed"),
        (_draft, NotFound, "no consultation"),
        (_close_by_schedule, Conflict, "closed"),
        (_invitation_only, Forbidden, "invited"),
        (_ban, Forbidden, "no longer take part"),
    ],
)
def test_vote_and_next_refuses_what_the_full_checks_refuse(make_consultation, change, error, message):
    consultation = make_consultation()
    sid = _voted_before(consultation)
    change(consultation)
    db.session.commit()
    with pytest.raises(error, match=message):
        acts.vote(db.session, "test", TOKEN, sid, VoteValue.DISAGREE)
    db.session.rollback()
    assert _stored_votes() == 1


@pytest.mark.parametrize(
    ("moderation", "state", "error"),
    [
        (ModerationMode.POST, ModerationState.REJECTED, Conflict),
        (ModerationMode.PRE, ModerationState.PENDING, Conflict),
        (ModerationMode.POST, None, NotFound),  # another consultation's statement
    ],
)
def test_vote_and_next_refuses_statements_not_open_for_voting(make_consultation, moderation, state, error):
    consultation = make_consultation(moderation=moderation)
    other = make_consultation("other")
    _voted_before(consultation)
    target = db.session.get(Statement, _ids(consultation)[1]) if state else db.session.get(Statement, _ids(other)[0])
    if state:
        target.moderation = state
        db.session.commit()
    with pytest.raises(error):
        acts.vote(db.session, "test", TOKEN, target.id, VoteValue.AGREE)
    db.session.rollback()
    assert _stored_votes() == 1


def test_vote_and_next_follows_a_renamed_consultation(make_consultation):
    consultation = make_consultation()
    sid = _voted_before(consultation)  # the slug's id is now remembered
    consultation.slug = "renamed"
    db.session.commit()
    with pytest.raises(NotFound):
        acts.vote(db.session, "test", TOKEN, sid, VoteValue.PASS)
    db.session.rollback()
    assert acts.vote(db.session, "renamed", TOKEN, sid, VoteValue.PASS).consultation_id == consultation.id
    newcomer = make_consultation("test")  # the old slug, now another consultation's
    assert acts.vote(db.session, "test", TOKEN, _ids(newcomer)[0], VoteValue.PASS).consultation_id == (newcomer.id)


def test_a_participation_read_is_forgotten_when_its_transaction_ends(make_consultation):
    consultation = make_consultation()
    assert gate.read(db.session, "test", TOKEN).participant_id is None
    db.session.rollback()
    _voted_before(consultation)  # creates the participant
    assert gate.read(db.session, "test", TOKEN).participant_id is not None
