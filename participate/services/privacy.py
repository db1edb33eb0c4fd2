"""A participant's own data (download, delete) and the retention of hashed addresses."""

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ..models import (
    Consultation,
    ConsultationStatus,
    DeletedStatements,
    InviteCode,
    ModerationAction,
    ModerationLogEntry,
    Participant,
    ParticipantAnswer,
    Statement,
    Vote,
    utcnow,
)
from . import N_, InvalidInput, population
from .participation.votes import WORD_OF_VOTE, forget, my_votes
from .signals import votes_changed
from .snapshots import store

DELETED_STATEMENTS = tuple(choice.value for choice in DeletedStatements)


def my_data(session: Session, consultation: Consultation, participant: Participant | None) -> dict:
    """Everything stored about this participant in this consultation, as JSON: votes (all of them), statements and
    answers to the questions about participants (``about_me``).

    The participant row in full (external id, invite code, ban), except two hashes that identify nothing to the
    participant: of the browser token, and of the address (said to be kept, never given out: see SECURITY.md).
    """
    history, current, statements = [], [], []
    if participant is not None:
        history = [
            {"statement_id": v.statement_id, "vote": WORD_OF_VOTE[v.value], "at": v.created_at.isoformat()}
            for v in session.scalars(select(Vote).where(Vote.participant_id == participant.id).order_by(Vote.id))
        ]
        current = [
            {"statement_id": s.id, "statement": s.text, "vote": WORD_OF_VOTE[value]}
            for s, value in my_votes(session, participant)
        ]
        statements = [
            {"id": s.id, "text": s.text, "moderation": s.moderation.value, "at": s.created_at.isoformat()}
            for s in session.scalars(
                select(Statement).where(Statement.author_id == participant.id).order_by(Statement.id)
            )
        ]
    return {
        "consultation": {"slug": consultation.slug, "title": consultation.title},
        "participant": None if participant is None else _about(session, participant),
        "current_votes": current,
        "vote_history": history,
        "statements": statements,
        "about_me": population.my_answers(session, participant),
    }


def _about(session: Session, participant: Participant) -> dict:
    """What the participant row and the invite-code table hold about this person."""
    code = session.scalar(select(InviteCode).where(InviteCode.participant_id == participant.id))
    return {
        "joined_at": participant.created_at.isoformat(),
        "xid": participant.xid,
        "invite_code": code.code if code else None,
        "invite_code_used_at": code.used_at.isoformat() if code and code.used_at else None,
        "banned": participant.is_banned,
        "hashed_address_kept": participant.ip_hash is not None,
    }


def public_deletion_choice(session: Session, slug: object, site_default: str) -> tuple[Consultation, str] | None:
    """A consultation the public can see, by slug, with what deleting one's data does to one's statements there."""
    if not isinstance(slug, str) or not slug:
        return None
    consultation = session.scalar(
        select(Consultation).where(Consultation.slug == slug, Consultation.status != ConsultationStatus.DRAFT)
    )
    return None if consultation is None else (consultation, consultation.statements_on_delete(site_default))


def delete_mine(session: Session, participant: Participant, site_default: str = "anonymise") -> dict:
    """Delete the participant's votes, answers about themselves and the participant; their statements are anonymised
    or removed.

    As the consultation chose (``Consultation.deleted_statements``), or else as ``site_default`` (the site's
    DELETED_STATEMENTS): "anonymise" keeps the text without an author; "remove" deletes the statements (and every
    vote on them). One commit; ``votes_changed`` asks for a new analysis, so the votes leave the results.
    """
    consultation = session.get(Consultation, participant.consultation_id)
    statements = consultation.statements_on_delete(site_default)
    if statements not in DELETED_STATEMENTS:
        raise InvalidInput(N_("DELETED_STATEMENTS must be one of %(allowed)s."), allowed=", ".join(DELETED_STATEMENTS))
    pid = participant.id
    own = select(Statement.id).where(Statement.author_id == pid).scalar_subquery()
    deleted = Vote.participant_id == pid
    if statements == "remove":  # everyone's votes on their statements go too
        deleted = deleted | Vote.statement_id.in_(own)
    first = session.scalar(select(func.min(Vote.id)).where(Vote.consultation_id == consultation.id, deleted))
    if first is not None:  # the analyses that counted these votes go with them
        store.forget_votes(session, consultation.id, first)
    removed_votes = forget(session, participant_id=pid)
    if statements == "remove":
        forget(session, statement_ids=own)
        touched = session.execute(delete(Statement).where(Statement.author_id == pid)).rowcount
    else:
        touched = session.execute(update(Statement).where(Statement.author_id == pid).values(author_id=None)).rowcount
    session.execute(delete(ParticipantAnswer).where(ParticipantAnswer.participant_id == pid))
    # Redaction by adding: the moderation log's rows keep their ids (a published report's SHA-256 covers them); a row
    # of its own records that this participant's data is gone.
    session.add(ModerationLogEntry(consultation_id=consultation.id, participant_id=pid, action=ModerationAction.REDACT))
    session.execute(delete(Participant).where(Participant.id == pid))
    session.commit()
    votes_changed.send(consultation.id)
    return {"votes": removed_votes, "statements": touched, "statements_were": statements}


def purge(session: Session, retention_days: int, *, now=None) -> int:
    """Apply the retention setting: clear hashed addresses older than ``retention_days``; how many were cleared."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    cleared = session.execute(
        update(Participant)
        .where(Participant.ip_hash.is_not(None), Participant.created_at < cutoff)
        .values(ip_hash=None)
    ).rowcount
    session.commit()
    return cleared
