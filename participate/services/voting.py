"""What participants do: vote (re-voting keeps the history), add statements, and get the next statement to vote on."""

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import INSERTS, one_writer
from ..models import (
    SHOWN_STATES,
    Consultation,
    CurrentVote,
    ModerationMode,
    ModerationState,
    Participant,
    Statement,
    StatementOrigin,
    Vote,
    VoteValue,
    utcnow,
)
from . import (
    N_,
    Conflict,
    InvalidInput,
    NotFound,
    about_participants,
    consultations,
    eligibility,
    is_id,
    participants,
    statements,
)
from .snapshots import store

VOTE_WORDS = {"agree": VoteValue.AGREE, "disagree": VoteValue.DISAGREE, "pass": VoteValue.PASS}
WORD_OF_VOTE = {value: word for word, value in VOTE_WORDS.items()}


def parse_vote(word: object) -> VoteValue:
    if not isinstance(word, str) or word.lower() not in VOTE_WORDS:
        raise InvalidInput(N_("The vote must be one of: agree, disagree, pass."))
    return VOTE_WORDS[word.lower()]


# Statements open for voting: accepted ones, and under post-moderation those still waiting for a moderator.
_VOTABLE = SHOWN_STATES


# The statements of the vote path, built once: building a statement costs more than running it.
_statement, _vote, _current = Statement.__table__, Vote.__table__, CurrentVote.__table__
_INSERT_VOTE = (
    _vote.insert()
    .from_select(
        ["consultation_id", "participant_id", "statement_id", "value", "created_at"],
        select(
            bindparam("consultation_id", type_=_vote.c.consultation_id.type),
            bindparam("participant_id", type_=_vote.c.participant_id.type),
            _statement.c.id,
            bindparam("value", type_=_vote.c.value.type),
            bindparam("created_at", type_=_vote.c.created_at.type),
        ).where(
            _statement.c.id == bindparam("statement_id"),
            _statement.c.consultation_id == bindparam("consultation_id"),
            _statement.c.moderation.in_(bindparam("votable", expanding=True)),
        ),
    )
    .returning(_vote.c.id)
)


def _upsert_current_statement(insert, rows=None):
    """INSERT ... ON CONFLICT DO UPDATE of the current vote, from parameters or from ``rows`` (a CTE)."""
    stmt = insert(_current)
    if rows is not None:
        stmt = stmt.from_select(
            ["participant_id", "statement_id", "consultation_id", "value", "vote_id", "updated_at"],
            select(
                rows.c.participant_id,
                rows.c.statement_id,
                rows.c.consultation_id,
                rows.c.value,
                rows.c.id,
                rows.c.created_at,
            ),
        )
    return stmt.on_conflict_do_update(
        index_elements=["participant_id", "statement_id"],
        set_={"value": stmt.excluded.value, "vote_id": stmt.excluded.vote_id, "updated_at": stmt.excluded.updated_at},
        where=_current.c.vote_id < stmt.excluded.vote_id,
    )


_UPSERT_CURRENT = {dialect: _upsert_current_statement(insert) for dialect, insert in INSERTS.items()}


def _vote_in_one_statement():
    """PostgreSQL: the history row and the current vote in one statement (one round trip, atomic on its own)."""
    voted = _INSERT_VOTE.returning(
        _vote.c.participant_id, _vote.c.statement_id, _vote.c.consultation_id, _vote.c.value, _vote.c.created_at
    ).cte("voted")
    upserted = _upsert_current_statement(INSERTS["postgresql"], voted).cte("upserted")
    return select(voted.c.id).add_cte(upserted)


_VOTE_AND_UPSERT_POSTGRESQL = _vote_in_one_statement()

# Statements open for voting that the participant has not voted on (participant_id NULL: all of them), but for
# ``exclude`` (0: none).
_CANDIDATES = select(_statement.c.id).where(
    _statement.c.consultation_id == bindparam("consultation_id"),
    _statement.c.moderation.in_(bindparam("votable", expanding=True)),
    _statement.c.id != bindparam("exclude"),
    _statement.c.id.not_in(
        select(_current.c.statement_id).where(_current.c.participant_id == bindparam("participant_id"))
    ),
)
_COUNTS = (
    select(_current.c.statement_id, func.count().label("n"))
    .where(_current.c.consultation_id == bindparam("consultation_id"))
    .group_by(_current.c.statement_id)
    .subquery()
)
_CANDIDATES_WITH_COUNTS = _CANDIDATES.add_columns(func.coalesce(_COUNTS.c.n, 0)).outerjoin(
    _COUNTS, _COUNTS.c.statement_id == _statement.c.id
)
_TEXT = select(_statement.c.text, _statement.c.origin).where(_statement.c.id == bindparam("id"))


def votable(consultation: Consultation):
    """SQL condition for statements open for voting: accepted, or pending under post-moderation."""
    return Statement.moderation.in_(_VOTABLE[consultation.moderation])


