"""Votes → sparse participant x statement matrix (polis-math.md §1).

The matrix is a :class:`scipy.sparse.csr_matrix` whose *stored* cells are exactly the cells that carry a vote;
passes are stored as explicit zeros, so "voted" (structure) and "value" (data) never get confused. Memory is
proportional to the number of votes; nothing here ever builds a dense P x C array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

VALID_VOTES = (-1, 0, 1)


@dataclass(frozen=True, eq=False)
class VoteMatrix:
    """The latest vote per (participant, statement), with its id indexes.

    Attributes
    ----------
    values : scipy.sparse.csr_matrix, shape (P, C), dtype int8
        Vote values (agree = +1, disagree = -1, pass = 0 stored explicitly); missing cells are not stored.
        Rows are sorted by participant id, columns by statement id; indices are sorted within rows.
    participant_ids : ndarray of int64, shape (P,)
        Sorted participant ids (row labels).
    statement_ids : ndarray of int64, shape (C,)
        Sorted statement ids (column labels).
    first_seen : ndarray of int64, shape (P,)
        Position in the input of each participant's first vote (arrival order, used for cold starts).
    """

    values: sp.csr_matrix
    participant_ids: np.ndarray
    statement_ids: np.ndarray
    first_seen: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(P, C)."""
        return self.values.shape

    @property
    def nnz(self) -> int:
        """Number of votes held (passes included)."""
        return int(self.values.indptr[-1])

    def n_votes(self) -> np.ndarray:
        """Votes per participant, passes included, shape (P,) (§1 ``n_votes``)."""
        return np.diff(self.values.indptr).astype(np.int64)

    def row_of(self) -> np.ndarray:
        """Row index of every stored cell, shape (nnz,)."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int64), np.diff(self.values.indptr))

    def column_mask(self, statement_ids) -> np.ndarray:
        """Boolean mask over columns, shape (C,), true for the given statement ids."""
        return np.isin(self.statement_ids, np.asarray(list(statement_ids), dtype=np.int64))


def _as_triples(votes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accept an (n, 3) array-like or a tuple of three 1-D arrays; return three validated 1-D arrays."""
    if isinstance(votes, tuple) and len(votes) == 3:
        pids, sids, vals = (np.asarray(a) for a in votes)
        if not (pids.ndim == sids.ndim == vals.ndim == 1):
            raise ValueError("votes as a tuple must hold three 1-D arrays (participant_ids, statement_ids, values)")
        if not (len(pids) == len(sids) == len(vals)):
            raise ValueError(f"votes arrays must have equal lengths, got {len(pids)}, {len(sids)} and {len(vals)}")
    else:
        arr = np.asarray(votes)
        if arr.size == 0:
            arr = arr.reshape(0, 3)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise ValueError(
                f"votes must have shape (n, 3) of (participant_id, statement_id, vote), got shape {arr.shape}"
            )
        pids, sids, vals = arr[:, 0], arr[:, 1], arr[:, 2]
    out = []
    for name, a in (("participant ids", pids), ("statement ids", sids), ("vote values", vals)):
        if a.size and not np.issubdtype(a.dtype, np.integer):
            if not np.issubdtype(a.dtype, np.number):
                raise ValueError(f"{name} must be integers, got dtype {a.dtype}")
            ai = a.astype(np.int64)
            if not np.array_equal(ai, a):
                raise ValueError(f"{name} must be integers; found a non-integral value")
            a = ai
        out.append(np.asarray(a, dtype=np.int64))
    pids, sids, vals = out
    bad = (vals < -1) | (vals > 1)
    if bad.any():
        raise ValueError(
            f"vote values must be one of {VALID_VOTES} (agree=+1, disagree=-1, pass=0); got {vals[bad][0]!r}"
        )
    return pids, sids, vals


