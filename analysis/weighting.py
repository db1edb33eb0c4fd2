"""Weights that make the participants match the population's margins, and weighted agree shares with intervals.

**Raking** (Deming and Stephan 1940) finds weights whose weighted shares equal the population's share on every
question at once. Its fixed point is the minimum-discrimination-information calibration of Deville and Särndal
(1992, "Calibration estimators in survey sampling", the "raking ratio" distance): ``w_i = exp(x_i · λ)`` with
``λ`` minimising the convex dual ``Σ_i exp(x_i · λ) / n - t · λ`` (``x_i`` the participant's category
indicators, ``t`` the target shares). The dual is solved by scipy's trust-region Newton method
(``scipy.optimize.minimize(method="trust-exact")``) with its exact gradient and Hessian, over the distinct
answer patterns rather than the participants, so 100,000 people cost what a few dozen patterns cost.
Neither ``balance`` nor ``samplics`` is used: on this Python ``balance`` requires numpy < 2 and scikit-learn < 1.4,
and ``samplics`` brings polars and pyarrow to run the same iteration as a Python loop (see the README).

**Missing answers** ("prefer not to say", not answered, or a category with no population figure) form their own
category on each question, kept at its share among the participants: the answered categories are raked to the
population's shares of the people who answered. **Trimming**: weights above :data:`TRIM` times the mean (or below
its inverse) are cut to it and the weights rescaled to mean 1, which can leave the margins slightly off
(``margin_error`` says by how much). **Design effect** is Kish's ``n Σw² / (Σw)²`` and the effective sample size
``(Σw)² / Σw²``.

**Intervals**: a weighted agree share is a ratio estimator over the statement's voters. Its variance is the
linearised (Taylor) variance of a calibrated estimator (Deville and Särndal 1992, §3; Särndal, Swensson and
Wretman 1992, §6.6): the linearised values ``u_i = (y_i - p) / Σ_voters w`` are replaced by their residuals
from the weighted regression on the calibration indicators (what calibration already explains carries no
sampling error), and ``v = n/(n-1) Σ (w_i e_i)²`` (with-replacement approximation). The 95% interval is
``p ± 1.96 √v`` clipped to [0, 1]. ``bench/weighting.py`` measures its coverage on simulated biased samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import scipy.sparse as sp

#: Weights are trimmed to [1/TRIM, TRIM] times their mean (a common cap in survey practice).
TRIM = 5.0
Z_95 = 1.959964
#: Below this effective sample size a weighted share is not reported.
MIN_EFFECTIVE_N = 30.0
MISSING = -1


@dataclass(frozen=True, eq=False)
class Weights:
    """Raking weights for n participants.

    Attributes
    ----------
    weights : ndarray, shape (n,)
        Mean 1; participant ``i``'s weight.
    design : ndarray, shape (n, p)
        The calibration indicators (one column per kept category, missing categories included), used by
        :func:`weighted_agree` for the linearised variance.
    design_effect, effective_n : float
        Kish's design effect ``n Σw² / (Σw)²`` and ``n / design_effect``.
    trimmed : int
        How many weights were cut to the trimming bounds.
    margin_error : float
        The largest absolute difference between a weighted share among those who answered and its population
        share, after trimming (0 up to rounding when nothing was trimmed).
    converged : bool
        Whether the raking converged (it always does when every category with a population share has someone).
    """

    weights: np.ndarray
    design: np.ndarray
    design_effect: float
    effective_n: float
    trimmed: int
    margin_error: float
    converged: bool


def kish(weights: np.ndarray) -> tuple[float, float]:
    """Kish's design effect and effective sample size of ``weights`` (shape (n,), non-negative)."""
    w = np.asarray(weights, dtype=float)
    total, squares = w.sum(), np.square(w).sum()
    if total <= 0:
        return float("nan"), 0.0
    effective = total * total / squares
    return float(len(w) / effective), float(effective)


def empty_cells(answers: np.ndarray, shares: Sequence[np.ndarray]) -> list[tuple[int, int]]:
    """``(question, category)`` pairs with a positive population share and nobody answering it.

    ``answers`` has shape (n, q): category codes ``0..C_q-1``, :data:`MISSING` for no answer. Raking cannot give
    weight to a category nobody is in, so weighted figures are suppressed when this is not empty.
    """
    return _empty_cells(_check(answers, shares), shares)


