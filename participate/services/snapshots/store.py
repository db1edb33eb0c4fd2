"""The one place that reads a stored snapshot's JSON (``AnalysisSnapshot.result``); everything else asks here.

Readers get the typed :class:`~.view.SnapshotView` (``view_of``), the full :class:`analysis.AnalysisResult` when
they compute from it (a robustness check, a warm start), or one of the narrow reads below, which fetch only the
keys a page needs from the database instead of the whole document.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisResult

from ...models import AnalysisSnapshot


def analysis_of(snapshot: AnalysisSnapshot) -> AnalysisResult:
    """The stored analysis as the analysis package's result (to compute from it)."""
    return AnalysisResult.from_dict(snapshot.result)


def document(snapshot: AnalysisSnapshot) -> dict[str, Any]:
    """The stored JSON as it is: for files that carry the analysis verbatim (exports, published reports)."""
    return snapshot.result


def member_groups(snapshot: AnalysisSnapshot) -> dict[int, int]:
    """{participant id: opinion group id} of the snapshot's grouped participants."""
    return {int(p): int(g["id"]) for g in snapshot.result.get("groups", []) for p in g.get("members", [])}


def group_of(session: Session, snapshot_id: int, participant_id: int) -> int | None:
    """A participant's group id in one snapshot, reading only the snapshot's groups from the database."""
    groups = session.scalar(select(AnalysisSnapshot.result["groups"]).where(AnalysisSnapshot.id == snapshot_id))
    return next((g["id"] for g in groups or [] if participant_id in g["members"]), None)


def page_parts(session: Session, snapshot_id: int) -> tuple | None:
    """``(computed_at, k, priorities, groups)`` of one snapshot, or None once it is deleted: what voting pages use."""
    result = AnalysisSnapshot.result
    return session.execute(
        select(AnalysisSnapshot.computed_at, result["k"], result["priorities"], result["groups"]).where(
            AnalysisSnapshot.id == snapshot_id
        )
    ).first()
