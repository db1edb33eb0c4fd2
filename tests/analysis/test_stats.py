"""Tests of analysis.stats on tiny hand-computed inputs (polis-math.md §6-§10)."""

import math

import numpy as np
import pytest

from analysis import stats
from analysis.matrix import build_vote_matrix


def test_group_tallies():
    vm = build_vote_matrix([(1, 1, 1), (2, 1, -1), (3, 1, 0), (1, 2, 0), (3, 2, 1), (4, 1, 1)])
    A, D, S = stats.group_tallies(vm.values, np.array([0, 0, 1, -1]), 2)
    assert A.tolist() == [[1, 0], [0, 1]]
    assert D.tolist() == [[1, 0], [0, 0]]
    assert S.tolist() == [[2, 1], [1, 1]]


def test_one_proportion_z():
    # A = 3 of S = 4: 2·sqrt(5)·(4/5 - 1/2)
    assert stats.one_proportion_z(3, 4) == pytest.approx(2 * math.sqrt(5) * 0.3)
    assert stats.one_proportion_z(0, 0) == pytest.approx(2 * 1 * (1 - 0.5))


def test_two_proportion_z():
    # a = 4, m = 5, b = 2, n = 5 -> p1 = .8, p2 = .4, p̂ = .6
    expected = 0.4 / math.sqrt(0.6 * 0.4 * (1 / 5 + 1 / 5))
    assert stats.two_proportion_z(3, 4, 1, 4) == pytest.approx(expected)
    # p̂ = 1 (everyone agrees in and out) -> 0, not a division by zero
    assert stats.two_proportion_z(2, 2, 3, 3) == 0.0


def test_repness_stats_pool_the_other_groups():
    A = np.array([[3], [1], [0]])
    S = np.array([[4], [2], [3]])
    D = np.zeros_like(A)
    st = stats.repness_stats(A, D, S)
    assert st.pa[0, 0] == pytest.approx(4 / 6)
    assert st.ra[0, 0] == pytest.approx((4 / 6) / (2 / 7))
    assert st.rat[0, 0] == pytest.approx(stats.two_proportion_z(3, 4, 1, 5))


def _select(A, D, S, modout=None):
    A, D, S = (np.array(x) for x in (A, D, S))
    n_c = A.shape[1]
    modout = np.zeros(n_c, bool) if modout is None else np.array(modout)
    return stats.select_repness(stats.repness_stats(A, D, S), np.arange(100, 100 + n_c), modout)


def test_repness_nothing_sufficient_only_best_agree():
    # one vote each way: pat = 2·sqrt(2)·(1 - .5) = 1.41 > 1.2816 (best-agree), rat = 1.15 (not sufficient)
    reps = _select([[1], [0]], [[0], [1]], [[1], [1]])
    assert [(r.statement_id, r.best_agree, r.repful_for) for r in reps[0]] == [(100, True, "agree")]
    assert reps[0][0].repness_test == pytest.approx(0.5 / math.sqrt(0.75 * 0.25 * (1 / 2 + 1 / 2)))


def test_repness_nothing_sufficient_no_best_agree_takes_highest_test():
    # group 0 only passes (A = D = 0 never qualifies as best-agree); nothing is sufficient
    A = [[0, 0], [2, 0]]
    D = [[0, 0], [0, 2]]
    S = [[3, 1], [2, 2]]
    reps = _select(A, D, S)
    st = stats.repness_stats(*(np.array(x) for x in (A, D, S)))
    best = int(np.argmax(np.maximum(st.rat[0], st.rdt[0])))
    assert [(r.statement_id, r.best_agree) for r in reps[0]] == [(100 + best, False)]


def test_repness_all_passes_and_no_statements():
    assert _select(np.zeros((2, 0), int), np.zeros((2, 0), int), np.zeros((2, 0), int)) == [(), ()]


