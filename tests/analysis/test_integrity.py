"""analysis.integrity: behaviour-based detectors on tiny hand-computed votes."""

import numpy as np
import pytest

from analysis.integrity import arrival_bursts, fast_voters, near_identical, straight_liners


def _ids(a):
    return np.asarray(a).tolist()


def test_straight_liners_need_min_votes_all_equal():
    # 1: four agrees; 2: three agrees and a pass; 3: three disagrees (too few); 4: four passes.
    p = np.array([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4])
    v = np.array([1, 1, 1, 1, 1, 1, 0, 1, -1, -1, -1, 0, 0, 0, 0])
    order = np.random.default_rng(0).permutation(len(p))  # any order of votes
    assert _ids(straight_liners(p[order], v[order], min_votes=4)) == [1, 4]
    assert _ids(straight_liners(p, v, min_votes=3)) == [1, 3, 4]
    assert _ids(straight_liners(p[:0], v[:0])) == []


def _ballots(rows):
    """{participant: [values over statements 0…]} → parallel arrays, skipping None (not seen)."""
    out = [(pid, s, val) for pid, ballot in rows.items() for s, val in enumerate(ballot) if val is not None]
    return tuple(np.array(col) for col in zip(*out, strict=True))


def test_near_identical_links_pairs_by_the_share_of_equal_common_votes():
    base = [1, -1, 1, 0, 1, -1, 1, 1, -1, 1]
    slip = base.copy()
    slip[0] = -1  # 9 of 10 equal
    rows = {
        1: base,
        2: base,
        3: slip,
        4: [-v for v in base],  # the opposite ballot
        5: base[:3] + [None] * 7,  # three votes, all equal to 1's and 2's
    }
    p, s, v = _ballots(rows)
    # chance=1: a link needs a tail below 1/10 (ten pairs), which ten or nine equal votes of ten pass easily.
    assert [_ids(g) for g in near_identical(p, s, v, min_votes=4, similarity=0.9, chance=1)] == [[1, 2, 3]]
    # At 95 %, 9 of 10 is not close enough: 1 and 2 alone are fewer than three.
    assert near_identical(p, s, v, min_votes=4, similarity=0.95, chance=1) == []
    assert [_ids(g) for g in near_identical(p, s, v, min_votes=4, similarity=0.95, min_size=2, chance=1)] == [[1, 2]]
    # Three equal votes are no evidence: on statements 0, 1, 2 the four distinct ballots match by chance with
    # q = 1/2, 5/8, 5/8 (mean 7/12), so three matches have chance (7/12)³ ≈ 0.20 > 1/10; 5 stays apart.
    assert [_ids(g) for g in near_identical(p, s, v, min_votes=3, min_size=2, chance=1)] == [[1, 2]]


def test_agreeing_on_consensus_statements_is_not_near_identity():
    # Everyone agrees with everything: q = 1 on every statement, so identical ballots are what chance gives.
    p, s, v = _ballots({pid: [1] * 10 for pid in range(1, 5)})
    assert near_identical(p, s, v, chance=1) == []


def test_copies_on_divided_statements_are_linked_once_chance_is_ruled_out():
    x = [1, -1, 0, 1, -1, 0, 1, -1, 0, 1]
    y = [-v if v else 1 for v in x]  # differs from x on every statement
    p, s, v = _ballots({1: x, 2: x, 3: x, 4: y, 5: y, 6: y})
    # Two distinct ballots split every statement evenly: q = 1/2, and ten matches have chance 2⁻¹⁰ ≈ 9.8e-4.
    # Fifteen pairs: at chance 0.05 a link needs < 3.3e-3 (linked), at 0.01 < 6.7e-4 (not linked).
    assert [_ids(g) for g in near_identical(p, s, v, chance=0.05)] == [[1, 2, 3], [4, 5, 6]]
    assert near_identical(p, s, v, chance=0.01) == []
    # Above the pairwise limit, exactly identical ballots with the same chance check (tail = Π q_s = 2⁻¹⁰).
    exact = near_identical(p, s, v, chance=0.05, pairwise_limit=0)
    assert [_ids(g) for g in exact] == [[1, 2, 3], [4, 5, 6]]
    assert near_identical(p, s, v, chance=0.01, pairwise_limit=0) == []


