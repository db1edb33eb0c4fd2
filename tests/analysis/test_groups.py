"""Order-free opinion groups with a noise-aware k (analysis.groups), through run_analysis and directly.

The order-invariance test runs on every real conversation in ``../shared/data/polis`` (skipped when absent): the
same current votes with participants and statements relabelled at random and the rows shuffled must give the same
partition, k, candidate scores and statistics.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from analysis import clustering, run_analysis
from analysis.groups import batched_kmeans, partition_ari, robust_groups, weighted_silhouette
from analysis.polis_io import read_polis_export

POLIS = (
    Path(os.environ.get("PARTICIPATE_SHARED_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
    / "polis"
)
CONVERSATIONS = sorted(p.name for p in POLIS.iterdir() if p.is_dir()) if POLIS.is_dir() else []


def camps(sizes, n_statements=30, seed=0, noise=0.15):
    """Latest votes of camps of the given sizes, each with its own stance per statement, with noise and gaps."""
    rng = np.random.default_rng(seed)
    stances = rng.choice([-1, 1], size=(len(sizes), n_statements))
    rows = []
    pid = 0
    for camp, size in enumerate(sizes):
        for _ in range(size):
            for c in rng.permutation(n_statements)[: rng.integers(12, n_statements + 1)]:
                v = stances[camp, c]
                r = rng.random()
                v = 0 if r < noise / 2 else (-v if r < noise else v)
                rows.append((pid, c, v))
            pid += 1
    return np.array(rows, dtype=np.int64)


def relabel(votes, mod_out, meta, seed):
    """The same votes with participant and statement ids replaced at random and the rows shuffled."""
    rng = np.random.default_rng(seed)
    p_ids, s_ids = np.unique(votes[:, 0]), np.unique(np.r_[votes[:, 1], list(mod_out), list(meta)])
    p_new = dict(zip(p_ids.tolist(), rng.choice(10 * len(p_ids) + 10, len(p_ids), replace=False).tolist(), strict=True))
    s_new = dict(zip(s_ids.tolist(), rng.choice(10 * len(s_ids) + 10, len(s_ids), replace=False).tolist(), strict=True))
    out = np.column_stack(
        [[p_new[p] for p in votes[:, 0].tolist()], [s_new[s] for s in votes[:, 1].tolist()], votes[:, 2]]
    )
    out = out[rng.permutation(len(out))]
    return out, [s_new[s] for s in mod_out], [s_new[s] for s in meta], p_new, s_new


def assert_same_analysis(a, b, p_new, s_new):
    """``b`` is ``a`` with ids mapped by ``p_new`` / ``s_new``: same partition, k, scores and statistics."""
    assert a.k == b.k and a.k_tied == b.k_tied
    assert a.k_scores == pytest.approx(b.k_scores, abs=1e-9)
    part_a = sorted(sorted(p_new[p] for p in g.members.tolist()) for g in a.groups)
    part_b = sorted(sorted(g.members.tolist()) for g in b.groups)
    assert part_a == part_b
    # groups are numbered by size, so even the ids agree
    assert [len(g.members) for g in a.groups] == [len(g.members) for g in b.groups]
    for ga, gb in zip(a.groups, b.groups, strict=True):
        assert sorted(p_new[p] for p in ga.members.tolist()) == gb.members.tolist()
    mapped = {s_new[s]: x for s, x in a.group_aware_consensus.items()}
    assert mapped == pytest.approx(b.group_aware_consensus, rel=1e-9, abs=1e-12)
    assert {s_new[s]: x for s, x in a.bridging.items()} == pytest.approx(b.bridging, abs=1e-6)
    assert [s_new[s] for s in a.headline] == list(b.headline)
    assert a.headline_jr == b.headline_jr
    # group tallies column by column (representative statements are not compared: Pol.is's rule breaks exact ties
    # in the metric by statement order, which relabelling changes)
    cols = np.searchsorted(b.statement_ids, [s_new[s] for s in a.statement_ids.tolist()])
    for f in "ADS":
        np.testing.assert_array_equal(getattr(a.group_votes, f), getattr(b.group_votes, f)[:, cols])


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=pytest.mark.slow) for name in CONVERSATIONS]  # two analyses of a real conversation each
    or [pytest.param(None, marks=pytest.mark.skip(reason=f"shared Pol.is exports not available at {POLIS}"))],
)
def test_relabelled_and_reordered_conversation_gives_the_same_analysis(name):
    export = read_polis_export(POLIS / name)
    votes = np.column_stack(export.latest().as_arrays()).astype(np.int64)
    mod_out, meta = list(export.mod_out), list(export.meta)
    a = run_analysis(votes, mod_out=mod_out, meta=meta)
    shuffled, mod_out2, meta2, p_new, s_new = relabel(votes, mod_out, meta, seed=len(name))
    b = run_analysis(shuffled, mod_out=mod_out2, meta=meta2)
    assert_same_analysis(a, b, p_new, s_new)


def test_relabelled_synthetic_conversation_gives_the_same_analysis():
    votes = camps([40, 25, 15], seed=3)
    a = run_analysis(votes)
    for seed in range(3):
        shuffled, _, _, p_new, s_new = relabel(votes, [], [], seed)
        assert_same_analysis(a, run_analysis(shuffled), p_new, s_new)


def test_polis_mode_depends_on_arrival_order_and_the_default_does_not():
    """Why the default changed: Pol.is's cold start takes the first points in row order."""
    votes = camps([30, 30, 4], n_statements=20, seed=5, noise=0.35)
    ks, partitions = set(), set()
    for seed in range(6):
        order = np.random.default_rng(seed).permutation(len(votes))
        robust = run_analysis(votes[order])
        partitions.add(tuple(sorted(tuple(g.members.tolist()) for g in robust.groups)))
        ks.add((run_analysis(votes[order], clustering_mode="polis").k, robust.k))
    assert len(partitions) == 1
    assert len({k for _, k in ks}) == 1


