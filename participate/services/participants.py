"""Anonymous participants: one per browser per consultation, known only by a hashed opaque token."""

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, event, exists, func, inspect, select
from sqlalchemy.orm import Session

from ..database import insert
from ..models import (
    AnalysisSnapshot,
    BannedIdentity,
    Consultation,
    ConsultationStatus,
    Eligibility,
    ModerationMode,
    Participant,
    aware,
    utcnow,
)

#: ``session.info`` key under which the web layer leaves the request's hashed address (``security.ip_hash``) for
#: the participant a request creates; absent (None) in the CLI, imports and simulations.
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
    key = token_hash(token, consultation.id)
    banned = exists().where(
        BannedIdentity.consultation_id == consultation.id,
        BannedIdentity.identity_hash == identity_hash(consultation.id, "token", key),
    )
    session.execute(
        insert(session, Participant)
        .values(
            consultation_id=consultation.id,
            token_hash=key,
            created_at=utcnow(),
            ip_hash=session.info.get(IP_HASH),
            is_banned=select(banned).scalar_subquery(),  # a browser banned before it deleted its data stays banned
        )
        .on_conflict_do_nothing(index_elements=["consultation_id", "token_hash"])
    )
    return find(session, consultation, token)


@dataclass(frozen=True)
class Participation:
    """What a participation request needs, read in one query: the consultation and this browser's participant."""

    consultation_id: int
    status: ConsultationStatus
    moderation: ModerationMode
    eligibility: Eligibility
    schedule_due: bool
    participant_id: int | None
    is_banned: bool
    snapshot_id: int | None  # the consultation's latest analysis

    @property
    def routine(self) -> bool:
        """Open to anyone, open now, and this browser takes part unbanned: nothing else needs checking."""
        return (
            self.status == ConsultationStatus.OPEN
            and self.eligibility == Eligibility.OPEN
            and not self.schedule_due
            and self.participant_id is not None
            and not self.is_banned
        )


# slug -> consultation id, per database, so the participant's key (which includes the id) is known before the first
# query. A stale entry (a renamed slug) only costs a second query: participation() checks the slug as well.
_consultation_ids: dict[tuple[str, str], int] = {}
_CACHE_LIMIT = 10_000


def _consultation_id(session: Session, slug: str, *, fresh: bool = False) -> int | None:
    key = (str(session.get_bind().url), slug)
    if not fresh and key in _consultation_ids:
        return _consultation_ids[key]
    table = Consultation.__table__
    found = session.connection().scalar(select(table.c.id).where(table.c.slug == slug))
    if found is not None:
        if len(_consultation_ids) >= _CACHE_LIMIT:
            _consultation_ids.clear()
        _consultation_ids[key] = found
    return found


_MEMO = "participate.participation"


@event.listens_for(Session, "after_transaction_end")
def _forget_participation(session: Session, transaction) -> None:
    """What one transaction read is not evidence in the next (the participant may have been created meanwhile)."""
    session.info.pop(_MEMO, None)


def participation(session: Session, slug: str, token: str | None) -> Participation | None:
    """The consultation at ``slug`` and this browser's participant in it (None if there is no such consultation).

    The hot path of voting: one indexed query in Core SQL, remembered until the transaction ends (the rate limiter
    asks first, then the vote). Drafts are returned too; callers decide what the public may see.
    """
    memo = session.info.setdefault(_MEMO, {})
    if (slug, token) in memo:
        return memo[(slug, token)]
    found = None
    for fresh in (False, True):
        consultation_id = _consultation_id(session, slug, fresh=fresh)
        if consultation_id is None:
            break
        found = _read_participation(session, consultation_id, slug, token)
        if found is not None:
            break
    memo[(slug, token)] = found
    return found


def _participation_query():
    """Built once: the vote path runs it on every request, and building a statement costs more than running it."""
    c, p, s = Consultation.__table__, Participant.__table__, AnalysisSnapshot.__table__
    latest_snapshot = select(func.max(s.c.id)).where(s.c.consultation_id == c.c.id).scalar_subquery()
    return (
        select(
            c.c.status,
            c.c.moderation,
            c.c.eligibility,
            c.c.scheduled_open_at,
            c.c.scheduled_close_at,
            p.c.id,
            p.c.is_banned,
            latest_snapshot,
        )
        .select_from(c.outerjoin(p, and_(p.c.consultation_id == c.c.id, p.c.token_hash == bindparam("token_hash"))))
        .where(c.c.id == bindparam("consultation_id"), c.c.slug == bindparam("slug"))
    )


_PARTICIPATION = _participation_query()


def _read_participation(session: Session, consultation_id: int, slug: str, token: str | None) -> Participation | None:
    key = token_hash(token, consultation_id) if token else None
    params = {"consultation_id": consultation_id, "slug": slug, "token_hash": key}
    row = session.connection().execute(_PARTICIPATION, params).first()
    if row is None:
        return None
    status, moderation, eligibility, opens, closes, participant_id, is_banned, snapshot_id = row
    now = utcnow()
    return Participation(
        consultation_id=consultation_id,
        status=status,
        moderation=moderation,
        eligibility=eligibility,
        schedule_due=any(aware(t) <= now for t in (opens, closes) if t is not None),
        participant_id=participant_id,
        is_banned=bool(is_banned),
        snapshot_id=snapshot_id,
    )
