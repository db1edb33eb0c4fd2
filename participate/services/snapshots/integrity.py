"""The integrity annex: participants whose behaviour looks manipulated, and the headline results without them.

Computed by the analysis runner with a snapshot's robustness check (never in a request) and stored beside it.
Nothing here bans anyone: the annex shows facilitators and readers whether the conclusions depend on the flagged
participants. Participants are flagged on behaviour only (:mod:`analysis.integrity`: straight-lining, near-identical
ballots, voting faster than reading); a shared network address flags nobody (a town-hall meeting on one Wi-Fi looks
the same), and bursts of arrivals from one network are reported as context.
"""

import time
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisResult, evidence, run_analysis
from analysis import integrity as signals

from ...models import AnalysisIntegrity, AnalysisSnapshot, Consultation, Participant, Statement, Vote
from .. import moderation, statements
from . import store
from .view import group_label
from .votes import VoteArrays, votes_until

TOP_CONSENSUS = 5


def _seconds(moments: list[datetime]) -> np.ndarray:
    """(N,) POSIX seconds; a naive time (SQLite keeps no offset) is UTC, as every stored time is."""
    return np.fromiter(
        (m.timestamp() if m.tzinfo else m.replace(tzinfo=UTC).timestamp() for m in moments),
        dtype=np.float64,
        count=len(moments),
    )


def _arrivals(session: Session, consultation_id: int) -> list[dict]:
    """Bursts of new participants from one hashed network address: sizes and first arrival, never the hash."""
    joined = session.execute(
        select(Participant.ip_hash, Participant.created_at)
        .where(Participant.consultation_id == consultation_id, Participant.ip_hash.is_not(None))
        .order_by(Participant.id)
    ).all()
    if not joined:
        return []
    _, networks = np.unique([row.ip_hash for row in joined], return_inverse=True)
    arrived = _seconds([row.created_at for row in joined])
    return [
        {"size": len(b), "first": datetime.fromtimestamp(arrived[b].min(), UTC).isoformat()}
        for b in signals.arrival_bursts(networks, arrived)
    ]


def _fast_voters(session: Session, consultation_id: int, last_vote_id: int) -> np.ndarray:
    """Participants who voted faster than reading, from every vote (with its time) the snapshot covers."""
    history = session.execute(
        select(Vote.participant_id, Vote.statement_id, Vote.created_at).where(
            Vote.consultation_id == consultation_id, Vote.id <= last_vote_id
        )
    ).all()
    if not history:
        return np.zeros(0, dtype=np.int64)
    pids, sids, moments = zip(*history, strict=True)
    return signals.fast_voters(np.array(pids), np.array(sids), _seconds(moments))


def headline(result: AnalysisResult, texts: dict[int, str], votes: VoteArrays, floors: evidence.Floors) -> dict:
    """What a reader would quote: participants clustered, k, group sizes, and the report's own common ground.

    Group sizes carry the report's labels, in its order (opinion groups by id: A, B, C…). ``texts``: the statements
    the report counts (:func:`statements.counted`), by id; no other is named. ``common_ground`` is the report's list
    (:func:`analysis.evidence.common_ground`, floors included) recomputed from ``votes`` without ``result``'s banned
    participants, so the annex compares the very list the report shows.
    """
    groups = sorted(result.groups, key=lambda g: g.id)
    keep = ~np.isin(votes.participant_ids, np.asarray(sorted(result.banned), dtype=np.int64))
    tallies = evidence.tally(
        votes.participant_ids[keep],
        votes.statement_ids[keep],
        votes.values[keep],
        statements=sorted(texts),
        groups=[g.members for g in groups],
    )
    common = evidence.common_ground(
        tallies,
        floors,
        consensus=result.group_aware_consensus,
        consensus_jeffreys=result.group_consensus_jeffreys,
        exclude=set(result.mod_out) | set(result.meta),
    )[:TOP_CONSENSUS]
    return {
        "participants": len(result.participant_ids),
        "k": int(result.k),
        "group_sizes": [{"label": group_label(i), "size": len(g.members)} for i, g in enumerate(groups)],
        "common_ground": [{"id": int(sid), "text": texts[sid]} for sid in common],
    }