def is_votable(consultation: Consultation, statement: Statement) -> bool:
    """The Python twin of :func:`votable`, for one statement already loaded."""
    return statement.moderation in SHOWN_STATES[consultation.moderation]


def record(
    session: Session, consultation: Consultation, participant: Participant, statement: Statement, value: VoteValue
) -> Vote:
    """Append the vote to the history and make it the current vote, in the caller's transaction."""
    now = utcnow()
    vote = Vote(
        consultation_id=consultation.id,
        participant_id=participant.id,
        statement_id=statement.id,
        value=int(value),
        created_at=now,
    )
    session.add(vote)
    session.flush()
    _upsert_current(session, consultation.id, participant.id, statement.id, int(value), vote.id, now)
    return vote


def _valid_statement_id(statement_id: object) -> int:
    if isinstance(statement_id, bool) or not isinstance(statement_id, int):
        raise InvalidInput(N_("statement_id must be a whole number."))
    return statement_id


def cast(session: Session, consultation: Consultation, token: str, statement_id: object, value: VoteValue) -> Vote:
    """A participant votes (or changes their vote) on one statement of an open consultation."""
    statement_id = _valid_statement_id(statement_id)
    statement = session.get(Statement, statement_id) if is_id(statement_id) else None
    if statement is None or statement.consultation_id != consultation.id:
        raise NotFound(N_("There is no such statement in this consultation."))
    consultations.apply_schedule(session, consultation)  # a closing time that has passed closes it first
    if not consultation.is_open:
        raise Conflict(N_("This consultation is closed: votes are no longer accepted."))
    if not is_votable(consultation, statement):
        raise Conflict(N_("This statement is not open for voting."))
    participant = participants.find_or_add(session, consultation, token)
    vote = record(session, consultation, participant, statement, value)
    session.expunge(vote)  # flushed and fully loaded: keep its values readable after the commit without a reload
    session.commit()
    return vote


def submit_statement(session: Session, consultation: Consultation, token: str, raw_text: object) -> Statement:
    """A participant adds a statement; like Pol.is, their own vote on it is recorded as agree."""
    consultations.apply_schedule(session, consultation)  # a closing time that has passed closes it first
    if not consultation.is_open:
        raise Conflict(N_("This consultation is closed, so new statements are no longer accepted."))
    if not consultation.allow_statements:
        raise Conflict(N_("This consultation does not accept statements from participants."))
    text = statements.clean_text(raw_text)
    if statements.find_duplicate(session, consultation.id, text):
        raise Conflict(N_("That statement is already in this consultation. You can vote on it instead."))
    participant = participants.find_or_add(session, consultation, token)
    statement = Statement(
        consultation_id=consultation.id,
        text=text,
        text_key=statements.text_key(text),
        origin=StatementOrigin.PARTICIPANT,
        author_id=participant.id,
        moderation=ModerationState.PENDING,
    )
    about_participants.mark(statement)
    session.add(statement)
    try:
        session.flush()
    except IntegrityError:  # a simultaneous identical submission won the race
        session.rollback()
        raise Conflict(N_("That statement is already in this consultation. You can vote on it instead.")) from None
    record(session, consultation, participant, statement, VoteValue.AGREE)
    session.commit()
    return statement


@dataclass(frozen=True)
class Voted:
    consultation_id: int
    statement_id: int
    value: VoteValue
    created_at: datetime
    next: "Next"


def vote_and_next(
    session: Session,
    slug: str,
    token: str,
    statement_id: object,
    value: VoteValue,
    *,
    rng: random.Random | None = None,
) -> Voted:
    """A participant votes and is given their next statement in the same transaction (as Pol.is's vote request does).

    This is the request a consultation receives most, so the usual case (an open consultation anyone may join, a
    participant who has voted before, a statement open for voting) is a few Core SQL statements and one commit.
    Anything else takes the full checks of :func:`consultations.get_public`, :func:`eligibility.check_eligible` and
    :func:`cast`, which also say what is wrong.
    """
    statement_id = _valid_statement_id(statement_id)
    seen = participants.participation(session, slug, token)
    if seen is not None and seen.routine and is_id(statement_id):
        # The next statement is drawn before writing (this one excluded): SQLite holds its one write lock only for
        # the two writes and the commit.
        view = store.latest(session, seen.consultation_id, snapshot_id=seen.snapshot_id)
        priorities = view.priorities if view else None
        nxt = _draw(session, seen.consultation_id, seen.moderation, seen.participant_id, priorities, rng, statement_id)
        now = utcnow()
        with one_writer(session):
            recorded = _record_if_votable(session, seen, statement_id, value, now) is not None
            if recorded:
                session.commit()
        if recorded:
            return Voted(seen.consultation_id, statement_id, value, now, nxt)
    consultation = consultations.get_public(session, slug)
    eligibility.check_eligible(session, consultation, token)
    consultation_id, moderation = consultation.id, consultation.moderation  # read before the commit expires them
    vote = cast(session, consultation, token, statement_id, value)
    view = store.latest(session, consultation_id)
    nxt = _draw(session, consultation_id, moderation, vote.participant_id, view.priorities if view else None, rng)
    return Voted(consultation_id, vote.statement_id, value, vote.created_at, nxt)


