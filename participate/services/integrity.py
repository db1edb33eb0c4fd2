"""The integrity annex: participants whose behaviour looks manipulated, and the headline results without them.

Computed by the analysis runner with a snapshot's robustness check (never in a request) and stored beside it.
Nothing here bans anyone: the annex shows facilitators and readers whether the conclusions depend on the flagged
participants.
"""

import itertools
import time
from collections import defaultdict
from datetime import timedelta

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisResult, run_analysis

from ..models import AnalysisIntegrity, AnalysisSnapshot, Participant, Statement
from . import moderation, results

MIN_VOTES = 10  # a participant needs this many votes before identical answers mean anything
BURST_SIZE = 10  # this many new participants from one hashed address ...
BURST_WINDOW = timedelta(minutes=10)  # ... within this long is a burst
SIMILARITY = 0.95  # share of common votes that are equal for "near-identical"
PAIRWISE_LIMIT = 2000  # above this many active participants, near-identical means exactly identical (memory: n² floats)
CLUSTER_SIZE = 3  # smallest group of near-identical participants worth reporting
TOP_CONSENSUS = 5


def straight_liners(pids: np.ndarray, values: np.ndarray, *, min_votes: int = MIN_VOTES) -> list[int]:
    """Participants with at least ``min_votes`` votes, all the same value. ``pids``, ``values``: (V,), by pid."""
    if len(pids) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])
    counts = np.diff(np.r_[starts, len(pids)])
    lo = np.minimum.reduceat(values, starts)
    hi = np.maximum.reduceat(values, starts)
    return pids[starts][(counts >= min_votes) & (lo == hi)].tolist()


def near_identical(
    pids: np.ndarray, sids: np.ndarray, values: np.ndarray, *, min_votes: int = MIN_VOTES
) -> list[list[int]]:
    """Clusters (at least CLUSTER_SIZE) of participants whose common votes (at least ``min_votes``) agree >= 95 %."""
    ids, rows = np.unique(pids, return_inverse=True)
    active = np.flatnonzero(np.bincount(rows) >= min_votes)
    if len(active) < CLUSTER_SIZE:
        return []
    keep = np.isin(rows, active)
    remap = np.full(len(ids), -1)
    remap[active] = np.arange(len(active))
    r = remap[rows[keep]]
    cols, c = np.unique(sids[keep], return_inverse=True)
    v = values[keep]
    n = len(active)
    if n > PAIRWISE_LIMIT:  # exact duplicates only: one signature per participant
        signatures = defaultdict(list)
        order = np.lexsort((c, r))
        rs, cs, vs = r[order], cols[c[order]], v[order]
        bounds = np.r_[np.flatnonzero(np.r_[True, rs[1:] != rs[:-1]]), len(rs)]
        for a, b in itertools.pairwise(bounds):
            signatures[(cs[a:b].tobytes(), vs[a:b].tobytes())].append(int(ids[active[rs[a]]]))
        return sorted(sorted(g) for g in signatures.values() if len(g) >= CLUSTER_SIZE)
    shape = (n, len(cols))
    ones = np.ones(len(r), dtype=np.float32)
    common = csr_matrix((ones, (r, c)), shape=shape)
    same = sum(
        (lambda m: m @ m.T)(csr_matrix((ones[v == value], (r[v == value], c[v == value])), shape=shape))
        for value in (-1, 0, 1)
    )
    overlap = (common @ common.T).toarray()
    equal = same.toarray()
    with np.errstate(divide="ignore", invalid="ignore"):
        close = (overlap >= min_votes) & (equal >= SIMILARITY * overlap)
    np.fill_diagonal(close, False)
    _, labels = connected_components(csr_matrix(close), directed=False)
    clusters = defaultdict(list)
    for p in np.flatnonzero(close.any(axis=1)):
        clusters[labels[p]].append(int(ids[active[p]]))
    return sorted(sorted(g) for g in clusters.values() if len(g) >= CLUSTER_SIZE)


