"""Short links for in-room events (``/j/<code>``): six letters and digits to read off a slide or type on a phone.

The code is derived from the site's secret and the consultation's id (nothing to store, and codes cannot be guessed
from ids); it leads only to a consultation that is open.
"""

import hashlib
import hmac
import io

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Consultation, ConsultationStatus

CODE_LENGTH = 6
# Letters and digits that cannot be mistaken for one another on a slide (no 0/O, 1/I/L).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def code_of(secret: str, consultation_id: int) -> str:
    digest = hmac.new(secret.encode(), f"short-link:{consultation_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    letters = []
    for _ in range(CODE_LENGTH):
        number, rest = divmod(number, len(_ALPHABET))
        letters.append(_ALPHABET[rest])
    return "".join(letters)


def find_open(session: Session, secret: str, code: str) -> Consultation | None:
    """The open consultation whose short code this is, if any (codes are compared in constant time)."""
    code = code.strip().lower()
    if len(code) != CODE_LENGTH or not set(code) <= set(_ALPHABET):  # e.g. "ééééé1": no code, not a server error
        return None
    found = None
    for consultation in session.scalars(select(Consultation).where(Consultation.status == ConsultationStatus.OPEN)):
        if hmac.compare_digest(code_of(secret, consultation.id), code):
            found = consultation
    return found


def qr_svg(url: str, title: str) -> str:
    """The QR code of ``url`` as a standalone SVG document, drawn here (segno; no network), with a title."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, title=title, xmldecl=True)
    return out.getvalue().decode()
