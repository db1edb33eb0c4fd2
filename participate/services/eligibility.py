"""Who may take part: anyone with the link, people on an XID allow-list, or holders of one-time invite codes."""

import csv
import hashlib
import hmac
import io
import re
import secrets
import unicodedata

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from analysis import csv_safe

from ..models import (
    XID_MAX_LENGTH,
    Account,
    AllowedXid,
    BannedIdentity,
    Consultation,
    CurrentVote,
    Eligibility,
    InviteCode,
    Participant,
    Statement,
    utcnow,
)
from . import N_, Forbidden, InvalidInput, audit, participants
from .consultations import aware

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
        if any(unicodedata.category(ch) == "Cc" for ch in xid):
            raise InvalidInput(N_("Row %(row)d: the XID contains a control character."), row=number)
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
    """(codes, codes used): a code is used by its holder's first vote or statement, not by opening the link."""
    total = session.scalar(select(func.count()).where(InviteCode.consultation_id == consultation.id))
    voted = exists().where(CurrentVote.participant_id == InviteCode.participant_id)
    wrote = exists().where(Statement.author_id == InviteCode.participant_id)
    used = session.scalar(select(func.count()).where(InviteCode.consultation_id == consultation.id, voted | wrote))
    return total, used


def invite_codes_csv(session: Session, consultation: Consultation, participate_url: str) -> str:
    """Every invite code with its personal link and whether it has been used, as CSV."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(["code", "link", "used_at"])
    for code in session.scalars(
        select(InviteCode).where(InviteCode.consultation_id == consultation.id).order_by(InviteCode.id)
    ):
        used = aware(code.used_at).isoformat() if code.used_at else ""
        writer.writerow([code.code, f"{participate_url}?code={code.code}", used])
    return out.getvalue()


def _normal_code(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").upper()


def xid_signature(secret: str, xid: str) -> str:
    """The signature an integrator puts beside an XID: hex HMAC-SHA256 of the XID keyed by the consultation's secret."""
    return hmac.new(secret.encode(), xid.encode(), hashlib.sha256).hexdigest()


def rotate_xid_secret(session: Session, actor: Account, consultation: Consultation) -> str:
    """Make a new signing secret (links signed with the old one stop working); returns it."""
    consultation.xid_secret = secrets.token_hex(32)
    audit.record(session, actor, consultation, "xid_secret_rotated")
    session.commit()
    return consultation.xid_secret


def set_xid_unsigned(session: Session, actor: Account, consultation: Consultation, unsigned: bool) -> None:
    """Choose whether unsigned XIDs from the allow-list are admitted (anyone who knows one can then use it)."""
    if consultation.xid_unsigned != unsigned:
        consultation.xid_unsigned = unsigned
        audit.record(session, actor, consultation, "xid_signing_changed", unsigned=unsigned)
    if not unsigned and not consultation.xid_secret:
        consultation.xid_secret = secrets.token_hex(32)
    session.commit()


def admit(
    session: Session,
    consultation: Consultation,
    token: str,
    *,
    xid: str | None = None,
    code: str | None = None,
    sig: str | None = None,
) -> None:
    """A visitor arrives with ``?xid=`` (and ``&sig=``) or ``?code=``: make this browser eligible, or refuse."""
    if consultation.eligibility == Eligibility.XID and xid:
        _admit_xid(session, consultation, token, xid.strip(), sig)
    elif consultation.eligibility == Eligibility.INVITE and code:
        _admit_code(session, consultation, token, _normal_code(code))
    session.commit()


_BANNED = N_("You can no longer take part in this consultation.")


def _check_signature(consultation: Consultation, xid: str, sig: str | None) -> None:
    """Signed XIDs (the default): the signature must match, compared in constant time. Unsigned: the allow-list."""
    if consultation.xid_unsigned:
        return
    expected = xid_signature(consultation.xid_secret, xid) if consultation.xid_secret else None
    if expected is None or not hmac.compare_digest((sig or "").strip().lower().encode(), expected.encode()):
        raise Forbidden(
            N_("This personal link is not valid: its signature does not match. Please use the link you were given.")
        )