def _empty_cells(answers: np.ndarray, shares: Sequence[np.ndarray]) -> list[tuple[int, int]]:
    """:func:`empty_cells` of answers :func:`_check` has passed."""
    out = []
    for q, share in enumerate(shares):
        present = np.bincount(answers[:, q][answers[:, q] >= 0], minlength=len(share))
        out += [(q, int(c)) for c in np.flatnonzero((np.asarray(share) > 0) & (present == 0))]
    return out


def _check(answers, shares) -> np.ndarray:
    answers = np.asarray(answers)
    if answers.ndim != 2 or answers.shape[1] != len(shares):
        raise ValueError(f"answers must have shape (n, {len(shares)}), one column per question; got {answers.shape}")
    if not np.issubdtype(answers.dtype, np.integer):
        raise ValueError("answers must be integer category codes (-1 for no answer)")
    for q, share in enumerate(shares):
        share = np.asarray(share, dtype=float)
        if share.ndim != 1 or len(share) < 1 or np.any(share < 0) or not np.isfinite(share).all():
            raise ValueError(f"population shares of question {q} must be a non-empty list of shares >= 0")
        if share.sum() <= 0:
            raise ValueError(f"population shares of question {q} must not all be 0")
        if answers[:, q].max(initial=MISSING) >= len(share) or answers[:, q].min(initial=MISSING) < MISSING:
            raise ValueError(f"answers to question {q} must be between -1 and {len(share) - 1}")
    return answers.astype(np.int64, copy=False)


