"""The sparse PCA path (Lanczos / warm block iteration on the matrix-free Gram operator) against the exact dense one.

``fit_pca`` picks the dense eigen-decomposition for small inputs and the sparse solver for large ones
(``projection.DENSE_CELLS_MAX``). Both are forced here on every shared dataset (the Pol.is math fixtures and every
real conversation): the whole analysis must agree to 1e-6 (axes, projections, base clusters) and exactly in its
discrete outputs (groups, representative and consensus statements). Skipped when ``../shared/data`` is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from analysis import projection, run_analysis
from analysis.polis_io import read_polis_export

SHARED_DATA = Path(
    os.environ.get("PARTICIPATE_SHARED_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data"
)
MATH_FIXTURES = ("below-100-ptpts", "25ptpt-3gp-no-strict-with-meta", "150ptpt-3gp-no-strict-no-meta")
POLIS = SHARED_DATA / "polis"
CONVERSATIONS = sorted(p.name for p in POLIS.iterdir() if p.is_dir()) if POLIS.is_dir() else []
DATASETS = [f"polis-math/{name}" for name in MATH_FIXTURES] + [
    pytest.param(f"polis/{name}", marks=pytest.mark.slow)
    for name in CONVERSATIONS  # real conversations: seconds each
]


def _inputs(dataset: str, load_fixture):
    kind, name = dataset.split("/", 1)
    if kind == "polis-math":
        fx = load_fixture(name)
        return fx.votes, fx.mod_out, fx.meta
    if not (POLIS / name).is_dir():
        pytest.skip(f"shared data not available at {POLIS / name}")
    export = read_polis_export(POLIS / name)
    return export.latest().as_arrays(), export.mod_out, export.meta


def _run(monkeypatch, votes, mod_out, meta, *, dense: bool, previous=None):
    with monkeypatch.context() as m:
        m.setattr(projection, "DENSE_CELLS_MAX", np.inf if dense else 0)
        return run_analysis(votes, mod_out=mod_out, meta=meta, previous=previous)


def _assert_same(sparse, dense):
    np.testing.assert_array_equal(sparse.participant_ids, dense.participant_ids)
    np.testing.assert_allclose(sparse.pca_center, dense.pca_center, rtol=0, atol=1e-12)
    # the deterministic sign rule orients both the same way: no sign ambiguity left
    np.testing.assert_allclose(sparse.pca_components, dense.pca_components, rtol=0, atol=1e-6)
    np.testing.assert_allclose(sparse.participant_projection, dense.participant_projection, rtol=0, atol=1e-6)
    np.testing.assert_allclose(sparse.base_cluster_centers, dense.base_cluster_centers, rtol=0, atol=1e-6)
    assert [m.tolist() for m in sparse.base_cluster_members] == [m.tolist() for m in dense.base_cluster_members]
    assert [(g.id, g.members.tolist()) for g in sparse.groups] == [(g.id, g.members.tolist()) for g in dense.groups]
    assert sparse.group_votes == dense.group_votes
    assert {g: [r.statement_id for r in reps] for g, reps in sparse.repness.items()} == {
        g: [r.statement_id for r in reps] for g, reps in dense.repness.items()
    }
    assert sparse.consensus == dense.consensus


@pytest.mark.parametrize("dataset", DATASETS)
def test_sparse_and_dense_paths_agree(dataset, monkeypatch, load_fixture):
    votes, mod_out, meta = _inputs(dataset, load_fixture)
    dense = _run(monkeypatch, votes, mod_out, meta, dense=True)
    sparse = _run(monkeypatch, votes, mod_out, meta, dense=False)
    _assert_same(sparse, dense)
    # warm-started from the previous result (the block power iteration, else Lanczos from the previous axes)
    _assert_same(
        _run(monkeypatch, votes, mod_out, meta, dense=False, previous=dense),
        _run(monkeypatch, votes, mod_out, meta, dense=True, previous=dense),
    )
