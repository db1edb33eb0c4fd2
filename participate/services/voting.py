"""Votes: casting, re-voting (history kept) and choosing the next statement to show."""

import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..database import insert
from ..models import (
    Consultation,
    CurrentVote,
    ModerationMode,
    ModerationState,
    Participant,
    Statement,
    Vote,
    VoteValue,
    utcnow,
)
from . import N_, Conflict, InvalidInput, NotFound, participants

VOTE_WORDS = {"agree": VoteValue.AGREE, "disagree": VoteValue.DISAGREE, "pass": VoteValue.PASS}
WORD_OF_VOTE = {value: word for word, value in VOTE_WORDS.items()}


def parse_vote(word: object) -> VoteValue:
    if not isinstance(word, str) or word.lower() not in VOTE_WORDS:
        raise InvalidInput(N_("The vote must be one of: agree, disagree, pass."))
    return VOTE_WORDS[word.lower()]


def votable(consultation: Consultation):
    """SQL condition for statements open for voting: accepted, or pending under post-moderation."""
    if consultation.moderation == ModerationMode.POST:
        return Statement.moderation.in_([ModerationState.ACCEPTED, ModerationState.PENDING])
    return Statement.moderation == ModerationState.ACCEPTED


def is_votable(consultation: Consultation, statement: Statement) -> bool:
    """The Python twin of :func:`votable`, for one statement already loaded."""
    if statement.moderation == ModerationState.ACCEPTED:
        return True
    return statement.moderation == ModerationState.PENDING and consultation.moderation == ModerationMode.POST


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
    # The current vote is upserted in SQL, so concurrent re-votes never read-modify-write.
    stmt = insert(session, CurrentVote).values(
        participant_id=participant.id,
        statement_id=statement.id,
        consultation_id=consultation.id,
        value=int(value),
        vote_id=vote.id,
        updated_at=now,
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["participant_id", "statement_id"],
            set_={"value": stmt.excluded.value, "vote_id": stmt.excluded.vote_id, "updated_at": now},
            where=CurrentVote.vote_id < stmt.excluded.vote_id,
        )
    )
    return vote


def cast(session: Session, consultation: Consultation, token: str, statement_id: object, value: VoteValue) -> Vote:
    """A participant votes (or changes their vote) on one statement of an open consultation."""
    if isinstance(statement_id, bool) or not isinstance(statement_id, int):
        raise InvalidInput(N_("statement_id must be a whole number."))
    # Ids outside the database's 64-bit range exist nowhere (and would overflow the driver).
    statement = session.get(Statement, statement_id) if 0 < statement_id < 2**63 else None
    if statement is None or statement.consultation_id != consultation.id:
        raise NotFound(N_("There is no such statement in this consultation."))
    if not consultation.is_open:
        raise Conflict(N_("This consultation is closed: votes are no longer accepted."))
    if not is_votable(consultation, statement):
        raise Conflict(N_("This statement is not open for voting."))
    participant = participants.find_or_add(session, consultation, token)
    vote = record(session, consultation, participant, statement, value)
    session.expunge(vote)  # flushed and fully loaded: keep its values readable after the commit without a reload
    session.commit()
    return vote


@dataclass(frozen=True)
class Next:
    statement: Statement | None
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
    rng = rng or random.SystemRandom()
    candidates = select(Statement.id).where(Statement.consultation_id == consultation.id, votable(consultation))
    if participant is not None:
        mine = select(CurrentVote.statement_id).where(CurrentVote.participant_id == participant.id)
        candidates = candidates.where(Statement.id.not_in(mine))
    if priorities:
        # The priorities alone decide: no need to count every vote of the consultation on each draw.
        ids = session.scalars(candidates).all()
        if not ids:
            return Next(None, 0)
        weights = [max(priorities.get(sid, 1.0), 0.0) for sid in ids]
        if sum(weights) > 0:
            chosen = rng.choices(ids, weights=weights, k=1)[0]
            return Next(session.get(Statement, chosen), len(ids))
    counts = (
        select(CurrentVote.statement_id, func.count().label("n"))
        .where(CurrentVote.consultation_id == consultation.id)
        .group_by(CurrentVote.statement_id)
        .subquery()
    )
    query = candidates.add_columns(func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.statement_id == Statement.id
    )
    rows = session.execute(query).all()
    if not rows:
        return Next(None, 0)
    fewest = min(n for _, n in rows)
    chosen = rng.choice([sid for sid, n in rows if n == fewest])
    return Next(session.get(Statement, chosen), len(rows))


def my_votes(session: Session, participant: Participant | None) -> list[tuple[Statement, int]]:
    """Every statement the participant voted on, with their current vote, oldest first."""
    if participant is None:
        return []
    rows = session.execute(
        select(Statement, CurrentVote.value)
        .join(CurrentVote, CurrentVote.statement_id == Statement.id)
        .where(CurrentVote.participant_id == participant.id)
        .order_by(CurrentVote.vote_id)
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
