"""Votes as arrays: what an analysis reads, the PostgreSQL COPY path, and the canonical CSV that identifies them."""

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import CurrentVote, Vote

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


def canonical_csv(votes: VoteArrays) -> bytes:
    """``participant_id,statement_id,vote`` rows sorted by participant then statement, LF line ends, UTF-8.

    Its SHA-256 identifies the exact votes a published report was computed from (agree = 1, disagree = -1,
    pass = 0).
    """
    order = np.lexsort((votes.statement_ids, votes.participant_ids))
    lines = ["participant_id,statement_id,vote"]
    lines += [
        f"{p},{s},{v}"
        for p, s, v in zip(
            votes.participant_ids[order].tolist(),
            votes.statement_ids[order].tolist(),
            votes.values[order].tolist(),
            strict=True,
        )
    ]
    return ("\n".join(lines) + "\n").encode()


def canonical_sha256(votes: VoteArrays) -> str:
    """SHA-256 of the :func:`canonical_csv` of ``votes``."""
    return hashlib.sha256(canonical_csv(votes)).hexdigest()


def votes_sha256(session: Session, consultation_id: int, last_vote_id: int | None) -> str:
    """SHA-256 of the votes a snapshot with ``last_vote_id`` was computed from (the current votes when None)."""
    if last_vote_id is None:
        return canonical_sha256(current_votes(session, consultation_id))
    return canonical_sha256(votes_until(session, consultation_id, last_vote_id))
