"""Anonymous participants, one per browser per consultation, known only by a hashed opaque token; and the ban list."""

import hashlib
import secrets

from sqlalchemy import delete, exists, inspect, select
from sqlalchemy.orm import Session

from ...database import insert
from ...models import BannedIdentity, Consultation, InviteCode, Participant, utcnow

#: ``session.info`` key under which the web layer leaves the request's hashed address for the participant a request
#: creates, or a function that returns it (``security.ip_hash``); absent (None) in the CLI, imports and simulations.
IP_HASH = "participate.ip_hash"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str, consultation_id: int) -> str:
    return hashlib.sha256(f"{consultation_id}:{token}".encode()).hexdigest()


def identity_hash(consultation_id: int, kind: str, value: str) -> str:
    """How the ban list stores an identity (``kind`` "token" with a token hash, "xid" or "code"): hashed only."""
    return hashlib.sha256(f"banned:{kind}:{consultation_id}:{value}".encode()).hexdigest()


def find(session: Session, consultation: Consultation, token: str | None) -> Participant | None:
    """The participant behind this browser token in this consultation, if they have taken part."""
    if not token:
        return None
    key = token_hash(token, consultation.id)
    # A request may look its participant up more than once: the session keeps a strong reference (its identity map
    # is weak), so the second look-up is answered without a query.
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


def add(session: Session, consultation_id: int, token: str) -> int:
    """The id of this token's participant, created (not committed) on their first contribution if need be."""
    key = token_hash(token, consultation_id)
    ip = session.info.get(IP_HASH)
    # INSERT ... ON CONFLICT DO NOTHING: two first requests from one browser at once still make one participant.
    banned = exists().where(
        BannedIdentity.consultation_id == consultation_id,
        BannedIdentity.identity_hash == identity_hash(consultation_id, "token", key),
    )
    session.execute(
        insert(session, Participant)
        .values(
            consultation_id=consultation_id,
            token_hash=key,
            created_at=utcnow(),
            ip_hash=ip() if callable(ip) else ip,
            is_banned=select(banned).scalar_subquery(),  # a browser banned before it deleted its data stays banned
        )
        .on_conflict_do_nothing(index_elements=["consultation_id", "token_hash"])
    )
    table = Participant.__table__
    return session.connection().scalar(
        select(table.c.id).where(table.c.consultation_id == consultation_id, table.c.token_hash == key)
    )


def find_or_add(session: Session, consultation: Consultation, token: str) -> Participant:
    """The participant for this token, created (not committed) on their first contribution."""
    existing = find(session, consultation, token)  # the common case, one indexed read
    if existing is not None:
        return existing
    add(session, consultation.id, token)
    return find(session, consultation, token)


# ---- The ban list: hashed identities, nothing else, kept when a banned participant deletes their data ----


def _identities(session: Session, participant: Participant) -> list[str]:
    cid = participant.consultation_id
    found = [identity_hash(cid, "token", participant.token_hash)]
    if participant.xid:
        found.append(identity_hash(cid, "xid", participant.xid))
    code = session.scalar(select(InviteCode.code).where(InviteCode.participant_id == participant.id))
    if code:
        found.append(identity_hash(cid, "code", code))
    return found


def record_ban(session: Session, participant: Participant) -> None:
    """Put the participant's browser key, XID and invite code (hashed) on the ban list; the caller commits."""
    listed = set(
        session.scalars(
            select(BannedIdentity.identity_hash).where(BannedIdentity.consultation_id == participant.consultation_id)
        )
    )
    for identity in _identities(session, participant):
        if identity not in listed:
            session.add(BannedIdentity(consultation_id=participant.consultation_id, identity_hash=identity))


def lift_ban(session: Session, participant: Participant) -> None:
    """Take the participant's identities off the ban list; the caller commits."""
    session.execute(
        delete(BannedIdentity).where(
            BannedIdentity.consultation_id == participant.consultation_id,
            BannedIdentity.identity_hash.in_(_identities(session, participant)),
        )
    )


def is_banned(session: Session, consultation_id: int, kind: str, value: str) -> bool:
    """Whether this browser key ("token", its hash), XID ("xid") or invite code ("code") is on the ban list."""
    key = (consultation_id, identity_hash(consultation_id, kind, value))
    return session.get(BannedIdentity, key) is not None
