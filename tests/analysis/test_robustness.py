"""analysis.robustness: seeded bootstrap intervals and the robust mark."""

import numpy as np
import pytest

from analysis import run_analysis
from analysis.robustness import Robustness, assess


def _camps(n_x=12, n_y=20, *, y_agree_on_0=20, seed=0, n_statements=16):
    """Two camps opposed on statements 1…n; statement 0 agreed by all of X and ``y_agree_on_0`` of Y."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_x + n_y):
        camp = 0 if p < n_x else 1
        for s in range(1, n_statements + 1):
            v = 1 if (s % 2 == camp) else -1
            if rng.random() < 0.08:
                v = 0
            rows.append((p, s, v))
        if camp == 0:
            rows.append((p, 0, 1))
        else:
            rows.append((p, 0, 1 if p - n_x < y_agree_on_0 else -1))
    return np.array(rows)


def _camp_of_group(result, n_x):
    return {g.id: int(np.all(g.members >= n_x)) for g in result.groups}


def test_same_seed_same_intervals_and_they_contain_the_point_estimate():
    votes = _camps()
    result = run_analysis(votes)
    first, second = assess(votes, result, random_state=7), assess(votes, result, random_state=7)
    assert first.to_dict() == second.to_dict()
    assert first.to_dict() != assess(votes, result, random_state=8).to_dict()
    A, D, S = result.group_votes.A, result.group_votes.D, result.group_votes.S
    for g in range(len(result.groups)):
        for c in range(len(result.statement_ids)):
            if S[g, c] == 0:
                continue
            for interval, n in ((first.agree_interval, A), (first.disagree_interval, D)):
                lo, hi = interval[g, c]
                assert lo - 1e-12 <= n[g, c] / S[g, c] <= hi + 1e-12
    assert first.parameters["n_resamples"] == 200 and first.parameters["level"] == 0.9


def test_round_trip_through_json_shapes():
    votes = _camps()
    check = assess(votes, run_analysis(votes), n_resamples=20)
    again = Robustness.from_dict(check.to_dict())
    assert again.to_dict() == check.to_dict()
    assert np.array_equal(again.robust("common_agree"), check.robust("common_agree"))


def test_clear_common_ground_is_robust_and_a_bare_majority_is_not():
    clear = _camps()
    result = run_analysis(clear)
    assert result.k == 2
    col = list(result.statement_ids).index(0)
    assert assess(clear, result).robust("common_agree")[col]

    # 12 of 20: a majority, but not across the interval. With 16 statements the 8 who disagree are a third opinion
    # group of their own (statement 0 is then most of what is left to tell people apart); 24 keep them in Y.
    fragile = _camps(y_agree_on_0=12, n_statements=24)
    result = run_analysis(fragile)
    assert result.k == 2
    check = assess(fragile, result)
    S, A = result.group_votes.S[:, col], result.group_votes.A[:, col]
    assert np.all(A * 2 > S)  # the claim holds on the point estimate…
    assert not check.common_agree[col] and not check.robust("common_agree")[col]  # …but is not robust


def test_distinguishing_statements_are_robust_for_their_camp():
    votes = _camps()
    result = run_analysis(votes)
    check = assess(votes, result)
    camp = _camp_of_group(result, 12)
    for g, group in enumerate(result.groups):
        agreed = [s for s in range(1, 17) if s % 2 == camp[group.id]]
        for s in agreed:
            c = list(result.statement_ids).index(s)
            assert check.robust("distinct_agree")[g, c]
            assert not check.robust("distinct_disagree")[g, c]
    assert set(check.by_k) == {2, 3, 4, 5}


@pytest.mark.parametrize(("kwargs", "message"), [({"n_resamples": 0}, "n_resamples"), ({"level": 1.0}, "level")])
def test_invalid_parameters(kwargs, message):
    votes = _camps()
    with pytest.raises(ValueError, match=message):
        assess(votes, run_analysis(votes), **kwargs)


def test_a_claim_on_one_vote_is_never_robust():
    """One member of each group voted on the statement: many resamples lack that vote, so the claim does not hold."""
    from analysis import robustness, run_analysis

    rng = np.random.default_rng(0)
    rows = []
    for p in range(40):
        bloc = p < 20
        for c in range(8):
            if rng.random() < 0.9:
                rows.append((p, c, 1 if (c < 4) == bloc else -1))
    rows += [(0, 8, 1), (25, 8, 1)]  # statement 8: one agree vote in each group
    votes = np.array(rows, dtype=np.int64)
    result = run_analysis(votes)
    rb = robustness.assess(votes, result, n_resamples=200)
    col = list(rb.statement_ids).index(8)
    assert not rb.common_agree[col]
    low, high = rb.agree_interval[:, col].T
    assert (low == 0).all() and (high == 1).all()  # "100 to 100%" was the bug: unknown spans everything
