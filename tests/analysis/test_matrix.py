"""Tests of analysis.matrix (polis-math.md §1)."""

import numpy as np
import pytest
import scipy.sparse as sp

from analysis.matrix import build_vote_matrix, column_counts, row_block_views, thread_count


def test_latest_vote_wins_and_ids_are_sorted():
    votes = [(20, 5, 1), (10, 7, -1), (20, 5, -1), (20, 7, 0), (10, 7, 1)]
    vm = build_vote_matrix(votes)
    assert vm.participant_ids.tolist() == [10, 20]
    assert vm.statement_ids.tolist() == [5, 7]
    dense = vm.values.toarray()
    assert dense.tolist() == [[0, 1], [-1, 0]]
    # the pass of 20 on 7 is stored (voted), the missing 10 on 5 is not
    assert vm.n_votes().tolist() == [1, 2]
    assert vm.nnz == 3


def test_tuple_of_arrays_equals_rows():
    rows = np.array([(1, 1, 1), (2, 1, -1), (1, 2, 0)])
    a = build_vote_matrix(rows)
    b = build_vote_matrix((rows[:, 0], rows[:, 1], rows[:, 2]))
    assert (a.values != b.values).nnz == 0
    assert np.array_equal(a.values.indptr, b.values.indptr)


def test_banned_participants_are_dropped():
    vm = build_vote_matrix([(1, 1, 1), (2, 1, -1), (2, 2, 1)], banned=[2])
    assert vm.participant_ids.tolist() == [1]
    assert vm.statement_ids.tolist() == [1]


def test_first_seen_is_arrival_order():
    vm = build_vote_matrix([(9, 1, 1), (3, 1, 1), (9, 2, 1)])
    assert vm.participant_ids.tolist() == [3, 9]
    assert vm.first_seen.tolist() == [1, 0]


def test_column_counts():
    vm = build_vote_matrix([(1, 1, 1), (2, 1, -1), (3, 1, 0), (1, 2, 1)])
    agree, disagree, total = column_counts(vm.values)
    assert agree.tolist() == [1, 1]
    assert disagree.tolist() == [1, 0]
    assert total.tolist() == [3, 1]
    agree, disagree, total = column_counts(vm.values, np.array([True, False, False]))
    assert total.tolist() == [1, 1]


def test_empty_votes():
    vm = build_vote_matrix(np.zeros((0, 3), dtype=int))
    assert vm.shape == (0, 0)


@pytest.mark.parametrize(
    ("votes", "message"),
    [
        ([(1, 1, 2)], r"one of \(-1, 0, 1\)"),
        ([(1, 1, -3)], r"one of \(-1, 0, 1\)"),
        ([(1, 1)], r"shape \(n, 3\)"),
        (([1, 2], [1], [1, 1]), "equal lengths"),
        ([(1.5, 1, 1)], "integers"),
        ([("a", 1, 1)], "integers"),
    ],
)
def test_validation(votes, message):
    with pytest.raises(ValueError, match=message):
        build_vote_matrix(votes)


def test_thread_count_honours_threadpoolctl_limits():
    from threadpoolctl import threadpool_limits

    assert thread_count() >= 1
    with threadpool_limits(1):
        assert thread_count() == 1


def test_row_block_views_cover_the_matrix_without_copies():
    vm = build_vote_matrix([(p, s, (p + s) % 3 - 1) for p in range(50) for s in range(p % 7 + 1)])
    views = row_block_views(vm.values, 4)
    assert len(views) == 4 and sum(v.shape[0] for v in views) == vm.shape[0]
    np.testing.assert_array_equal(sp.vstack(views).toarray(), vm.values.toarray())
    assert all(np.shares_memory(v.data, vm.values.data) for v in views)