def bursts(joined: list[tuple[int, str, object]], *, size: int = BURST_SIZE, window=BURST_WINDOW) -> list[dict]:
    """Runs of at least ``size`` new participants from one hashed address within ``window``.

    ``joined``: (participant id, ip hash, created_at). The hash itself is never returned.
    """
    by_hash = defaultdict(list)
    for pid, ip_hash, created_at in joined:
        by_hash[ip_hash].append((created_at, pid))
    found = []
    for rows in by_hash.values():
        rows.sort()
        start, members = 0, set()
        for end in range(len(rows)):
            while rows[end][0] - rows[start][0] > window:
                start += 1
            if end - start + 1 >= size:
                members.update(pid for _, pid in rows[start : end + 1])
        if members:
            found.append({"participants": sorted(members), "first": min(r[0] for r in rows).isoformat()})
    return found


def headline(result: AnalysisResult, texts: dict[int, str]) -> dict:
    """What a reader would quote: participants clustered, k, group sizes, the top consensus statements."""
    top = sorted(result.group_aware_consensus.items(), key=lambda item: (-item[1], item[0]))[:TOP_CONSENSUS]
    return {
        "participants": len(result.participant_ids),
        "k": int(result.k),
        "group_sizes": [len(g.members) for g in result.groups],
        "top_consensus": [{"id": int(sid), "text": texts.get(int(sid), ""), "score": float(s)} for sid, s in top],
    }


def compute(
    session: Session, snapshot: AnalysisSnapshot, *, votes: results.VoteArrays | None = None
) -> AnalysisIntegrity:
    """Flag participants, rerun the analysis without them, and store the annex beside the snapshot (one commit).

    Everything comes from the snapshot: its votes (``votes``, when the caller has read them already), its excluded
    statements and its banned participants, so the annex describes that analysis even when it runs later.
    """
    started = time.perf_counter()
    cid = snapshot.consultation_id
    if votes is None:
        votes = results.votes_until(session, cid, snapshot.last_vote_id)
    order = np.lexsort((votes.statement_ids, votes.participant_ids))
    pids, sids, values = votes.participant_ids[order], votes.statement_ids[order], votes.values[order].astype(np.int8)
    with_all = AnalysisResult.from_dict(snapshot.result)
    banned = set(with_all.banned)
    joined = session.execute(
        select(Participant.id, Participant.ip_hash, Participant.created_at).where(
            Participant.consultation_id == cid, Participant.ip_hash.is_not(None)
        )
    ).all()
    lines = [p for p in straight_liners(pids, values) if p not in banned]
    clusters = [c for c in near_identical(pids, sids, values) if not set(c) <= banned]
    burst_list = bursts([tuple(row) for row in joined])
    flagged = (set(lines) | {p for c in clusters for p in c} | {p for b in burst_list for p in b["participants"]}) - (
        banned
    )
    texts = dict(session.execute(select(Statement.id, Statement.text).where(Statement.consultation_id == cid)).all())
    without = with_all
    if flagged:
        without = run_analysis(
            (votes.participant_ids, votes.statement_ids, votes.values),
            mod_out=with_all.mod_out,
            meta=with_all.meta,
            banned=sorted(banned | flagged),
            random_state=0,
        )
    annex = {
        "min_votes": MIN_VOTES,
        "straight_liners": lines,
        "near_identical": clusters,
        "bursts": [{"size": len(b["participants"]), **b} for b in burst_list],
        "flagged": sorted(flagged),
        "with_flagged": headline(with_all, texts),
        "without_flagged": headline(without, texts),
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
    return row.result if row is not None else None


def latest(session: Session, consultation) -> dict | None:
    """The consultation's newest integrity annex (the latest snapshot's may wait until voting pauses)."""
    consultation_id = getattr(consultation, "id", consultation)
    return session.scalar(
        select(AnalysisIntegrity.result)
        .join(AnalysisSnapshot, AnalysisSnapshot.id == AnalysisIntegrity.snapshot_id)
        .where(AnalysisSnapshot.consultation_id == consultation_id)
        .order_by(AnalysisSnapshot.id.desc())
        .limit(1)
    )
