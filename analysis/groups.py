"""Opinion groups that do not depend on row order, seeds of luck or a 0.001 silhouette lead.

Pol.is clusters the in-conversation participants into (up to) 100 base clusters and then the base-cluster centres
into k opinion groups, each k-means started from the *first* points in the matrix's row order (arrival order,
then warm starts over the conversation's history). Its groups therefore change with the order of rows, and its
k is the argmax of silhouettes that often differ by 0.001. This module keeps Pol.is's model (the same projection,
base clusters, weighted k-means over their centres, silhouette) and replaces the luck by explicit statistics:

* **What Pol.is would most likely show.** With the row order unknown, Pol.is's start is a uniformly random choice
  of distinct points (Forgy's start): first for the base clusters, then among the base-cluster centres for the
  groups. We draw ``N_BASE_SEEDS`` base clusterings that way (more for small conversations) and, for each, its share
  of ``TOTAL_STARTS`` group starts per k; of the distinct partitions reached, the one with the largest
  count-weighted agreement (adjusted Rand index, participants weighted) with all the others is kept: the
  consensus of the distribution Pol.is samples from, which maximises the expected agreement with one draw of it.
  Across base clusterings, the medoid partition (the highest mean adjusted Rand index with the others) is the
  answer. Not the lowest inertia: that optimum often cuts
  off a handful of far-out participants as a "group" (bg2050: 106/1, where Pol.is shows 99/8).
* **k, with its noise.** A candidate k's score is the participant-weighted silhouette on the base-cluster centres
  (every participant counts once, as the report counts people). Its noise: bootstrap over participants
  (``N_BOOT`` multinomial resamples of the base-cluster sizes, each refitted from the k-means solution), pooled
  over the base clusterings, so it covers both sampling noise and the algorithm's own randomness. The smaller k is
  kept unless a larger one beats it by more than ``Z`` standard deviations of the paired bootstrap difference
  (the one-standard-error rule of Breiman et al. 1984 and of the gap statistic, Tibshirani et al. 2001). ``k_tied``
  says when another k is within that noise of the chosen one.
* **Order invariance.** Every random choice is drawn from a seeded generator over the distinct points in the
  order of their *coordinates* (never of rows), and groups are numbered by size (then centre), so relabelling or
  reordering participants or statements yields the same partition, k and statistics.

Constants were fixed on principle and checked leave-one-out on the shared conversations (see README).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from .clustering import MAX_BASE_CLUSTERS, MAX_ITER, MOVE_TOLERANCE, max_groups, nearest_centre

#: Base clusterings drawn (each a Forgy start of Pol.is's base k-means): at least N_BASE_SEEDS, and more for small
#: conversations, as many as fit in SEED_BUDGET point fits, up to MAX_BASE_SEEDS. The consensus is a Monte Carlo
#: estimate; with few participants each base clustering is cheap and the estimate's noise shows most (chosen by how
#: well runs with different seeds agree with each other, which needs no reference groups; see README).
N_BASE_SEEDS = 8
MAX_BASE_SEEDS = 32
SEED_BUDGET = 40_000
#: Group k-means starts per k over all base clusterings (64 for each of N_BASE_SEEDS), shared out among them
#: when there are more (never fewer than MIN_STARTS each): a fixed Monte Carlo sample of Pol.is's group starts.
TOTAL_STARTS = 512
MIN_STARTS = 16
#: Bootstrap resamples of participants per base clustering (pooled over them all). Not shared out like the starts:
#: with fewer per base clustering, the k rule of a very small conversation changes with the seed.
N_BOOT = 25
#: A larger k must beat the smaller one by more than this many bootstrap standard deviations (1-SE rule).
Z = 1.0
#: Above this many in-conversation participants, base clusters are fitted to a uniform sample of this size.
MAX_POINTS = 5_000
#: Relative grid on which coordinates are compared when ordering points by content.
GRID = 1e-8
#: Candidates considered for the consensus partition of one base clustering and k (the most frequent ones).
N_CANDIDATES = 10
#: Partitions per base clustering pooled across base clusterings for the final consensus.
N_POOLED = 3


@dataclass(frozen=True, eq=False)
class RobustGroups:
    """Result of :func:`robust_groups`.

    Attributes
    ----------
    labels : ndarray of int, shape (n,)
        Group of every point, numbered 0..k-1 by decreasing size (ties: centre x, then y).
    k : int
    k_scores : dict[int, float]
        Mean participant-weighted silhouette of each candidate k over the base clusterings.
    k_spread : dict[int, float]
        Bootstrap standard deviation of each candidate's score minus the chosen k's (0 for the chosen k).
    k_tied : bool
        Another k is within ``Z`` spreads of the chosen one.
    base_centers : ndarray, shape (B, 2); base_labels : ndarray of int, shape (n,); base_group : ndarray (B,)
        The base clustering the answer came from, and its base clusters' groups.
    centers : ndarray, shape (k, 2)
        Weighted mean of each group's points.
    """

    labels: np.ndarray
    k: int
    k_scores: dict[int, float]
    k_spread: dict[int, float]
    k_tied: bool
    base_centers: np.ndarray
    base_labels: np.ndarray
    base_group: np.ndarray
    centers: np.ndarray


def batched_kmeans(points, owner, weights, init, *, max_iter: int = MAX_ITER, tol: float = MOVE_TOLERANCE):
    """Batches of weighted k-means runs over several point sets at once; the runs of one batch stop together.

    Lloyd's iterations with Pol.is's stopping rule, run by run with the same arithmetic as one batch alone: a batch
    iterates until every centre of every one of its runs moved less than ``tol``.
    A run whose centres did not move at all is at a fixed point (the same labels, so the same centres again): it
    is no longer computed while its batch goes on.

    Parameters
    ----------
    points : ndarray, shape (S, B, d)
        Point sets; a set with fewer than B points is padded with zero rows (given zero weight).
    owner : ndarray of int, shape (N,)
        The point set each batch clusters.
    weights : ndarray, shape (N, R, B) or (N, 1, B)
        Point weights of each run (or of all the runs of a batch).
    init : ndarray, shape (N, R, k, d)
        Start centres of the R runs of each batch.

    Returns
    -------
    centres : ndarray, shape (N, R, k, d)
    labels : ndarray of int, shape (N, R, B)
    mass : ndarray, shape (N, R, k)
        Total weight per cluster (0 = the run lost that cluster).
    """
    n_batches, n_runs, k, dim = init.shape
    width = points.shape[1]
    centres = np.array(init, dtype=np.float64).reshape(-1, k, dim)
    batch = np.repeat(np.arange(n_batches), n_runs)
    shared = weights.shape[1] == 1
    run_weights = weights[:, 0] if shared else weights.reshape(-1, width)
    doubled = 2.0 * points
    # each coordinate times its weight, per batch (shared weights) or run, once: (dim, batches or runs, B)
    weighted = np.moveaxis(run_weights[..., None] * points[owner if shared else owner[batch]], -1, 0)

    def assign(runs):
        # ‖c‖² - 2 x·c (‖x‖² is the same for every centre of a point), argmin over the k centres of each run; one
        # stacked matrix product, as clustering.nearest_centre does for one run
        c = centres[runs]
        return ((c**2).sum(-1)[:, None, :] - doubled[owner[batch[runs]]] @ c.transpose(0, 2, 1)).argmin(-1)

    def update(runs, labels):
        size = len(runs) * k
        flat = (labels + (np.arange(len(runs)) * k)[:, None]).ravel()
        at = batch[runs] if shared else runs
        mass = np.bincount(flat, weights=run_weights[at].ravel(), minlength=size)
        sums = [np.bincount(flat, weights=weighted[j][at].ravel(), minlength=size) for j in range(dim)]
        return mass.reshape(-1, k), np.stack(sums, -1).reshape(-1, k, dim)

    # the first assignment once per distinct start (the bootstrap's runs all start from their batch's consensus)
    key = np.concatenate([owner[batch].astype(np.float64)[:, None], centres.reshape(len(centres), -1)], axis=1)
    _, first, inverse = np.unique(
        np.ascontiguousarray(key).view(np.dtype((np.void, key.shape[1] * 8))).ravel(),
        return_index=True,
        return_inverse=True,
    )
    labels = assign(first)[inverse.ravel()]
    mass = np.zeros((len(centres), k))
    moving = np.arange(len(centres))  # runs of unfinished batches that are not at a fixed point
    stale = np.zeros(len(centres), dtype=bool)  # centres changed since the run's labels were computed
    going = np.ones(n_batches, dtype=bool)
    for step in range(max_iter):
        if not moving.size:
            break
        if step:
            labels[moving] = assign(moving)
        mass[moving], sums = update(moving, labels[moving])
        old = centres[moving]
        with np.errstate(divide="ignore", invalid="ignore"):
            new = np.where(mass[moving][..., None] > 0, sums / mass[moving][..., None], old)
        moved = np.sqrt(((new - old) ** 2).sum(-1))
        centres[moving] = new
        stale[moving] = (moved > 0).any(1)
        going[:] = False
        going[batch[moving][(moved >= tol).any(1)]] = True
        moving = moving[going[batch[moving]] & stale[moving]]
    # the final labels from the final centres (unchanged for a run at a fixed point)
    redo = np.flatnonzero(stale)
    labels[redo] = assign(redo)
    mass[redo] = update(redo, labels[redo])[0]
    shape = (n_batches, n_runs)
    return centres.reshape(*shape, k, dim), labels.reshape(*shape, width), mass.reshape(*shape, k)


def weighted_silhouette(dist: np.ndarray, labels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Participant-level silhouette of each of R labellings of B base clusters, ``weights`` participants each.

    Every participant counts once: the members of a base cluster sit at its centre, so a participant's mean
    distance to the rest of its group is ``Σ_j w_j d_bj / (W_g - 1)`` (itself left out), and to another group
    ``Σ_j w_j d_bj / W_h``. A participant alone in its group scores 0, as in the usual silhouette.

    Parameters
    ----------
    dist : ndarray, shape (B, B), pairwise distances of the base-cluster centres
    labels : ndarray of int, shape (R, B)
    weights : ndarray, shape (R, B) or (B,), participants per base cluster (0 = left out)

    Returns
    -------
    ndarray, shape (R,)
    """
    n_runs, n = labels.shape
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (n_runs, n))
    onehot = (labels[..., None] == np.arange(k)) * w[..., None]  # (R, B, k)
    mass = onehot.sum(1)  # (R, k)
    sums = dist @ onehot  # (R, B, k): BLAS, several times faster than einsum here
    rows = np.arange(n)
    others = np.take_along_axis(mass, labels, axis=1) - 1.0  # (R, B): the rest of each participant's group
    own_sum = np.take_along_axis(sums, labels[..., None], axis=2)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(others > 0, own_sum / np.where(others > 0, others, 1), 0.0)
        other = np.where(mass[:, None, :] > 0, sums / mass[:, None, :], np.inf)
    other[np.arange(n_runs)[:, None], rows[None, :], labels] = np.inf
    b = other.min(-1)
    denom = np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where((others > 0) & np.isfinite(b) & (denom > 0), (b - a) / denom, 0.0)
    total = w.sum(1)
    return np.where(total > 0, (s * w).sum(1) / np.where(total > 0, total, 1), 0.0)


