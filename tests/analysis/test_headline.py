"""Headline statements by sequential PAV with a justified-representation check (analysis.headline)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from analysis import run_analysis
from analysis.headline import justified_representation, select_headline
from analysis.matrix import build_vote_matrix


def blocs(n_a=70, n_b=30, per_bloc=10, seed=0, seen=1.0):
    """Bloc A agrees with statements 0..per_bloc-1, bloc B with the next per_bloc; each disagrees with the other's.
    Each participant sees each statement with probability ``seen``."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_a + n_b):
        mine = range(per_bloc) if p < n_a else range(per_bloc, 2 * per_bloc)
        for c in range(2 * per_bloc):
            if rng.random() < seen:
                rows.append((p, c, 1 if c in mine else -1))
    return np.array(rows, dtype=np.int64)


def test_the_list_is_proportional_not_the_majoritys_top_eight():
    vm = build_vote_matrix(blocs())
    head = select_headline(vm.values, np.ones(20, dtype=bool), size=8)
    from_b = int((head.columns >= 10).sum())
    assert 2 <= from_b <= 3  # 30% of 8 = 2.4; a popularity ranking would give bloc B nothing
    assert head.jr and head.left_out == {}


def test_sparse_votes_keep_the_list_proportional():
    """With 40% of cells seen, the agree votes cast alone still give bloc B its share of the list."""
    result = run_analysis(blocs(seen=0.4, seed=2))
    from_b = sum(1 for s in result.headline if s >= 10)
    assert len(result.headline) == 8
    assert 2 <= from_b <= 3
    assert result.headline_jr


def test_a_late_statement_seen_by_a_few_who_all_agree_is_never_headlined():
    """Nothing unseen is imputed: 3 people who all agreed are 3 approvals, and below the floor no candidate at all."""
    votes = blocs()
    late = np.array([(p, 20, 1) for p in (0, 1, 75)], dtype=np.int64)
    result = run_analysis(np.vstack([votes, late]))
    assert 20 not in result.headline
    vm = build_vote_matrix(np.vstack([votes, late]))
    head = select_headline(vm.values, np.ones(21, dtype=bool), size=12, min_voters=1)
    assert 20 not in head.columns.tolist()[:8]  # even as a candidate, 3 approvals come after the blocs' statements
    assert result.parameters["min_voters"] == 20


def test_jr_failure_is_reported_with_who_is_left_out():
    vm = build_vote_matrix(blocs())
    candidates = np.ones(20, dtype=bool)
    jr, left_out, n = justified_representation(vm.values, np.arange(8), candidates)  # bloc A's statements only
    assert not jr and n == 100
    # 30 participants of bloc B agree with each of statements 10..19 and with nothing in the list: 30 >= 100 / 8
    assert set(left_out) == set(range(10, 20))
    assert vm.participant_ids[left_out[10]].tolist() == list(range(70, 100))
    # a bloc below n / k is not owed a statement: 30 < 100 / 3, and 5 < 100 / 8
    assert justified_representation(vm.values, np.arange(3), candidates)[0]
    vm_small = build_vote_matrix(blocs(n_a=95, n_b=5))
    assert justified_representation(vm_small.values, np.arange(8), candidates)[0]


def test_list_length_is_checked():
    values = sp.csr_matrix(np.ones((3, 3), dtype=np.int8))
    with pytest.raises(ValueError, match="between 5 and 12"):
        select_headline(values, np.ones(3, dtype=bool), size=13)


def test_only_candidates_are_chosen():
    vm = build_vote_matrix(blocs())
    candidates = np.ones(20, dtype=bool)
    candidates[[0, 1, 10]] = False
    head = select_headline(vm.values, candidates, size=6)
    assert not set(head.columns.tolist()) & {0, 1, 10}


def test_statements_below_the_floor_are_not_candidates():
    vm = build_vote_matrix(blocs(n_a=14, n_b=6))
    head = select_headline(vm.values, np.ones(20, dtype=bool), size=8, min_voters=20)
    assert len(head.columns) == 8  # every statement has 20 voters
    head = select_headline(vm.values, np.ones(20, dtype=bool), size=8, min_voters=21)
    assert len(head.columns) == 0 and head.jr


def test_the_votes_passed_in_are_left_as_they_were():
    """Passes are stored zeros; dropping them from the agree matrix must not compact the caller's arrays."""
    votes = blocs(seed=4)
    votes[::7, 2] = 0
    vm = build_vote_matrix(votes)
    before = (vm.values.indptr.copy(), vm.values.indices.copy(), vm.values.data.copy())
    head = select_headline(vm.values, np.ones(20, dtype=bool), size=8)
    for was, now in zip(before, (vm.values.indptr, vm.values.indices, vm.values.data), strict=True):
        np.testing.assert_array_equal(was, now)
    assert (head.jr, head.n) == justified_representation(vm.values, head.columns, np.ones(20, dtype=bool))[::2]


def test_an_exact_tie_goes_to_the_higher_agree_rate_whatever_the_numbering():
    """Same agree count, one with a pass: the statement everyone who voted agreed with wins, first or last column."""
    for first, second in ((0, 1), (1, 0)):
        votes = [(p, first, 1) for p in range(30)] + [(p, second, 1) for p in range(30)] + [(30, second, 0)]
        votes += [(p, c, -1) for p in range(31) for c in range(2, 6)]
        vm = build_vote_matrix(np.array(votes, dtype=np.int64))
        head = select_headline(vm.values, np.ones(6, dtype=bool), size=5)
        assert head.columns[0] == first


def _left_out_by_hand(values: sp.csr_matrix, columns, candidates) -> dict[int, list[int]]:
    """JR's left-out blocks recounted one participant at a time, from the definition."""
    dense = values.toarray()
    voted = np.diff(values.indptr) > 0
    n = int(voted.sum())
    served = [any(dense[p, c] > 0 for c in columns) for p in range(dense.shape[0])]
    out = {}
    for c in range(dense.shape[1]):
        if c in columns or not candidates[c]:
            continue
        block = [p for p in range(dense.shape[0]) if dense[p, c] > 0 and not served[p]]
        if len(block) >= n / max(len(columns), 1):
            out[c] = block
    return out


@pytest.mark.parametrize("seed", range(4))
def test_the_jr_check_matches_a_recount_from_the_definition(seed):
    """Random sparse votes and a deliberately poor list, so that blocks are left out: both the check on a given list
    and the one select_headline runs on its own list name the same people as a recount by hand."""
    rng = np.random.default_rng(seed)
    p, c = 120, 25
    seen = rng.random((p, c)) < 0.4
    value = rng.choice([-1, 0, 1], size=(p, c), p=[0.3, 0.2, 0.5])
    value[:, :5] = -1  # the poor list below: five statements nobody agreed with
    rows, cols = np.nonzero(seen)
    vm = build_vote_matrix(np.column_stack([rows, cols, value[rows, cols]]).astype(np.int64))
    candidates = rng.random(vm.values.shape[1]) < 0.9
    poor = np.arange(5)
    jr, left_out, _ = justified_representation(vm.values, poor, candidates)
    expected = _left_out_by_hand(vm.values, poor.tolist(), candidates)
    assert expected and not jr  # the data do break the rule
    assert {s: rows.tolist() for s, rows in left_out.items()} == expected
    head = select_headline(vm.values, candidates, size=5, min_voters=1)
    recount = _left_out_by_hand(vm.values, head.columns.tolist(), candidates)
    assert head.jr == (not recount)
    assert {s: rows.tolist() for s, rows in head.left_out.items()} == recount
