"""Simulated voters, clearly labelled, for demonstrations: never mixed silently with real votes.

A consultation that receives simulated votes is marked ``is_simulated`` and every page says so. Voters belong to
latent opinion groups: each group has a stance on each statement (a shared part, so some statements find common
ground, plus a group-specific part), each person adds their own noise, passes now and then, and votes on only
part of the statements. Rows are bulk-inserted, never one ORM object per vote.
"""

import hashlib
from datetime import UTC, timedelta
from pathlib import Path

import numpy as np
import yaml
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..models import (
    Consultation,
    ConsultationStatus,
    CurrentVote,
    Participant,
    Statement,
    utcnow,
)
from . import N_, InvalidInput, consultations, simulate_population, statements
from .participation import votes
from .signals import votes_changed

DEMO_SLUG = "demo-unacceptable-ai-uses"
DEMO_SOURCE = consultations.SAMPLES / "unacceptable-ai-uses.yaml"
DEMO_PARTICIPANTS = 500
XID_PREFIX = "simulated-"
MAX_PARTICIPANTS = 100_000


def simulate_votes(
    session: Session,
    consultation: Consultation,
    participants: int,
    *,
    groups: int = 3,
    pass_rate: float = 0.12,
    seed: int = 0,
) -> int:
    """Add ``participants`` simulated voters to the consultation and mark it simulated; returns the votes added."""
    if not 1 <= participants <= MAX_PARTICIPANTS:
        raise InvalidInput(
            N_("The number of simulated participants must be between 1 and %(limit)d."), limit=MAX_PARTICIPANTS
        )
    if not 1 <= groups <= 6:
        raise InvalidInput(N_("The number of latent groups must be between 1 and 6."))
    statement_ids = np.array(
        session.scalars(select(Statement.id).where(statements.reportable(consultation)).order_by(Statement.id)).all(),
        dtype=np.int64,
    )
    if len(statement_ids) == 0:
        raise InvalidInput(N_("This consultation has no statements to vote on."))
    rng = np.random.default_rng(seed)
    n_s = len(statement_ids)
    stance = rng.normal(0.0, 1.0, n_s)[None, :] + rng.normal(0.0, 1.0, (groups, n_s))
    sizes = rng.dirichlet(np.full(groups, 12.0))
    person_group = rng.choice(groups, size=participants, p=sizes)
    position = stance[person_group] + rng.normal(0.0, 0.8, (participants, n_s))
    agree = rng.random((participants, n_s)) < 1.0 / (1.0 + np.exp(-1.8 * position))
    value = np.where(agree, 1, -1)
    value[rng.random((participants, n_s)) < pass_rate * np.exp(-np.abs(position))] = 0
    # Realistic sparsity: most people vote on much of the list, some on only a few statements.
    n_voted = np.clip(np.round(n_s * rng.beta(2.0, 1.0, participants)), 1, n_s).astype(int)
    seen = np.argsort(rng.random((participants, n_s)), axis=1)

    now = utcnow()
    start = consultation.opened_at or now - timedelta(days=7)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)  # SQLite gives back naive UTC times
    span = max((now - start).total_seconds(), 3600.0)
    existing = (
        session.scalar(
            select(func.count())
            .select_from(Participant)
            .where(Participant.consultation_id == consultation.id, Participant.xid.like(f"{XID_PREFIX}%"))
        )
        or 0
    )
    batch = f"{XID_PREFIX}{seed}-{existing}-"
    session.execute(
        insert(Participant),
        [
            {
                "consultation_id": consultation.id,
                "token_hash": hashlib.sha256(f"{consultation.id}:{batch}{i}".encode()).hexdigest(),
                "xid": f"{batch}{i}",
                "is_banned": False,
                "created_at": now,
            }
            for i in range(participants)
        ],
    )
    pid_of = dict(
        session.execute(
            select(Participant.xid, Participant.id).where(
                Participant.consultation_id == consultation.id, Participant.xid.like(f"{batch}%")
            )
        ).all()
    )
    rows = []
    arrival = np.sort(rng.random(participants))
    pace = rng.uniform(3.0, 12.0, participants)  # seconds a statement: people read (the integrity annex checks)
    for i in range(participants):
        pid = pid_of[f"{batch}{i}"]
        when = now - timedelta(seconds=span * (1.0 - arrival[i]))
        for k, j in enumerate(seen[i, : n_voted[i]]):
            rows.append(
                {
                    "participant_id": pid,
                    "statement_id": int(statement_ids[j]),
                    "value": int(value[i, j]),
                    "created_at": when - timedelta(seconds=float(pace[i] * (n_voted[i] - 1 - k))),  # the last at when
                }
            )
    votes.record_many(session, consultation.id, rows)
    consultation.is_simulated = True
    session.commit()
    votes_changed.send(consultation.id)
    return len(rows)


def load_demo(session: Session, source: Path = DEMO_SOURCE, participants: int = DEMO_PARTICIPANTS) -> Consultation:
    """The closed demo consultation: a copy of a sample's statements with simulated voters (idempotent)."""
    with source.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    data = {
        **data,
        "slug": DEMO_SLUG,
        "title": f"Demo (simulated data): {data['title']}",
        "status": "closed",
        "simulated": True,
        "allow_statements": False,
    }
    consultation = consultations.load_sample(session, data)
    has_votes = session.scalar(
        select(func.count()).select_from(CurrentVote).where(CurrentVote.consultation_id == consultation.id)
    )
    if not has_votes:
        consultation.opened_at = utcnow() - timedelta(days=21)
        simulate_votes(session, consultation, participants, groups=3, seed=1)
        simulate_population.add_demo_answers(session, consultation, seed=1)
        consultation.status = ConsultationStatus.CLOSED
        consultation.closed_at = utcnow()
        session.commit()
    return consultation
