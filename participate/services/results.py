"""Analysis results as the web reads them: always from the latest stored snapshot, never computed in a request."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AnalysisSnapshot, Consultation


def latest_snapshot(session: Session, consultation: Consultation) -> AnalysisSnapshot | None:
    return session.scalar(
        select(AnalysisSnapshot)
        .where(AnalysisSnapshot.consultation_id == consultation.id)
        .order_by(AnalysisSnapshot.id.desc())
        .limit(1)
    )


def priorities(session: Session, consultation: Consultation) -> dict[int, float] | None:
    """Statement priorities of the latest analysis, for the next-statement draw."""
    snapshot = latest_snapshot(session, consultation)
    if snapshot is None:
        return None
    return {int(sid): float(p) for sid, p in snapshot.result.get("priorities", {}).items()}
