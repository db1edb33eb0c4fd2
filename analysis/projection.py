"""Imputation, centring, 2-component PCA and sparsity-scaled projections (polis-math.md §2-§3).

Column-mean imputation followed by centring leaves every missing cell at exactly 0 and every voted cell at
``vote - μ_c``: the imputed, centred matrix has the *same sparsity pattern* as the votes. The PCA therefore runs
on a sparse matrix and never densifies a large P x C array.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

from .matrix import column_counts, row_block_views, row_blocks, thread_count, transpose_view

#: Up to this many cells (P x C) the PCA is an exact dense eigen-decomposition of the smaller Gram matrix;
#: above it, Lanczos (ARPACK) on the matrix-free Gram operator of the sparse centred matrix.
DENSE_CELLS_MAX = 1_000_000
#: Lanczos basis size. With a warm start (the previous axes as the start vector) a small basis converges in fewer
#: Gram products than ARPACK's default of 20 (e.g. 26 instead of 38 at 100,000 x 2,000; 34 from a random start).
#: LOBPCG and block power iteration from the previous axes were measured too: no cheaper than a cold Lanczos run, as
#: the second and third eigenvalues are often close.
LANCZOS_NCV = 10
LANCZOS_TOLERANCE = 1e-10
#: The Gram operator works on row blocks of about this many stored cells (at most ``GRAM_MAX_BLOCKS``), in threads.
GRAM_BLOCK_CELLS = 2_000_000
GRAM_MAX_BLOCKS = 16


@dataclass(frozen=True, eq=False)
class PCAResult:
    """Outputs of :func:`fit_pca`.

    Attributes
    ----------
    center : ndarray, shape (C,)
        Column means over voted cells (mod-out columns: 0), in Participate's sign (agree = +1).
    components : ndarray, shape (2, C)
        Unit principal axes (rows), with the deterministic sign of §2.
    centred : scipy.sparse.csr_matrix, shape (P, C)
        The imputed, centred matrix Y (voted cells hold ``vote - μ_c``; mod-out columns hold 0).
    """

    center: np.ndarray
    components: np.ndarray
    centred: sp.csr_matrix


def column_means(values: sp.csr_matrix, modout: np.ndarray, counts=None) -> np.ndarray:
    """Mean of each column over its voted cells, shape (C,); mod-out columns are 0 (§1-§2).

    ``counts`` may pass precomputed ``column_counts(values)`` (agree, disagree, total) to save a pass.
    """
    agree, disagree, counts = column_counts(values) if counts is None else counts
    sums = (agree - disagree).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    mu[modout] = 0.0
    return mu


def centred_matrix(values: sp.csr_matrix, center: np.ndarray, modout: np.ndarray) -> sp.csr_matrix:
    """Imputed and centred matrix Y, shape (P, C), sparse with the votes' pattern (§2)."""
    data = values.data.astype(np.float64)
    centre = np.where(modout, 0.0, center)
    for _, _, c0, c1 in row_blocks(values):
        idx = values.indices[c0:c1]
        data[c0:c1] -= centre[idx]
        data[c0:c1][modout[idx]] = 0.0
    return sp.csr_matrix((data, values.indices, values.indptr), shape=values.shape)