def compute(session: Session, snapshot: AnalysisSnapshot, *, votes: VoteArrays | None = None) -> AnalysisIntegrity:
    """Flag participants, rerun the analysis without them, and store the annex beside the snapshot (one commit).

    Everything comes from the snapshot: its votes (``votes``, when the caller has read them already), its excluded
    statements and its banned participants, so the annex describes that analysis even when it runs later.
    """
    started = time.perf_counter()
    cid = snapshot.consultation_id
    if votes is None:
        votes = votes_until(session, cid, snapshot.last_vote_id)
    pids, sids, values = votes.participant_ids, votes.statement_ids, votes.values
    with_all = store.result_of(snapshot)
    banned = np.asarray(sorted(with_all.banned), dtype=np.int64)
    lines = np.setdiff1d(signals.straight_liners(pids, values), banned)
    clusters = [c for c in signals.near_identical(pids, sids, values) if not np.isin(c, banned).all()]
    consultation = session.get(Consultation, cid)
    # An import whose source recorded no vote times has one stored time for all its votes: no timing check can run.
    vote_times = bool(consultation.vote_times)
    fast = (
        np.setdiff1d(_fast_voters(session, cid, snapshot.last_vote_id), banned)
        if vote_times
        else np.zeros(0, dtype=np.int64)
    )
    copied = np.setdiff1d(np.concatenate([np.zeros(0, dtype=np.int64), *clusters]), banned)
    flagged = np.union1d(np.union1d(lines, copied), fast).tolist()
    floors = evidence.Floors.raised(consultation.floor_voters, consultation.floor_group_voters)
    texts = dict(session.execute(select(Statement.id, Statement.text).where(statements.counted(consultation))).all())
    without = with_all
    if flagged:
        without = run_analysis(
            (votes.participant_ids, votes.statement_ids, votes.values),
            mod_out=with_all.mod_out,
            meta=with_all.meta,
            banned=sorted(set(banned.tolist()) | set(flagged)),
            random_state=0,
        )
    annex = {
        "min_votes": signals.MIN_VOTES,
        "reading_seconds": signals.READING_SECONDS,
        "burst_votes": signals.BURST_VOTES,
        "straight_liners": lines.tolist(),
        "near_identical": [c.tolist() for c in clusters],
        "vote_times": vote_times,
        "fast_voters": fast.tolist(),
        # How many participants each signal flagged (one participant may show several).
        "flagged_by": {"straight_lining": len(lines), "near_identical": len(copied), "fast_voting": len(fast)},
        "arrivals": _arrivals(session, cid),
        "flagged": flagged,
        "with_flagged": headline(with_all, texts, votes, floors),
        "without_flagged": headline(without, texts, votes, floors),
        "moderation": moderation.decision_times(session, cid),  # how long statements waited for a moderator
        "seconds": time.perf_counter() - started,
    }
    row = session.get(AnalysisIntegrity, snapshot.id) or AnalysisIntegrity(snapshot_id=snapshot.id)
    row.result = annex
    session.add(row)
    session.commit()
    return row


def for_snapshot(session: Session, snapshot_id: int) -> dict | None:
    """The integrity annex of one analysis snapshot, if it has been computed."""
    row = session.get(AnalysisIntegrity, snapshot_id)
    if row is None:
        return None
    cid = session.scalar(select(AnalysisSnapshot.consultation_id).where(AnalysisSnapshot.id == snapshot_id))
    return as_reported(session, cid, row.result)


def as_reported(session: Session, consultation_id: int, annex: dict | None) -> dict | None:
    """The annex naming only the statements the report counts now: a moderator may have rejected one since."""
    if not annex:
        return annex
    consultation = session.get(Consultation, consultation_id)
    counted = set(session.scalars(select(Statement.id).where(statements.counted(consultation))))
    shown = dict(annex)
    for side in ("with_flagged", "without_flagged"):
        if side in shown:
            for key in ("common_ground", "top_consensus"):  # top_consensus: annexes stored before one list
                if key in shown[side]:
                    shown[side] = {**shown[side], key: [t for t in shown[side][key] if t["id"] in counted]}
    return shown


def latest(session: Session, consultation) -> dict | None:
    """The consultation's newest integrity annex (the latest snapshot's may wait until voting pauses)."""
    consultation_id = getattr(consultation, "id", consultation)
    annex = session.scalar(
        select(AnalysisIntegrity.result)
        .join(AnalysisSnapshot, AnalysisSnapshot.id == AnalysisIntegrity.snapshot_id)
        .where(AnalysisSnapshot.consultation_id == consultation_id)
        .order_by(AnalysisSnapshot.id.desc())
        .limit(1)
    )
    return as_reported(session, consultation_id, annex)
