"""Tests of analysis.projection (polis-math.md §2-§3)."""

import numpy as np
import scipy.sparse as sp

from analysis import projection
from analysis.matrix import build_vote_matrix


def _matrix(rows):
    return build_vote_matrix(rows).values


def test_column_means_and_centred_matrix_keep_sparsity():
    # statement 1: votes +1, -1, +1 -> mean 1/3; statement 2: +1 only -> mean 1; statement 3 is mod-out
    values = _matrix([(1, 1, 1), (2, 1, -1), (3, 1, 1), (1, 2, 1), (2, 3, -1)])
    modout = np.array([False, False, True])
    mu = projection.column_means(values, modout)
    np.testing.assert_allclose(mu, [1 / 3, 1.0, 0.0])
    Y = projection.centred_matrix(values, mu, modout)
    assert Y.nnz == values.nnz
    np.testing.assert_allclose(Y.toarray(), [[2 / 3, 0, 0], [-4 / 3, 0, 0], [2 / 3, 0, 0]])


def test_pca_matches_dense_svd_up_to_sign_and_sign_rule():
    rng = np.random.default_rng(1)
    dense = rng.integers(-1, 2, size=(30, 8))
    mask = rng.random((30, 8)) < 0.7
    rows = [(p, c, dense[p, c]) for p in range(30) for c in range(8) if mask[p, c]]
    values = _matrix(rows)
    modout = np.zeros(values.shape[1], bool)
    res = projection.fit_pca(values, modout)
    # reference: impute column means densely, centre, SVD
    X = np.where(mask, dense, np.nan)
    mu = np.nanmean(X, axis=0)
    Y = np.where(mask, X - mu, 0.0)
    _, _, vt = np.linalg.svd(Y, full_matrices=False)
    for i in range(2):
        assert min(np.abs(res.components[i] - vt[i]).max(), np.abs(res.components[i] + vt[i]).max()) < 1e-10
        j = np.argmax(np.abs(res.components[i]))
        assert res.components[i, j] > 0


def test_sign_follows_previous_components():
    values = _matrix([(p, c, (-1) ** (p + c)) for p in range(6) for c in range(4)] + [(0, 0, 0)])
    modout = np.zeros(4, bool)
    first = projection.fit_pca(values, modout).components
    flipped = projection.fit_pca(values, modout, previous_components=-first).components
    np.testing.assert_allclose(flipped, -first)


def test_sparse_solver_agrees_with_dense(monkeypatch):
    rng = np.random.default_rng(3)
    Y = sp.random(400, 60, density=0.3, random_state=rng, format="csr")
    Y.data = rng.choice([-1.0, 0.0, 1.0], size=Y.nnz)
    values = sp.csr_matrix((Y.data.astype(np.int8), Y.indices, Y.indptr), shape=Y.shape)
    modout = np.zeros(60, bool)
    dense = projection.fit_pca(values, modout).components
    monkeypatch.setattr(projection, "DENSE_CELLS_MAX", 0)
    sparse = projection.fit_pca(values, modout, random_state=0).components
    np.testing.assert_allclose(np.abs(dense @ sparse.T), np.eye(2), atol=1e-8)


def test_participant_projection_sparsity_scaling_counts_modout_columns():
    # 2 statements + 1 mod-out column; participant 1 voted on statement 1 only.
    values = _matrix([(1, 1, 1), (2, 1, -1), (2, 2, 1), (3, 2, -1), (3, 3, 1)])
    modout = np.array([False, False, True])
    mu = projection.column_means(values, modout)
    Y = projection.centred_matrix(values, mu, modout)
    comps = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    proj = projection.participant_projection(Y, comps, modout)
    # p1: |V| = 1 vote + 1 mod-out column = 2 -> scale sqrt(3/2); Y = 1 - 0 = 1
    np.testing.assert_allclose(proj[0], [np.sqrt(3 / 2) * 1.0, 0.0])
    # p3: voted on 2 and on the mod-out 3 -> |V| = 1 + 1 = 2; Y on 2 = -1 - 0 = -1
    np.testing.assert_allclose(proj[2], [0.0, -np.sqrt(3 / 2)])


def test_statement_projection():
    center = np.array([0.5, -1.0])
    comps = np.array([[1.0, 0.0], [0.0, 1.0]])
    out = projection.statement_projection(center, comps)
    np.testing.assert_allclose(out, [[np.sqrt(2) * 0.5, 0.0], [0.0, np.sqrt(2) * 2.0]])


def test_warm_lanczos_converges_to_the_same_axes(monkeypatch):
    # two latent opinion axes -> two dominant components, well separated from the noise
    rng = np.random.default_rng(5)
    people = rng.choice([-1.0, 1.0], size=(500, 2)) * [1.0, 0.6]
    loadings = rng.normal(size=(2, 40))
    votes = np.sign(people @ loadings + 0.3 * rng.normal(size=(500, 40))).astype(int)
    mask = rng.random((500, 40)) < 0.5
    rows = [(p, c, votes[p, c]) for p, c in zip(*np.nonzero(mask), strict=True)]
    values = _matrix(rows)
    modout = np.zeros(values.shape[1], bool)
    exact = projection.fit_pca(values, modout).components
    monkeypatch.setattr(projection, "DENSE_CELLS_MAX", 0)
    # start from a perturbed version of the exact axes: the warm path must land on them (same sign)
    start = exact + 0.05 * rng.normal(size=exact.shape)
    warm = projection.fit_pca(values, modout, previous_components=start).components
    np.testing.assert_allclose(warm, exact, atol=1e-7)


def test_gram_operator_blocks_and_threads_do_not_change_the_result(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    Y = sp.random(3000, 50, density=0.2, random_state=rng, format="csr")
    v = rng.normal(size=50)
    monkeypatch.setattr(projection, "GRAM_BLOCK_CELLS", Y.nnz // 7)
    serial = projection.Gram(Y, None)
    assert len(serial.blocks) == 8 and sum(b.nnz for b, _ in serial.blocks) == Y.nnz
    # blocks and their transposes are views: no copy of the cells per product
    assert all(np.shares_memory(bt.data, Y.data) and np.shares_memory(bt.indices, Y.indices) for _, bt in serial.blocks)
    np.testing.assert_allclose(serial(v), Y.T @ (Y @ v), rtol=1e-12)
    with ThreadPoolExecutor(3) as pool:
        np.testing.assert_array_equal(projection.Gram(Y, pool)(v), serial(v))  # bit for bit
    # and the whole sparse PCA over blocks agrees with the dense one
    values = sp.csr_matrix((rng.choice([-1, 0, 1], size=Y.nnz).astype(np.int8), Y.indices, Y.indptr), shape=Y.shape)
    modout = np.zeros(50, bool)
    dense = projection.fit_pca(values, modout).components
    monkeypatch.setattr(projection, "DENSE_CELLS_MAX", 0)
    np.testing.assert_allclose(projection.fit_pca(values, modout).components, dense, atol=1e-8)
