"""Votes → sparse participant x statement matrix (polis-math.md §1).

The matrix is a :class:`scipy.sparse.csr_matrix` whose *stored* cells are exactly the cells that carry a vote;
passes are stored as explicit zeros, so "voted" (structure) and "value" (data) never get confused. Memory is
proportional to the number of votes; nothing here ever builds a dense P x C array.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_info

VALID_VOTES = (-1, 0, 1)
_CHUNK = 1 << 22


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
        # integer inputs are used as given (no int64 copy): memory stays proportional to the caller's arrays
        out.append(a if a.size else a.astype(np.int64))
    pids, sids, vals = out
    bad = (vals < -1) | (vals > 1)
    if bad.any():
        raise ValueError(
            f"vote values must be one of {VALID_VOTES} (agree=+1, disagree=-1, pass=0); got {vals[bad][0]!r}"
        )
    return pids, sids, vals.astype(np.int8, copy=False)


def _index(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ids, shape (K,) int64, and each id's position among them, shape (n,) int32 (or int64).

    Uses a lookup table when the id range is compact (O(n)), else a sort.
    """
    if ids.size == 0:
        return ids.astype(np.int64), np.zeros(0, dtype=np.int32)
    lo, hi = int(ids.min()), int(ids.max())
    pos_dtype = np.int32 if ids.size < 2**31 else np.int64
    if hi - lo <= 4 * ids.size + 1_000_000:
        present = np.zeros(hi - lo + 1, dtype=bool)
        shifted = ids - ids.dtype.type(lo) if lo else ids
        present[shifted] = True
        position = np.cumsum(present, dtype=pos_dtype)
        position -= 1
        return np.flatnonzero(present).astype(np.int64) + lo, position[shifted]
    uniq, inverse = np.unique(ids, return_inverse=True)
    return uniq.astype(np.int64), inverse.astype(pos_dtype)


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
    idx_dtype = np.int32 if max(n, n_c, n_p) < 2**31 else np.int64
    row_counts = np.bincount(rows, minlength=n_p)
    # Cells as int64 keys (row, column) packed in bits, so that splitting a key is a shift and a mask, not a division.
    col_bits = max(n_c - 1, 1).bit_length()
    key = rows.astype(np.int64)
    del rows
    key <<= col_bits
    key |= cols
    del cols
    # Sort cells row-major (CSR order); equal keys keep input order, so the last of each run is the latest vote.
    # With the input position appended in the low bits every key is distinct: an in-place sort then yields both the
    # sorted keys and the permutation (the low bits), with no index array alongside (peak ~16 bytes per vote).
    pos_bits = max(n - 1, 1).bit_length()
    if n and max(n_p - 1, 1).bit_length() + col_bits + pos_bits <= 63:
        key <<= pos_bits
        for start in range(0, n, _CHUNK):
            key[start : start + _CHUNK] |= np.arange(start, min(start + _CHUNK, n), dtype=np.int64)
        key.sort()
        order = np.empty(n, dtype=idx_dtype)
        low = np.int64((1 << pos_bits) - 1)
        for start in range(0, n, _CHUNK):
            block = key[start : start + _CHUNK]
            np.bitwise_and(block, low, out=order[start : start + _CHUNK], casting="unsafe")
            block >>= pos_bits
    else:
        order = np.argsort(key, kind="stable")
        key = key[order]
    is_last = np.ones(n, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=is_last[:-1])
    data = vals[order[is_last]]
    # first vote of each participant (duplicates included): minimum input position over the row's run
    if n:
        starts = np.zeros(n_p, dtype=np.int64)
        np.cumsum(row_counts[:-1], out=starts[1:])
        first_seen = np.minimum.reduceat(order, starts).astype(np.int64)
    else:
        first_seen = np.zeros(0, dtype=np.int64)
    del order
    # Compact the kept keys in place, block by block (the write position never passes the read position).
    m = 0
    for start in range(0, n, _CHUNK):
        kept = key[start : start + _CHUNK][is_last[start : start + _CHUNK]]
        key[m : m + len(kept)] = kept
        m += len(kept)
    del is_last
    key = key[:m]
    # kept keys are sorted: each row's cells end where the next row's first key begins
    row_ends = np.searchsorted(key, np.arange(1, n_p + 1, dtype=np.int64) << col_bits)
    indices = np.empty(m, dtype=idx_dtype)
    col_mask = np.int64((1 << col_bits) - 1)
    for start in range(0, m, _CHUNK):
        np.bitwise_and(key[start : start + _CHUNK], col_mask, out=indices[start : start + _CHUNK], casting="unsafe")
    del key
    indptr = np.zeros(n_p + 1, dtype=idx_dtype)
    indptr[1:] = row_ends
    values = sp.csr_matrix((data, indices, indptr), shape=(n_p, len(statement_ids)), copy=False)
    return VoteMatrix(
        values=values,
        participant_ids=participant_ids,
        statement_ids=statement_ids,
        first_seen=first_seen,
    )


