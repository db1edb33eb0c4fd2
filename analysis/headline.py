"""Headline statements: a short list chosen by proportional approval voting, with a justified-representation check.

**Rule.** Each participant "approves" the statements they agreed with. A headline list of ``k`` statements (default
8, 5 to 12) is chosen by sequential proportional approval voting (Thiele's sequential PAV): one statement at a time,
the one whose approvers add the most satisfaction, where a participant who already has ``c`` approved statements in
the list counts ``1 / (1 + c)``. Large blocs thus get several statements, and smaller ones get theirs once the
large blocs are served — the list is proportional rather than the k most popular statements of the majority.

**Sparsity.** Nobody votes on everything. A participant's approval of a statement they have not seen is
estimated as their opinion group's agree rate on it, smoothed as in Pol.is, ``(A + 1) / (S + 2)`` (for
participants outside the groups: everyone's rate); a seen statement counts 1 if agreed, else 0. ``c`` is then the
expected number of approved statements in the list. Mod-out and meta statements are never candidates.

**Justified representation (JR, Aziz et al. 2017)** is then checked on the *actual* votes: no block of at least
``n / k`` participants who all agreed with one statement may be left with no statement in the list that they
agreed with. With sparse votes this is the checkable part of JR: for each statement outside the list, count the
participants who agreed with it and with nothing in the list; JR holds when every count is below ``n / k``. The
check reports the statements whose supporters would be left out, and who they are.

Everything is a handful of sparse matrix products over the stored votes (no participants x statements array).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

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


def _indicator(values: sp.csr_matrix, keep) -> sp.csr_matrix:
    """1.0 where ``keep(vote)`` over the stored votes, same shape as ``values``."""
    m = int(values.indptr[-1])
    data = keep(values.data[:m]).astype(np.float64)
    # copies: eliminate_zeros compacts the index arrays in place, and they must not be the caller's
    out = sp.csr_matrix((data, values.indices[:m].copy(), values.indptr.copy()), shape=values.shape)
    out.eliminate_zeros()
    return out


def select_headline(
    values: sp.csr_matrix,
    row_group: np.ndarray,
    n_groups: int,
    candidates: np.ndarray,
    *,
    size: int = DEFAULT_SIZE,
) -> Headline:
    """Choose ``size`` statements by sequential PAV over estimated approvals, then check JR on the actual votes.

    Parameters
    ----------
    values : scipy.sparse.csr_matrix, shape (P, C)
        Current votes (agree +1, pass 0 stored, disagree -1).
    row_group : ndarray of int, shape (P,)
        Opinion group of each row (0..G-1), -1 when not grouped.
    n_groups : int
    candidates : ndarray of bool, shape (C,)
        Statements that may be chosen (accepted, not meta).
    size : int in [5, 12]

    Returns
    -------
    Headline
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    n_p = values.shape[0]
    agree = _indicator(values, lambda v: v > 0)
    voted = _indicator(values, lambda v: np.ones(v.shape, dtype=bool))
    # estimated approval of an unseen statement: the participant's group's smoothed agree rate (else everyone's)
    onehot = np.zeros((n_p, n_groups + 1))
    onehot[np.arange(n_p), np.where(row_group >= 0, row_group, n_groups)] = 1.0
    g_agree = np.asarray(agree.T @ onehot).T  # (G+1, C)
    g_voted = np.asarray(voted.T @ onehot).T
    del onehot
    rate = (g_agree + 1.0) / (g_voted + 2.0)
    everyone = (g_agree.sum(0) + 1.0) / (g_voted.sum(0) + 2.0)
    rate[n_groups] = everyone  # the ungrouped row uses everyone's rate
    group_of = np.where(row_group >= 0, row_group, n_groups)

    # Σ_p w_p u_ps = Σ_{p voted s} w_p (agreed_ps - rate_g(p)s) + Σ_g rate_gs W_g, with W_g = Σ_{p in g} w_p:
    # the first term is one sparse product with fixed cell values, so each round costs one pass over the votes
    rows = np.repeat(np.arange(n_p), np.diff(voted.indptr))
    m = int(voted.indptr[-1])
    cells = voted.indices[:m]
    excess = sp.csr_matrix(
        ((values.data[:m] > 0) - rate[group_of[rows], cells], cells.copy(), voted.indptr.copy()), shape=values.shape
    )
    excess_t = excess.T.tocsr()
    agree_t = agree.T.tocsr()
    voted_t = voted.T.tocsr()
    chosen: list[int] = []
    covered = np.zeros(n_p)  # expected number of approved statements in the list so far
    open_ = candidates.copy()
    for _ in range(min(size, int(candidates.sum()))):
        w = 1.0 / (1.0 + covered)
        gain = excess_t @ w + rate.T @ np.bincount(group_of, weights=w, minlength=n_groups + 1)
        gain[~open_] = -np.inf
        s = int(np.argmax(gain))
        chosen.append(s)
        open_[s] = False
        u = rate[group_of, s]
        u[voted_t.indices[voted_t.indptr[s] : voted_t.indptr[s + 1]]] = 0.0
        u[agree_t.indices[agree_t.indptr[s] : agree_t.indptr[s + 1]]] = 1.0
        covered += u

    cols = np.asarray(chosen, dtype=np.int64)
    jr, left_out, n = justified_representation(values, cols, candidates)
    return Headline(columns=cols, jr=jr, left_out=left_out, n=n)


def justified_representation(
    values: sp.csr_matrix, columns: np.ndarray, candidates: np.ndarray
) -> tuple[bool, dict[int, np.ndarray], int]:
    """Check JR of the list ``columns`` on the actual agree votes.

    Parameters
    ----------
    values : scipy.sparse.csr_matrix, shape (P, C)
    columns : ndarray of int, shape (k,), the list (column indexes)
    candidates : ndarray of bool, shape (C,), statements a block may be cohesive on

    Returns
    -------
    jr : bool
    left_out : {column: row indexes of the participants who agreed with it and with nothing in the list}, for each
        candidate column where they number at least n / k
    n : participants with at least one vote
    """
    agree = _indicator(values, lambda v: v > 0)
    agree_t = agree.T.tocsr()
    n = int((np.diff(values.indptr) > 0).sum())
    cols = np.asarray(columns, dtype=np.int64)
    has = np.asarray(agree[:, cols].sum(1)).ravel() > 0 if len(cols) else np.zeros(values.shape[0], dtype=bool)
    counts = agree.T @ (~has).astype(np.float64)
    counts[cols] = 0
    counts[~candidates] = 0
    threshold = n / max(len(cols), 1)
    left_out = {}
    for s in np.flatnonzero(counts >= threshold).tolist():
        rows = agree_t.indices[agree_t.indptr[s] : agree_t.indptr[s + 1]]
        left_out[int(s)] = rows[~has[rows]]
    return not left_out, left_out, n
