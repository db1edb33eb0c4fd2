"""Tests of the public API: run_analysis, AnalysisResult, replay (behaviour at the boundary)."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from analysis import AnalysisResult, OpinionGroup, replay, run_analysis

ROOT = Path(__file__).resolve().parents[2]


def two_camps(n_participants=60, n_statements=20, seed=0):
    """Chronological votes of two camps that answer opposite ways, with noise, passes and gaps."""
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, 2, size=n_participants)
    stance = rng.choice([-1, 1], size=n_statements)
    rows = []
    for p in range(n_participants):
        for c in rng.permutation(n_statements)[: rng.integers(8, n_statements + 1)]:
            v = stance[c] * (1 if camp[p] == 0 else -1)
            r = rng.random()
            v = 0 if r < 0.1 else (-v if r < 0.2 else v)
            rows.append((1000 + 3 * p, 500 + c, v))
    return np.array(rows, dtype=np.int64), camp


@pytest.fixture(scope="module")
def votes():
    return two_camps()[0]


@pytest.fixture(scope="module")
def result(votes):
    return run_analysis(votes, mod_out=[503], meta=[519])


def partition(result, pids):
    return [-1 if result.group_of(int(p)) is None else result.group_of(int(p)) for p in pids]


def test_result_shapes_and_fields(result):
    P, C = len(result.participant_ids), len(result.statement_ids)
    assert (P, C) == (60, 20)
    assert result.n_votes.shape == (P,)
    assert result.pca_center.shape == (C,)
    assert result.pca_components.shape == (2, C)
    assert result.participant_projection.shape == (P, 2)
    assert result.statement_projection.shape == (C, 2)
    assert result.extremity.shape == (C,)
    assert result.base_cluster_centers.shape == (len(result.base_cluster_ids), 2)
    G = len(result.groups)
    assert G == result.k >= 2
    assert result.group_votes.A.shape == (G, C)
    assert list(result.silhouettes) == list(range(2, len(result.silhouettes) + 2))
    assert isinstance(result.groups[0], OpinionGroup)
    assert set(result.repness) == {g.id for g in result.groups}
    assert set(result.priorities) == set(result.statement_ids.tolist())
    assert result.parameters["random_state"] == 0 and "algorithm_version" in result.parameters
    with pytest.raises(AttributeError):
        result.k = 3  # frozen


def test_two_camps_are_recovered():
    votes, camp = two_camps(seed=4)
    r = run_analysis(votes)
    pids = 1000 + 3 * np.arange(len(camp))
    assert r.k == 2
    assert adjusted_rand_score(camp, partition(r, pids)) > 0.9


def test_group_of(result):
    g = result.groups[0]
    assert result.group_of(int(g.members[0])) == g.id
    assert result.group_of(-12345) is None
    groups = result.participant_groups()
    assert set(groups.tolist()) <= {g.id for g in result.groups} | {-1}


def test_json_round_trip_is_lossless(result, votes):
    d = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    back = AnalysisResult.from_dict(d)
    assert back == result
    np.testing.assert_array_equal(back.participant_projection, result.participant_projection)
    assert back.repness == result.repness and back.consensus == result.consensus
    # the reconstructed result works as a warm start exactly like the original
    assert run_analysis(votes, mod_out=[503], meta=[519], previous=back) == run_analysis(
        votes, mod_out=[503], meta=[519], previous=result
    )


@pytest.mark.parametrize("votes", [np.zeros((0, 3), dtype=int), [(1, 1, 1)], [(1, 1, 1), (2, 1, -1), (3, 2, 1)]])
def test_round_trip_of_degenerate_results(votes):
    r = run_analysis(votes)
    back = AnalysisResult.from_dict(json.loads(json.dumps(r.to_dict(), allow_nan=False)))
    assert back == r
    assert run_analysis(votes, previous=back) == run_analysis(votes, previous=r)


def test_warm_start_on_unchanged_data_keeps_groups(result, votes):
    again = run_analysis(votes, mod_out=[503], meta=[519], previous=result)
    assert [(g.id, g.members.tolist()) for g in again.groups] == [(g.id, g.members.tolist()) for g in result.groups]
    np.testing.assert_allclose(again.pca_components, result.pca_components, atol=1e-10)


def test_relabelling_ids_changes_nothing_but_labels(votes, result):
    rng = np.random.default_rng(7)
    pmap = dict(zip(np.unique(votes[:, 0]), rng.permutation(10_000)[:60] + 5, strict=True))
    # statements: an order-preserving relabelling (the best-agree scan and ties follow statement order)
    relabelled = np.array([(pmap[p], 3 * s + 7, v) for p, s, v in votes])
    r = run_analysis(relabelled, mod_out=[3 * 503 + 7], meta=[3 * 519 + 7])
    pids = np.unique(votes[:, 0])
    assert adjusted_rand_score(partition(result, pids), partition(r, [pmap[p] for p in pids])) == 1.0
    np.testing.assert_allclose(
        np.abs(r.participant_projection[np.argsort(np.argsort([pmap[p] for p in pids]))]),
        np.abs(result.participant_projection),
        atol=1e-10,
    )
    ours = {g: [(x.statement_id, x.repful_for) for x in reps] for g, reps in result.repness.items()}
    theirs = [[((x.statement_id - 7) // 3, x.repful_for) for x in reps] for reps in r.repness.values()]
    assert sorted(ours.values()) == sorted(theirs)
    np.testing.assert_allclose(sorted(r.group_aware_consensus.values()), sorted(result.group_aware_consensus.values()))


def test_statement_order_does_not_change_statistics(votes, result):
    rng = np.random.default_rng(8)
    smap = dict(zip(range(500, 520), rng.permutation(20) + 900, strict=True))
    shuffled = np.array([(p, smap[s], v) for p, s, v in votes])
    r = run_analysis(shuffled, mod_out=[smap[503]], meta=[smap[519]])
    assert adjusted_rand_score(partition(result, result.participant_ids), partition(r, result.participant_ids)) == 1.0
    for s in range(500, 520):
        assert r.priorities[smap[s]] == pytest.approx(result.priorities[s])
        assert r.group_aware_consensus[smap[s]] == pytest.approx(result.group_aware_consensus[s])
    assert sorted(c.statement_id for c in r.consensus.agree) == sorted(
        smap[c.statement_id] for c in result.consensus.agree
    )


def test_duplicate_votes_resolve_to_the_latest(votes, result):
    # prepend contradicting votes for every pair: the originals come later and must win
    earlier = votes.copy()
    earlier[:, 2] = -earlier[:, 2]
    r = run_analysis(np.vstack([earlier, votes]), mod_out=[503], meta=[519])
    assert r == result


def test_modout_and_meta_never_representative_nor_consensus(result):
    shown = {x.statement_id for reps in result.repness.values() for x in reps}
    shown |= {c.statement_id for c in result.consensus.agree + result.consensus.disagree}
    assert 503 not in shown and 519 not in shown
    assert result.priorities[519] == 49.0
    col = result.statement_ids.tolist().index(503)
    assert np.all(result.pca_components[:, col] == 0)


def test_banned_participants_have_no_effect(votes, result):
    extra = np.array([(7, s, 1) for s in range(500, 520)] + [(8, 500, -1)])
    r = run_analysis(np.vstack([extra, votes]), mod_out=[503], meta=[519], banned=[7, 8])
    d1, d2 = r.to_dict(), result.to_dict()
    assert d1.pop("banned") == [7, 8]
    d2.pop("banned")
    assert d1 == d2


def test_in_conv_never_shrinks_via_previous(votes):
    few = votes[votes[:, 0] == 1000]
    first = run_analysis(few)
    assert first.in_conv.tolist() == [1000]
    later = run_analysis(votes, previous=first)
    assert 1000 in later.in_conv


def test_tiny_inputs():
    r = run_analysis(np.zeros((0, 3), dtype=int))
    assert r.k == 0 and r.groups == () and r.repness == {}
    r = run_analysis([(1, 1, 1)])
    assert r.k == 1 and r.groups[0].members.tolist() == [1]
    r = run_analysis([(1, 1, 1), (2, 1, -1), (3, 2, 1)])
    assert r.k == 2
    json.dumps(r.to_dict())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"votes": [(1, 1, 5)]}, ValueError, r"\(-1, 0, 1\)"),
        ({"votes": [(1, 1, 1)], "previous": {"k": 2}}, TypeError, "previous must be an AnalysisResult"),
        ({"votes": [(1, 1, 1)], "random_state": "x"}, ValueError, "random_state must be an int"),
        ({"votes": [(1, 1, 1)], "mod_out": ["a"]}, ValueError, "mod_out must hold integer ids"),
    ],
)
def test_validation(kwargs, error, message):
    votes = kwargs.pop("votes")
    with pytest.raises(error, match=message):
        run_analysis(votes, **kwargs)


def test_replay_warm_starts_and_grows(votes):
    stamped = np.column_stack([votes, np.arange(len(votes)) * 10])
    results = list(replay(stamped, batch=200))
    assert len(results) == -(-len(votes) // 200)
    for a, b in itertools.pairwise(results):
        assert set(a.in_conv.tolist()) <= set(b.in_conv.tolist())
    assert results[-1].n_votes.sum() == len(votes)
    by_time = list(replay(stamped, interval=2000))
    assert len(by_time) == len(results)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "exactly one"), ({"batch": 0}, "batch must be >= 1"), ({"interval": -1.0}, "interval must be > 0")],
)
def test_replay_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        list(replay(np.zeros((0, 4)), **kwargs))


def test_analysis_imports_no_web_code():
    code = (
        "import sys, analysis, analysis.pipeline;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'participate')];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_shuffled_vote_rows_give_the_same_groups_and_statistics():
    """Row order only seeds the cold starts (arrival order); on clearly separated camps nothing changes."""
    votes, _ = two_camps(seed=4)
    r = run_analysis(votes)
    shuffled = votes[np.random.default_rng(1).permutation(len(votes))]
    s = run_analysis(shuffled)
    pids = r.participant_ids
    assert adjusted_rand_score(partition(r, pids), partition(s, pids)) == 1.0
    assert r.priorities == pytest.approx(s.priorities)
    assert r.group_aware_consensus == pytest.approx(s.group_aware_consensus)
    assert r.consensus == s.consensus
    as_sets = sorted(sorted((x.statement_id, x.repful_for) for x in reps) for reps in r.repness.values())
    assert as_sets == sorted(sorted((x.statement_id, x.repful_for) for x in reps) for reps in s.repness.values())