def _index(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ids, shape (K,), and each id's position among them, shape (n,) int64.

    Uses a lookup table when the id range is compact (O(n)), else a sort.
    """
    if ids.size == 0:
        return ids.astype(np.int64), np.zeros(0, dtype=np.int64)
    lo, hi = int(ids.min()), int(ids.max())
    if hi - lo <= 4 * ids.size + 1_000_000:
        present = np.zeros(hi - lo + 1, dtype=bool)
        present[ids - lo] = True
        position = np.cumsum(present, dtype=np.int64) - 1
        return np.flatnonzero(present).astype(np.int64) + lo, position[ids - lo]
    uniq, inverse = np.unique(ids, return_inverse=True)
    return uniq.astype(np.int64), inverse.astype(np.int64)


def build_vote_matrix(votes, *, banned=()) -> VoteMatrix:
    """Build the latest-vote sparse matrix from raw votes (§1).

    Parameters
    ----------
    votes : array-like of shape (n, 3) or tuple of three arrays of shape (n,)
        ``(participant_id, statement_id, vote)`` in chronological order; when a pair repeats, the last one wins.
    banned : iterable of int
        Participant ids whose votes are dropped entirely (a Participate divergence from Pol.is, §4).

    Returns
    -------
    VoteMatrix
        Rows = participants with at least one vote, columns = statements with at least one vote.
    """
    pids, sids, vals = _as_triples(votes)
    banned_arr = np.asarray(list(banned), dtype=np.int64)
    if banned_arr.size:
        keep = ~np.isin(pids, banned_arr)
        pids, sids, vals = pids[keep], sids[keep], vals[keep]
    participant_ids, rows = _index(pids)
    statement_ids, cols = _index(sids)
    n_p, n_c = len(participant_ids), max(len(statement_ids), 1)
    n = len(rows)
    key = rows * n_c + cols
    # Sort cells row-major (CSR order); equal keys keep input order, so the last of each run is the latest vote.
    # Appending the position makes every key distinct, so a fast unstable sort is enough when it fits in int64.
    if n and n_p * n_c < np.iinfo(np.int64).max // max(n, 1):
        order = np.argsort(key * n + np.arange(n), kind="quicksort")
    else:
        order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    is_last = np.ones(n, dtype=bool)
    is_last[:-1] = sorted_key[1:] != sorted_key[:-1]
    last = order[is_last]
    ukey = sorted_key[is_last]
    urows = ukey // n_c
    ucols = (ukey % n_c).astype(np.int32 if n_c < 2**31 else np.int64)
    indptr = np.zeros(n_p + 1, dtype=np.int64)
    np.cumsum(np.bincount(urows, minlength=n_p), out=indptr[1:])
    data = vals[last].astype(np.int8)
    values = sp.csr_matrix((data, ucols, indptr), shape=(n_p, len(statement_ids)))
    # first vote of each participant (duplicates included): minimum input position over the row's run
    if n:
        starts = np.zeros(n_p, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_p)[:-1], out=starts[1:])
        first_seen = np.minimum.reduceat(order, starts)
    else:
        first_seen = np.zeros(0, dtype=np.int64)
    return VoteMatrix(
        values=values,
        participant_ids=participant_ids,
        statement_ids=statement_ids,
        first_seen=first_seen.astype(np.int64),
    )


def column_counts(values: sp.csr_matrix, rows: np.ndarray | None = None):
    """Agree, disagree and total vote counts per column, each shape (C,) int64 (§6, ungrouped).

    ``rows`` optionally restricts the count to a boolean row mask of shape (P,).
    """
    n_c = values.shape[1]
    idx, data = values.indices, values.data
    if rows is not None:
        cell_rows = np.repeat(rows, np.diff(values.indptr))
        idx, data = idx[cell_rows], data[cell_rows]
    agree = np.bincount(idx[data > 0], minlength=n_c).astype(np.int64)
    disagree = np.bincount(idx[data < 0], minlength=n_c).astype(np.int64)
    total = np.bincount(idx, minlength=n_c).astype(np.int64)
    return agree, disagree, total
