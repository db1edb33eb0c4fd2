"""Snapshots stored, pruned and found: the only code that reads a snapshot's stored JSON.

Web requests never run the analysis: they read the latest stored snapshot. The runner
(:mod:`participate.services.snapshots.runner`) calls :func:`compute_snapshot` in the background. Readers get a
snapshot's figures through :func:`~.view.view_of`, :func:`result_of` or :func:`stored_result`, never its JSON.
"""

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from analysis import AnalysisResult, evidence, run_analysis

from ...database import one_writer
from ...models import (
    AnalysisRobustness,
    AnalysisSnapshot,
    Consultation,
    Participant,
    SnapshotMember,
    Statement,
    Vote,
    utcnow,
)
from .. import statements
from .view import group_label, source_labels
from .votes import current_votes

KEEP_SNAPSHOTS = 3  # older ones are pruned, except the newest checked one; published reports are stored separately


def latest_id(consultation_id) -> Select:
    """The query for a consultation's latest snapshot id (``consultation_id``: an id or a correlated column)."""
    return select(func.max(AnalysisSnapshot.id)).where(AnalysisSnapshot.consultation_id == consultation_id)


def checked_id(consultation_id) -> Select:
    """The query for a consultation's newest checked snapshot id: the newest with its robustness check."""
    return (
        select(func.max(AnalysisRobustness.snapshot_id))
        .join(AnalysisSnapshot, AnalysisSnapshot.id == AnalysisRobustness.snapshot_id)
        .where(AnalysisSnapshot.consultation_id == consultation_id)
    )


def last_vote_id(consultation_id) -> Select:
    """The query for a consultation's highest vote id (votes are never updated, only added or deleted)."""
    return select(func.max(Vote.id)).where(Vote.consultation_id == consultation_id)


def latest_snapshot(session: Session, consultation) -> AnalysisSnapshot | None:
    consultation_id = getattr(consultation, "id", consultation)
    return session.scalar(
        select(AnalysisSnapshot).where(AnalysisSnapshot.id == latest_id(consultation_id).scalar_subquery())
    )


def result_of(snapshot: AnalysisSnapshot) -> AnalysisResult:
    """The snapshot's analysis result as the analysis returned it (for the checks and warm starts)."""
    return AnalysisResult.from_dict(snapshot.result)


def stored_result(snapshot: AnalysisSnapshot) -> dict:
    """The snapshot's stored JSON as it is, for documents that freeze or export it (published reports, exports)."""
    return snapshot.result


def group_counts(snapshot: AnalysisSnapshot) -> tuple[int, int]:
    """(k, number of groups) as stored, without building the snapshot's view (the monitor shows only these)."""
    result = snapshot.result or {}
    groups = len(result.get("groups", []))
    return result.get("k", groups), groups


def group_id_of(session: Session, snapshot_id: int, participant_id: int) -> int | None:
    """The participant's group id in one snapshot: one row of its members table (:func:`record_members`); for a
    snapshot stored before that table existed, its stored groups."""
    gid = session.scalar(
        select(SnapshotMember.group_id).where(
            SnapshotMember.snapshot_id == snapshot_id, SnapshotMember.participant_id == participant_id
        )
    )
    if gid is not None or session.scalar(
        select(SnapshotMember.snapshot_id).where(SnapshotMember.snapshot_id == snapshot_id).limit(1)
    ):
        return gid
    groups = session.scalar(select(AnalysisSnapshot.result["groups"]).where(AnalysisSnapshot.id == snapshot_id))
    return next((g["id"] for g in groups or [] if participant_id in g["members"]), None)


def record_members(session: Session, snapshot: AnalysisSnapshot) -> int:
    """Store each grouped participant's group of a new snapshot (the precomputed table "where I stand" reads), once;
    returns how many rows it wrote."""
    if session.scalar(select(SnapshotMember.snapshot_id).where(SnapshotMember.snapshot_id == snapshot.id).limit(1)):
        return 0
    rows = [
        {"snapshot_id": snapshot.id, "participant_id": int(pid), "group_id": int(g["id"])}
        for g in (snapshot.result or {}).get("groups", [])
        for pid in g["members"]
    ]
    if rows:
        with one_writer(session):
            session.execute(insert(SnapshotMember), rows)
            session.commit()
    return len(rows)


