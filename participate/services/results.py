"""Votes → analysis → snapshot, and the latest snapshot as the web reads it.

Web requests never run the analysis: they read the latest stored snapshot. The runner in :mod:`participate.jobs`
calls :func:`compute_snapshot` in the background.
"""

import itertools
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from analysis import run_analysis

from ..models import (
    AnalysisRobustness,
    AnalysisSnapshot,
    Consultation,
    CurrentVote,
    Participant,
    Statement,
    Vote,
    utcnow,
)
from . import statements
from .snapshots import group_label, store

KEEP_SNAPSHOTS = 3  # older ones are pruned, except the newest checked one; published reports are stored separately
STREAM_CHUNK = 100_000


@dataclass(frozen=True)
class VoteArrays:
    participant_ids: np.ndarray
    statement_ids: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


def current_votes(session: Session, consultation_id: int) -> VoteArrays:
    """A consultation's current votes as three arrays, without ORM objects.

    PostgreSQL: one ``COPY (SELECT ...) TO STDOUT (FORMAT binary)`` through psycopg 3, parsed by numpy (fixed-width
    rows). Other databases: one SELECT streamed in chunks. Pairs are unique (the table's primary key).
    """
    connection = session.connection()
    if _can_copy(connection):
        return _current_votes_copy(connection, consultation_id)
    return _select_votes(
        connection,
        select(CurrentVote.participant_id, CurrentVote.statement_id, CurrentVote.value).where(
            CurrentVote.consultation_id == consultation_id
        ),
    )


def votes_until(session: Session, consultation_id: int, last_vote_id: int) -> VoteArrays:
    """The latest vote per (participant, statement) among the votes with id ≤ ``last_vote_id``, sorted.

    These are the votes a snapshot with that ``last_vote_id`` was computed from, whatever came after it.
    """
    connection = session.connection()
    if _can_copy(connection):
        history = _copy_votes(connection, _VOTES_UNTIL_COPY, (int(consultation_id), int(last_vote_id)))
    else:
        history = _select_votes(
            connection,
            select(Vote.participant_id, Vote.statement_id, Vote.value)
            .where(Vote.consultation_id == consultation_id, Vote.id <= last_vote_id)
            .order_by(Vote.id),
        )
    m = np.column_stack([history.participant_ids, history.statement_ids, history.values.astype(np.int64)])
    if len(m):
        # Keep the last vote of each pair: unique over the reversed array finds each pair's last occurrence.
        _, last = np.unique(m[::-1, :2], axis=0, return_index=True)
        m = m[::-1][last]  # np.unique sorts by (participant, statement)
    return VoteArrays(m[:, 0].copy(), m[:, 1].copy(), m[:, 2].astype(np.int8))


def _can_copy(connection) -> bool:
    return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"


def _select_votes(connection, query) -> VoteArrays:
    """Other databases: stream ``(participant, statement, value)`` rows straight into one numpy array.

    Core rows flattened by ``np.fromiter``: ``np.asarray`` over row objects probes each row for the array protocol
    and took ten times longer than the query (0.8 s for 50,000 votes).
    """
    rows = connection.execute(query.execution_options(yield_per=STREAM_CHUNK))
    m = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64).reshape(-1, 3)
    return VoteArrays(m[:, 0].copy(), m[:, 1].copy(), m[:, 2].astype(np.int8))


#: One binary COPY row of ``(int8, int8, int2)``: field count, then (length, value) per field, big-endian.
_COPY_ROW = np.dtype(
    [("n", ">i2"), ("lp", ">i4"), ("p", ">i8"), ("ls", ">i4"), ("s", ">i8"), ("lv", ">i4"), ("v", ">i2")]
)
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"


_CURRENT_VOTES_COPY = (
    "COPY (SELECT participant_id::int8, statement_id::int8, value::int2 FROM current_vote "
    "WHERE consultation_id = %s) TO STDOUT (FORMAT binary)"
)
_VOTES_UNTIL_COPY = (
    "COPY (SELECT participant_id::int8, statement_id::int8, value::int2 FROM vote "
    "WHERE consultation_id = %s AND id <= %s ORDER BY id) TO STDOUT (FORMAT binary)"
)


def _current_votes_copy(connection, consultation_id: int) -> VoteArrays:
    """PostgreSQL: the current votes by binary COPY."""
    return _copy_votes(connection, _CURRENT_VOTES_COPY, (int(consultation_id),))


