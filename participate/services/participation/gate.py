"""The one rule of participation: may this browser act here now? Public, open (its schedule applied), eligible, not
banned: nothing; anything else: a refusal that says why.

Everything the rule needs is read in one indexed query (:func:`read`): the vote path runs it on every request, so
the usual case costs that query and nothing else. A schedule that has come due is applied here, before the rule
is asked, and nowhere else on the participant's path.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, event, exists, func, select
from sqlalchemy.orm import Session

from ...models import (
    AllowedXid,
    AnalysisSnapshot,
    BannedIdentity,
    Consultation,
    ConsultationStatus,
    Eligibility,
    InviteCode,
    ModerationMode,
    Participant,
    aware,
    utcnow,
)
from .. import N_, Conflict, Forbidden, NotFound, ServiceError, consultations
from . import admission, identity


@dataclass(frozen=True)
class Seen:
    """What the gate read about a consultation and this browser, in one query."""

    consultation_id: int
    status: ConsultationStatus
    moderation: ModerationMode
    eligibility: Eligibility
    allow_statements: bool
    event_mode: bool  # a larger allowance of new participants per network (the rate limits read it)
    opens_at: datetime | None
    closes_at: datetime | None
    participant_id: int | None
    is_banned: bool  # the participant, or (no participant) this browser's key on the ban list
    has_xid: bool  # the participant came by a personal XID link still valid (allow-listed when unsigned)
    has_code: bool  # the participant holds an invite code
    snapshot_id: int | None  # the consultation's latest analysis

    def schedule_due(self, now: datetime) -> bool:
        """A scheduled opening or closing has come due and is not applied yet."""
        if self.status == ConsultationStatus.DRAFT:
            return self.opens_at is not None and self.opens_at <= now
        return self.status == ConsultationStatus.OPEN and self.closes_at is not None and self.closes_at <= now


#: What the rule can answer besides "go ahead"; ``refusal`` turns each into the error a person reads.
MISSING, NOT_YET, BANNED, NOT_INVITED, NO_CODE, CLOSED = (
    "missing",
    "not_yet",
    "banned",
    "not_invited",
    "no_code",
    "closed",
)


def rule(seen: Seen | None, *, acting: str | None, eligible: bool = True) -> str | None:
    """None if this browser may go ahead, else why not. ``acting``: "vote" or "statement" (None: read the page).

    The schedule must already be applied (:func:`enter` does it). A closed consultation can be read, not acted in.
    ``eligible=False`` asks only whether the consultation is public (its pages that anyone with the link may read).
    """
    if seen is None:
        return MISSING
    if seen.status == ConsultationStatus.DRAFT:
        return NOT_YET if seen.opens_at is not None else MISSING
    if not eligible:
        return None
    if seen.is_banned:
        return BANNED
    if seen.eligibility == Eligibility.XID and not seen.has_xid:
        return NOT_INVITED
    if seen.eligibility == Eligibility.INVITE and not seen.has_code:
        return NO_CODE
    if acting and seen.status != ConsultationStatus.OPEN:
        return CLOSED
    return None


_REFUSALS = {
    MISSING: (NotFound, N_("There is no consultation at this address.")),
    BANNED: (Forbidden, admission.BANNED),
    NOT_INVITED: (
        Forbidden,
        N_("This consultation is open only to invited people. Please use the personal link you were given."),
    ),
    NO_CODE: (
        Forbidden,
        N_("This consultation is open only to people with an invite code. Please enter your code."),
    ),
}
CLOSED_MESSAGES = {  # by what was refused: a vote or a statement
    "vote": N_("This consultation is closed: votes are no longer accepted."),
    "statement": N_("This consultation is closed, so new statements are no longer accepted."),
}


def refusal(session: Session, seen: Seen | None, why: str, acting: str | None) -> ServiceError:
    """The error for the rule's answer ``why``."""
    if why == NOT_YET:
        return consultations.NotOpenYet(session.get(Consultation, seen.consultation_id))
    if why == CLOSED:
        return Conflict(CLOSED_MESSAGES[acting])
    kind, message = _REFUSALS[why]
    return kind(message)


def enter(
    session: Session,
    slug: str,
    token: str | None,
    *,
    acting: str | None,
    eligible: bool = True,
    now: datetime | None = None,
) -> Seen:
    """The gate: apply a schedule that has come due, then the rule; what was read, or raise the refusal."""
    now = now or utcnow()
    seen = read(session, slug, token)
    if seen is not None and seen.schedule_due(now):
        consultations.apply_due_schedules(session, slug=slug, now=now)  # commits; the memo of the read goes with it
        seen = read(session, slug, token)
    why = rule(seen, acting=acting, eligible=eligible)
    if why is not None:
        raise refusal(session, seen, why, acting)
    return seen


