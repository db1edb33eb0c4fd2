"""Shared test factories: what a participant does, by consultation object, through the one act or the one writer.

Tests import these instead of helpers from other test modules.
"""

from participate.models import Consultation, Participant, Statement, VoteValue, utcnow
from participate.services.participation import acts, gate, votes


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


def check_eligible(session, consultation: Consultation, token: str | None) -> None:
    """The gate's rule for reading a participant's page: raises the refusal, if any."""
    gate.enter(session, consultation.slug, token, acting=None)
