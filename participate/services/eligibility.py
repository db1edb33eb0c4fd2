"""Who may take part: anyone with the link, people on an XID allow-list, or holders of one-time invite codes."""

import csv
import io
import re
import secrets

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from ..models import (
    Account,
    AllowedXid,
    Consultation,
    Eligibility,
    InviteCode,
    Participant,
    utcnow,
)
from . import N_, Forbidden, InvalidInput, audit, participants
from .consultations import aware

XID_MAX_LENGTH = 200
MAX_INVITE_CODES = 10_000
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes get read aloud and typed
CODE_LENGTH = 10


def parse_xids(text: str) -> list[str]:
    """XIDs from an uploaded file: the first column of each CSV row; blank rows and an ``xid`` header skipped."""
    xids: dict[str, None] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text or "")), start=1):
        if not row or not row[0].strip():
            continue
        xid = row[0].strip()
        if number == 1 and xid.lower() == "xid":
            continue
        if len(xid) > XID_MAX_LENGTH:
            raise InvalidInput(
                N_("Row %(row)d: the XID is longer than %(limit)d characters."), row=number, limit=XID_MAX_LENGTH
            )
        xids[xid] = None
    return list(xids)


def set_allowed_xids(session: Session, actor: Account, consultation: Consultation, text: str) -> int:
    """Replace the consultation's XID allow-list with the XIDs in ``text``; returns how many there are."""
    xids = parse_xids(text)
    if not xids:
        raise InvalidInput(N_("The file has no XIDs: put one per line (a CSV file's first column is used)."))
    session.execute(delete(AllowedXid).where(AllowedXid.consultation_id == consultation.id))
    session.execute(AllowedXid.__table__.insert(), [{"consultation_id": consultation.id, "xid": xid} for xid in xids])
    audit.record(session, actor, consultation, "xid_list_uploaded", count=len(xids))
    session.commit()
    return len(xids)


def allowed_xid_count(session: Session, consultation: Consultation) -> int:
    """How many XIDs are on the consultation's allow-list."""
    return session.scalar(select(func.count()).where(AllowedXid.consultation_id == consultation.id))


def generate_invite_codes(session: Session, actor: Account, consultation: Consultation, count: object) -> int:
    """Make ``count`` new one-time invite codes."""
    try:
        n = int(count)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_INVITE_CODES:
        raise InvalidInput(N_("Choose how many codes to make: between 1 and %(limit)d."), limit=MAX_INVITE_CODES)
    existing = set(session.scalars(select(InviteCode.code).where(InviteCode.consultation_id == consultation.id)))
    codes: set[str] = set()
    while len(codes) < n:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if code not in existing:
            codes.add(code)
    now = utcnow()
    session.execute(
        InviteCode.__table__.insert(),
        [{"consultation_id": consultation.id, "code": code, "created_at": now} for code in sorted(codes)],
    )
    audit.record(session, actor, consultation, "invite_codes_generated", count=n)
    session.commit()
    return n


def invite_code_counts(session: Session, consultation: Consultation) -> tuple[int, int]:
    """(codes, codes used)."""
    row = session.execute(
        select(func.count(), func.count(InviteCode.participant_id)).where(InviteCode.consultation_id == consultation.id)
    ).one()
    return row[0], row[1]


def invite_codes_csv(session: Session, consultation: Consultation, participate_url: str) -> str:
    """Every invite code with its personal link and whether it has been used, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "link", "used_at"])
    for code in session.scalars(
        select(InviteCode).where(InviteCode.consultation_id == consultation.id).order_by(InviteCode.id)
    ):
        used = aware(code.used_at).isoformat() if code.used_at else ""
        writer.writerow([code.code, f"{participate_url}?code={code.code}", used])
    return out.getvalue()


def _normal_code(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").upper()


def admit(
    session: Session, consultation: Consultation, token: str, *, xid: str | None = None, code: str | None = None
) -> None:
    """A visitor arrives with ``?xid=`` or ``?code=``: make this browser an eligible participant, or refuse."""
    if consultation.eligibility == Eligibility.XID and xid:
        _admit_xid(session, consultation, token, xid.strip())
    elif consultation.eligibility == Eligibility.INVITE and code:
        _admit_code(session, consultation, token, _normal_code(code))
    session.commit()


def _admit_xid(session: Session, consultation: Consultation, token: str, xid: str) -> None:
    allowed = session.get(AllowedXid, (consultation.id, xid))
    if allowed is None:
        raise Forbidden(N_("This personal link is not on the list of people invited to this consultation."))
    participant = participants.find(session, consultation, token)
    bound = session.scalar(
        select(Participant).where(Participant.consultation_id == consultation.id, Participant.xid == xid)
    )
    if participant is not None:
        if participant.xid == xid:
            return
        if participant.xid is not None or bound is not None:
            raise Forbidden(N_("This browser has already taken part in this consultation as someone else."))
        participant.xid = xid
    elif bound is not None:
        # The same person on another device: their participation follows their personal link.
        bound.token_hash = participants.token_hash(token, consultation.id)
    else:
        participant = participants.find_or_add(session, consultation, token)
        participant.xid = xid


def _admit_code(session: Session, consultation: Consultation, token: str, code: str) -> None:
    invite = session.scalar(
        select(InviteCode).where(InviteCode.consultation_id == consultation.id, InviteCode.code == code)
    )
    if invite is None:
        raise Forbidden(N_("This invite code is not valid for this consultation. Please check it and try again."))
    participant = participants.find(session, consultation, token)
    if invite.participant_id is not None:
        if participant is not None and invite.participant_id == participant.id:
            return
        raise Forbidden(N_("This invite code has already been used. Each code admits one person."))
    if participant is not None and _has_code(session, participant):
        return  # already admitted with another code: do not use up this one
    participant = participant or participants.find_or_add(session, consultation, token)
    invite.participant_id = participant.id
    invite.used_at = utcnow()


def _has_code(session: Session, participant: Participant) -> bool:
    return bool(session.scalar(select(exists().where(InviteCode.participant_id == participant.id))))


def check_eligible(session: Session, consultation: Consultation, token: str | None) -> None:
    """Raise :class:`Forbidden`, with a message for the visitor, unless this browser may take part."""
    participant = participants.find(session, consultation, token) if token else None
    if participant is not None and participant.is_banned:
        raise Forbidden(N_("You can no longer take part in this consultation."))
    if consultation.eligibility == Eligibility.OPEN:
        return
    if consultation.eligibility == Eligibility.XID:
        if (
            participant is None
            or participant.xid is None
            or session.get(AllowedXid, (consultation.id, participant.xid)) is None
        ):
            raise Forbidden(
                N_("This consultation is open only to invited people. Please use the personal link you were given.")
            )
        return
    if participant is None or not _has_code(session, participant):
        raise Forbidden(N_("This consultation is open only to people with an invite code. Please enter your code."))
