"""Tests of analysis.clustering (polis-math.md §4-§5)."""

import numpy as np
import pytest

from analysis import clustering
from analysis.clustering import KSmoother


# ------------------------------------------------------------------------------------------------------------
# §4 in-conversation
# ------------------------------------------------------------------------------------------------------------
def test_in_conv_threshold_is_min_7_and_c():
    ids = np.arange(20)
    n_votes = np.array([7] * 16 + [6, 3, 3, 1])
    mask = clustering.in_conversation(ids, n_votes, n_statements=40)
    assert mask.sum() == 16
    # with only 3 statements, 3 votes suffice
    mask = clustering.in_conversation(ids, n_votes, n_statements=3)
    assert mask.sum() == 19


def test_in_conv_fills_to_15_with_most_votes_then_lowest_id():
    ids = np.array([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26])
    n_votes = np.array([9] * 10 + [2, 5, 1, 5, 3, 1, 1])
    mask = clustering.in_conversation(ids, n_votes, n_statements=20)
    # 10 qualify; then 21 (5), 23 (5), 24 (3), 20 (2), and 22 (1, lowest id among the 1s)
    assert ids[mask].tolist() == [*range(10, 20), 20, 21, 22, 23, 24]


def test_in_conv_never_shrinks_and_is_capped_by_participants():
    ids = np.arange(5)
    mask = clustering.in_conversation(ids, np.array([0, 1, 1, 1, 1]), 10, previous=[0])
    assert mask.all()  # fewer than 15 participants: everyone
    ids = np.arange(30)
    n_votes = np.array([8] * 20 + [0] * 10)
    mask = clustering.in_conversation(ids, n_votes, 10, previous=[25, 99])
    assert mask[25] and mask.sum() == 21


# ------------------------------------------------------------------------------------------------------------
# k-means
# ------------------------------------------------------------------------------------------------------------
def test_weighted_kmeans_two_blobs():
    pts = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    centres, labels, kept = clustering.weighted_kmeans(pts, pts[[1, 3]], np.array([1.0, 3.0, 1.0, 1.0]))
    assert labels.tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(centres, [[0.0, 0.75], [10.0, 0.5]])
    assert kept.tolist() == [0, 1]


def test_weighted_kmeans_drops_empty_clusters():
    pts = np.array([[0.0, 0.0], [1.0, 0.0]])
    _, labels, kept = clustering.weighted_kmeans(pts, np.array([[0.0, 0.0], [0.4, 0.0], [50.0, 50.0]]))
    assert kept.tolist() == [0, 1]
    assert labels.tolist() == [0, 1]


def test_base_clusters_cold_start_uses_first_distinct_points():
    pts = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    bc = clustering.base_clusters(pts, max_k=2)
    assert bc.ids.tolist() == [0, 1]
    # starts from (0,0) and (1,1); converges to {(0,0),(0,0),(1,1)} and {(5,5)}
    assert bc.labels.tolist() == [0, 0, 0, 1]
    assert bc.sizes.tolist() == [3, 1]
    one_each = clustering.base_clusters(pts)
    assert len(one_each.ids) == 3  # k = number of distinct points


def test_base_clusters_warm_start_keeps_ids():
    pts = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    bc = clustering.base_clusters(
        pts, previous_ids=np.array([7, 3]), previous_centers=np.array([[5.0, 5.0], [0.0, 0.0]]), max_k=2
    )
    assert bc.ids.tolist() == [7, 3]
    assert bc.labels.tolist() == [1, 1, 0, 0]


@pytest.mark.parametrize(("bad", "message"), [({"max_k": 0}, "max_k must be >= 1")])
def test_base_clusters_validation(bad, message):
    with pytest.raises(ValueError, match=message):
        clustering.base_clusters(np.zeros((2, 2)), **bad)


# ------------------------------------------------------------------------------------------------------------
# silhouette, K, smoother, ids
# ------------------------------------------------------------------------------------------------------------
def test_silhouette_hand_computed_and_singletons():
    pts = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0]])
    # point 0: a = 2, b = 10 -> 0.8; point 1: a = 2, b = sqrt(104) -> 1 - 2/sqrt(104); point 2 alone -> 0
    expected = (0.8 + (1 - 2 / np.sqrt(104)) + 0.0) / 3
    assert clustering.silhouette(pts, np.array([0, 0, 1])) == pytest.approx(expected)
    assert clustering.silhouette(pts, np.array([0, 1, 2])) == 0.0


def test_silhouette_matches_sklearn():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    pts = rng.normal(size=(40, 2))
    labels = rng.integers(0, 4, size=40)
    assert clustering.silhouette(pts, labels) == pytest.approx(silhouette_score(pts, labels))


@pytest.mark.parametrize(("n_base", "k"), [(1, 2), (11, 2), (12, 3), (24, 4), (36, 5), (100, 5)])
def test_max_groups(n_base, k):
    assert clustering.max_groups(n_base) == k


def test_k_smoother_needs_four_consecutive_wins():
    s = KSmoother().update(2)
    assert s.smoothed_k == 2  # first run takes it directly
    for _ in range(3):
        s = s.update(3)
        assert s.smoothed_k == 2
    s = s.update(3)
    assert s.smoothed_k == 3
    # an interruption resets the count
    s = s.update(4).update(4).update(2).update(4)
    assert s.smoothed_k == 3 and s.last_k_count == 1


def test_match_ids_by_overlap():
    old = [np.array([1, 2, 3]), np.array([4, 5])]
    new = [np.array([4, 5, 6]), np.array([1, 2]), np.array([3, 9])]
    assert clustering.match_ids(new, old, [5, 8]) == [8, 5, 0]
    assert clustering.match_ids(new, [], []) == [0, 1, 2]


def test_group_kmeans_clean_start_is_deterministic():
    centres = np.array([[0.0, 0.0], [0.2, 0.0], [5.0, 0.0], [5.2, 0.0]])
    sizes = np.array([1, 2, 1, 1])
    c1, l1 = clustering.group_kmeans(centres, sizes, 2, n_init=0)
    c2, l2 = clustering.group_kmeans(centres, sizes, 2, n_init=0)
    assert np.array_equal(l1, l2) and np.array_equal(c1, c2)
    assert l1[0] == l1[1] and l1[2] == l1[3] and l1[0] != l1[2]


def test_bounded_assignment_matches_brute_force_lloyd(monkeypatch):
    # many points and centres: the Hamerly-bounded k-d tree path; it must follow exact Lloyd step for step
    rng = np.random.default_rng(7)
    pts = np.concatenate([rng.normal(loc, 0.6, size=(4000, 2)) for loc in rng.uniform(-4, 4, size=(6, 2))])
    init = pts[clustering.first_distinct(pts, 60)]
    fast_c, fast_l, fast_k = clustering.weighted_kmeans(pts, init, max_iter=40, tol=0.0)
    monkeypatch.setattr(clustering, "BRUTE_FORCE_MAX", np.inf)
    exact_c, exact_l, exact_k = clustering.weighted_kmeans(pts, init, max_iter=40, tol=0.0)
    np.testing.assert_array_equal(fast_l, exact_l)
    np.testing.assert_array_equal(fast_k, exact_k)
    np.testing.assert_allclose(fast_c, exact_c, rtol=0, atol=1e-12)
