"""Arriving with a personal link: a signed (or allow-listed) XID, or a one-time invite code, admits a browser."""

import hashlib
import hmac
import re
import unicodedata

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ...models import (
    XID_MAX_LENGTH,
    AllowedXid,
    Consultation,
    CurrentVote,
    Eligibility,
    InviteCode,
    Participant,
    Statement,
    utcnow,
)
from .. import N_, Forbidden, InvalidInput
from . import identity

BANNED = N_("You can no longer take part in this consultation.")


def xid_signature(secret: str, xid: str) -> str:
    """The signature an integrator puts beside an XID: hex HMAC-SHA256 of the XID keyed by the consultation's secret."""
    return hmac.new(secret.encode(), xid.encode(), hashlib.sha256).hexdigest()


def normal_code(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").upper()


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
        _admit_code(session, consultation, token, normal_code(code))
    session.commit()


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
    if identity.is_banned(session, consultation.id, "xid", xid):
        raise Forbidden(BANNED)
    participant = identity.find(session, consultation, token)
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
        bound.token_hash = identity.token_hash(token, consultation.id)
    else:
        participant = identity.find_or_add(session, consultation, token)
        participant.xid = xid


def _admit_code(session: Session, consultation: Consultation, token: str, code: str) -> None:
    invite = session.scalar(
        select(InviteCode).where(InviteCode.consultation_id == consultation.id, InviteCode.code == code)
    )
    if invite is None:
        raise Forbidden(N_("This invite code is not valid for this consultation. Please check it and try again."))
    if identity.is_banned(session, consultation.id, "code", code):
        raise Forbidden(BANNED)
    participant = identity.find(session, consultation, token)
    if invite.participant_id is not None:
        if participant is not None and invite.participant_id == participant.id:
            return
        if _has_contributed(session, invite.participant_id):
            raise Forbidden(N_("This invite code has already been used. Each code admits one person."))
        # Opened but never used to vote or write (a mail server's link scanner, or another device of the same
        # person): a code is used up by the first vote or statement, so it moves to this browser.
    if participant is not None and _has_code(session, participant.id) and invite.participant_id != participant.id:
        return  # already admitted with another code: do not use up this one
    participant = participant or identity.find_or_add(session, consultation, token)
    invite.participant_id = participant.id
    invite.used_at = utcnow()


def _has_contributed(session: Session, participant_id: int) -> bool:
    """Whether the participant has voted or written a statement (what uses an invite code up)."""
    voted = exists().where(CurrentVote.participant_id == participant_id)
    wrote = exists().where(Statement.author_id == participant_id)
    return bool(session.scalar(select(voted | wrote)))


def _has_code(session: Session, participant_id: int) -> bool:
    return bool(session.scalar(select(exists().where(InviteCode.participant_id == participant_id))))
