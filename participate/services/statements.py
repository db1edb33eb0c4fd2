"""Statements: cleaning, validation, duplicate detection and submission by participants."""

import hashlib
import re
import unicodedata

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from ..models import (
    STATEMENT_MAX_LENGTH,
    Consultation,
    ModerationState,
    Statement,
    StatementOrigin,
)
from . import N_, InvalidInput, about_participants
from .participation import votes

# Invisible characters that change how text reads (bidi overrides) or hide duplicates (zero-width).
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ZERO_WIDTH = str.maketrans("", "", "\u200b\u2060\ufeff\u00ad")
_WHITESPACE = re.compile(r"\s+")


def clean_text(raw: object, *, max_length: int = STATEMENT_MAX_LENGTH) -> str:
    """Normalise a statement to NFC plain text on one line, or raise :class:`InvalidInput` saying why."""
    if not isinstance(raw, str):
        raise InvalidInput(N_("The statement must be text."))
    text = unicodedata.normalize("NFC", raw).translate(_ZERO_WIDTH)
    if "\ufffd" in text:  # what a decoder leaves for bytes that were not UTF-8
        raise InvalidInput(N_("The statement contains characters that could not be read; please retype it."))
    if any(ch in _BIDI_CONTROLS for ch in text):
        raise InvalidInput(N_("The statement contains invisible text-direction characters; please retype it."))
    # Line breaks and tabs become spaces; any other control character is refused.
    text = _WHITESPACE.sub(" ", text).strip()
    if any(unicodedata.category(ch) in {"Cc", "Cs", "Co"} for ch in text):
        raise InvalidInput(N_("The statement contains control characters; please use plain text."))
    if not text:
        raise InvalidInput(N_("The statement is empty: please write something."))
    if len(text) > max_length:
        message = N_("The statement is %(length)d characters long; the limit is %(limit)d.")
        raise InvalidInput(message, length=len(text), limit=max_length)
    return text


def reportable(consultation: Consultation) -> ColumnElement[bool]:
    """SQL condition for the consultation's statements a report may show: those its participants are shown.

    Pre-moderation: accepted only; post-moderation: all but the rejected (:data:`~participate.models.SHOWN_STATES`).
    Meta statements (``is_meta``) are among them but stand apart: see :func:`counted`. Every report surface (the
    report and its downloads, published snapshots, the integrity annex, the monitor, the Pol.is export's report
    files) and the analysis's input (the rest are mod-out) use this one definition.
    """
    return (Statement.consultation_id == consultation.id) & votes.shown_under(consultation.moderation)


def counted(consultation: Consultation) -> ColumnElement[bool]:
    """SQL condition for the statements counted as statements ("N statements"): reportable and not meta."""
    return reportable(consultation) & Statement.is_meta.is_(False)


def text_key(text: str) -> str:
    """The form used to detect duplicates: case-folded with whitespace collapsed, bounded by its column.

    Case folding can lengthen text ("ß" becomes "ss", "ﬃ" becomes "ffi": up to three characters for one), so a
    folded key longer than the column (``STATEMENT_MAX_LENGTH``) is stored as ``sha256:`` and the SHA-256 of the
    folded text: still equal exactly for duplicates, and never longer than the column on any database.
    """
    folded = _WHITESPACE.sub(" ", text.casefold()).strip()
    if len(folded) <= STATEMENT_MAX_LENGTH:
        return folded
    return "sha256:" + hashlib.sha256(folded.encode()).hexdigest()


def seed(consultation_id: int, text: str, **columns) -> Statement:
    """A new accepted seed statement (not yet added to a session), its duplicate key derived from the text."""
    statement = Statement(
        consultation_id=consultation_id,
        text=text,
        text_key=text_key(text),
        origin=StatementOrigin.SEED,
        moderation=ModerationState.ACCEPTED,
        **columns,
    )
    about_participants.mark(statement)
    return statement


def find_duplicate(session: Session, consultation_id: int, text: str) -> Statement | None:
    return session.scalar(
        select(Statement).where(Statement.consultation_id == consultation_id, Statement.text_key == text_key(text))
    )