@pytest.mark.parametrize(("sizes", "k"), [([50, 50], 2), ([60, 30], 2), ([40, 30, 30], 3)])
def test_clear_camps_are_found_with_their_number(sizes, k):
    votes = camps(sizes, seed=1, noise=0.1)
    result = run_analysis(votes)
    assert result.k == k
    assert not result.k_tied
    assert max(result.k_scores, key=result.k_scores.get) == k
    truth = np.repeat(np.arange(len(sizes)), sizes)
    ours = result.participant_groups()
    assert partition_ari(truth, ours) == pytest.approx(1.0)
    # numbered by decreasing size
    assert [len(g.members) for g in result.groups] == sorted((len(g.members) for g in result.groups), reverse=True)


def test_a_larger_k_must_win_beyond_the_resampling_spread():
    """The rule's threshold: with an unreachable one the smallest k is kept (and flagged as tied when the argmax
    differs); with none, the k with the best resampled score wins."""
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(c, 0.6, size=(120, 2)) for c in ((-3, 0), (3, 0), (0, 5))])
    free = robust_groups(points, random_state=0, z=0.0)
    strict = robust_groups(points, random_state=0, z=1e9)
    assert free.k == 3 and not free.k_tied
    assert strict.k == 2
    assert strict.k_scores == free.k_scores
    assert max(strict.k_scores, key=strict.k_scores.get) == 3


def test_robust_groups_ignores_row_order_and_is_seeded():
    rng = np.random.default_rng(1)
    points = np.vstack([rng.normal(-2, 1, size=(300, 2)), rng.normal(2, 1, size=(200, 2))])
    a = robust_groups(points, random_state=7)
    order = rng.permutation(len(points))
    b = robust_groups(points[order], random_state=7)
    np.testing.assert_array_equal(a.labels[order], b.labels)
    assert a.k_scores == b.k_scores and a.k == b.k
    assert robust_groups(points, random_state=7).k_scores == a.k_scores


def test_too_few_distinct_points_give_no_grouping():
    assert robust_groups(np.zeros((10, 2))) is None
    result = run_analysis(np.array([[p, s, 1] for p in range(20) for s in range(8)]))
    assert result.k == 1 and result.k_scores == {}


def test_batched_kmeans_matches_one_run_at_a_time():
    rng = np.random.default_rng(2)
    points, weights = rng.normal(size=(60, 2)), rng.integers(1, 9, size=60).astype(float)
    init = points[[rng.choice(60, 3, replace=False) for _ in range(5)]]
    centres, labels, mass = (
        a[0] for a in batched_kmeans(points[None], np.zeros(1, int), weights[None, None], init[None])
    )
    for r in range(5):
        c, lab, _ = clustering.weighted_kmeans(points, init[r], weights)
        np.testing.assert_allclose(centres[r], c, atol=1e-12)
        np.testing.assert_array_equal(labels[r], lab)
        np.testing.assert_allclose(mass[r], np.bincount(lab, weights=weights, minlength=3))


