"""The group-free bridging score (analysis.bridging) and its interval."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from analysis import run_analysis
from analysis.bridging import bridging_scores
from analysis.matrix import build_vote_matrix


def divided(n_a=70, n_b=30, seed=0):
    """Two camps split on statements 0-9; statement 10 agreed by both camps (75%); statement 11 agreed by all of
    camp A only (so more agrees overall than statement 10 when A is the majority); statement 12 split at random."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_a + n_b):
        side = 1 if p < n_a else -1
        for c in range(10):
            rows.append((p, c, side * (1 if c % 2 else -1) * (1 if rng.random() > 0.1 else -1)))
        rows.append((p, 10, 1 if rng.random() < 0.75 else -1))
        rows.append((p, 11, 1 if side == 1 else -1))
        rows.append((p, 12, 1 if rng.random() < 0.5 else -1))
    return np.array(rows, dtype=np.int64)


@pytest.fixture(scope="module")
def result():
    return run_analysis(divided())


def test_agreement_across_the_divide_ranks_above_one_sided_agreement(result):
    # statement 11: 70% agree overall (all of camp A); statement 10: about 75% agree in both camps
    assert result.bridging[10] > result.bridging[11]
    assert result.bridging[10] > result.bridging[12]
    # the group-free score agrees with Pol.is's group-aware consensus on what bridges here
    gac = result.group_aware_consensus
    assert gac[10] > gac[11]


def test_interval_contains_the_score_and_narrows_with_more_votes(result):
    small = run_analysis(divided(14, 6, seed=1))
    for s, (lo, hi) in result.bridging_interval.items():
        assert lo < result.bridging[s] < hi
    width = {s: hi - lo for s, (lo, hi) in result.bridging_interval.items()}
    width_small = {s: hi - lo for s, (lo, hi) in small.bridging_interval.items()}
    assert np.median(list(width.values())) < np.median(list(width_small.values()))


def test_mod_out_and_meta_statements_get_no_score():
    r = run_analysis(divided(), mod_out=[12], meta=[0])
    assert set(r.bridging) == set(r.bridging_interval) == set(range(1, 12))


def test_fit_on_a_sample_above_the_vote_cap_is_close_to_the_full_fit():
    votes = divided(700, 300)
    vm = build_vote_matrix(votes)
    keep = np.ones(vm.shape[1], dtype=bool)
    axis = np.r_[np.where(np.arange(10) % 2, 1.0, -1.0), 0.0, 1.0, 0.0] / np.sqrt(11)
    full = bridging_scores(vm.values, keep, axis)
    part = bridging_scores(vm.values, keep, axis, max_votes=vm.nnz // 2, random_state=3)
    assert np.argsort(full.score)[-1] == np.argsort(part.score)[-1] == 10
    np.testing.assert_allclose(part.score, full.score, atol=0.1)


def test_no_votes_on_accepted_statements_gives_no_scores():
    values = sp.csr_matrix(np.array([[1, -1], [1, 0]], dtype=np.int8))
    out = bridging_scores(values, np.array([False, False]), np.zeros(2))
    assert out.columns.size == 0


def test_bad_regularisation_is_refused():
    values = sp.csr_matrix(np.array([[1, -1]], dtype=np.int8))
    with pytest.raises(ValueError, match="lambda"):
        bridging_scores(values, np.array([True, True]), np.zeros(2), lambda_factor=0)


def test_one_vote_is_never_certain_and_the_interval_stays_in_the_votes_range():
    from analysis.bridging import bridging_scores
    from analysis.matrix import build_vote_matrix

    rng = np.random.default_rng(1)
    rows = [(p, c, int(rng.choice([-1, 1]))) for p in range(60) for c in range(10)]
    rows.append((0, 10, 1))  # statement 10: one agree vote
    vm = build_vote_matrix(np.array(rows, dtype=np.int64))
    br = bridging_scores(vm.values, np.ones(11, dtype=bool), rng.standard_normal(11))
    assert (br.low >= -1).all() and (br.high <= 1).all()
    width = br.high - br.low
    assert width[10] > 2 * np.median(width[:10])  # one vote: far wider than a statement 60 people voted on
