"""A bridging score that needs no opinion groups: Community Notes' matrix-factorisation intercept.

Model (Wojcik et al. 2022, "Birdwatch: crowd wisdom and bridging algorithms can inform understanding and reduce
the spread of misinformation"; Community Notes' scorer), over every current vote ``v_ps`` (agree +1, pass 0,
disagree -1) on accepted statements::

    v_ps ≈ μ + b_p + b_s + f_p · f_s

``f_p · f_s`` is a one-dimensional factor: it absorbs the agreement explained by where a participant sits on the
conversation's main divide. What is left to the statement's intercept ``b_s`` is agreement that holds on both sides
of that divide. The reported score is ``μ + b_s``: the vote the model expects on the statement from a participant
with no leaning on the divide (-1 to +1).

Fitting: regularised least squares by alternating exact coordinate updates (each parameter's closed-form
minimiser given the rest), vectorised as sparse matrix products over the stored votes only; the factors start
from the first principal axis, so the fit is deterministic and independent of row and column order.

**Regularisation** (penalty ``λ_i Σ b² + λ_f Σ f²``, in units of votes): ``λ_i = LAMBDA_INTERCEPT = 1`` — an
intercept is the reported quantity and is estimated from all of a statement's votes, so it gets only one pseudo-vote
of shrinkage toward the overall mean (it matters only for statements with a handful of votes). ``λ_f =
LAMBDA_FACTOR = 5`` — a participant's factor is one free parameter fitted from their own 7 to 40 votes, and an
unregularised factor would chase noise and soak up genuine common agreement; five pseudo-votes keep it at zero
unless the participant's votes consistently follow the divide. (Community Notes, whose notes are rated by raters
with long histories, uses the opposite order, λ_i = 5 λ_f; here the scarce data are the participants' factors.)

**Uncertainty**: for each statement, the 90% interval of its intercept's conditional posterior given the other
parameters, ``mu + b_s +/- 1.645 * sigma_s / sqrt(n_s + lambda_i)``, with ``sigma_s**2`` the statement's residual
variance (pooled with the conversation's over ``VARIANCE_PRIOR`` pseudo-votes, so one vote is never certain),
clipped to the range of a vote, -1 to +1. The fit uses the votes cast only: nobody's unseen vote is imputed. It
ignores the uncertainty of the factors, so it is a lower bound on the true spread;
``bench/bridging.py`` measures how well the ranking keeps its order when votes are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

LAMBDA_INTERCEPT = 1.0
LAMBDA_FACTOR = 5.0
#: Coordinate sweeps; each sweep updates every participant's and every statement's parameters once.
MAX_SWEEPS = 200
#: Stop when no statement intercept moved more than this in a sweep.
TOLERANCE = 1e-4
Z_90 = 1.6449
#: Pseudo-votes of the conversation's residual variance in each statement's (for the interval).
VARIANCE_PRIOR = 2.0
#: Above this many votes the fit runs on a sample of participants (the intervals then reflect the sample's size).
MAX_VOTES = 1_000_000


@dataclass(frozen=True, eq=False)
class Bridging:
    """Per accepted statement (``columns`` indexes the input columns), score and 90% interval, shape (C',)."""

    columns: np.ndarray
    score: np.ndarray
    low: np.ndarray
    high: np.ndarray
    sweeps: int


def _solve2(a, b, d, y1, y2):
    """Solve [[a, b], [b, d]] [x1, x2] = [y1, y2] elementwise (a, d > 0: the penalty keeps it positive definite)."""
    det = a * d - b * b
    return (d * y1 - b * y2) / det, (a * y2 - b * y1) / det


def bridging_scores(
    values: sp.csr_matrix,
    keep: np.ndarray,
    init_factor: np.ndarray,
    init_participant_factor: np.ndarray | None = None,
    *,
    lambda_intercept: float = LAMBDA_INTERCEPT,
    lambda_factor: float = LAMBDA_FACTOR,
    max_votes: int = MAX_VOTES,
    random_state: int | None = 0,
) -> Bridging:
    """Fit the model on the votes of the ``keep`` columns and return each kept statement's bridging score.

    Parameters
    ----------
    values : scipy.sparse.csr_matrix, shape (P, C)
        Current votes (agree +1, pass 0 stored explicitly, disagree -1).
    keep : ndarray of bool, shape (C,)
        Accepted statements (mod-out and meta left out).
    init_factor : ndarray, shape (C,)
        Starting statement factors (the first principal axis).
    init_participant_factor : ndarray, shape (P,), optional
        Starting participant factors (their coordinates on that axis); with both, the fit starts near its optimum.

    max_votes : int
        Above this many votes, the fit uses a seeded uniform sample of participants holding about this many.
    random_state : int or None
        Seeds that sample.

    Returns
    -------
    Bridging
    """
    if lambda_intercept < 0 or lambda_factor <= 0:
        raise ValueError("lambda_intercept must be >= 0 and lambda_factor > 0")
    cols = np.flatnonzero(keep)
    if values.nnz > max_votes:
        n_rows = values.shape[0]
        take = np.sort(np.random.default_rng(random_state).choice(n_rows, n_rows * max_votes // values.nnz, False))
        values = values[take]
        if init_participant_factor is not None:
            init_participant_factor = np.asarray(init_participant_factor)[take]
    X = values[:, cols].astype(np.float64).tocsr()  # passes stay as stored zeros: they are votes
    M = X.copy()
    M.data = np.ones_like(M.data)
    XT, MT = X.T.tocsr(), M.T.tocsr()
    n_p, n_c = X.shape
    if X.nnz == 0:
        nothing = np.full(n_c, np.nan)
        return Bridging(cols, nothing, nothing.copy(), nothing.copy(), 0)
    mu = float(X.data.mean())
    n_row = np.asarray(M.sum(1)).ravel()
    n_col = np.asarray(M.sum(0)).ravel()
    row_sum = np.asarray(X.sum(1)).ravel()
    col_sum = np.asarray(X.sum(0)).ravel()
    f_s = np.asarray(init_factor, dtype=np.float64)[cols].copy()
    rms = float(np.sqrt((f_s**2).mean()))
    f_s = f_s / rms if rms > 0 else np.zeros(n_c)
    b_s, b_p, f_p = np.zeros(n_c), np.zeros(n_p), np.zeros(n_p)
    lam_i, lam_f = float(lambda_intercept), float(lambda_factor)
    if init_participant_factor is not None:
        f_p = np.asarray(init_participant_factor, dtype=np.float64) * rms
        # statements first, given these participant factors
        mb, mf, mbf, mff = (MT @ np.column_stack([b_p, f_p, b_p * f_p, f_p**2])).T
        b_s, f_s = _solve2(n_col + lam_i, mf, mff + lam_f, col_sum - n_col * mu - mb, XT @ f_p - mu * mf - mbf)
    sweeps = 0
    for sweeps in range(1, MAX_SWEEPS + 1):  # noqa: B007 - the count is reported
        # participants: (b_p, f_p) jointly, the exact minimiser given the statements' parameters (a 2x2 solve each)
        mb, mf, mbf, mff = (M @ np.column_stack([b_s, f_s, b_s * f_s, f_s**2])).T
        b_p, f_p = _solve2(n_row + lam_i, mf, mff + lam_f, row_sum - n_row * mu - mb, X @ f_s - mu * mf - mbf)
        # statements likewise, given the participants'
        mb, mf, mbf, mff = (MT @ np.column_stack([b_p, f_p, b_p * f_p, f_p**2])).T
        new_b, f_s = _solve2(n_col + lam_i, mf, mff + lam_f, col_sum - n_col * mu - mb, XT @ f_p - mu * mf - mbf)
        moved = float(np.abs(new_b - b_s).max())
        b_s = new_b
        if moved < TOLERANCE:
            break
    # residual variance per statement, for the interval
    rows = np.repeat(np.arange(n_p), np.diff(X.indptr))
    resid = X.data - (mu + b_p[rows] + b_s[X.indices] + f_p[rows] * f_s[X.indices])
    rss = np.bincount(X.indices, weights=resid**2, minlength=n_c)
    # A statement with one or two votes fits them almost exactly: its own residual variance says nothing, so it is
    # pooled with the conversation's (VARIANCE_PRIOR pseudo-votes), and never reads as certain.
    pooled = float(resid @ resid) / max(X.nnz - 1, 1)
    var = (rss + VARIANCE_PRIOR * pooled) / (np.maximum(n_col - 1, 0) + VARIANCE_PRIOR)
    half = Z_90 * np.sqrt(var / (n_col + lam_i))
    score = mu + b_s
    # the score is an expected vote: its interval is clipped to the votes' range
    return Bridging(
        columns=cols,
        score=score,
        low=np.clip(score - half, -1.0, 1.0),
        high=np.clip(score + half, -1.0, 1.0),
        sweeps=sweeps,
    )