def _record_if_votable(
    session: Session, seen: participants.Participation, statement_id: int, value: VoteValue, now: datetime
) -> int | None:
    """Append the vote and upsert the current vote if the statement is open for voting; its id, else None."""
    connection = session.connection()
    one_statement = connection.dialect.name == "postgresql"
    vote_id = connection.scalar(
        _VOTE_AND_UPSERT_POSTGRESQL if one_statement else _INSERT_VOTE,
        {
            "consultation_id": seen.consultation_id,
            "participant_id": seen.participant_id,
            "statement_id": statement_id,
            "value": int(value),
            "created_at": now,
            "votable": list(_VOTABLE[seen.moderation]),
        },
    )
    if vote_id is not None and not one_statement:
        _upsert_current(session, seen.consultation_id, seen.participant_id, statement_id, int(value), vote_id, now)
    return vote_id


def _upsert_current(session, consultation_id, participant_id, statement_id, value, vote_id, now) -> None:
    """The current vote is upserted in SQL, so concurrent re-votes never read-modify-write; the newest vote wins."""
    session.connection().execute(
        _UPSERT_CURRENT[session.get_bind().dialect.name],
        {
            "participant_id": participant_id,
            "statement_id": statement_id,
            "consultation_id": consultation_id,
            "value": value,
            "vote_id": vote_id,
            "updated_at": now,
        },
    )


@dataclass(frozen=True)
class Shown:
    """A statement as a participant sees it."""

    id: int
    text: str
    origin: str  # "seed" (the organisers') or "participant": shown beside the text


@dataclass(frozen=True)
class Next:
    statement: Shown | None
    remaining: int


def next_statement(
    session: Session,
    consultation: Consultation,
    participant: Participant | None,
    *,
    priorities: dict[int, float] | None = None,
    rng: random.Random | None = None,
) -> Next:
    """Draw the next statement for a participant among those they have not voted on.

    With an analysis, draw with probability proportional to its priority (polis-math.md §10; statements
    the analysis has not seen yet weigh 1); without one, the statements with the fewest votes first.
    """
    return _draw(
        session, consultation.id, consultation.moderation, participant.id if participant else None, priorities, rng
    )


def _draw(
    session: Session,
    consultation_id: int,
    moderation: ModerationMode,
    participant_id: int | None,
    priorities: dict[int, float] | None,
    rng: random.Random | None,
    exclude: int = 0,
) -> Next:
    """:func:`next_statement` by ids, in Core SQL (it runs with every vote); ``exclude``: the one being voted on."""
    rng = rng or random.SystemRandom()
    connection = session.connection()
    params = {
        "consultation_id": consultation_id,
        "votable": list(_VOTABLE[moderation]),
        "participant_id": participant_id,
        "exclude": exclude,
    }
    chosen = None
    if priorities:
        # The priorities alone decide: no need to count every vote of the consultation on each draw.
        ids = connection.scalars(_CANDIDATES, params).all()
        if not ids:
            return Next(None, 0)
        weights = [max(priorities.get(sid, 1.0), 0.0) for sid in ids]
        if sum(weights) > 0:
            chosen, remaining = rng.choices(ids, weights=weights, k=1)[0], len(ids)
    if chosen is None:
        rows = connection.execute(_CANDIDATES_WITH_COUNTS, params).all()
        if not rows:
            return Next(None, 0)
        fewest = min(n for _, n in rows)
        chosen, remaining = rng.choice([sid for sid, n in rows if n == fewest]), len(rows)
    text, origin = connection.execute(_TEXT, {"id": chosen}).one()
    return Next(Shown(chosen, text, StatementOrigin(origin).value), remaining)


def my_votes(session: Session, participant: Participant | None) -> list[tuple[Statement, int]]:
    """Every statement the participant voted on, with their current vote, in the order they first voted.

    A changed vote keeps its place, so a list someone is working through does not reorder under them.
    """
    if participant is None:
        return []
    first = (
        select(Vote.statement_id, func.min(Vote.id).label("first"))
        .where(Vote.participant_id == participant.id)
        .group_by(Vote.statement_id)
        .subquery()
    )
    rows = session.execute(
        select(Statement, CurrentVote.value)
        .join(CurrentVote, CurrentVote.statement_id == Statement.id)
        .join(first, first.c.statement_id == Statement.id)
        .where(CurrentVote.participant_id == participant.id)
        .order_by(first.c.first)
    ).all()
    return [(statement, value) for statement, value in rows]


def counts(session: Session, consultation: Consultation) -> tuple[int, int]:
    """(participants who voted, current votes) of a consultation."""
    row = session.execute(
        select(func.count(func.distinct(CurrentVote.participant_id)), func.count()).where(
            CurrentVote.consultation_id == consultation.id
        )
    ).one()
    return row[0], row[1]
