"""In-conversation set, base clusters, opinion groups, silhouette and the k-smoother (polis-math.md §4-§5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from .matrix import thread_count

MIN_VOTES = 7
MIN_IN_CONV = 15
MAX_BASE_CLUSTERS = 100
MAX_GROUPS = 5
MOVE_TOLERANCE = 0.01
MAX_ITER = 100
SMOOTHING_RUNS = 4
_CHUNK = 1 << 16
BRUTE_FORCE_MAX = 1 << 18


# ----------------------------------------------------------------------------------------------------
# §4 In-conversation set
# ----------------------------------------------------------------------------------------------------
def in_conversation(
    participant_ids: np.ndarray,
    n_votes: np.ndarray,
    n_statements: int,
    previous=(),
    *,
    min_votes: int = MIN_VOTES,
    min_size: int = MIN_IN_CONV,
) -> np.ndarray:
    """Boolean mask of shape (P,) of the participants who are clustered (§4).

    ``previous | {p : n_votes[p] ≥ min(min_votes, C)}``, then, while fewer than ``min_size``, the
    highest-vote participants not yet in (ties: lower id first). Previous members no longer present
    (e.g. banned since) simply drop out.

    Parameters
    ----------
    participant_ids : ndarray of int, shape (P,)
    n_votes : ndarray of int, shape (P,)
        Votes per participant, passes included (§1).
    n_statements : int
        C, the number of statement columns.
    previous : iterable of int
        The previous run's in-conversation participant ids.
    """
    if min_votes < 0 or min_size < 0:
        raise ValueError("min_votes and min_size must be >= 0")
    mask = n_votes >= min(min_votes, n_statements)
    prev = np.asarray(list(previous), dtype=np.int64)
    if prev.size:
        mask |= np.isin(participant_ids, prev)
    missing = min(min_size, len(participant_ids)) - int(mask.sum())
    if missing > 0:
        candidates = np.flatnonzero(~mask)
        # lexsort: last key is primary → most votes first, then lower participant id.
        order = np.lexsort((participant_ids[candidates], -n_votes[candidates]))
        mask[candidates[order[:missing]]] = True
    return mask


# ----------------------------------------------------------------------------------------------------
# k-means
# ----------------------------------------------------------------------------------------------------
def nearest_centre(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for every point, shape (n,).

    Small problems use exact brute force (ties go to the lower index, chunked); large ones a k-d tree over the
    centres (O(n log k)), where an exact tie may resolve either way.
    """
    n = points.shape[0]
    if n * len(centres) > BRUTE_FORCE_MAX and points.shape[1] <= 3:
        return cKDTree(centres).query(points)[1].astype(np.int64)
    out = np.empty(n, dtype=np.int64)
    c_sq = (centres**2).sum(axis=1)
    for start in range(0, n, _CHUNK):
        block = points[start : start + _CHUNK]
        # ‖x‖² is constant per row, so it does not change the argmin.
        d = c_sq[None, :] - 2.0 * (block @ centres.T)
        out[start : start + _CHUNK] = np.argmin(d, axis=1)
    return out


