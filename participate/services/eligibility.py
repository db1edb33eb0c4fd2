"""Staff tools for who may take part: the XID allow-list and its signing secret, and one-time invite codes.

The rule itself (may this browser take part?) is the participation gate's, and arriving with a personal link
is ``participation.admission``."""

import csv
import io
import secrets
import unicodedata

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from analysis import csv_safe

from ..models import (
    XID_MAX_LENGTH,
    Account,
    AllowedXid,
    Consultation,
    CurrentVote,
    InviteCode,
    Statement,
    utcnow,
)
from . import N_, InvalidInput, audit
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