# slug -> consultation id, per database, so the participant's key (which includes the id) is known before the first
# query. A stale entry (a renamed slug) only costs a second query: the query checks the slug as well.
_consultation_ids: dict[tuple[str, str], int] = {}
_CACHE_LIMIT = 10_000
_MEMO = "participate.participation"


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    """What one transaction read is not evidence in the next (the participant may have been created meanwhile)."""
    session.info.pop(_MEMO, None)


def read(session: Session, slug: str, token: str | None) -> Seen | None:
    """The consultation at ``slug`` and this browser's participant in it (None if there is no such consultation).

    Remembered until the transaction ends (the rate limiter asks first, then the act). Drafts are returned too.
    """
    memo = session.info.setdefault(_MEMO, {})
    if (slug, token) in memo:
        return memo[(slug, token)]
    found = None
    url = str(session.get_bind().url)
    for fresh in (False, True):
        consultation_id = None if fresh else _consultation_ids.get((url, slug))
        if consultation_id is None:
            consultation_id = session.connection().scalar(_ID_OF_SLUG, {"slug": slug})
            if consultation_id is None:
                break
            if len(_consultation_ids) >= _CACHE_LIMIT:
                _consultation_ids.clear()
            _consultation_ids[(url, slug)] = consultation_id
        found = _read(session, consultation_id, slug, token)
        if found is not None or fresh:
            break
    memo[(slug, token)] = found
    return found


def _gate_query():
    """Built once: the vote path runs it on every request, and building a statement costs more than running it."""
    c, p, s = Consultation.__table__, Participant.__table__, AnalysisSnapshot.__table__
    latest_snapshot = select(func.max(s.c.id)).where(s.c.consultation_id == c.c.id).scalar_subquery()
    has_code = exists().where(InviteCode.__table__.c.participant_id == p.c.id)
    allowed = exists().where(AllowedXid.__table__.c.consultation_id == c.c.id, AllowedXid.__table__.c.xid == p.c.xid)
    banned = BannedIdentity.__table__
    key_banned = exists().where(banned.c.consultation_id == c.c.id, banned.c.identity_hash == bindparam("ban_key"))
    return (
        select(
            c.c.status,
            c.c.moderation,
            c.c.eligibility,
            c.c.allow_statements,
            c.c.event_mode,
            c.c.scheduled_open_at,
            c.c.scheduled_close_at,
            c.c.xid_unsigned,
            p.c.id,
            p.c.is_banned,
            p.c.xid,
            has_code,
            allowed,
            key_banned,
            latest_snapshot,
        )
        .select_from(c.outerjoin(p, and_(p.c.consultation_id == c.c.id, p.c.token_hash == bindparam("token_hash"))))
        .where(c.c.id == bindparam("consultation_id"), c.c.slug == bindparam("slug"))
    )


_GATE = _gate_query()
_ID_OF_SLUG = select(Consultation.__table__.c.id).where(Consultation.__table__.c.slug == bindparam("slug"))


def _read(session: Session, consultation_id: int, slug: str, token: str | None) -> Seen | None:
    key = identity.token_hash(token, consultation_id) if token else None
    params = {
        "consultation_id": consultation_id,
        "slug": slug,
        "token_hash": key,
        "ban_key": identity.identity_hash(consultation_id, "token", key) if key else "",
    }
    row = session.connection().execute(_GATE, params).first()
    if row is None:
        return None
    (
        status,
        moderation,
        eligibility,
        allow_statements,
        event_mode,
        opens,
        closes,
        unsigned,
        participant_id,
        participant_banned,
        xid,
        has_code,
        allowed,
        key_banned,
        snapshot_id,
    ) = row
    return Seen(
        consultation_id=consultation_id,
        status=ConsultationStatus(status),
        moderation=ModerationMode(moderation),
        eligibility=Eligibility(eligibility),
        allow_statements=bool(allow_statements),
        event_mode=bool(event_mode),
        opens_at=aware(opens),
        closes_at=aware(closes),
        participant_id=participant_id,
        is_banned=bool(participant_banned) or bool(key_banned),
        has_xid=xid is not None and (not unsigned or bool(allowed)),
        has_code=bool(has_code),
        snapshot_id=snapshot_id,
    )