def _plain_kmeans(points, weights, init, max_iter=clustering.MAX_ITER, tol=clustering.MOVE_TOLERANCE):
    """Lloyd iterations of R runs over the same points until every centre moves < tol (the pre-issue-26 code)."""
    centres = np.array(init, dtype=np.float64)
    n_runs, k, dim = centres.shape
    w = np.broadcast_to(weights, (n_runs, len(points))).ravel()
    offset = (np.arange(n_runs) * k)[:, None]
    sq = (points**2).sum(1)

    def assign(c):
        d2 = sq[None, :, None] + (c**2).sum(-1)[:, None, :]
        for j in range(dim):
            d2 -= 2.0 * points[None, :, j, None] * c[:, None, :, j]
        return d2.argmin(-1)

    def update(labels):
        flat = (labels + offset).ravel()
        mass = np.bincount(flat, weights=w, minlength=n_runs * k)
        sums = [np.bincount(flat, weights=w * np.tile(points[:, j], n_runs), minlength=n_runs * k) for j in range(dim)]
        return mass.reshape(n_runs, k), np.stack(sums, -1).reshape(n_runs, k, dim)

    for _ in range(max_iter):
        mass, sums = update(assign(centres))
        with np.errstate(divide="ignore", invalid="ignore"):
            new = np.where(mass[..., None] > 0, sums / mass[..., None], centres)
        moved = np.sqrt(((new - centres) ** 2).sum(-1))
        centres = new
        if np.all(moved < tol):
            break
    labels = assign(centres)
    return centres, labels, update(labels)[0]


@pytest.mark.parametrize("shared", [True, False])
def test_batches_of_runs_take_the_steps_each_batch_takes_alone(shared):
    """Batched over point sets of different sizes, with runs frozen at fixed points: bit for bit the same runs."""
    rng = np.random.default_rng(5)
    sizes = [40, 25, 40, 12]
    width, n_runs, k = max(sizes), 9, 3
    points, owner = np.zeros((len(sizes), width, 2)), np.array([2, 0, 1, 3, 2])
    for i, n in enumerate(sizes):
        points[i, :n] = rng.normal(size=(n, 2)) + 2.0 * (np.arange(n) % 3)[:, None]
    base_w = np.where(np.arange(width) < np.array(sizes)[:, None], rng.integers(1, 9, size=(len(sizes), width)), 0.0)
    if shared:
        weights = base_w[owner][:, None]
    else:
        weights = base_w[owner][:, None] * rng.integers(0, 3, size=(len(owner), n_runs, width))
    init = np.stack(
        [np.stack([points[i][rng.choice(sizes[i], k, replace=False)] for _ in range(n_runs)]) for i in owner]
    )
    init[0, 1] = init[0, 0]  # a repeated start
    centres, labels, mass = batched_kmeans(points, owner, weights, init)
    for b, i in enumerate(owner):
        w = np.broadcast_to(weights[b], (n_runs, width))
        expected = _plain_kmeans(points[i], w, init[b])
        np.testing.assert_array_equal(centres[b], expected[0])
        np.testing.assert_array_equal(labels[b], expected[1])
        np.testing.assert_array_equal(mass[b], expected[2])


def test_weighted_silhouette_counts_each_participant():
    """Two base clusters far apart, with weights: like participants stacked at two points (silhouette 1)."""
    dist = np.array([[0.0, 10.0, 10.0], [10.0, 0.0, 0.5], [10.0, 0.5, 0.0]])
    labels = np.array([[0, 1, 1]])
    s = weighted_silhouette(dist, labels, np.array([5.0, 3.0, 2.0]), 2)
    # participant by participant: the 5 stacked at point 0 score 1, the 5 others (10 - 0.5·w/4) / 10
    assert s[0] == pytest.approx((5 * 1.0 + 3 * (1 - 0.5 * 2 / 4 / 10) + 2 * (1 - 0.5 * 3 / 4 / 10)) / 10)
    # a lone participant in its group scores 0, as in the usual silhouette
    assert weighted_silhouette(dist, labels, np.array([1.0, 3.0, 2.0]), 2)[0] < s[0]
