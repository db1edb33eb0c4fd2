"""What a participant does: vote, add a statement, open a consultation's page. Each act is gate → record → commit →
signal, and each door (the HTML form, the JSON API) calls one act with no checks of its own."""

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...database import one_writer
from ...models import Consultation, ConsultationStatus, ModerationState, Statement, StatementOrigin, VoteValue, utcnow
from .. import N_, Conflict, InvalidInput, NotFound, about_participants, is_id, statements
from ..signals import votes_changed
from ..snapshots import store
from . import admission, draw, gate, identity, votes


@dataclass(frozen=True)
class Voted:
    consultation_id: int
    participant_id: int
    statement_id: int
    value: VoteValue
    created_at: datetime
    next: draw.Next | None  # None when the door did not ask for it


def vote(
    session: Session,
    slug: str,
    token: str,
    statement_id: object,
    value: VoteValue,
    *,
    draw_next: bool = True,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> Voted:
    """A participant votes (or changes their vote), and with ``draw_next`` is given their next statement.

    The usual case is the gate's one query, the draw, the checked write and one commit. The next statement is drawn
    before writing (this one excluded): SQLite holds its one write lock only for the writes and the commit.
    """
    if isinstance(statement_id, bool) or not isinstance(statement_id, int):
        raise InvalidInput(N_("statement_id must be a whole number."))
    seen = gate.enter(session, slug, token, acting="vote", now=now)
    nxt = None
    if draw_next:
        nxt = draw.draw(
            session,
            seen.consultation_id,
            seen.moderation,
            seen.participant_id,
            _priorities(session, seen),
            rng,
            exclude=statement_id if is_id(statement_id) else 0,  # no id out of the database's range in SQL
        )
    now = now or utcnow()
    with one_writer(session):
        participant_id = seen.participant_id or identity.add(session, seen.consultation_id, token)
        vote_id = None
        if is_id(statement_id):
            vote_id = votes.record(
                session, seen.consultation_id, participant_id, statement_id, value, now, moderation=seen.moderation
            )
        if vote_id is None:
            session.rollback()
            raise _not_votable(session, seen.consultation_id, statement_id)
        session.commit()
    votes_changed.send(seen.consultation_id)
    return Voted(seen.consultation_id, participant_id, statement_id, value, now, nxt)


def _not_votable(session: Session, consultation_id: int, statement_id: int):
    """Why a vote on this statement was not recorded."""
    found = is_id(statement_id) and session.scalar(
        select(Statement.id).where(Statement.id == statement_id, Statement.consultation_id == consultation_id)
    )
    if not found:
        return NotFound(N_("There is no such statement in this consultation."))
    return Conflict(N_("This statement is not open for voting."))


def add_statement(
    session: Session, slug: str, token: str, raw_text: object, *, now: datetime | None = None
) -> Statement:
    """A participant adds a statement; like Pol.is, their own vote on it is recorded as agree."""
    seen = gate.enter(session, slug, token, acting="statement", now=now)
    if not seen.allow_statements:
        raise Conflict(N_("This consultation does not accept statements from participants."))
    text = statements.clean_text(raw_text)
    # The same answer whether the earlier statement is shown or hidden (rejected, or awaiting pre-moderation): true in
    # both cases, and it tells nobody which.
    duplicate = N_("That statement has already been submitted to this consultation, so it cannot be added again.")
    if statements.find_duplicate(session, seen.consultation_id, text):
        raise Conflict(duplicate)
    now = now or utcnow()
    with one_writer(session):
        participant_id = seen.participant_id or identity.add(session, seen.consultation_id, token)
        statement = Statement(
            consultation_id=seen.consultation_id,
            text=text,
            text_key=statements.text_key(text),
            origin=StatementOrigin.PARTICIPANT,
            author_id=participant_id,
            moderation=ModerationState.PENDING,
            created_at=now,
        )
        about_participants.mark(statement)  # "I am over 65": a fact about the voter, not a view
        session.add(statement)
        try:
            session.flush()
        except IntegrityError:  # a simultaneous identical submission won the race
            session.rollback()
            raise Conflict(duplicate) from None
        votes.record(session, seen.consultation_id, participant_id, statement.id, VoteValue.AGREE, now)
        session.commit()
    votes_changed.send(seen.consultation_id)
    return statement


def next_statement(
    session: Session,
    slug: str,
    token: str | None,
    *,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> draw.Next | None:
    """The statement this browser is shown next (None while the consultation is closed), from the gate's one read:
    its participant and latest analysis come with it."""
    seen = gate.enter(session, slug, token, acting=None, now=now)
    if seen.status != ConsultationStatus.OPEN:
        return None
    return draw.draw(
        session, seen.consultation_id, seen.moderation, seen.participant_id, _priorities(session, seen), rng
    )


def _priorities(session: Session, seen: gate.Seen) -> dict[int, float] | None:
    view = store.latest(session, seen.consultation_id, snapshot_id=seen.snapshot_id) if seen.snapshot_id else None
    return view.priorities if view else None


def visit(
    session: Session,
    slug: str,
    token: str | None,
    *,
    eligible: bool = True,
    xid: str | None = None,
    code: str | None = None,
    sig: str | None = None,
    now: datetime | None = None,
) -> Consultation:
    """A participant's page of a consultation: the consultation if this browser may see it, else the refusal.

    A visitor arriving with ``xid`` (and ``sig``) or ``code`` is admitted first. ``eligible=False``: public pages
    that anyone with the link may read (the moderation policy, one's own data).
    """
    if token and (xid or code):
        seen = gate.enter(session, slug, token, acting=None, eligible=False, now=now)
        admission.admit(session, session.get(Consultation, seen.consultation_id), token, xid=xid, code=code, sig=sig)
    seen = gate.enter(session, slug, token, acting=None, eligible=eligible, now=now)
    return session.get(Consultation, seen.consultation_id)