def test_fast_voters_need_a_run_of_votes_faster_than_reading():
    p = np.array([1] * 5 + [2] * 5 + [3] * 5)
    s = np.tile(np.arange(5), 3)
    t = np.concatenate(
        [
            [0, 0.5, 1.0, 1.5, 2.0],  # 1: five votes, four gaps of 0.5 s
            [0, 0.5, 1.0, 5.0, 5.5],  # 2: runs of three and two votes
            [0, 3, 6, 9, 12],  # 3: three seconds a statement
        ]
    )
    assert _ids(fast_voters(p, s, t, burst_votes=5)) == [1]
    assert _ids(fast_voters(p, s, t, burst_votes=3)) == [1, 2]
    assert _ids(fast_voters(p, s, t, reading_seconds=3.5, burst_votes=5)) == [1, 3]
    order = np.random.default_rng(1).permutation(len(p))
    assert _ids(fast_voters(p[order], s[order], t[order], burst_votes=3)) == [1, 2]


def test_fast_voters_count_only_the_first_vote_on_each_statement():
    # Participant 1 reads slowly, then changes three answers within a second: not a burst.
    p = np.array([1, 1, 1, 1, 1, 1])
    s = np.array([0, 1, 2, 0, 1, 2])
    t = np.array([0.0, 10, 20, 30, 30.2, 30.4])
    assert _ids(fast_voters(p, s, t, burst_votes=3)) == []


def test_arrival_bursts_are_per_network_and_window():
    # Network 0: arrivals at 0, 10, 20, 1000 s; network 1: at 0, 700, 1400; network 2: 5, 6, 7.
    networks = np.array([0, 1, 0, 2, 0, 1, 2, 0, 1, 2])
    arrived = np.array([0, 0, 10, 5, 20, 700, 6, 1000, 1400, 7], dtype=float)
    found = arrival_bursts(networks, arrived, size=3, window=600)
    assert [_ids(b) for b in found] == [[0, 2, 4], [3, 6, 9]]
    assert arrival_bursts(networks, arrived, size=4, window=600) == []
    assert [_ids(b) for b in arrival_bursts(networks, arrived, size=4, window=1000)] == [[0, 2, 4, 7]]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: straight_liners([1, 2], [1]), r"values must have the shape of participants \(2,\)"),
        (lambda: straight_liners([1, 2], [1, 2]), r"values must be -1 \(disagree\), 0 \(pass\) or 1"),
        (lambda: straight_liners([1.5], [1]), "participants must be integer ids"),
        (lambda: straight_liners([[1]], [[1]]), "participants must be 1-D"),
        (lambda: straight_liners([1], [1], min_votes=0), "min_votes must be >= 1, got 0"),
        (lambda: near_identical([1], [1], [1], similarity=0), r"similarity must be in \(0, 1\], got 0"),
        (lambda: near_identical([1], [1], [1], min_size=1), "min_size must be >= 2, got 1"),
        (lambda: near_identical([1], [1], [1], chance=0), r"chance must be in \(0, 1\], got 0"),
        (lambda: fast_voters([1], [1], [np.nan]), "timestamps must be finite seconds"),
        (lambda: fast_voters([1], [1], [0.0], reading_seconds=0), r"reading_seconds must be > 0, got 0"),
        (lambda: fast_voters([1], [1], [0.0], burst_votes=1), "burst_votes must be >= 2, got 1"),
        (lambda: arrival_bursts([1], [0.0], window=-1), "window must be >= 0, got -1"),
    ],
)
def test_bad_input_names_the_valid_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()
