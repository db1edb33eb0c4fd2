"""Shared test factories: what a participant does, by consultation object, through the one act or the one writer.

Tests import these instead of helpers from other test modules.
"""

from flask import current_app
from sqlalchemy import select

from participate.background import execute as run_job
from participate.extensions import db
from participate.models import Consultation, Job, JobStatus, Participant, Statement, VoteValue, utcnow
from participate.services.participation import acts, gate, identity, votes
from participate.services.snapshots import runner

AGREE, DISAGREE, PASS = VoteValue.AGREE, VoteValue.DISAGREE, VoteValue.PASS


def cast(session, consultation: Consultation, token: str, statement_id, value: VoteValue) -> acts.Voted:
    """A participant votes through the act both doors call (the gate's checks included), without drawing."""
    return acts.vote(session, consultation.slug, token, statement_id, value, draw_next=False)


def submit_statement(session, consultation: Consultation, token: str, text) -> Statement:
    """A participant adds a statement through the act both doors call."""
    return acts.add_statement(session, consultation.slug, token, text)


def record(
    session, consultation: Consultation, participant: Participant, statement: Statement, value, *, at=None
) -> int:
    """A vote written directly by the one writer (at ``at``, else now), whatever the consultation's state; the
    caller commits. For building fixtures."""
    return votes.record(session, consultation.id, participant.id, statement.id, VoteValue(int(value)), at or utcnow())


def run_queued() -> None:
    """What a worker does: run every queued job (with the ``queued`` fixture, which stops them running at once)."""
    for job_id in db.session.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.created_at)):
        run_job(current_app._get_current_object(), job_id)
    db.session.expire_all()


def check_eligible(session, consultation: Consultation, token: str | None) -> None:
    """The gate's rule for reading a participant's page: raises the refusal, if any."""
    gate.enter(session, consultation.slug, token, acting=None)


# A small hand-made consultation: camp X (14 people) and camp Y (10 people), ten statements: two copies of a dozen
# people, so that common ground meets the evidence floors (20 voters, 5 per group) and the thin rest does not.
# Statement 0 is common ground, 1-4 are agreed by X and rejected by Y, 5-8 the reverse, 9 is mostly passed.
# Each person skips one statement (so counts differ) and a few vote against their camp.
PEOPLE = 24
CAMP_X = tuple(p for p in range(PEOPLE) if p % 12 < 7)
CAMP_Y = tuple(p for p in range(PEOPLE) if p % 12 >= 7)


def hand_votes() -> dict[tuple[int, int], VoteValue]:
    votes = {}
    for person in range(PEOPLE):
        x = person in CAMP_X
        for s in range(10):
            if s == (person % 10) and s != 0:
                continue  # not seen
            if s == 0:
                value = AGREE
            elif s == 9:
                value = PASS if person % 3 else AGREE
            elif (s <= 4) == x:
                value = AGREE
            else:
                value = DISAGREE
            votes[(person, s)] = value
    votes[(0, 5)] = AGREE  # one dissenter in X
    votes[(8, 2)] = PASS  # one unsure in Y
    votes[(9, 3)] = AGREE  # one in Y sides with X once
    return votes


def make_hand_consultation(make_consultation, votes=None):
    consultation = make_consultation("hand", statements=[f"Hand statement {i}" for i in range(10)])
    sids = sorted(s.id for s in consultation.statements)
    statements = {s.id: s for s in consultation.statements}
    people = [identity.find_or_add(db.session, consultation, f"person-{i}") for i in range(PEOPLE)]
    for (person, s), value in (votes or hand_votes()).items():
        record(db.session, consultation, people[person], statements[sids[s]], value)
    db.session.commit()
    runner.analyse(db.session, consultation.id)
    return consultation, sids, people