def _admit_xid(session: Session, consultation: Consultation, token: str, xid: str, sig: str | None) -> None:
    # An XID is stored as given: one the allow-list could not hold is refused before anything else (a 400, never a
    # database error), however well it is signed.
    if len(xid) > XID_MAX_LENGTH or any(unicodedata.category(ch) == "Cc" for ch in xid):
        raise InvalidInput(
            N_(
                "This personal link is not valid: its id must be at most %(limit)d characters, without control "
                "characters."
            ),
            limit=XID_MAX_LENGTH,
        )
    _check_signature(consultation, xid, sig)
    if consultation.xid_unsigned and session.get(AllowedXid, (consultation.id, xid)) is None:
        raise Forbidden(N_("This personal link is not on the list of people invited to this consultation."))
    if is_banned(session, consultation.id, "xid", xid):
        raise Forbidden(_BANNED)
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
    if is_banned(session, consultation.id, "code", code):
        raise Forbidden(_BANNED)
    participant = participants.find(session, consultation, token)
    if invite.participant_id is not None:
        if participant is not None and invite.participant_id == participant.id:
            return
        if _has_contributed(session, invite.participant_id):
            raise Forbidden(N_("This invite code has already been used. Each code admits one person."))
        # Opened but never used to vote or write (a mail server's link scanner, or another device of the same
        # person): a code is used up by the first vote or statement, so it moves to this browser.
    if participant is not None and _has_code(session, participant) and invite.participant_id != participant.id:
        return  # already admitted with another code: do not use up this one
    participant = participant or participants.find_or_add(session, consultation, token)
    invite.participant_id = participant.id
    invite.used_at = utcnow()


def _has_contributed(session: Session, participant_id: int) -> bool:
    """Whether the participant has voted or written a statement (what uses an invite code up)."""
    voted = exists().where(CurrentVote.participant_id == participant_id)
    wrote = exists().where(Statement.author_id == participant_id)
    return bool(session.scalar(select(voted | wrote)))


# ---- The ban list: hashed identities, nothing else, kept when a banned participant deletes their data ----


def _identities(session: Session, participant: Participant) -> list[str]:
    cid = participant.consultation_id
    found = [participants.identity_hash(cid, "token", participant.token_hash)]
    if participant.xid:
        found.append(participants.identity_hash(cid, "xid", participant.xid))
    code = session.scalar(select(InviteCode.code).where(InviteCode.participant_id == participant.id))
    if code:
        found.append(participants.identity_hash(cid, "code", code))
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
    key = (consultation_id, participants.identity_hash(consultation_id, kind, value))
    return session.get(BannedIdentity, key) is not None


def _has_code(session: Session, participant: Participant) -> bool:
    return bool(session.scalar(select(exists().where(InviteCode.participant_id == participant.id))))


def _token_key(consultation: Consultation, token: str) -> str:
    return participants.token_hash(token, consultation.id)


def check_eligible(session: Session, consultation: Consultation, token: str | None) -> None:
    """Raise :class:`Forbidden`, with a message for the visitor, unless this browser may take part."""
    participant = participants.find(session, consultation, token) if token else None
    if participant is not None and participant.is_banned:
        raise Forbidden(_BANNED)
    if participant is None and token and is_banned(session, consultation.id, "token", _token_key(consultation, token)):
        raise Forbidden(_BANNED)  # banned, then deleted their data: the ban stays
    if consultation.eligibility == Eligibility.OPEN:
        return
    if consultation.eligibility == Eligibility.XID:
        if (
            participant is None
            or participant.xid is None
            or (consultation.xid_unsigned and session.get(AllowedXid, (consultation.id, participant.xid)) is None)
        ):
            raise Forbidden(
                N_("This consultation is open only to invited people. Please use the personal link you were given.")
            )
        return
    if participant is None or not _has_code(session, participant):
        raise Forbidden(N_("This consultation is open only to people with an invite code. Please enter your code."))