def _orient(components: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Deterministic sign (§2): align with ``previous`` (dot > 0), else largest-magnitude loading positive."""
    out = components.copy()
    if out.shape[1] == 0:
        return out
    for i in range(out.shape[0]):
        if previous is not None and previous.shape == out.shape and np.any(previous[i]):
            dot = float(out[i] @ previous[i])
            if dot < 0:
                out[i] = -out[i]
                continue
            if dot > 0:
                continue
        j = int(np.argmax(np.abs(out[i])))
        if out[i, j] < 0:
            out[i] = -out[i]
    return out


def _top_components_dense(Y: sp.csr_matrix, n_components: int) -> np.ndarray:
    """Exact top right-singular vectors via the eigen-decomposition of the smaller Gram matrix."""
    dense = Y.toarray()
    n_p, n_c = dense.shape
    out = np.zeros((n_components, n_c))
    gram = dense.T @ dense if n_p >= n_c else dense @ dense.T
    n = gram.shape[0]
    m = min(n_components, n)
    vals, vecs = scipy.linalg.eigh(gram, subset_by_index=[n - m, n - 1])
    vals, vecs = vals[::-1], vecs[:, ::-1]  # descending
    if n_p >= n_c:
        out[:m] = vecs.T
    else:
        keep = vals > 0
        comps = (dense.T @ vecs[:, keep]).T
        comps /= np.linalg.norm(comps, axis=1, keepdims=True)
        out[: int(keep.sum())] = comps
    return out


class Gram:
    """The matrix-free Gram operator ``v -> Yᵀ (Y v)``, shape (C, C), over row blocks of Y run in threads.

    Each block contributes ``Y_bᵀ (Y_b v)``; scipy's sparse kernels release the GIL, so blocks run in parallel.
    The block partition depends only on Y (never on the thread count) and partial sums are added in block order,
    so results are bit-for-bit the same with any number of threads.
    """

    def __init__(self, Y: sp.csr_matrix, pool: ThreadPoolExecutor | None):
        n_blocks = int(min(GRAM_MAX_BLOCKS, max(1, -(-Y.nnz // GRAM_BLOCK_CELLS))))
        blocks = row_block_views(Y, n_blocks) if n_blocks > 1 else [Y]
        self.blocks = [(block, transpose_view(block)) for block in blocks]
        self.pool = pool if len(self.blocks) > 1 else None
        self.n = Y.shape[1]

    def __call__(self, v: np.ndarray) -> np.ndarray:
        def part(pair):
            block, block_t = pair
            return block_t @ (block @ v)

        parts = self.pool.map(part, self.blocks) if self.pool else map(part, self.blocks)
        total = None
        for p in parts:
            total = p if total is None else total + p
        return total

    def operator(self) -> LinearOperator:
        return LinearOperator((self.n, self.n), matvec=self, matmat=self, dtype=np.float64)


def _top_components_sparse(Y: sp.csr_matrix, n_components: int, previous: np.ndarray | None, rng) -> np.ndarray:
    """Top right-singular vectors of sparse Y, shape (k, C), by Lanczos, started from the previous axes if any."""
    threads = thread_count()
    with ThreadPoolExecutor(threads) if threads > 1 else nullcontext() as pool:
        return _lanczos(Gram(Y, pool).operator(), Y.shape[1], n_components, previous, rng)


def _lanczos(gram: LinearOperator, n_c: int, n_components: int, previous: np.ndarray | None, rng) -> np.ndarray:
    """Top eigenvectors of the Gram operator by ARPACK, shape (k, C), started from the previous axes if any."""
    v0 = previous.sum(axis=0) if previous is not None and np.any(previous) else rng.uniform(-1.0, 1.0, size=n_c)
    ncv = min(n_c, max(LANCZOS_NCV, 2 * n_components + 1))
    vals, vecs = eigsh(gram, k=n_components, which="LA", v0=v0, ncv=ncv, tol=LANCZOS_TOLERANCE, maxiter=5000)
    order = np.argsort(vals)[::-1]
    return vecs[:, order].T.copy()


def fit_pca(
    values: sp.csr_matrix,
    modout: np.ndarray,
    *,
    previous_components: np.ndarray | None = None,
    random_state: int | np.random.Generator | None = 0,
    n_components: int = 2,
    counts=None,
) -> PCAResult:
    """Impute, centre and find the top principal axes (§2).

    Parameters
    ----------
    values : scipy.sparse.csr_matrix, shape (P, C)
        Latest votes (passes as explicit zeros).
    modout : ndarray of bool, shape (C,)
        Mod-out columns (zeroed for every row).
    previous_components : ndarray, shape (2, C), optional
        Previous run's axes aligned to the current columns; warm-starts the iterative solver and fixes the sign.
    random_state : int, Generator or None
        Seeds the iterative solver's start vector when there is no warm start.
    counts : tuple of three ndarrays of shape (C,), optional
        Precomputed agree, disagree and total counts per column.

    Returns
    -------
    PCAResult
    """
    n_p, n_c = values.shape
    center = column_means(values, modout, counts)
    Y = centred_matrix(values, center, modout)
    if n_p == 0 or n_c == 0:
        comps = np.zeros((n_components, n_c))
    elif n_p * n_c <= DENSE_CELLS_MAX or min(n_p, n_c) <= n_components + 1:
        comps = _top_components_dense(Y, n_components)
    else:
        rng = np.random.default_rng(random_state)
        comps = _top_components_sparse(Y, n_components, previous_components, rng)
    comps[:, modout] = 0.0  # exactly: these columns are all zero, the solver leaves only rounding noise
    comps = _orient(comps, previous_components)
    return PCAResult(center=center, components=comps, centred=Y)


def participant_projection(Y: sp.csr_matrix, components: np.ndarray, modout: np.ndarray) -> np.ndarray:
    """Sparsity-scaled participant coordinates, shape (P, 2) (§3).

    ``|V_p|`` counts p's votes outside mod-out columns plus every mod-out column, since Pol.is zeroes those
    columns for every row (this matches Pol.is's base-cluster coordinates to 1e-15).
    """
    n_c = Y.shape[1]
    n_mod = int(modout.sum())
    voted = np.diff(Y.indptr)
    if n_mod:
        row_mod = np.zeros(Y.shape[0], dtype=np.int64)
        for r0, r1, c0, c1 in row_blocks(Y):
            rows = np.repeat(np.arange(r0, r1), voted[r0:r1])
            row_mod += np.bincount(rows[modout[Y.indices[c0:c1]]], minlength=Y.shape[0])
        voted = voted - row_mod + n_mod
    scale = np.sqrt(n_c / np.maximum(voted, 1))
    return np.asarray(Y @ components.T) * scale[:, None]


def statement_projection(center: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Projection of a virtual participant who agrees with one statement only, shape (C, 2) (§3)."""
    n_c = center.shape[0]
    return (np.sqrt(n_c) * (1.0 - center))[:, None] * components.T
