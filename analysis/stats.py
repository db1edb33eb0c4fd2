"""Group tallies, proportion tests, repness, consensus, group-aware consensus and priorities (polis-math.md §6-§10).

Everything is vectorised over statements (and groups); the only Python loops run over ≤ 5 groups and, for the
sequential best-agree scan of §7, over the candidate statements of one group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .matrix import cell_rows, row_blocks

#: One-sided 90% critical value of the standard normal (§7).
Z_90 = 1.2816
REPNESS_PICK = 5
CONSENSUS_PICK = 5
META_PRIORITY = 49.0


@dataclass(frozen=True)
class Repness:
    """One representative statement of an opinion group (§7); fields come from its ``repful_for`` side."""

    statement_id: int
    repful_for: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    best_agree: bool = False


@dataclass(frozen=True)
class ConsensusStatement:
    """One consensus statement (§8)."""

    statement_id: int
    n_success: int
    n_trials: int
    p_success: float
    p_test: float


@dataclass(frozen=True)
class Consensus:
    """Consensus statements of the whole consultation (§8): up to 5 each way, best first."""

    agree: tuple[ConsensusStatement, ...] = ()
    disagree: tuple[ConsensusStatement, ...] = ()


# ----------------------------------------------------------------------------------------------------
# §6 Tallies
# ----------------------------------------------------------------------------------------------------
def group_tallies(values: sp.csr_matrix, row_group: np.ndarray, n_groups: int):
    """Agree, disagree and total counts per (group, statement), each of shape (G, C) int64 (§6).

    Parameters
    ----------
    values : scipy.sparse.csr_matrix, shape (P, C)
        Raw latest votes (not mod-zeroed).
    row_group : ndarray of int, shape (P,)
        Group index of each row in ``0 … G-1``, or -1 for rows that are not counted.
    """
    n_c = values.shape[1]
    size = n_groups * n_c
    counts = np.zeros(3 * size, dtype=np.int64)
    row_group = np.asarray(row_group, dtype=np.int64)
    for r0, r1, c0, c1 in row_blocks(values):
        cell_group = cell_rows(values, r0, r1, row_group)
        keep = cell_group >= 0
        # one pass: bincount over (group, statement, vote + 1)
        key = (cell_group[keep] * n_c + values.indices[c0:c1][keep]) * 3
        key += values.data[c0:c1][keep]
        key += 1
        counts += np.bincount(key, minlength=3 * size)
    counts = counts.reshape(n_groups, n_c, 3)
    out = (counts[:, :, 2].copy(), counts[:, :, 0].copy(), counts.sum(axis=2))
    return out


# ----------------------------------------------------------------------------------------------------
# Proportion tests
# ----------------------------------------------------------------------------------------------------
def one_proportion_z(successes, trials):
    """Pol.is's one-proportion test with a +1 pseudo-count: ``2·√(n+1)·((s+1)/(n+1) - ½)`` (§7)."""
    s = np.asarray(successes, dtype=np.float64) + 1.0
    n = np.asarray(trials, dtype=np.float64) + 1.0
    return 2.0 * np.sqrt(n) * (s / n - 0.5)


def two_proportion_z(succ_in, trials_in, succ_out, trials_out):
    """Two-proportion z-test with every input +1; 0 where the pooled proportion is 1 (§7)."""
    a = np.asarray(succ_in, dtype=np.float64) + 1.0
    b = np.asarray(succ_out, dtype=np.float64) + 1.0
    m = np.asarray(trials_in, dtype=np.float64) + 1.0
    n = np.asarray(trials_out, dtype=np.float64) + 1.0
    p1, p2, p_hat = a / m, b / n, (a + b) / (m + n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p1 - p2) / np.sqrt(p_hat * (1.0 - p_hat) * (1.0 / m + 1.0 / n))
    return np.where(p_hat == 1.0, 0.0, z)