def _agreement(parts: np.ndarray, k: int) -> np.ndarray:
    """Adjusted Rand index of every pair of labellings ``parts`` (P, n) of the same points into k groups, (P, P).

    Points with the same labels in every labelling are counted together; the contingency tables of all pairs are
    then one matrix product of the weighted one-hot labellings (exact: sums of whole counts).
    """
    n_parts = len(parts)
    patterns = np.ascontiguousarray(parts.T.astype(np.uint8))
    _, first, counts = np.unique(
        patterns.view(np.dtype((np.void, n_parts))).ravel(), return_index=True, return_counts=True
    )
    onehot = (patterns[first][:, :, None] == np.arange(k)).reshape(len(first), -1).astype(np.float64)
    tables = (onehot.T @ (onehot * counts[:, None])).reshape(n_parts, k, n_parts, k).transpose(0, 2, 1, 3)
    return _ari_from_tables(tables.reshape(-1, k, k)).reshape(n_parts, n_parts)


def _ari_from_tables(table: np.ndarray) -> np.ndarray:
    """Adjusted Rand index from contingency tables, shape (U, k1, k2) → (U,)."""

    def pairs(x):
        return (x * (x - 1) / 2).sum(axis=tuple(range(1, x.ndim)))

    n = table.sum(axis=(1, 2))
    index = pairs(table)
    rows, cols = pairs(table.sum(2)), pairs(table.sum(1))
    total = n * (n - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(total > 0, rows * cols / total, 0.0)
        top = (rows + cols) / 2
        return np.where(top == expected, 1.0, (index - expected) / (top - expected))


def partition_ari(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labellings of the same points, shape (n,) each."""
    ka, kb = int(a.max()) + 1 if a.size else 1, int(b.max()) + 1 if b.size else 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(1, ka, kb).astype(np.float64)
    return float(_ari_from_tables(table)[0])


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel each row of ``labels`` (R, B) by order of first appearance, so equal partitions compare equal."""
    n_rows, n = labels.shape
    first = np.full((n_rows, int(labels.max()) + 1), n)  # where each label first appears (n: never)
    np.minimum.at(first, (np.repeat(np.arange(n_rows), n), labels.ravel()), np.tile(np.arange(n), n_rows))
    rank = np.argsort(np.argsort(first, axis=1, kind="stable"), axis=1, kind="stable")
    return np.take_along_axis(rank, labels, axis=1)


def _first_per_group(score: np.ndarray, group: np.ndarray, how_many: int) -> np.ndarray:
    """Indices of the ``how_many`` highest ``score`` (R,) of each ``group`` (R,), ties in index order; by group."""
    order = np.lexsort((np.arange(len(score)), -score, group))
    grouped = group[order]
    return order[np.arange(len(order)) - np.searchsorted(grouped, grouped) < how_many]


def _consensus(labels, centres, mass, weights, n_points):
    """Per batch of Forgy-started k-means runs, the partitions they reach, or None when every run lost a group.

    For each batch, the ``N_POOLED`` most frequent of the ``N_CANDIDATES`` most frequent partitions, consensus
    first: the one with the largest count-weighted adjusted Rand index with all the batch's partitions (points
    weighted).

    Parameters
    ----------
    labels : ndarray of int, shape (N, R, B); centres : ndarray, shape (N, R, k, 2); mass : ndarray, shape (N, R, k)
        The runs of N batches, as returned by :func:`batched_kmeans`.
    weights : ndarray, shape (N, B)
        Weight of each point of a batch's set (0 on padding).
    n_points : ndarray of int, shape (N,)
        Points of each batch's set (the rest is padding).

    Returns
    -------
    list, per batch: None, or a list of (labels (n,) numbered by first appearance, share of the runs), consensus
    first, and the consensus's centres (k, 2) in that numbering.
    """
    n_batches, n_runs, width = labels.shape
    k_max = centres.shape[2]
    labels, centres = labels.reshape(-1, width), centres.reshape(-1, k_max, centres.shape[3])
    batch = np.repeat(np.arange(n_batches), n_runs)
    runs = np.flatnonzero((mass > 0).all(-1).ravel())
    out: list = [None] * n_batches
    if not runs.size:
        return out
    canon = _canonical(labels[runs])
    canon[np.arange(width)[None, :] >= n_points[batch[runs]][:, None]] = 0
    # one sort for every batch: rows keyed by batch (big-endian) then labels, as bytes, in lexicographic order
    key = np.concatenate([batch[runs].astype(">u4").view(np.uint8).reshape(-1, 4), canon.astype(np.uint8)], axis=1)
    rows = np.ascontiguousarray(key).view(np.dtype((np.void, key.shape[1]))).ravel()
    _, first, counts = np.unique(rows, return_index=True, return_counts=True)
    u_run, u_lab = runs[first], canon[first]
    u_batch = batch[u_run]
    b_start = np.searchsorted(u_batch, np.arange(n_batches))
    b_count = np.bincount(u_batch, minlength=n_batches)

    candidates = _first_per_group(counts.astype(np.float64), u_batch, N_CANDIDATES)
    # each candidate against every partition of its batch: weighted contingency tables, then the adjusted Rand index
    reps = b_count[u_batch[candidates]]
    pair_c = np.repeat(np.arange(len(candidates)), reps)
    pair_u = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps - b_start[u_batch[candidates]], reps)
    table_key = (np.arange(len(pair_c))[:, None] * k_max + u_lab[candidates[pair_c]]) * k_max + u_lab[pair_u]
    tables = np.bincount(
        table_key.ravel(), weights=weights[u_batch[pair_u]].ravel(), minlength=len(pair_c) * k_max * k_max
    ).reshape(-1, k_max, k_max)
    score = np.bincount(pair_c, weights=_ari_from_tables(tables) * counts[pair_u], minlength=len(candidates))
    pooled = candidates[_first_per_group(score, u_batch[candidates], N_POOLED)]
    for b in np.unique(u_batch[pooled]).tolist():
        mine = pooled[u_batch[pooled] == b]
        total = counts[b_start[b] : b_start[b] + b_count[b]].sum()
        n, run = int(n_points[b]), u_run[mine[0]]
        order = np.unique(labels[run, :n], return_index=True)[1].argsort()
        out[b] = ([(u_lab[i, :n], counts[i] / total) for i in mine], centres[run][order])
    return out


def content_order(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``points`` (n, 2) ordered by coordinates (x, then y), not by row; and which start a distinct point.

    Coordinates are compared on a grid of ``GRID`` times their largest magnitude first, so that rounding noise from
    a different summation order (reordered statements, the sparse solver) does not reorder the points.

    Returns
    -------
    order : ndarray of int, shape (n,)
    first : ndarray of bool, shape (n,)
        ``first[i]``: row ``order[i]`` is the first of its distinct point (exact coordinates) in that order.
    """
    n = points.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    scale = float(np.abs(points).max()) or 1.0
    grid = np.round(points / (scale * GRID), 0)
    order = np.lexsort((points[:, 1], points[:, 0], grid[:, 1], grid[:, 0]))
    ordered = points[order]
    first = np.ones(n, dtype=bool)
    first[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    return order, first


def robust_groups(
    points: np.ndarray,
    *,
    random_state: int | None = 0,
    max_base: int = MAX_BASE_CLUSTERS,
    max_points: int = MAX_POINTS,
    n_base_seeds: int | None = None,
    n_boot: int = N_BOOT,
    z: float = Z,
) -> RobustGroups | None:
    """Opinion groups of the in-conversation projections, independent of row order (see the module docstring).

    Parameters
    ----------
    points : ndarray, shape (n, 2)
        In-conversation participant projections, in any order.
    random_state : int or None
        Seeds every draw (the same seed gives the same answer on any row order).
    n_base_seeds : int >= 1, optional
        Base clusterings to draw; by default from ``N_BASE_SEEDS`` to ``MAX_BASE_SEEDS`` by the sample's size.

    Returns
    -------
    RobustGroups, or None when fewer than two distinct points (no grouping is possible).
    """
    if (n_base_seeds is not None and n_base_seeds < 1) or n_boot < 2:
        raise ValueError(f"n_base_seeds must be >= 1 and n_boot >= 2, got {n_base_seeds} and {n_boot}")
    rows = np.ascontiguousarray(points + 0.0, dtype=np.float64)  # + 0.0: -0.0 and 0.0 are one point
    order, first = content_order(rows)
    if first.sum() < 2:
        return None
    if n_base_seeds is None:
        n_base_seeds = min(MAX_BASE_SEEDS, max(N_BASE_SEEDS, SEED_BUDGET // min(len(order), max_points)))
    n_starts = max(MIN_STARTS, TOTAL_STARTS // n_base_seeds)
    seeds = np.random.SeedSequence(0 if random_state is None else random_state).spawn(n_base_seeds + 1)
    sample = order
    if len(order) > max_points:
        # a uniform sample of the rows, drawn over the content order: the base clusters are a compression of the
        # projection, and 100 centres are well placed by MAX_POINTS points (about 50 per centre)
        picked = np.random.default_rng(seeds[-1]).choice(len(order), max_points, replace=False)
        sample = order[np.sort(picked)]
    pts = rows[sample]  # in content order
    distinct = np.flatnonzero(np.r_[True, np.any(pts[1:] != pts[:-1], axis=1)])
    n = len(pts)
    n_b = min(max_base, len(distinct))
    base = []  # per base clustering: base centres, base labels, sizes, bootstrap weights, {k: group starts}
    # one thread: on these few thousand points OpenMP's start-up costs more than it saves (10 ms against 1 ms for
    # 60 points); a centre left empty is expected and handled below, not a warning
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for seq in seeds[:-1]:
            rng = np.random.default_rng(seq)
            pick = np.sort(rng.choice(len(distinct), n_b, replace=False))
            # Pol.is's base k-means from these starts, run to convergence (labels stable) by scikit-learn's compiled
            # Lloyd iterations: the one step here that sees every sampled point
            fit = KMeans(n_b, init=pts[distinct[pick]], n_init=1, max_iter=MAX_ITER, tol=0.0, algorithm="lloyd")
            fit.fit(pts)
            alive = np.bincount(fit.labels_, minlength=n_b) > 0  # a centre left empty is dropped, as Pol.is does
            b_centres, b_labels = fit.cluster_centers_[alive], (np.cumsum(alive) - 1)[fit.labels_]
            sizes = np.bincount(b_labels, minlength=len(b_centres)).astype(np.float64)
            n_base = len(b_centres)
            if n_base < 2:
                return None
            boot_w = rng.multinomial(n, sizes / sizes.sum(), size=n_boot).astype(np.float64)
            starts = {
                k: np.sort(np.argsort(rng.random((n_starts, n_base)), axis=1)[:, :k], axis=1)
                for k in range(2, min(max_groups(n_base), n_base) + 1)
            }
            base.append((b_centres, b_labels, sizes, boot_w, starts))
    # every base clustering's group k-means at once: its centres padded to the largest count with weightless zeros
    n_seeds, width = len(base), max(len(b[0]) for b in base)
    padded, weight = np.zeros((n_seeds, width, 2)), np.zeros((n_seeds, width))
    for i, (b_centres, _, sizes, _, _) in enumerate(base):
        padded[i, : len(b_centres)], weight[i, : len(sizes)] = b_centres, sizes
    batches = [(i, k) for i, b in enumerate(base) for k in b[4]]
    n_points = np.array([len(b[0]) for b in base])
    boot_w = np.zeros((n_seeds, n_boot, width))
    for i, b in enumerate(base):
        boot_w[i, :, : len(b[0])] = b[3]

    # per k (runs of one k at once): the partitions every base clustering's Forgy starts reach, then the k rule's
    # bootstrap, every consensus refitted to n_boot resamples of its base clustering's sizes
    found: list = [None] * len(batches)
    boot_labels: dict[int, np.ndarray] = {}
    for k in sorted({k for _, k in batches}):
        which = [j for j, (_, kk) in enumerate(batches) if kk == k]
        owner = np.array([batches[j][0] for j in which])
        init = np.stack([base[i][0][base[i][4][k]] for i in owner])
        centres, labels, mass = batched_kmeans(padded, owner, weight[owner][:, None], init)
        for j, f in zip(which, _consensus(labels, centres, mass, weight[owner], n_points[owner]), strict=True):
            found[j] = f
        which = [j for j in which if found[j] is not None]
        if not which:
            continue
        owner = np.array([batches[j][0] for j in which])
        init = np.stack([np.broadcast_to(found[j][1], (n_boot, k, 2)) for j in which])
        _, labels, _ = batched_kmeans(padded, owner, boot_w[owner], init)
        boot_labels.update(zip(which, labels, strict=True))
    solved = [j for j, f in enumerate(found) if f is not None]
    if not solved:
        return None
    # participant-weighted silhouettes of each consensus and its refits, one matrix product per base clustering
    scores: list[dict[int, float]] = [{} for _ in base]
    boots: list[dict[int, np.ndarray]] = [{} for _ in base]
    for i, (b_centres, _, sizes, b_boot, _) in enumerate(base):
        mine = [row for row, j in enumerate(solved) if batches[j][0] == i]
        if not mine:
            continue
        n_b_i = len(b_centres)
        dist = np.sqrt(((b_centres[:, None, :] - b_centres[None, :, :]) ** 2).sum(-1))
        cons = np.stack([found[solved[row]][0][0][0] for row in mine])
        refits = np.concatenate([boot_labels[solved[row]][:, :n_b_i] for row in mine])
        weights = np.concatenate([np.broadcast_to(sizes, cons.shape), np.concatenate([b_boot] * len(mine))])
        sil = weighted_silhouette(dist, np.concatenate([cons, refits]), weights, max(batches[j][1] for j in solved))
        for m, row in enumerate(mine):
            k = batches[solved[row]][1]
            scores[i][k] = float(sil[m])
            boots[i][k] = sil[len(mine) + m * n_boot : len(mine) + (m + 1) * n_boot]
    ks = sorted(set.intersection(*(set(s) for s in scores)))
    if not ks:
        return None
    boot = {k: np.concatenate([b[k] for b in boots]) for k in ks}
    k_scores = {k: float(np.mean([s[k] for s in scores])) for k in ks}
    chosen = ks[0]
    for k in ks[1:]:
        diff = boot[k] - boot[chosen]
        if diff.mean() > z * diff.std():
            chosen = k
    spread = {k: float((boot[k] - boot[chosen]).std()) for k in ks}
    tied = any(abs(float((boot[k] - boot[chosen]).mean())) <= z * spread[k] for k in ks if k != chosen)
    # consensus across base clusterings: each base clustering's frequent partitions, weighted by how often its runs
    # reach them; the one with the largest weighted adjusted Rand index with all of them (participants counted)
    pool = [(i, lab, share) for i in range(n_seeds) for lab, share in found[batches.index((i, chosen))][0]]
    share = np.array([p[2] for p in pool])
    stacked = np.stack([lab[base[i][1]] for i, lab, _ in pool])
    best_run, base_group, _ = pool[int(np.argmax(_agreement(stacked, chosen) @ share))]
    b_centres = base[best_run][0]
    if len(sample) == len(order):
        b_labels = np.empty(len(rows), dtype=np.int64)
        b_labels[sample] = base[best_run][1]
    else:
        b_labels = nearest_centre(rows, b_centres)
    labels = base_group[b_labels]
    sizes = np.bincount(labels, minlength=chosen)
    centres = np.stack([rows[labels == g].mean(0) for g in range(chosen)])
    order = np.lexsort((centres[:, 1], centres[:, 0], -sizes))
    rank = np.empty(chosen, dtype=np.int64)
    rank[order] = np.arange(chosen)
    return RobustGroups(
        labels=rank[labels],
        k=chosen,
        k_scores=k_scores,
        k_spread=spread,
        k_tied=bool(tied),
        base_centers=b_centres,
        base_labels=b_labels,
        base_group=rank[base_group],
        centers=centres[order],
    )
