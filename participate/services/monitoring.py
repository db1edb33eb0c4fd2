"""Live numbers for facilitators: participation, statements by state, activity over time."""

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    AnalysisSnapshot,
    Consultation,
    CurrentVote,
    ModerationLogEntry,
    ModerationState,
    Participant,
    Statement,
    Vote,
)
from . import moderation, statements, voting

VOTES_PER_PARTICIPANT_BINS = ((1, 1), (2, 5), (6, 10), (11, 20), (21, 50), (51, None))
MAX_TIME_BINS = 60


@dataclass(frozen=True)
class TimeBin:
    start: date
    end: date  # inclusive
    votes: int
    participants: int


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


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _daily(session: Session, column, where) -> dict[date, int]:
    day = func.date(column)
    return {_day(d): n for d, n in session.execute(select(day, func.count()).where(where).group_by(day)).all()}


def _rebin(votes: dict[date, int], people: dict[date, int]) -> list[TimeBin]:
    days = sorted(set(votes) | set(people))
    if not days:
        return []
    first, last = days[0], days[-1]
    span = (last - first).days + 1
    width = max(1, -(-span // MAX_TIME_BINS))
    bins = []
    start = first
    while start <= last:
        end = start + timedelta(days=width - 1)
        in_bin = [d for d in days if start <= d <= end]
        bins.append(TimeBin(start, end, sum(votes.get(d, 0) for d in in_bin), sum(people.get(d, 0) for d in in_bin)))
        start = end + timedelta(days=1)
    return bins


def monitor(session: Session, consultation: Consultation) -> Monitor:
    """Live numbers for the facilitator: participation, statements by state, activity over time."""
    cid = consultation.id
    n_participants = session.scalar(select(func.count()).where(Participant.consultation_id == cid))
    voters, votes = voting.counts(session, consultation)
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
    timeline = _rebin(
        _daily(session, Vote.created_at, Vote.consultation_id == cid),
        _daily(session, Participant.created_at, Participant.consultation_id == cid),
    )
    return Monitor(
        participants=n_participants,
        voters=voters,
        votes=votes,
        vote_events=vote_events,
        statements=statements_by_state,
        meta_statements=meta,
        reported_statements=reported,
        distribution=distribution,
        timeline=timeline,
        moderation=moderation.decision_times(session, cid),
    )


def to_json(figures: Monitor) -> bytes:
    """The figures as JSON, for the shared cache (large consultations' figures are computed by a job)."""
    data = asdict(figures)
    data["timeline"] = [{**b, "start": b["start"].isoformat(), "end": b["end"].isoformat()} for b in data["timeline"]]
    return json.dumps(data).encode()


def from_json(blob: bytes) -> Monitor:
    data = json.loads(blob)
    timeline = [
        TimeBin(date.fromisoformat(b["start"]), date.fromisoformat(b["end"]), b["votes"], b["participants"])
        for b in data.pop("timeline")
    ]
    distribution = [tuple(pair) for pair in data.pop("distribution")]
    return Monitor(**data, distribution=distribution, timeline=timeline)


def version(session: Session, consultation: Consultation) -> str:
    """What a large consultation's cached figures are of: its latest snapshot and moderation decision (two indexed
    reads), so they follow the analysis, seconds behind the votes, rather than each vote."""
    latest = session.scalar(
        select(func.max(AnalysisSnapshot.id)).where(AnalysisSnapshot.consultation_id == consultation.id)
    )
    decided = session.scalar(
        select(func.max(ModerationLogEntry.id)).where(ModerationLogEntry.consultation_id == consultation.id)
    )
    return f"{latest or 0}-{decided or 0}-{consultation.data_version}"