def smoothed_proportion(successes, trials):
    """``(s + 1) / (n + 2)`` (§7)."""
    return (np.asarray(successes, dtype=np.float64) + 1.0) / (np.asarray(trials, dtype=np.float64) + 2.0)


# ----------------------------------------------------------------------------------------------------
# §7 Repness
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RepnessStats:
    """Per (group, statement) repness statistics, every array of shape (G, C) (§7)."""

    A: np.ndarray
    D: np.ndarray
    S: np.ndarray
    pa: np.ndarray
    pd: np.ndarray
    pat: np.ndarray
    pdt: np.ndarray
    ra: np.ndarray
    rd: np.ndarray
    rat: np.ndarray
    rdt: np.ndarray


def repness_stats(A: np.ndarray, D: np.ndarray, S: np.ndarray) -> RepnessStats:
    """Compute pa, pd, pat, pdt, ra, rd, rat, rdt for every group against the pooled other groups (§7)."""
    A_out, D_out, S_out = A.sum(0) - A, D.sum(0) - D, S.sum(0) - S
    pa, pd = smoothed_proportion(A, S), smoothed_proportion(D, S)
    return RepnessStats(
        A=A,
        D=D,
        S=S,
        pa=pa,
        pd=pd,
        pat=one_proportion_z(A, S),
        pdt=one_proportion_z(D, S),
        ra=pa / smoothed_proportion(A_out, S_out),
        rd=pd / smoothed_proportion(D_out, S_out),
        rat=two_proportion_z(A, S, A_out, S_out),
        rdt=two_proportion_z(D, S, D_out, S_out),
    )


def best_agree_index(pa, pat, ra, rat, A, D, eligible: np.ndarray, *, z: float = Z_90) -> int | None:
    """Sequential best-agree scan of one group over statements in column order (§7); returns a column or None.

    All inputs have shape (C,). Only eligible columns with A + D > 0 are visited.
    """
    cand = np.flatnonzero(eligible & ((A + D) > 0))
    if cand.size == 0:
        return None
    metric = (ra * rat * pa * pat)[cand].tolist()
    prob = (pa * pat)[cand].tolist()
    ok_first = ((pat > z) | ((ra > 1.0) & (pa > 0.5)))[cand].tolist()
    ra_c = ra[cand].tolist()
    best = None
    for i in range(len(cand)):
        if best is None:
            if ok_first[i]:
                best = i
        elif (metric[i] > metric[best]) if ra_c[best] > 1.0 else (prob[i] > prob[best]):
            best = i
    return None if best is None else int(cand[best])


def _repness_entry(st: RepnessStats, g: int, c: int, statement_id: int, best: bool) -> Repness:
    agree = bool(st.rat[g, c] > st.rdt[g, c])
    vals = (st.A, st.pa, st.pat, st.ra, st.rat) if agree else (st.D, st.pd, st.pdt, st.rd, st.rdt)
    n, p, pt, r, rt = (v[g, c] for v in vals)
    return Repness(
        statement_id=int(statement_id),
        repful_for="agree" if agree else "disagree",
        n_success=int(n),
        n_trials=int(st.S[g, c]),
        p_success=float(p),
        p_test=float(pt),
        repness=float(r),
        repness_test=float(rt),
        best_agree=best,
    )