def _copy_votes(connection, statement: str, params: tuple) -> VoteArrays:
    """PostgreSQL: a COPY of (int8, int8, int2) rows in binary, parsed with a structured numpy dtype.

    COPY takes no server-side parameters; psycopg binds ``params`` on the client, quoted.
    """
    buffer = bytearray()
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(statement, params) as copy:
        for block in copy:
            buffer += block
    if not buffer.startswith(_COPY_HEADER):
        raise RuntimeError("unexpected COPY output: not PostgreSQL's binary format")
    start = len(_COPY_HEADER) + 4
    start += 4 + int.from_bytes(buffer[start : start + 4], "big")  # flags, then the header extension
    body = len(buffer) - start - 2  # the trailer is a field count of -1
    if body % _COPY_ROW.itemsize or buffer[-2:] != b"\xff\xff":
        raise RuntimeError("unexpected COPY output: rows are not (int8, int8, int2)")
    rows = np.frombuffer(buffer, dtype=_COPY_ROW, count=body // _COPY_ROW.itemsize, offset=start)
    if rows.size and not (
        np.all(rows["n"] == 3) and np.all(rows["lp"] == 8) and np.all(rows["ls"] == 8) and np.all(rows["lv"] == 2)
    ):
        raise RuntimeError("unexpected COPY output: a row is not three non-null fields (int8, int8, int2)")
    return VoteArrays(rows["p"].astype(np.int64), rows["s"].astype(np.int64), rows["v"].astype(np.int8))


def latest_snapshot(session: Session, consultation) -> AnalysisSnapshot | None:
    consultation_id = getattr(consultation, "id", consultation)
    return session.scalar(
        select(AnalysisSnapshot)
        .where(AnalysisSnapshot.consultation_id == consultation_id)
        .order_by(AnalysisSnapshot.id.desc())
        .limit(1)
    )


def compute_snapshot(session: Session, consultation_id: int, *, random_state: int = 0) -> AnalysisSnapshot | None:
    """Analyse the consultation's current votes, warm-started from the latest snapshot, and store the result.

    Returns None when there is nothing to analyse yet.
    """
    started_at = utcnow()  # the runner's session starts no transaction before this: every later read includes it
    data_version = _data_version(session, consultation_id)  # read before the votes: see the check before storing
    last_vote_id = session.scalar(select(func.max(Vote.id)).where(Vote.consultation_id == consultation_id)) or 0
    votes = current_votes(session, consultation_id)
    if len(votes) == 0:
        return None
    # Statements a report may not show (rejected; pending under pre-moderation, seen by their author only) are
    # mod-out, as Pol.is treats moderated-out statements: their columns are zeroed, so they never reach the
    # groups, consensus or priorities. Their votes stay in the input, and the statement joins the analysis when
    # a moderator accepts it.
    shown = statements.reportable(session.get(Consultation, consultation_id))
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
        previous=store.analysis_of(previous) if previous else None,
        random_state=random_state,
    )
    seconds = time.perf_counter() - started
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
    if current_version != data_version or (newest is not None and newest > last_vote_id):
        session.rollback()
        return latest_snapshot(session, consultation_id)
    snapshot = AnalysisSnapshot(
        consultation_id=consultation_id,
        vote_count=len(votes),
        last_vote_id=last_vote_id,
        started_at=started_at,
        seconds=seconds,
        result=result.to_dict(),
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
    checked = (
        select(func.max(AnalysisRobustness.snapshot_id))
        .join(AnalysisSnapshot, AnalysisSnapshot.id == AnalysisRobustness.snapshot_id)
        .where(AnalysisSnapshot.consultation_id == consultation_id)
    )
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
        snapshot_id = session.scalar(
            select(func.max(AnalysisSnapshot.id)).where(AnalysisSnapshot.consultation_id == consultation_id)
        )
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
    row = store.page_parts(session, snapshot_id)
    if row is None:
        return None
    computed_at, k, priorities, groups = row
    groups = sorted(groups or [], key=lambda g: g["id"])
    return Latest(
        snapshot_id=snapshot_id,
        computed_at=computed_at,
        k=int(k or 0),
        priorities={int(sid): float(p) for sid, p in (priorities or {}).items()},
        group_of={int(pid): g["id"] for g in groups for pid in g["members"]},
        group_labels={g["id"]: group_label(i) for i, g in enumerate(groups)},
    )


def priorities(session: Session, consultation) -> dict[int, float] | None:
    """Statement priorities of the latest analysis, for the next-statement draw."""
    view = latest(session, consultation)
    return view.priorities if view else None