def rake(answers: np.ndarray, shares: Sequence[np.ndarray], *, trim: float = TRIM) -> Weights:
    """Raking weights matching each question's population ``shares`` among those who answered it.

    Parameters
    ----------
    answers : ndarray of int, shape (n, q)
        Participant ``i``'s category on question ``j`` (``0..C_j-1``), or :data:`MISSING` (-1) when they did not
        answer, preferred not to say, or gave an answer with no population share.
    shares : sequence of q arrays, shape (C_j,)
        The population's share of each category (renormalised to sum 1). A category with share 0 is treated as
        missing (nobody in the population to represent).
    trim : float
        Weights are cut to ``[1/trim, trim]`` times the mean; ``inf`` turns trimming off.

    Returns
    -------
    Weights

    Raises
    ------
    ValueError
        When the shapes disagree, when codes are out of range, or when a category with a positive share has nobody
        in it (check :func:`empty_cells` first).
    """
    answers = _check(answers, shares)
    if not trim >= 1:
        raise ValueError("trim must be at least 1")
    n = len(answers)
    if n == 0:
        raise ValueError("no participants to weight")
    if empty := _empty_cells(answers, shares):
        raise ValueError(f"nobody answered these (question, category) cells with a population share: {empty}")
    shares = [np.asarray(s, dtype=float) / np.sum(s) for s in shares]
    codes = answers.copy()
    for q, share in enumerate(shares):
        codes[:, q] = np.where((codes[:, q] >= 0) & (share[np.maximum(codes[:, q], 0)] > 0), codes[:, q], MISSING)
    # Columns: every category (and "missing", when anyone is missing) of the first question, then all but the
    # first present category of each later one, so the indicators have full column rank.
    columns, targets, blocks = [], [], []
    for q, share in enumerate(shares):
        col = codes[:, q]
        missing = float(np.mean(col == MISSING))
        cats = [c for c in range(len(share)) if share[c] > 0]
        levels = [(c, (1.0 - missing) * share[c]) for c in cats] + ([(MISSING, missing)] if missing > 0 else [])
        start = len(columns)
        for c, t in levels[(1 if q else 0) :]:
            columns.append(col == c)
            targets.append(t)
        blocks.append((q, start, len(columns)))
    design = np.column_stack(columns).astype(float) if columns else np.ones((n, 1))
    target = np.asarray(targets) if targets else np.ones(1)
    patterns, inverse, counts = np.unique(design, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    mass = counts / n

    def dual(lam):
        w = np.exp(patterns @ lam)
        g = (mass * w) @ patterns - target
        return float(mass @ w - target @ lam), g, (patterns * (mass * w)[:, None]).T @ patterns

    solution = scipy.optimize.minimize(
        lambda lam: dual(lam)[0],
        np.zeros(patterns.shape[1]),
        jac=lambda lam: dual(lam)[1],
        hess=lambda lam: dual(lam)[2],
        method="trust-exact",
        options={"gtol": 1e-10, "maxiter": 200},
    )
    w = np.exp(patterns @ solution.x)[inverse]
    w /= w.mean()
    low, high = 1.0 / trim, trim
    trimmed = int(np.count_nonzero((w > high) | (w < low)))
    if trimmed:
        w = np.clip(w, low, high)
        w /= w.mean()
    error = 0.0
    for q, share in enumerate(shares):
        answered = codes[:, q] >= 0
        if answered.any():
            got = np.bincount(codes[answered, q], weights=w[answered], minlength=len(share)) / w[answered].sum()
            error = max(error, float(np.max(np.abs(got - share))))
    deff, effective = kish(w)
    return Weights(
        weights=w,
        design=design,
        design_effect=deff,
        effective_n=effective,
        trimmed=trimmed,
        margin_error=error,
        converged=bool(solution.success) or float(np.max(np.abs(solution.jac))) < 1e-8,
    )


@dataclass(frozen=True, eq=False)
class WeightedShares:
    """Per statement (shape (S,)): unweighted and weighted agree share, the weighted 95% interval, its voters' n_eff.

    ``NaN`` where a statement has no voters.
    """

    unweighted: np.ndarray
    share: np.ndarray
    low: np.ndarray
    high: np.ndarray
    effective_n: np.ndarray
    voters: np.ndarray


def weighted_agree(
    weights: Weights, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_statements: int
) -> WeightedShares:
    """Weighted agree share of each statement among its voters, with the linearised 95% interval.

    Parameters
    ----------
    weights : Weights
        From :func:`rake` over the same n participants.
    rows, cols, values : ndarray, shape (v,)
        One current vote each: participant index (``0..n-1``), statement index (``0..S-1``), vote (+1 agree,
        0 pass, -1 disagree). The share is agrees over all votes, passes included, as the report counts it.
    n_statements : int
        S.

    Returns
    -------
    WeightedShares
    """
    w = np.asarray(weights.weights, dtype=float)
    n = len(w)
    rows, cols, values = (np.asarray(a) for a in (rows, cols, values))
    if not (rows.shape == cols.shape == values.shape) or rows.ndim != 1:
        raise ValueError("rows, cols and values must be 1-d arrays of the same length")
    if len(rows) and (rows.min() < 0 or rows.max() >= n or cols.min() < 0 or cols.max() >= n_statements):
        raise ValueError("a vote's participant or statement index is out of range")
    agree = (values > 0).astype(float)
    voted = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n_statements))
    yes = sp.csr_matrix((agree, (rows, cols)), shape=(n, n_statements))
    count = np.asarray(voted.sum(axis=0)).ravel()
    total = voted.T @ w
    total_sq = voted.T @ (w * w)
    with np.errstate(invalid="ignore", divide="ignore"):
        unweighted = np.asarray(yes.sum(axis=0)).ravel() / count
        share = (yes.T @ w) / total
        effective = total * total / total_sq
        # u_ij = voted_ij (y_ij - p_j) / total_j, kept sparse on the votes.
        u_vals = (agree - share[cols]) / total[cols]
    u = sp.csr_matrix((np.nan_to_num(u_vals), (rows, cols)), shape=(n, n_statements))
    x = weights.design
    xw, xw2 = x * w[:, None], x * (w * w)[:, None]
    xtwx, xtwx2 = x.T @ xw, x.T @ xw2
    b = np.linalg.lstsq(xtwx, np.asarray((u.T @ xw).T), rcond=None)[0]  # (p, S)
    # Σ (w e)² with e = u - x b, expanded so that nothing dense of shape (n, S) is formed.
    first = np.asarray(u.multiply(u).T @ (w * w)).ravel()
    cross = np.sum(np.asarray((u.T @ xw2).T) * b, axis=0)
    third = np.sum(b * (xtwx2 @ b), axis=0)
    variance = np.maximum(first - 2 * cross + third, 0.0) * n / max(n - 1, 1)
    half = Z_95 * np.sqrt(variance)
    return WeightedShares(
        unweighted=unweighted,
        share=share,
        low=np.clip(share - half, 0.0, 1.0),
        high=np.clip(share + half, 0.0, 1.0),
        effective_n=np.where(count > 0, effective, 0.0),
        voters=count.astype(np.int64),
    )
