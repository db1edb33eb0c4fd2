"""The audit log of facilitators' actions on consultations: created, settings changed, opened, closed, exported..."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Account, AuditLogEntry, Consultation, utcnow


def record(
    session: Session, account: Account | None, consultation: Consultation | None, action: str, **details
) -> AuditLogEntry:
    """Add an entry in the caller's transaction (the caller commits, so the entry and the change land together)."""
    entry = AuditLogEntry(
        consultation_id=consultation.id if consultation is not None else None,
        account_id=account.id if account is not None else None,
        action=action,
        details=details,
        created_at=utcnow(),
    )
    session.add(entry)
    return entry


def entries(session: Session, consultation: Consultation, *, limit: int = 500) -> list[AuditLogEntry]:
    """The consultation's audit entries, newest first."""
    return list(
        session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.consultation_id == consultation.id)
            .order_by(AuditLogEntry.id.desc())
            .limit(limit)
        )
    )