def row_blocks(values: sp.csr_matrix, max_cells: int = _CHUNK):
    """Yield ``(r0, r1, c0, c1)``: row ranges whose stored cells ``c0:c1`` number about ``max_cells``.

    Lets per-cell work run in bounded memory: temporaries scale with the block, not with the whole matrix.
    """
    indptr = values.indptr
    n_p = values.shape[0]
    r0 = 0
    while r0 < n_p:
        r1 = int(np.searchsorted(indptr, indptr[r0] + max_cells, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n_p)
        yield r0, r1, int(indptr[r0]), int(indptr[r1])
        r0 = r1


def thread_count() -> int:
    """Threads for the block-parallel kernels: the CPUs this process may use, capped by the BLAS thread limit.

    The cap makes ``threadpoolctl.threadpool_limits`` (and ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``) limit
    these kernels too, so a caller that pins the analysis to one thread gets one thread.
    """
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    blas = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return max(1, min([available, *blas]))


def row_block_views(values: sp.csr_matrix, n_blocks: int) -> list[sp.csr_matrix]:
    """``values`` cut into ``n_blocks`` row blocks of about equal stored cells, as CSR views (no copy of the cells).

    Partial results over the blocks, summed in block order, do not depend on how many threads computed them.
    """
    indptr = values.indptr
    cuts = np.searchsorted(indptr, np.linspace(0, indptr[-1], n_blocks + 1)[1:-1])
    bounds = [0, *sorted(set(cuts.tolist()) - {0, values.shape[0]}), values.shape[0]]
    views = []
    for r0, r1 in pairwise(bounds):
        c0, c1 = indptr[r0], indptr[r1]
        block = sp.csr_matrix((r1 - r0, values.shape[1]), dtype=values.dtype)
        block.data, block.indices = values.data[c0:c1], values.indices[c0:c1]
        block.indptr = (indptr[r0 : r1 + 1] - c0).astype(values.indices.dtype, copy=False)
        views.append(block)
    return views


def transpose_view(values: sp.csr_matrix) -> sp.csc_matrix:
    """``values.T`` sharing its arrays. (scipy's ``.T`` copies the cells of a view into a larger array.)"""
    out = sp.csc_matrix(values.shape[::-1], dtype=values.dtype)
    out.data, out.indices, out.indptr = values.data, values.indices, values.indptr
    return out


def cell_rows(values: sp.csr_matrix, r0: int, r1: int, labels: np.ndarray) -> np.ndarray:
    """``labels[row]`` repeated for every stored cell of rows ``r0:r1``."""
    return np.repeat(labels[r0:r1], np.diff(values.indptr[r0 : r1 + 1]))


def column_counts(values: sp.csr_matrix, rows: np.ndarray | None = None):
    """Agree, disagree and total vote counts per column, each shape (C,) int64 (§6, ungrouped).

    ``rows`` optionally restricts the count to a boolean row mask of shape (P,).
    """
    n_c = values.shape[1]
    # one pass: bincount over (column, vote + 1) -> columns of disagree, pass, agree
    counts = np.zeros(3 * n_c, dtype=np.int64)
    for r0, r1, c0, c1 in row_blocks(values):
        key = values.indices[c0:c1].astype(np.int64) * 3
        key += values.data[c0:c1]
        key += 1
        if rows is not None:
            key = key[cell_rows(values, r0, r1, rows)]
        counts += np.bincount(key, minlength=3 * n_c)
    counts = counts.reshape(n_c, 3)
    disagree, agree = counts[:, 0].copy(), counts[:, 2].copy()
    total = counts.sum(axis=1)
    return agree, disagree, total