def compute_snapshot(session: Session, consultation_id: int, *, random_state: int = 0) -> AnalysisSnapshot | None:
    """Analyse the consultation's current votes, warm-started from the latest snapshot, and store the result.

    Returns None when there is nothing to analyse yet.
    """
    started_at = utcnow()  # the runner's session starts no transaction before this: every later read includes it
    data_version = _data_version(session, consultation_id)  # read before the votes: see the check before storing
    newest_vote = session.scalar(last_vote_id(consultation_id)) or 0
    votes = current_votes(session, consultation_id)
    if len(votes) == 0:
        return None
    # Statements a report may not show (rejected; pending under pre-moderation, seen by their author only) are
    # mod-out, as Pol.is treats moderated-out statements: their columns are zeroed, so they never reach the
    # groups, consensus or priorities. Their votes stay in the input, and the statement joins the analysis when
    # a moderator accepts it.
    consultation = session.get(Consultation, consultation_id)
    shown = statements.reportable(consultation)
    excluded = session.execute(
        select(Statement.id, ~shown, Statement.is_meta).where(
            Statement.consultation_id == consultation_id, ~shown | Statement.is_meta.is_(True)
        )
    ).all()
    mod_out = [sid for sid, hidden, _ in excluded if hidden]
    meta = [sid for sid, _, is_meta in excluded if is_meta]
    banned = session.scalars(
        select(Participant.id).where(Participant.consultation_id == consultation_id, Participant.is_banned.is_(True))
    ).all()
    previous = latest_snapshot(session, consultation_id)
    started = time.perf_counter()
    result = run_analysis(
        (votes.participant_ids, votes.statement_ids, votes.values),
        mod_out=mod_out,
        meta=meta,
        banned=banned,
        previous=result_of(previous) if previous else None,
        random_state=random_state,
        min_voters=max(consultation.floor_voters or 0, evidence.DEFAULT_VOTERS),
    )
    seconds = time.perf_counter() - started
    stored = result.to_dict()
    source_group = dict(
        session.execute(
            select(Participant.id, Participant.source_group).where(
                Participant.consultation_id == consultation_id, Participant.source_group.is_not(None)
            )
        ).all()
    )
    if source_group:
        members = {g.id: g.members.tolist() for g in result.groups}
        stored["group_labels"] = {str(gid): label for gid, label in source_labels(members, source_group).items()}
    # The write is one transaction: lock the consultation so concurrent analysers (several web processes or
    # workers) write one at a time, and never store a snapshot older than the one already there, nor one that
    # read votes deleted since (the data version changed: :func:`forget_votes`).
    session.rollback()  # end the read transaction: the analysis may have taken a while
    current_version = session.scalar(
        select(Consultation.data_version).where(Consultation.id == consultation_id).with_for_update()
    )
    newest = session.scalar(
        select(func.max(AnalysisSnapshot.last_vote_id)).where(AnalysisSnapshot.consultation_id == consultation_id)
    )
    if current_version != data_version or (newest is not None and newest > newest_vote):
        session.rollback()
        return latest_snapshot(session, consultation_id)
    snapshot = AnalysisSnapshot(
        consultation_id=consultation_id,
        vote_count=len(votes),
        last_vote_id=newest_vote,
        started_at=started_at,
        seconds=seconds,
        result=stored,
    )
    session.add(snapshot)
    session.flush()
    keep = (
        select(AnalysisSnapshot.id)
        .where(AnalysisSnapshot.consultation_id == consultation_id)
        .order_by(AnalysisSnapshot.id.desc())
        .limit(KEEP_SNAPSHOTS)
    )
    # The newest checked snapshot stays too: the report shows it until a newer one has its robustness check.
    checked = checked_id(consultation_id)
    session.execute(
        delete(AnalysisSnapshot).where(
            AnalysisSnapshot.consultation_id == consultation_id,
            AnalysisSnapshot.id.not_in(keep.scalar_subquery()),
            AnalysisSnapshot.id != func.coalesce(checked.scalar_subquery(), 0),
        )
    )
    session.commit()
    return snapshot