def select_repness(
    st: RepnessStats,
    statement_ids: np.ndarray,
    modout: np.ndarray,
    *,
    z: float = Z_90,
    pick: int = REPNESS_PICK,
) -> list[tuple[Repness, ...]]:
    """Representative statements of every group, in group order (§7).

    Parameters
    ----------
    st : RepnessStats
        Arrays of shape (G, C).
    statement_ids : ndarray of int, shape (C,)
    modout : ndarray of bool, shape (C,)
        Mod-out columns never appear.
    """
    eligible = ~np.asarray(modout, dtype=bool)
    sufficient_all = (((st.pat > z) & (st.rat > z)) | ((st.pdt > z) & (st.rdt > z))) & eligible[None, :]
    agree_side = st.rat > st.rdt
    metric_all = np.where(agree_side, st.ra * st.rat * st.pa * st.pat, st.rd * st.rdt * st.pd * st.pdt)
    out = []
    for g in range(st.A.shape[0]):
        best = best_agree_index(st.pa[g], st.pat[g], st.ra[g], st.rat[g], st.A[g], st.D[g], eligible, z=z)
        sufficient = np.flatnonzero(sufficient_all[g])
        if sufficient.size == 0:
            if best is not None:
                chosen = [(best, True)]
            else:
                score = np.where(eligible, np.maximum(st.rat[g], st.rdt[g]), -np.inf)
                chosen = [(int(np.argmax(score)), False)] if eligible.any() else []
        else:
            order = sufficient[np.argsort(-metric_all[g, sufficient], kind="stable")]
            rest = [(int(c), False) for c in order if c != best]
            chosen = ([(best, True)] if best is not None else []) + rest
            chosen = chosen[:pick]
        entries = [_repness_entry(st, g, c, statement_ids[c], b) for c, b in chosen]
        entries.sort(key=lambda e: e.repful_for != "agree")  # stable: agree before disagree
        out.append(tuple(entries))
    return out


# ----------------------------------------------------------------------------------------------------
# §8 Consensus
# ----------------------------------------------------------------------------------------------------
def select_consensus(
    A: np.ndarray,
    D: np.ndarray,
    S: np.ndarray,
    statement_ids: np.ndarray,
    modout: np.ndarray,
    *,
    z: float = Z_90,
    pick: int = CONSENSUS_PICK,
) -> Consensus:
    """Consensus statements from ungrouped counts, each array shape (C,) (§8)."""
    eligible = ~np.asarray(modout, dtype=bool)

    def side(n):
        p, pt = smoothed_proportion(n, S), one_proportion_z(n, S)
        cand = np.flatnonzero(eligible & (p > 0.5) & (pt > z))
        cand = cand[np.argsort(-(p * pt)[cand], kind="stable")][:pick]
        return tuple(
            ConsensusStatement(int(statement_ids[c]), int(n[c]), int(S[c]), float(p[c]), float(pt[c])) for c in cand
        )

    return Consensus(agree=side(A), disagree=side(D))


# ----------------------------------------------------------------------------------------------------
# §9 Group-aware consensus
# ----------------------------------------------------------------------------------------------------
def group_aware_consensus(A: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Pol.is's score Π_g (A_gc + 1)/(S_gc + 2), shape (C,) from (G, C) inputs (§9)."""
    return smoothed_proportion(A, S).prod(axis=0)


def group_consensus_jeffreys(A: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Jeffreys-prior score: geometric mean over groups of (A_gc + ½)/(S_gc + 1), shape (C,) (§9).

    Unlike the Pol.is product it does not shrink as groups multiply, and it lies in (0, 1) with 0.5 meaning
    "no information either way".
    """
    if A.shape[0] == 0:
        return np.full(A.shape[1], 0.5)
    p = (A + 0.5) / (S + 1.0)
    return np.exp(np.log(p).mean(axis=0))


# ----------------------------------------------------------------------------------------------------
# §10 Priorities
# ----------------------------------------------------------------------------------------------------
def priorities(A: np.ndarray, D: np.ndarray, S: np.ndarray, extremity: np.ndarray, meta: np.ndarray) -> np.ndarray:
    """Next-statement weights, shape (C,) from per-statement A, D, S and extremity E (§10); meta → 49."""
    A, D, S = (np.asarray(x, dtype=np.float64) for x in (A, D, S))
    p_pass = smoothed_proportion(S - A - D, S)
    p_agree = smoothed_proportion(A, S)
    importance = (1.0 - p_pass) * (extremity + 1.0) * p_agree
    novelty = 1.0 + 8.0 * np.exp2(-S / 5.0)
    return np.where(meta, META_PRIORITY, (importance * novelty) ** 2)
