"""Headline statements: a short list chosen by proportional approval voting, with a justified-representation check.

**Rule.** Each participant "approves" the statements they agreed with. A headline list of ``k`` statements (default
8, 5 to 12) is chosen by sequential proportional approval voting (Thiele's sequential PAV): one statement at a time,
the one whose approvers add the most satisfaction, where a participant who already has ``c`` approved statements in
the list counts ``1 / (1 + c)``. Large blocs thus get several statements, and smaller ones get theirs once the
large blocs are served — the list is proportional rather than the k most popular statements of the majority.

**Observed votes only.** Nobody votes on everything, and a participant's approval of a statement they never saw is
unknown: it is not estimated (an earlier version counted unseen statements as agreed at the participant's group's
rate, which lifted late statements seen by a handful of people to the top of the list). A participant approves the
statements they agreed with, and nothing else; ``c`` is the number of their approved statements already in the
list. A statement is a candidate only when at least ``min_voters`` people voted on it (the evidence floor of
:mod:`analysis.evidence`); mod-out and meta statements are never candidates.

**Justified representation (JR, Aziz et al. 2017)** is then checked on the *actual* votes: no block of at least
``n / k`` participants who all agreed with one statement may be left with no statement in the list that they
agreed with. With sparse votes this is the checkable part of JR: for each statement outside the list, count the
participants who agreed with it and with nothing in the list; JR holds when every count is below ``n / k``. The
check reports the statements whose supporters would be left out, and who they are.

Everything is a handful of sparse matrix products over the stored votes (no participants x statements array).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import evidence
from .matrix import column_counts

DEFAULT_SIZE = 8
MIN_SIZE, MAX_SIZE = 5, 12


@dataclass(frozen=True, eq=False)
class Headline:
    """Chosen columns (in order of choice) and the JR check.

    Attributes
    ----------
    columns : ndarray of int, shape (k,)
        Indexes into the input's columns, in the order chosen.
    jr : bool
        Justified representation holds.
    left_out : dict[int, ndarray]
        For each column whose agreeing participants would be left out (≥ n / k of them agree with it and with
        nothing in the list): those participants' row indexes. Empty when ``jr``.
    n : int
        Participants counted (rows with at least one vote).
    """

    columns: np.ndarray
    jr: bool
    left_out: dict[int, np.ndarray]
    n: int


def _approvals(values) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The votes as CSR (no copy when they are) and who agreed with each statement (statements x participants, CSR:
    one row slice per statement).

    Built straight from the agree votes' positions: no participant index per vote, no copy of all the votes."""
    csr = sp.csr_matrix(values)
    m = int(csr.indptr[-1])
    cols = csr.indices[:m]
    agrees = np.flatnonzero(csr.data[:m] > 0)
    approve = sp.csr_matrix(  # fresh arrays: the caller's votes are never touched
        (np.ones(len(agrees)), cols[agrees], np.searchsorted(agrees, csr.indptr)), shape=csr.shape
    )
    return csr, approve.tocsc().T.tocsr(copy=False)


def select_headline(
    values: sp.csr_matrix,
    candidates: np.ndarray,
    *,
    size: int = DEFAULT_SIZE,
    min_voters: int = evidence.DEFAULT_VOTERS,
    counts: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Headline:
    """Choose up to ``size`` statements by sequential PAV over the agree votes cast, then check JR on them.

    Parameters
    ----------
    values : scipy.sparse.csr_matrix, shape (P, C)
        Current votes (agree +1, pass 0 stored, disagree -1).
    candidates : ndarray of bool, shape (C,)
        Statements that may be chosen (accepted, not meta).
    size : int in [5, 12]
    min_voters : int
        Statements with fewer votes are not candidates (nor blocks JR is checked for).
    counts : (agree, disagree, total) per statement, each shape (C,), optional
        :func:`analysis.matrix.column_counts` of ``values``, when the caller has them already.

    Returns
    -------
    Headline
        Fewer than ``size`` columns when fewer statements are candidates or agreed with by anyone.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    n_p = values.shape[0]
    csr, approve_t = _approvals(values)
    n_agree, n_disagree, voters = column_counts(csr) if counts is None else counts
    candidates = np.asarray(candidates, dtype=bool) & (voters >= min_voters)
    # ties: more agrees, then fewer disagrees, then fewer voters (a higher agree rate); never the column order,
    # which depends on how statements happen to be numbered
    tie_keys = (n_agree, -n_disagree, -voters)
    # weights 1 / (1 + c) scaled to integers so sums are exact whatever the order of rows
    scale = math.lcm(*range(1, size + 2))
    weight = np.array([scale // (1 + c) for c in range(size + 1)], dtype=np.float64)
    chosen: list[int] = []
    covered = np.zeros(n_p, dtype=np.int64)  # approved statements in the list so far, per participant
    open_ = candidates.copy()
    for _ in range(min(size, int(candidates.sum()))):
        gain = approve_t @ weight[covered]
        gain[~open_] = -np.inf
        best = np.flatnonzero(gain == gain.max())
        if gain[best[0]] <= 0:
            break  # nobody agreed with any statement left
        for key in tie_keys:
            best = best[key[best] == key[best].max()]
        s = int(best[0])
        chosen.append(s)
        open_[s] = False
        covered[approve_t.indices[approve_t.indptr[s] : approve_t.indptr[s + 1]]] += 1

    columns = np.asarray(chosen, dtype=np.int64)
    jr, left_out, n = _check_jr(csr, approve_t, covered > 0, columns, candidates)
    return Headline(columns=columns, jr=jr, left_out=left_out, n=n)


def justified_representation(
    values: sp.spmatrix, columns: np.ndarray, candidates: np.ndarray
) -> tuple[bool, dict[int, np.ndarray], int]:
    """Check JR of the list ``columns`` on the actual agree votes.

    Parameters
    ----------
    values : scipy.sparse matrix, shape (P, C)
    columns : ndarray of int, shape (k,), the list (column indexes)
    candidates : ndarray of bool, shape (C,), statements a block may be cohesive on

    Returns
    -------
    jr : bool
    left_out : {column: row indexes of the participants who agreed with it and with nothing in the list}, for each
        candidate column where they number at least n / k
    n : participants with at least one vote
    """
    csr, approve_t = _approvals(values)
    chosen = np.asarray(columns, dtype=np.int64)
    has = np.zeros(values.shape[0], dtype=bool)  # agreed with something in the list
    has[approve_t[chosen].indices] = True
    return _check_jr(csr, approve_t, has, chosen, candidates)


def _check_jr(
    csr: sp.csr_matrix, approve_t: sp.csr_matrix, has: np.ndarray, chosen: np.ndarray, candidates: np.ndarray
) -> tuple[bool, dict[int, np.ndarray], int]:
    """JR from who agreed with each statement (``approve_t``) and who agreed with something in the list (``has``,
    shape (P,)): one sparse product counts each statement's supporters left with nothing."""
    n = int(np.count_nonzero(np.diff(csr.indptr)))
    counts = np.rint(approve_t @ (~has).astype(np.float64)).astype(np.int64)
    counts[chosen] = 0
    counts[~np.asarray(candidates, dtype=bool)] = 0
    threshold = n / max(len(chosen), 1)
    left_out = {}
    for s in np.flatnonzero(counts >= threshold).tolist():
        supporters = approve_t.indices[approve_t.indptr[s] : approve_t.indptr[s + 1]]
        left_out[int(s)] = np.sort(supporters[~has[supporters]]).astype(np.int64)
    return not left_out, left_out, n
