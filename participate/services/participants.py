"""Anonymous participants: one per browser per consultation, known only by a hashed opaque token."""

import hashlib
import secrets

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ..database import insert
from ..models import Consultation, Participant, utcnow

#: ``session.info`` key under which the web layer leaves the request's hashed address (``security.ip_hash``) for
#: the participant a request creates; absent (None) in the CLI, imports and simulations.
IP_HASH = "participate.ip_hash"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str, consultation_id: int) -> str:
    return hashlib.sha256(f"{consultation_id}:{token}".encode()).hexdigest()


def find(session: Session, consultation: Consultation, token: str | None) -> Participant | None:
    """The participant behind this browser token in this consultation, if they have taken part."""
    if not token:
        return None
    key = token_hash(token, consultation.id)
    # A request looks its participant up more than once (eligibility, then the use case): the session keeps a strong
    # reference (its identity map is weak), so the second look-up is answered without a query.
    known = session.info.setdefault("participate.participants", {})
    if key in known:
        participant = session.get(Participant, inspect(known[key]).identity)
        if participant is not None:
            return participant
    participant = session.scalar(
        select(Participant).where(Participant.consultation_id == consultation.id, Participant.token_hash == key)
    )
    if participant is not None:
        known[key] = participant
    return participant


def find_or_add(session: Session, consultation: Consultation, token: str) -> Participant:
    """The participant for this token, created (not committed) on their first contribution."""
    existing = find(session, consultation, token)  # the common case, one indexed read
    if existing is not None:
        return existing
    # INSERT ... ON CONFLICT DO NOTHING: two first requests from one browser at once still make one participant.
    session.execute(
        insert(session, Participant)
        .values(
            consultation_id=consultation.id,
            token_hash=token_hash(token, consultation.id),
            created_at=utcnow(),
            ip_hash=session.info.get(IP_HASH),
        )
        .on_conflict_do_nothing(index_elements=["consultation_id", "token_hash"])
    )
    return find(session, consultation, token)