def _data_version(session: Session, consultation_id: int) -> int:
    return session.scalar(select(Consultation.data_version).where(Consultation.id == consultation_id)) or 0


def forget_votes(session: Session, consultation_id: int, first_vote_id: int) -> int:
    """Before votes from ``first_vote_id`` on are deleted: drop every snapshot computed from them (with its checks).

    Also bumps the consultation's data version, so an analysis that read them and has yet to store its result
    discards it (:func:`compute_snapshot`). Snapshots computed before that vote stay: they never saw it. In the
    caller's transaction; the caller commits and asks for a new analysis. Returns how many snapshots were dropped.
    """
    session.execute(
        update(Consultation)
        .where(Consultation.id == consultation_id)
        .values(data_version=Consultation.data_version + 1)
    )
    return session.execute(
        delete(AnalysisSnapshot).where(
            AnalysisSnapshot.consultation_id == consultation_id, AnalysisSnapshot.last_vote_id >= first_vote_id
        )
    ).rowcount


@dataclass(frozen=True)
class Latest:
    """What pages need from the latest snapshot, parsed once per snapshot rather than once per request."""

    snapshot_id: int
    computed_at: datetime
    k: int
    priorities: dict[int, float]
    group_of: dict[int, int]
    group_labels: dict[int, str]


_cache: dict[tuple[str, int], Latest] = {}
_loading: dict[tuple[str, int], threading.Lock] = {}
_cache_lock = threading.Lock()


def latest(session: Session, consultation, *, snapshot_id: int | None = None) -> Latest | None:
    """The latest snapshot's summary; the full JSON is loaded only when a newer snapshot exists.

    ``snapshot_id``: the latest snapshot's id when the caller has already read it (the vote path does).
    """
    consultation_id = getattr(consultation, "id", consultation)
    if snapshot_id is None:
        snapshot_id = session.scalar(latest_id(consultation_id))
    if snapshot_id is None:
        return None
    key = (str(session.get_bind().url), consultation_id)
    cached = _cache.get(key)
    # The same id, not merely an older one: when deleted votes take the newest snapshots with them
    # (:func:`forget_votes`), the latest id goes down, and the cached view must not outlive them.
    if cached and cached.snapshot_id == snapshot_id:
        return cached
    with _cache_lock:
        loading = _loading.setdefault(key, threading.Lock())
    # One thread per process reads a new snapshot; meanwhile the others keep serving the previous one.
    if not loading.acquire(blocking=cached is None):
        return cached
    try:
        cached = _cache.get(key)
        if cached and cached.snapshot_id == snapshot_id:
            return cached
        view = _read_latest(session, snapshot_id)
        with _cache_lock:
            if view is None:
                _cache.pop(key, None)
            else:
                _cache[key] = view
        return view
    finally:
        loading.release()


def _read_latest(session: Session, snapshot_id: int) -> Latest | None:
    """Only the parts of the snapshot's JSON that pages need (the whole result is far larger); None once deleted."""
    result = AnalysisSnapshot.result
    row = session.execute(
        select(
            AnalysisSnapshot.computed_at, result["k"], result["priorities"], result["groups"], result["group_labels"]
        ).where(AnalysisSnapshot.id == snapshot_id)
    ).first()
    if row is None:
        return None
    computed_at, k, priorities, groups, source = row
    groups = sorted(groups or [], key=lambda g: g["id"])
    return Latest(
        snapshot_id=snapshot_id,
        computed_at=computed_at,
        k=int(k or 0),
        priorities={int(sid): float(p) for sid, p in (priorities or {}).items()},
        group_of={int(pid): g["id"] for g in groups for pid in g["members"]},
        group_labels={
            **{g["id"]: group_label(i) for i, g in enumerate(groups)},
            **{int(gid): label for gid, label in (source or {}).items()},
        },
    )
