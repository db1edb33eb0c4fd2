"""Live numbers for facilitators: participation, statements by state, activity over time."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from ..models import (
    Consultation,
    CurrentVote,
    ModerationState,
    Participant,
    Statement,
    Vote,
)
from . import moderation, statements
from .participation.votes import counts as vote_counts

VOTES_PER_PARTICIPANT_BINS = ((1, 1), (2, 5), (6, 10), (11, 20), (21, 50), (51, None))
MAX_TIME_BINS = 60


# Widths a time bucket may have, in seconds: the narrowest that shows the whole span in at most MAX_TIME_BINS bars
# (minutes for an evening's event, hours for a few days, days for a month).
# The last second a datetime can hold (9999-12-31 23:59:59 UTC): a bucket's end never runs past it.
LAST_SECOND = 253402300799
BUCKET_SECONDS = (60, 5 * 60, 15 * 60, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)


@dataclass(frozen=True)
class TimeBin:
    start: datetime  # UTC, aligned to the bucket width
    end: datetime  # exclusive
    votes: int
    participants: int

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class Monitor:
    participants: int
    voters: int
    votes: int  # current votes
    vote_events: int  # every vote ever cast, re-votes included
    statements: dict[str, int]  # by moderation state, meta statements apart
    meta_statements: int
    reported_statements: int  # what the report counts as its statements (``statements.counted``)
    distribution: list[tuple[str, int]]
    timeline: list[TimeBin] = field(default_factory=list)
    moderation: dict = field(default_factory=dict)  # ``moderation.decision_times``: waits for a decision


def _epoch(session: Session, column):
    """Seconds since 1970 of a timestamp column, in SQL (PostgreSQL and SQLite spell it differently)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", column))
    return func.cast(func.strftime("%s", column), Integer)


def _span(session: Session, column, where) -> tuple[int, int] | None:
    low, high = session.execute(
        select(func.min(_epoch(session, column)), func.max(_epoch(session, column))).where(where)
    ).one()
    return None if low is None else (int(low), int(high))


def _counts(session: Session, column, where, width: int) -> dict[int, int]:
    """How many rows per bucket of ``width`` seconds, by the bucket's start (seconds since 1970), counted in SQL."""
    epoch = _epoch(session, column)
    # SQLite divides integers by flooring (and may lack floor()); PostgreSQL's epoch is numeric.
    bucket = func.floor(epoch / width) if session.get_bind().dialect.name == "postgresql" else epoch / width
    return {
        int(b) * width: n for b, n in session.execute(select(bucket, func.count()).where(where).group_by(bucket)).all()
    }


def timeline(session: Session, consultation_id: int) -> list[TimeBin]:
    """Votes and new participants over time, in buckets that fit the span: every bucket from the first to the last,
    empty ones included, so the bars are a time axis."""
    votes_where, people_where = Vote.consultation_id == consultation_id, Participant.consultation_id == consultation_id
    spans = [
        sp
        for sp in (_span(session, Vote.created_at, votes_where), _span(session, Participant.created_at, people_where))
        if sp
    ]
    if not spans:
        return []
    first, last = min(sp[0] for sp in spans), max(sp[1] for sp in spans)
    width = next((w for w in BUCKET_SECONDS if last // w - first // w + 1 <= MAX_TIME_BINS), None)
    if width is None:  # years, or a bogus date: as many whole 30-day buckets as keep the bars to MAX_TIME_BINS
        month = BUCKET_SECONDS[-1]
        width = month * -(-(last // month - first // month + 1) // MAX_TIME_BINS)
    votes = _counts(session, Vote.created_at, votes_where, width)
    people = _counts(session, Participant.created_at, people_where, width)
    bins = []
    for start in range(first // width * width, last // width * width + 1, width):
        begins, ends = (datetime.fromtimestamp(min(t, LAST_SECOND), UTC) for t in (start, start + width))
        bins.append(TimeBin(begins, ends, votes.get(start, 0), people.get(start, 0)))
    return bins


def monitor(session: Session, consultation: Consultation) -> Monitor:
    """Live numbers for the facilitator: participation, statements by state, activity over time."""
    cid = consultation.id
    n_participants = session.scalar(select(func.count()).where(Participant.consultation_id == cid))
    voters, votes = vote_counts(session, consultation)
    vote_events = session.scalar(select(func.count()).where(Vote.consultation_id == cid))
    by_state = dict(
        session.execute(
            select(Statement.moderation, func.count())
            .where(Statement.consultation_id == cid, Statement.is_meta.is_(False))
            .group_by(Statement.moderation)
        ).all()
    )
    statements_by_state = {state.value: by_state.get(state, 0) for state in ModerationState}
    meta = session.scalar(select(func.count()).where(Statement.consultation_id == cid, Statement.is_meta.is_(True)))
    reported = session.scalar(select(func.count()).select_from(Statement).where(statements.counted(consultation)))
    per_participant = (
        select(func.count().label("n"))
        .where(CurrentVote.consultation_id == cid)
        .group_by(CurrentVote.participant_id)
        .subquery()
    )
    counts = dict(session.execute(select(per_participant.c.n, func.count()).group_by(per_participant.c.n)).all())
    distribution = []
    for low, high in VOTES_PER_PARTICIPANT_BINS:
        label = str(low) if low == high else (f"{low}-{high}" if high else f"{low}+")
        distribution.append((label, sum(c for n, c in counts.items() if n >= low and (high is None or n <= high))))
    return Monitor(
        participants=n_participants,
        voters=voters,
        votes=votes,
        vote_events=vote_events,
        statements=statements_by_state,
        meta_statements=meta,
        reported_statements=reported,
        distribution=distribution,
        timeline=timeline(session, cid),
        moderation=moderation.decision_times(session, cid),
    )