def weighted_kmeans(
    points: np.ndarray,
    init: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    max_iter: int = MAX_ITER,
    tol: float = MOVE_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's algorithm from ``init`` until every centre moves less than ``tol`` or ``max_iter`` steps (§5).

    Parameters
    ----------
    points : ndarray, shape (n, d)
    init : ndarray, shape (k, d)
        Starting centres; clusters left empty are dropped (as Pol.is does).
    weights : ndarray, shape (n,), optional
        Point weights (base-cluster sizes for opinion groups).

    Returns
    -------
    centres : ndarray, shape (k', d)
    labels : ndarray of int, shape (n,)
        Index into ``centres``.
    kept : ndarray of int, shape (k',)
        Index into ``init`` of each surviving centre (lets callers keep cluster ids).
    """
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter}")
    n, dim = points.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    centres = np.asarray(init, dtype=np.float64).copy()
    kept = np.arange(len(centres))
    labels = np.zeros(n, dtype=np.int64)
    if n == 0 or len(centres) == 0:
        return centres[:0], labels, kept[:0]
    big = n * len(centres) > BRUTE_FORCE_MAX
    assign = _BoundedAssignment(points, centres, workers=thread_count()) if big else None
    labels = assign.labels if assign else nearest_centre(points, centres)
    wx = [w * points[:, j] for j in range(dim)]
    for _ in range(max_iter):
        k = len(centres)
        mass = np.bincount(labels, weights=w, minlength=k)
        sums = np.stack([np.bincount(labels, weights=wx[j], minlength=k) for j in range(dim)], 1)
        alive = mass > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            new = sums[alive] / mass[alive][:, None]
        moved = np.sqrt(((new - centres[alive]) ** 2).sum(axis=1))
        if not alive.all():
            labels = (np.cumsum(alive) - 1)[labels]
        centres, kept = new, kept[alive]
        labels = assign.update(centres, moved, labels) if assign else nearest_centre(points, centres)
        if alive.all() and np.all(moved < tol):
            break
    return centres, labels, kept


class _BoundedAssignment:
    """Exact nearest-centre assignment that only re-queries points whose bounds allow a change (Hamerly 2010).

    ``upper`` bounds the distance to the assigned centre, ``lower`` the distance to any other centre. After centres
    move by δ, ``upper += δ[label]`` and ``lower -=`` the largest move among the *other* centres. A point keeps its
    centre when ``upper`` is at most ``lower`` or half the distance from its centre to the nearest other centre;
    only the rest are checked (upper bound tightened first, then a k-d tree query if still in doubt). Late Lloyd
    steps move centres by ~0.01, so almost every point is skipped.
    """

    def __init__(self, points: np.ndarray, centres: np.ndarray, workers: int = 1):
        self.points = points
        self.workers = workers
        self.labels, self.upper, self.lower = self._query(points, centres, workers)

    @staticmethod
    def _query(pts, centres, workers: int = 1):
        if len(centres) < 2:
            d = np.sqrt(((pts - centres[0]) ** 2).sum(axis=1))
            return np.zeros(len(pts), dtype=np.int64), d, np.full(len(pts), np.inf)
        dist, idx = cKDTree(centres).query(pts, k=2, workers=workers)
        return idx[:, 0].astype(np.int64), dist[:, 0], dist[:, 1]

    def update(self, centres: np.ndarray, moved: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Labels for the new ``centres`` (shape (k, d)), given how far each moved (shape (k,))."""
        self.labels = labels
        self.upper += moved[labels]
        if moved.size > 1:
            top = np.argmax(moved)
            first, second = moved[top], np.partition(moved, -2)[-2]
            # the largest move among the other centres: the second largest for the points of the top mover
            self.lower -= np.where(labels == top, second, first)
        elif moved.size:
            self.lower -= moved[0]
        stale = np.flatnonzero(self.upper > self.lower)
        if stale.size and len(centres) > 1:
            gap = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
            np.fill_diagonal(gap, np.inf)
            bound = np.maximum(self.lower[stale], 0.5 * gap.min(axis=1)[labels[stale]])
            keep = self.upper[stale] > bound
            stale, bound = stale[keep], bound[keep]
        else:
            bound = self.lower[stale]
        if stale.size:
            diff = self.points[stale] - centres[labels[stale]]
            upper = np.sqrt((diff**2).sum(axis=1))
            self.upper[stale] = upper
            stale = stale[upper > bound]
        if stale.size:
            lab, up, lo = self._query(self.points[stale], centres, self.workers)
            self.labels[stale], self.upper[stale], self.lower[stale] = lab, up, lo
        return self.labels


def _distinct_first_index(points: np.ndarray) -> np.ndarray:
    """Indices of the first occurrence of each distinct row, in order of appearance."""
    if points.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.ascontiguousarray(points + 0.0, dtype=np.float64)  # + 0.0 turns -0.0 into 0.0
    as_bytes = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first = np.unique(as_bytes, return_index=True)
    return np.sort(first)


def first_distinct(points: np.ndarray, k: int) -> np.ndarray:
    """Indices (in order of appearance) of the first ``k`` distinct rows of ``points``."""
    return _distinct_first_index(points)[:k]


# ----------------------------------------------------------------------------------------------------
# §5.1 Base clusters
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BaseClusters:
    """Base clusters over the in-conversation projections.

    Attributes
    ----------
    ids : ndarray of int, shape (B,)
    centers : ndarray, shape (B, 2)
    labels : ndarray of int, shape (n,)
        Row index into ``ids`` for each clustered point.
    sizes : ndarray of int, shape (B,)
    """

    ids: np.ndarray
    centers: np.ndarray
    labels: np.ndarray
    sizes: np.ndarray


def base_clusters(
    points: np.ndarray,
    *,
    previous_ids: np.ndarray | None = None,
    previous_centers: np.ndarray | None = None,
    max_k: int = MAX_BASE_CLUSTERS,
) -> BaseClusters:
    """k-means with k = min(max_k, distinct points) (§5.1).

    Cold start: the first k distinct points. Warm start: the previous centres (their ids kept), topped up with
    the first distinct points not already a centre when k grew.

    Parameters
    ----------
    points : ndarray, shape (n, 2)
        Projections of the in-conversation participants.
    """
    if max_k < 1:
        raise ValueError(f"max_k must be >= 1, got {max_k}")
    n = points.shape[0]
    if n == 0:
        return BaseClusters(np.zeros(0, np.int64), np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64))
    distinct = _distinct_first_index(points)
    k = min(max_k, len(distinct))
    if previous_centers is not None and len(previous_centers):
        init = np.asarray(previous_centers, dtype=np.float64)[:k]
        ids = np.asarray(previous_ids, dtype=np.int64)[:k]
        if len(init) < k:
            cand = points[distinct]
            is_centre = (np.abs(cand[:, None, :] - init[None, :, :]).sum(axis=2) == 0).any(axis=1)
            extra = cand[~is_centre][: k - len(init)]
            next_id = int(ids.max()) + 1 if len(ids) else 0
            init = np.vstack([init, extra])
            ids = np.concatenate([ids, np.arange(next_id, next_id + len(extra))])
    else:
        init = points[distinct[:k]]
        ids = np.arange(k, dtype=np.int64)
    centres, labels, kept = weighted_kmeans(points, init)
    sizes = np.bincount(labels, minlength=len(centres)).astype(np.int64)
    return BaseClusters(ids=ids[kept], centers=centres, labels=labels, sizes=sizes)


# ----------------------------------------------------------------------------------------------------
# §5.2-5.3 Opinion groups and silhouette
# ----------------------------------------------------------------------------------------------------
def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Unweighted mean silhouette over ``points`` (n ≤ ~100), shape (n, d); a point alone in its group scores 0."""
    n = points.shape[0]
    uniq, lab = np.unique(labels, return_inverse=True)
    if n < 2 or len(uniq) < 2:
        return 0.0
    dist = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    onehot = np.zeros((n, len(uniq)))
    onehot[np.arange(n), lab] = 1.0
    sizes = onehot.sum(axis=0)
    sums = dist @ onehot  # (n, k): total distance from each point to each group
    own = sizes[lab] - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(own > 0, sums[np.arange(n), lab] / np.maximum(own, 1), 0.0)
        mean_other = sums / sizes[None, :]
    mean_other[np.arange(n), lab] = np.inf
    b = mean_other.min(axis=1)
    denom = np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where((own > 0) & (denom > 0), (b - a) / denom, 0.0)
    return float(s.mean())


def _kmeanspp(points: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Weighted k-means++ seeding over distinct points, shape (k, d)."""
    chosen = [int(rng.choice(len(points), p=weights / weights.sum()))]
    d2 = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = weights * d2
        if p.sum() <= 0:
            break
        chosen.append(int(rng.choice(len(points), p=p / p.sum())))
        d2 = np.minimum(d2, ((points - points[chosen[-1]]) ** 2).sum(axis=1))
    return points[chosen]


def _inertia(points, weights, centres, labels) -> float:
    return float((weights * ((points - centres[labels]) ** 2).sum(axis=1)).sum())


def group_kmeans(
    centers: np.ndarray,
    sizes: np.ndarray,
    k: int,
    *,
    init: np.ndarray | None = None,
    random_state: int | np.random.Generator | None = 0,
    n_init: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted k-means over base-cluster centres (§5.2); returns (group centres (k', 2), labels (B,)).

    With ``init`` (a warm start) it runs once from there. Otherwise it tries the first k distinct centres (Pol.is's
    clean start) and ``n_init`` k-means++ seeds drawn from ``random_state``, keeping the lowest weighted inertia.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    w = np.asarray(sizes, dtype=np.float64)
    if init is not None:
        c, lab, _ = weighted_kmeans(centers, init, w)
        return c, lab
    rng = np.random.default_rng(random_state)
    starts = [centers[first_distinct(centers, k)]]
    starts += [_kmeanspp(centers, w, k, rng) for _ in range(n_init)]
    best = None
    for s in starts:
        c, lab, _ = weighted_kmeans(centers, s, w)
        score = (-len(c), _inertia(centers, w, c, lab))
        if best is None or score < best[0]:
            best = (score, c, lab)
    return best[1], best[2]


def max_groups(n_base: int) -> int:
    """K = min(5, 2 + ⌊B / 12⌋) (§5.2)."""
    return min(MAX_GROUPS, 2 + n_base // 12)


@dataclass(frozen=True)
class KSmoother:
    """State of the k-smoother (§5.4): the reported k, the last best k and how many runs in a row it won."""

    smoothed_k: int | None = None
    last_k: int | None = None
    last_k_count: int = 0

    def update(self, best_k: int) -> KSmoother:
        """Return the state after a run whose best k is ``best_k``."""
        count = self.last_k_count + 1 if best_k == self.last_k else 1
        smoothed = best_k if self.smoothed_k is None or count >= SMOOTHING_RUNS else self.smoothed_k
        return KSmoother(smoothed_k=smoothed, last_k=best_k, last_k_count=count)


def match_ids(new_members: list[np.ndarray], old_members: list[np.ndarray], old_ids: list[int]) -> list[int]:
    """Stable group ids (§5.5): match new groups to old ones by maximal member overlap; others get fresh ids."""
    k = len(new_members)
    if not old_members:
        return list(range(k))
    overlap = np.array(
        [[np.intersect1d(a, b, assume_unique=True).size for b in old_members] for a in new_members],
        dtype=float,
    )
    rows, cols = linear_sum_assignment(-overlap)
    ids: list[int | None] = [None] * k
    for r, c in zip(rows, cols, strict=True):
        if overlap[r, c] > 0:
            ids[r] = int(old_ids[c])
    used = {i for i in ids if i is not None}
    fresh = (i for i in range(k + len(old_ids) + 1) if i not in used)
    return [i if i is not None else next(fresh) for i in ids]
