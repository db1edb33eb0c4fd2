"""How robust are a report's claims? A bootstrap over participants and a re-clustering at k = 2…5.

Two kinds of claim are checked, for every statement (and every opinion group) at once, so the caller can look up
whichever claims it presents:

* **common ground** — "every opinion group agrees (disagrees) by a majority": each group's agree (disagree) share
  A/S is above ½;
* **distinguishing** — "group g agrees (disagrees) more than the other groups": A_g/S_g > A_rest/S_rest, where
  *rest* pools the other groups (as repness does, polis-math.md §7).

A resample in which a group has no vote on the statement is one in which the claim does not hold: the claim rests
on votes that resample did not have (a group's one voter is missing from about a third of the resamples).

A claim is **robust** when it holds across the bootstrap interval (the lower end of the 90% interval of each
group's share is above ½; the lower end of the 90% interval of the difference is above 0) **and** at every k in
2…5 when the base-cluster centres are re-clustered into k groups (the distinguishing claim is then checked on the
new group that shares the most members with g). The bootstrap resamples each group's members with replacement
(group sizes fixed), ``n_resamples`` times, from a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import clustering
from .matrix import build_vote_matrix
from .pipeline import AnalysisResult
from .stats import group_tallies

N_RESAMPLES = 200
LEVEL = 0.9
KS = (2, 3, 4, 5)
VERSION = "participate-robustness/1"


@dataclass(frozen=True, eq=False)
class Robustness:
    """Bootstrap intervals and claim checks, aligned with ``statement_ids`` (C) and ``group_ids`` (G).

    Attributes
    ----------
    agree_interval, disagree_interval : (G, C, 2) lower and upper ends of each group's share; NaN without votes.
    common_agree, common_disagree : (C,) bool, the common-ground claim holds across the interval.
    distinct_agree, distinct_disagree : (G, C) bool, the distinguishing claim holds across the interval.
    by_k : {k: {"common_agree": (C,), "common_disagree": (C,), "distinct_agree": (G, C), "distinct_disagree":
        (G, C)}} bool arrays, the claims at each re-clustering k.
    parameters : n_resamples, level, random_state, ks, version.
    """

    statement_ids: np.ndarray
    group_ids: np.ndarray
    agree_interval: np.ndarray
    disagree_interval: np.ndarray
    common_agree: np.ndarray
    common_disagree: np.ndarray
    distinct_agree: np.ndarray
    distinct_disagree: np.ndarray
    by_k: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def robust(self, claim: str) -> np.ndarray:
        """``claim`` (e.g. ``"common_agree"``) holds across the interval and at every k checked; shape as the claim."""
        out = np.asarray(getattr(self, claim), dtype=bool).copy()
        for checks in self.by_k.values():
            out &= checks[claim]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (NaN → None)."""

        def clean(a):
            a = np.asarray(a)
            if a.dtype == bool:
                return a.tolist()
            return np.where(np.isnan(a), None, np.round(a, 6)).tolist()

        return {
            "statement_ids": self.statement_ids.tolist(),
            "group_ids": self.group_ids.tolist(),
            "agree_interval": clean(self.agree_interval),
            "disagree_interval": clean(self.disagree_interval),
            "common_agree": clean(self.common_agree),
            "common_disagree": clean(self.common_disagree),
            "distinct_agree": clean(self.distinct_agree),
            "distinct_disagree": clean(self.distinct_disagree),
            "by_k": {str(k): {name: clean(v) for name, v in checks.items()} for k, checks in self.by_k.items()},
            "parameters": dict(self.parameters),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Robustness:
        """Rebuild from :meth:`to_dict` output."""
        n_g, n_c = len(d["group_ids"]), len(d["statement_ids"])

        def floats(x):
            return np.array(x, dtype=np.float64).reshape(n_g, n_c, 2)

        def bools(x, shape):
            return np.array(x, dtype=bool).reshape(shape)

        return cls(
            statement_ids=np.asarray(d["statement_ids"], dtype=np.int64),
            group_ids=np.asarray(d["group_ids"], dtype=np.int64),
            agree_interval=floats(d["agree_interval"]),
            disagree_interval=floats(d["disagree_interval"]),
            common_agree=bools(d["common_agree"], (n_c,)),
            common_disagree=bools(d["common_disagree"], (n_c,)),
            distinct_agree=bools(d["distinct_agree"], (n_g, n_c)),
            distinct_disagree=bools(d["distinct_disagree"], (n_g, n_c)),
            by_k={
                int(k): {
                    name: bools(v, (n_c,) if name.startswith("common") else (n_g, n_c)) for name, v in checks.items()
                }
                for k, checks in d["by_k"].items()
            },
            parameters=dict(d.get("parameters", {})),
        )


def _indicators(values: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Agree, disagree and voted indicator matrices (float, same shape as ``values``)."""
    voted = values.copy().astype(np.float64)
    voted.data = np.ones_like(voted.data)
    agree = values.copy().astype(np.float64)
    agree.data = (values.data > 0).astype(np.float64)
    disagree = values.copy().astype(np.float64)
    disagree.data = (values.data < 0).astype(np.float64)
    return agree, disagree, voted


def _share(n, s):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s > 0, n / np.where(s > 0, s, 1), np.nan)


def _unknown_widens(share: np.ndarray, q: tuple[float, float]) -> np.ndarray:
    """The interval of a share over resamples, shape (C, 2), where a resample with no vote counts as unknown.

    Unknown is anything from 0 to 1: it counts as 0 for the lower end and 1 for the upper, so a claim resting on
    one or two votes (absent from many resamples) gets the wide interval it deserves, never "100 to 100%". NaN where
    no resample has a vote.
    """
    missing = np.isnan(share)
    low = np.quantile(np.where(missing, 0.0, share), q[0], axis=0)
    high = np.quantile(np.where(missing, 1.0, share), q[1], axis=0)
    out = np.column_stack([low, high])
    out[missing.all(axis=0)] = np.nan
    return out


def _claims(A, D, S) -> dict[str, np.ndarray]:
    """The four claims on point tallies, each (G, C) → common (C,) and distinct (G, C)."""
    pa, pd = _share(A, S), _share(D, S)
    rest_a, rest_d = _share(A.sum(0) - A, S.sum(0) - S), _share(D.sum(0) - D, S.sum(0) - S)
    with np.errstate(invalid="ignore"):
        return {
            "common_agree": np.all(np.nan_to_num(pa, nan=0.0) > 0.5, axis=0),
            "common_disagree": np.all(np.nan_to_num(pd, nan=0.0) > 0.5, axis=0),
            "distinct_agree": np.nan_to_num(pa - rest_a, nan=0.0) > 0,
            "distinct_disagree": np.nan_to_num(pd - rest_d, nan=0.0) > 0,
        }


def assess(
    votes,
    result: AnalysisResult,
    *,
    n_resamples: int = N_RESAMPLES,
    level: float = LEVEL,
    ks=KS,
    random_state: int | None = 0,
) -> Robustness:
    """Bootstrap intervals of every group's agree/disagree share and the robustness of every claim.

    Parameters
    ----------
    votes : the same votes ``result`` was computed from (see :func:`analysis.run_analysis`).
    result : AnalysisResult
        Its opinion groups, base clusters and statement ids are used as they are.
    n_resamples : int ≥ 1
    level : float in (0, 1), the interval's coverage (0.9 → 5th and 95th percentiles).
    ks : candidate numbers of groups for the re-clustering check (those above the number of base clusters are
        skipped).
    random_state : int or None, seeds the resampling and the k-means starts.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(random_state)
    vm = build_vote_matrix(votes, banned=result.banned)
    sids = np.asarray(result.statement_ids, dtype=np.int64)
    # Align columns to the result's statements (a statement without votes has an empty column).
    col = np.searchsorted(vm.statement_ids, sids)
    col = np.minimum(col, max(len(vm.statement_ids) - 1, 0))
    present = vm.statement_ids[col] == sids if len(vm.statement_ids) else np.zeros(len(sids), bool)
    values = vm.values[:, col[present]] if present.all() else _pad_columns(vm.values, col, present)
    agree, disagree, voted = _indicators(values)
    n_g, n_c = len(result.groups), len(sids)
    q = ((1 - level) / 2, 1 - (1 - level) / 2)

    boot_a = np.zeros((n_g, n_resamples, n_c))
    boot_d = np.zeros((n_g, n_resamples, n_c))
    boot_s = np.zeros((n_g, n_resamples, n_c))
    for g, group in enumerate(result.groups):
        rows = np.searchsorted(vm.participant_ids, group.members)
        n = len(rows)
        if n == 0:
            continue
        draws = rng.integers(0, n, size=(n_resamples, n))
        weights = np.bincount((draws + n * np.arange(n_resamples)[:, None]).ravel(), minlength=n * n_resamples)
        weights = weights.reshape(n_resamples, n).astype(np.float64)
        for out, mat in ((boot_a, agree), (boot_d, disagree), (boot_s, voted)):
            out[g] = (mat[rows].T @ weights.T).T
    agree_iv = np.full((n_g, n_c, 2), np.nan)
    disagree_iv = np.full((n_g, n_c, 2), np.nan)
    common_a = np.ones(n_c, dtype=bool) if n_g else np.zeros(n_c, dtype=bool)
    common_d = common_a.copy()
    distinct_a = np.zeros((n_g, n_c), dtype=bool)
    distinct_d = np.zeros((n_g, n_c), dtype=bool)
    for g in range(n_g):
        pa, pd = _share(boot_a[g], boot_s[g]), _share(boot_d[g], boot_s[g])
        agree_iv[g], disagree_iv[g] = _unknown_widens(pa, q), _unknown_widens(pd, q)
        common_a &= np.nan_to_num(agree_iv[g, :, 0], nan=0.0) > 0.5
        common_d &= np.nan_to_num(disagree_iv[g, :, 0], nan=0.0) > 0.5
        if n_g >= 2:
            others = [h for h in range(n_g) if h != g]
            rs = boot_s[others].sum(0)
            with np.errstate(invalid="ignore"):
                diff_a = pa - _share(boot_a[others].sum(0), rs)
                diff_d = pd - _share(boot_d[others].sum(0), rs)
            # a resample with no vote on either side is one in which the difference is not shown (-2: below any)
            distinct_a[g] = np.quantile(np.nan_to_num(diff_a, nan=-2.0), q[0], axis=0) > 0
            distinct_d[g] = np.quantile(np.nan_to_num(diff_d, nan=-2.0), q[0], axis=0) > 0

    by_k = _by_k(result, vm.participant_ids, values, ks, random_state) if n_g else {}
    return Robustness(
        statement_ids=sids,
        group_ids=np.array([g.id for g in result.groups], dtype=np.int64),
        agree_interval=agree_iv,
        disagree_interval=disagree_iv,
        common_agree=common_a,
        common_disagree=common_d,
        distinct_agree=distinct_a,
        distinct_disagree=distinct_d,
        by_k=by_k,
        parameters={
            "n_resamples": int(n_resamples),
            "level": float(level),
            "random_state": random_state,
            "ks": sorted(by_k),
            "version": VERSION,
        },
    )


def _pad_columns(values: sp.csr_matrix, col: np.ndarray, present: np.ndarray) -> sp.csr_matrix:
    """Columns ``col`` of ``values`` where ``present``, empty columns elsewhere; shape (P, len(col))."""
    out = sp.lil_matrix((values.shape[0], len(col)), dtype=values.dtype)
    out[:, np.flatnonzero(present)] = values[:, col[present]]
    return out.tocsr()


def _by_k(result: AnalysisResult, pids: np.ndarray, values: sp.csr_matrix, ks, random_state) -> dict:
    """The claims when the base-cluster centres are re-clustered into k groups, for each k in ``ks``."""
    centers = np.asarray(result.base_cluster_centers, dtype=np.float64).reshape(-1, 2)
    members = result.base_cluster_members
    sizes = np.array([len(m) for m in members], dtype=np.float64)
    n_base = len(members)
    row_of_base = [np.searchsorted(pids, m) for m in members]
    groups_rows = [set(np.searchsorted(pids, g.members).tolist()) for g in result.groups]
    out: dict[int, dict[str, np.ndarray]] = {}
    for k in ks:
        if k > n_base or k < 2:
            continue
        init = result.group_centers_by_k.get(k)
        _, labels = clustering.group_kmeans(centers, sizes, k, init=init, random_state=random_state)
        k_found = int(labels.max()) + 1 if len(labels) else 0
        row_group = np.full(values.shape[0], -1, dtype=np.int64)
        for b, rows in enumerate(row_of_base):
            row_group[rows] = labels[b]
        A, D, S = group_tallies(values.tocsr(), row_group, k_found)
        claims = _claims(A, D, S)
        # Each original group is followed to the k-group with which it shares the most members.
        match = []
        for rows in groups_rows:
            assigned = row_group[sorted(rows)]
            counts = np.bincount(assigned[assigned >= 0], minlength=k_found)
            match.append(int(np.argmax(counts)))
        out[int(k)] = {
            "common_agree": claims["common_agree"],
            "common_disagree": claims["common_disagree"],
            "distinct_agree": claims["distinct_agree"][match] if match else claims["distinct_agree"][:0],
            "distinct_disagree": claims["distinct_disagree"][match] if match else claims["distinct_disagree"][:0],
        }
    return out