def test_repness_selection_order_take_five_agree_first_and_modout_excluded():
    # group 0 agrees with 0-3 (8/10), disagrees with 4-6 (10/10); group 1 the opposite; 7 is mod-out
    A = [[8, 8, 8, 8, 0, 0, 0, 10], [1, 1, 1, 1, 10, 10, 10, 0]]
    D = [[1, 1, 1, 1, 10, 10, 10, 0], [8, 8, 8, 8, 0, 0, 0, 10]]
    S = [[10] * 8, [10] * 8]
    reps = _select(A, D, S, modout=[False] * 7 + [True])
    g0 = reps[0]
    # best-agree = first of the tied agree statements; sufficient by metric: 4, 5, 6 (disagree, stronger), then 1..
    # take 5 -> [0, 4, 5, 6, 1]; agree before disagree (stable) -> [0, 1, 4, 5, 6]
    assert [r.statement_id - 100 for r in g0] == [0, 1, 4, 5, 6]
    assert [r.repful_for for r in g0] == ["agree", "agree", "disagree", "disagree", "disagree"]
    assert g0[0].best_agree and not any(r.best_agree for r in g0[1:])
    assert all(r.statement_id != 107 for g in reps for r in g)
    r = g0[2]
    assert (r.n_success, r.n_trials) == (10, 10)
    assert r.p_success == pytest.approx(11 / 12)
    assert r.repness == pytest.approx((11 / 12) / (1 / 12))


def test_best_agree_switches_metric_when_best_has_ra_le_1():
    # first accepted has ra <= 1 (accepted on pat), so a challenger must beat it on pa·pat
    pa = np.array([0.9, 0.95, 0.99])
    pat = np.array([2.0, 1.0, 2.0])
    ra = np.array([0.9, 5.0, 1.0])
    rat = np.array([-1.0, 9.0, 0.0])
    ones = np.ones(3)
    idx = stats.best_agree_index(pa, pat, ra, rat, ones, ones, np.ones(3, bool))
    # 0 accepted (pat > z); 1: pa·pat = .95 < 1.8 rejected; 2: 1.98 > 1.8 accepted
    assert idx == 2
    assert stats.best_agree_index(pa, pat, ra, rat, 0 * ones, 0 * ones, np.ones(3, bool)) is None


def test_consensus_thresholds_order_and_cap():
    # statement: (A, D, S)
    cases = [(2, 0, 2), (1, 0, 1), (2, 0, 3), (0, 0, 0), (9, 0, 10), (9, 1, 10), (8, 0, 8), (7, 0, 7), (0, 5, 5)]
    A, D, S = (np.array(x) for x in zip(*cases, strict=True))
    sids = np.arange(len(cases))
    modout = np.zeros(len(cases), bool)
    modout[7] = True
    cons = stats.select_consensus(A, D, S, sids, modout)
    pa, pat = (A + 1) / (S + 2), stats.one_proportion_z(A, S)
    ok = [i for i in range(len(cases)) if pa[i] > 0.5 and pat[i] > 1.2816 and i != 7]
    assert 2 not in ok and 3 not in ok and 0 in ok and 1 in ok
    expected = sorted(ok, key=lambda i: -pa[i] * pat[i])[:5]
    assert [c.statement_id for c in cons.agree] == expected
    assert [c.statement_id for c in cons.disagree] == [8]
    assert cons.disagree[0].n_success == 5 and cons.disagree[0].n_trials == 5


def test_group_aware_consensus_and_jeffreys():
    A = np.array([[1], [3]])
    S = np.array([[2], [3]])
    assert stats.group_aware_consensus(A, S)[0] == pytest.approx((2 / 4) * (4 / 5))
    assert stats.group_consensus_jeffreys(A, S)[0] == pytest.approx(math.sqrt((1.5 / 3) * (3.5 / 4)))
    # the Jeffreys score does not shrink when an identical group is added
    A3, S3 = np.array([[2], [2], [2]]), np.array([[4], [4], [4]])
    assert stats.group_consensus_jeffreys(A3, S3)[0] == pytest.approx(stats.group_consensus_jeffreys(A3[:2], S3[:2])[0])


def test_priorities_hand_computed_and_meta():
    # A = 2, D = 1, S = 4 (one pass), extremity .5
    p = stats.priorities(
        np.array([2, 2]), np.array([1, 1]), np.array([4, 4]), np.array([0.5, 0.5]), np.array([0, 1], bool)
    )
    importance = (1 - 2 / 6) * 1.5 * (3 / 6)
    novelty = 1 + 8 * 2 ** (-4 / 5)
    assert p[0] == pytest.approx((importance * novelty) ** 2)
    assert p[1] == 49.0
    # an unseen statement is maximally novel
    assert stats.priorities(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1, bool))[0] == pytest.approx(
        ((1 - 0.5) * 1 * 0.5 * 9) ** 2
    )
