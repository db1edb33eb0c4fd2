"""A snapshot's checks, computed by the background runner when voting pauses: robustness, then the integrity annex.

The integrity annex itself lives in :mod:`.integrity`; this module decides when a snapshot is checked and runs both.
"""

import time
from datetime import UTC, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import robustness as robustness_math

from ...models import AnalysisRobustness, AnalysisSnapshot, utcnow
from . import integrity, store
from .votes import VoteArrays, votes_until


def compute_robustness(
    session: Session,
    snapshot: AnalysisSnapshot,
    *,
    votes: VoteArrays | None = None,
    n_resamples: int = robustness_math.N_RESAMPLES,
    random_state=0,
) -> AnalysisRobustness:
    """Bootstrap the snapshot's claims over participants and store the check next to it (one commit).

    ``votes``: the snapshot's votes (:func:`votes_until`), when the caller has read them already.
    """
    started = time.perf_counter()
    if votes is None:
        votes = votes_until(session, snapshot.consultation_id, snapshot.last_vote_id)
    result = store.result_of(snapshot)
    check = robustness_math.assess(
        (votes.participant_ids, votes.statement_ids, votes.values),
        result,
        n_resamples=n_resamples,
        random_state=random_state,
    )
    row = session.get(AnalysisRobustness, snapshot.id) or AnalysisRobustness(snapshot_id=snapshot.id)
    row.result = check.to_dict()
    row.seconds = time.perf_counter() - started
    session.add(row)
    session.commit()
    return row


def robustness_of(session: Session, snapshot_id: int | None) -> dict | None:
    """The robustness check of one analysis snapshot, if it has been computed."""
    row = session.get(AnalysisRobustness, snapshot_id) if snapshot_id is not None else None
    return row.result if row is not None else None


def checks_due(session: Session, snapshot: AnalysisSnapshot, *, more_coming: bool, checks_every: float) -> bool:
    """Whether to check ``snapshot`` now: nothing newer is waiting, or the latest check is ``checks_every`` s old.

    Newer votes in the database or the runner's ``more_coming`` mean another snapshot follows at once; checking
    this one would be wasted unless the report's check has fallen too far behind.
    """
    cid = snapshot.consultation_id
    if session.get(AnalysisRobustness, snapshot.id) is not None:
        return False
    last_vote_id = session.scalar(store.last_vote_id(cid)) or 0
    if not more_coming and last_vote_id <= snapshot.last_vote_id:
        return True
    checked_at = session.scalar(
        select(func.max(AnalysisRobustness.computed_at))
        .join(AnalysisSnapshot, AnalysisSnapshot.id == AnalysisRobustness.snapshot_id)
        .where(AnalysisSnapshot.consultation_id == cid)
    )
    if checked_at is None:
        return True
    if checked_at.tzinfo is None:  # SQLite keeps no time zone; every time stored is UTC
        checked_at = checked_at.replace(tzinfo=UTC)
    return utcnow() - checked_at >= timedelta(seconds=checks_every)


def compute_checks(session: Session, snapshot: AnalysisSnapshot) -> None:
    """The snapshot's integrity annex, then its robustness check, both on the votes the snapshot was computed from.

    Robustness goes last: its row marks the snapshot as checked (:func:`.store.checked_id`), so the report never
    picks a snapshot whose annex is still being computed.
    """
    votes = votes_until(session, snapshot.consultation_id, snapshot.last_vote_id)
    integrity.compute(session, snapshot, votes=votes)
    compute_robustness(session, snapshot, votes=votes)
