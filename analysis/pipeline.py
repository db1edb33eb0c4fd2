"""The analysis pipeline: the only module that sequences the steps of polis-math.md.

Deliberate divergences from Pol.is (everything else follows polis-math.md exactly):

1. **Bans honoured** — banned participants are removed from the math entirely (Pol.is ignores bans).
2. **Deterministic PCA sign** — aligned with the previous run's components (dot > 0); on a first run the
   largest-magnitude loading of each component is made positive (Pol.is relies on warm starts only).
3. **Exact PCA** — an exact eigen-decomposition of the smaller Gram matrix for small inputs, Lanczos (ARPACK)
   on the matrix-free Gram operator of the sparse centred matrix for large ones, started from the previous
   components (else from a ``random_state`` vector); Pol.is stops power iteration after 100 steps. On the
   golden fixtures both agree to 1e-15.
4. **Order-free opinion groups with a noise-aware k** (default, ``clustering_mode="robust"``,
   :mod:`analysis.groups`): the consensus of seeded Forgy-started base and group k-means runs drawn over the points
   in coordinate order (never row order), k by a bootstrap one-standard-error rule on participant-weighted
   silhouettes; ``k_scores`` and ``k_tied`` record the candidates. ``clustering_mode="polis"`` keeps Pol.is's own
   clustering: base clusters cold-start from the first k distinct points in *arrival order* (participants ordered
   by their first vote, as Pol.is's matrix rows are); opinion groups, for every k, warm-start from the previous
   run's clustering with that k (Pol.is keeps one per k), else from Pol.is's clean start: the first k distinct
   base-cluster centres in base-cluster order; silhouette argmax and the k-smoother. Given Pol.is's base clusters,
   this reproduces Pol.is's groups exactly on all three golden fixtures. Group k-means runs to convergence (every
   centre moves < 0.01, or 100 iterations; Pol.is silently caps it at 20).
5. **Stable group ids** — new groups are matched to the previous ones by member overlap (Hungarian matching).
6. **Current tallies for priorities** — Pol.is computes ``comment-priorities`` from the previous tick's tallies;
   Participate uses the current run's (on the golden fixtures the two coincide and match exactly).
7. **Participant order** — result rows are sorted by participant id; the "top-15" fill of §4 breaks vote-count
   ties by lower id.
8. **Extra output** — a Jeffreys-prior group-consensus score (geometric mean over groups of (A+½)/(S+1)),
   reported next to Pol.is's product score (§9).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import bridging as bridging_math
from . import clustering, evidence, projection, stats
from . import groups as groups_math
from . import headline as headline_math
from .matrix import build_vote_matrix, column_counts

ALGORITHM_VERSION = "participate-analysis/2"
#: "robust": order-free groups with a noise-aware k (:mod:`analysis.groups`, the default); "polis": Pol.is's own
#: arrival-order and warm-started clustering with the k-smoother, which reproduces Pol.is given its history.
CLUSTERING_MODES = ("robust", "polis")


@dataclass(frozen=True, eq=False)
class OpinionGroup:
    """An opinion group (§5): stable ``id``, sorted member participant ids, and centre (x, y)."""

    id: int
    members: np.ndarray
    center: tuple[float, float]

    def __eq__(self, other):
        if not isinstance(other, OpinionGroup):
            return NotImplemented
        return (
            self.id == other.id
            and np.array_equal(self.members, other.members)
            and tuple(self.center) == tuple(other.center)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class GroupVotes:
    """Group tallies (§6): agree ``A``, disagree ``D`` and all votes ``S``, each shape (G, C) int64."""

    A: np.ndarray
    D: np.ndarray
    S: np.ndarray

    def __eq__(self, other):
        if not isinstance(other, GroupVotes):
            return NotImplemented
        return all(np.array_equal(getattr(self, f), getattr(other, f)) for f in "ADS")

    __hash__ = None  # type: ignore[assignment]


_ARRAY_FIELDS = {
    # name: dtype
    "participant_ids": np.int64,
    "statement_ids": np.int64,
    "n_votes": np.int64,
    "in_conv": np.int64,
    "pca_center": np.float64,
    "pca_components": np.float64,
    "participant_projection": np.float64,
    "statement_projection": np.float64,
    "extremity": np.float64,
    "base_cluster_ids": np.int64,
    "base_cluster_centers": np.float64,
}


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Everything one analysis run produces, with the intermediates needed to warm-start the next run.

    Array shapes: P participants, C statements, B base clusters, G opinion groups. Rows of per-participant arrays
    follow ``participant_ids``; columns of per-statement arrays follow ``statement_ids``.

    Attributes
    ----------
    participant_ids : (P,) sorted ids of participants with at least one vote (banned removed).
    statement_ids : (C,) sorted ids of statements with at least one vote.
    n_votes : (P,) votes per participant, passes included (§1).
    in_conv : sorted ids of the clustered participants (§4).
    pca_center : (C,) column means (agree = +1); pca_components : (2, C) (§2).
    participant_projection : (P, 2); statement_projection : (C, 2); extremity : (C,) (§3).
    base_cluster_ids : (B,); base_cluster_centers : (B, 2); base_cluster_members : B sorted id arrays (§5.1).
    groups : opinion groups sorted by id; k : their number; silhouettes : {k: mean silhouette} (§5).
    group_votes : tallies aligned with ``groups`` and ``statement_ids`` (§6).
    repness : {group id: representative statements} (§7); consensus (§8).
    group_aware_consensus, group_consensus_jeffreys : {statement id: score} (§9).
    priorities : {statement id: weight} (§10).
    mod_out, meta, banned : sorted ids as given (mod_out/meta restricted to nothing; they may name unvoted ids).
    parameters : random_state, thresholds and algorithm version.
    k_smoother : state of the §5.4 smoother.
    group_centers_by_k : {k: (k, 2) centres} of every candidate clustering, the next run's warm starts (as Pol.is
        keeps one group clustering per k).
    k_scores : {k: score} of every candidate k (robust mode: mean participant-weighted silhouette; polis mode: the
        silhouettes); k_tied : another k is within resampling noise of the chosen one (:mod:`analysis.groups`).
    bridging : {statement id: score}, the group-free bridging score of every accepted statement, and
        bridging_interval : {statement id: (low, high)} its 90% interval (:mod:`analysis.bridging`).
    headline : statement ids chosen by proportional approval voting, in order of choice; headline_jr : the list
        satisfies justified representation; headline_left_out : {statement id: participant ids} of each block that
        would be left out when it does not (:mod:`analysis.headline`).
    """

    participant_ids: np.ndarray
    statement_ids: np.ndarray
    n_votes: np.ndarray
    in_conv: np.ndarray
    pca_center: np.ndarray
    pca_components: np.ndarray
    participant_projection: np.ndarray
    statement_projection: np.ndarray
    extremity: np.ndarray
    base_cluster_ids: np.ndarray
    base_cluster_centers: np.ndarray
    base_cluster_members: tuple[np.ndarray, ...]
    groups: tuple[OpinionGroup, ...]
    k: int
    silhouettes: dict[int, float]
    group_votes: GroupVotes
    repness: dict[int, tuple[stats.Repness, ...]]
    consensus: stats.Consensus
    group_aware_consensus: dict[int, float]
    group_consensus_jeffreys: dict[int, float]
    priorities: dict[int, float]
    mod_out: tuple[int, ...]
    meta: tuple[int, ...]
    banned: tuple[int, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    k_smoother: clustering.KSmoother = field(default_factory=clustering.KSmoother)
    group_centers_by_k: dict[int, np.ndarray] = field(default_factory=dict)
    k_scores: dict[int, float] = field(default_factory=dict)
    k_tied: bool = False
    bridging: dict[int, float] = field(default_factory=dict)
    bridging_interval: dict[int, tuple[float, float]] = field(default_factory=dict)
    headline: tuple[int, ...] = ()
    headline_jr: bool = True
    headline_left_out: dict[int, tuple[int, ...]] = field(default_factory=dict)

    # -- convenience ------------------------------------------------------------------------------------------
    def group_of(self, participant_id: int) -> int | None:
        """The opinion-group id of ``participant_id``, or None when the participant is not clustered."""
        for g in self.groups:
            i = np.searchsorted(g.members, participant_id)
            if i < len(g.members) and g.members[i] == participant_id:
                return g.id
        return None

    def participant_groups(self) -> np.ndarray:
        """Group id per participant, shape (P,), -1 when not clustered."""
        out = np.full(len(self.participant_ids), -1, dtype=np.int64)
        for g in self.groups:
            out[np.searchsorted(self.participant_ids, g.members)] = g.id
        return out

    # -- serialisation ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (str keys, lists, floats) that :meth:`from_dict` turns back into an equal result."""
        d: dict[str, Any] = {name: np.asarray(getattr(self, name)).tolist() for name in _ARRAY_FIELDS}
        d["base_cluster_members"] = [np.asarray(m).tolist() for m in self.base_cluster_members]
        d["groups"] = [
            {
                "id": int(g.id),
                "members": np.asarray(g.members).tolist(),
                "center": [float(c) for c in g.center],
            }
            for g in self.groups
        ]
        d["k"] = int(self.k)
        d["silhouettes"] = {str(k): float(v) for k, v in self.silhouettes.items()}
        d["group_votes"] = {f: getattr(self.group_votes, f).tolist() for f in "ADS"}
        d["repness"] = {
            str(gid): [
                {
                    "statement_id": r.statement_id,
                    "repful_for": r.repful_for,
                    "n_success": r.n_success,
                    "n_trials": r.n_trials,
                    "p_success": r.p_success,
                    "p_test": r.p_test,
                    "repness": r.repness,
                    "repness_test": r.repness_test,
                    "best_agree": r.best_agree,
                }
                for r in reps
            ]
            for gid, reps in self.repness.items()
        }
        d["consensus"] = {
            side: [
                {
                    "statement_id": c.statement_id,
                    "n_success": c.n_success,
                    "n_trials": c.n_trials,
                    "p_success": c.p_success,
                    "p_test": c.p_test,
                }
                for c in getattr(self.consensus, side)
            ]
            for side in ("agree", "disagree")
        }
        for name in ("group_aware_consensus", "group_consensus_jeffreys", "priorities"):
            d[name] = {str(k): float(v) for k, v in getattr(self, name).items()}
        d["mod_out"] = [int(x) for x in self.mod_out]
        d["meta"] = [int(x) for x in self.meta]
        d["banned"] = [int(x) for x in self.banned]
        d["parameters"] = dict(self.parameters)
        s = self.k_smoother
        d["k_smoother"] = {"smoothed_k": s.smoothed_k, "last_k": s.last_k, "last_k_count": s.last_k_count}
        d["group_centers_by_k"] = {str(k): np.asarray(c).tolist() for k, c in self.group_centers_by_k.items()}
        d["k_scores"] = {str(k): float(v) for k, v in self.k_scores.items()}
        d["k_tied"] = bool(self.k_tied)
        d["bridging"] = {str(k): float(v) for k, v in self.bridging.items()}
        d["bridging_interval"] = {str(k): [float(lo), float(hi)] for k, (lo, hi) in self.bridging_interval.items()}
        d["headline"] = [int(x) for x in self.headline]
        d["headline_jr"] = bool(self.headline_jr)
        d["headline_left_out"] = {str(k): [int(p) for p in v] for k, v in self.headline_left_out.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnalysisResult:
        """Rebuild a result from :meth:`to_dict` output (e.g. after a JSON round trip)."""
        kw: dict[str, Any] = {}
        for name, dtype in _ARRAY_FIELDS.items():
            kw[name] = np.asarray(d[name], dtype=dtype)
        kw["pca_components"] = kw["pca_components"].reshape(2, -1)
        kw["participant_projection"] = kw["participant_projection"].reshape(-1, 2)
        kw["statement_projection"] = kw["statement_projection"].reshape(-1, 2)
        kw["base_cluster_centers"] = kw["base_cluster_centers"].reshape(-1, 2)
        kw["base_cluster_members"] = tuple(np.asarray(m, dtype=np.int64) for m in d["base_cluster_members"])
        kw["groups"] = tuple(
            OpinionGroup(
                id=int(g["id"]),
                members=np.asarray(g["members"], dtype=np.int64),
                center=(float(g["center"][0]), float(g["center"][1])),
            )
            for g in d["groups"]
        )
        kw["k"] = int(d["k"])
        kw["silhouettes"] = {int(k): float(v) for k, v in d["silhouettes"].items()}
        n_c = len(kw["statement_ids"])
        kw["group_votes"] = GroupVotes(
            *(np.asarray(d["group_votes"][f], dtype=np.int64).reshape(len(kw["groups"]), n_c) for f in "ADS")
        )
        kw["repness"] = {int(gid): tuple(stats.Repness(**r) for r in reps) for gid, reps in d["repness"].items()}
        kw["consensus"] = stats.Consensus(
            **{
                side: tuple(stats.ConsensusStatement(**c) for c in d["consensus"][side])
                for side in ("agree", "disagree")
            }
        )
        for name in ("group_aware_consensus", "group_consensus_jeffreys", "priorities"):
            kw[name] = {int(k): float(v) for k, v in d[name].items()}
        kw["mod_out"] = tuple(int(x) for x in d["mod_out"])
        kw["meta"] = tuple(int(x) for x in d["meta"])
        kw["banned"] = tuple(int(x) for x in d.get("banned", ()))
        kw["parameters"] = dict(d.get("parameters", {}))
        kw["k_smoother"] = clustering.KSmoother(**d["k_smoother"])
        kw["group_centers_by_k"] = {
            int(k): np.asarray(c, dtype=np.float64).reshape(-1, 2) for k, c in d.get("group_centers_by_k", {}).items()
        }
        # snapshots stored before these fields existed read back with empty ones
        kw["k_scores"] = {int(k): float(v) for k, v in d.get("k_scores", {}).items()}
        kw["k_tied"] = bool(d.get("k_tied", False))
        kw["bridging"] = {int(k): float(v) for k, v in d.get("bridging", {}).items()}
        kw["bridging_interval"] = {
            int(k): (float(lo), float(hi)) for k, (lo, hi) in d.get("bridging_interval", {}).items()
        }
        kw["headline"] = tuple(int(x) for x in d.get("headline", ()))
        kw["headline_jr"] = bool(d.get("headline_jr", True))
        kw["headline_left_out"] = {int(k): tuple(int(p) for p in v) for k, v in d.get("headline_left_out", {}).items()}
        return cls(**kw)

    def __eq__(self, other):
        if not isinstance(other, AnalysisResult):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _ids(values, name: str) -> tuple[int, ...]:
    arr = np.asarray(list(values))
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer ids, got dtype {arr.dtype}")
    return tuple(sorted({int(x) for x in arr}))


def _align(prev_ids: np.ndarray, prev_values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Rows of ``prev_values`` (indexed by ``prev_ids``) for ``ids``; zeros where an id is new. Shape (len(ids), …)."""
    out = np.zeros((len(ids), *prev_values.shape[1:]))
    pos = np.searchsorted(prev_ids, ids)
    pos = np.minimum(pos, max(len(prev_ids) - 1, 0))
    hit = (prev_ids[pos] == ids) if len(prev_ids) else np.zeros(len(ids), bool)
    out[hit] = prev_values[pos[hit]]
    return out


def _polis_groups(points: np.ndarray, previous: AnalysisResult | None, random_state):
    """Pol.is's own clustering (§5): arrival-order cold starts or warm starts, silhouette argmax, k-smoother."""
    prev_bc = None if previous is None else (previous.base_cluster_ids, previous.base_cluster_centers)
    bc = clustering.base_clusters(
        points,
        previous_ids=None if prev_bc is None else prev_bc[0],
        previous_centers=None if prev_bc is None else prev_bc[1],
    )
    n_base = len(bc.ids)
    silhouettes: dict[int, float] = {}
    candidates: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if n_base >= 2:
        for k in range(2, min(clustering.max_groups(n_base), n_base) + 1):
            init = None if previous is None else previous.group_centers_by_k.get(k)
            centres, labels = clustering.group_kmeans(
                bc.centers, bc.sizes, k, init=init, random_state=random_state, n_init=0
            )
            if len(centres) != k and init is not None:
                # the warm start lost a group (a centre was left empty): start clean instead
                centres, labels = clustering.group_kmeans(bc.centers, bc.sizes, k, random_state=random_state, n_init=0)
            if len(centres) != k:
                continue
            candidates[k] = (centres, labels)
            silhouettes[k] = clustering.silhouette(bc.centers, labels)
    smoother = clustering.KSmoother() if previous is None else previous.k_smoother
    if silhouettes:
        best_k = max(silhouettes, key=lambda k: (silhouettes[k], -k))
        smoother = smoother.update(best_k)
        k = smoother.smoothed_k if smoother.smoothed_k in candidates else best_k
        g_centres, base_group = candidates[k]
    elif n_base == 1:
        k, g_centres, base_group = 1, bc.centers.copy(), np.zeros(1, dtype=np.int64)
    else:
        k, g_centres, base_group = 0, np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    return bc, k, g_centres, base_group, silhouettes, candidates, smoother


def _robust_groups(points: np.ndarray, random_state):
    """Order-free groups with a noise-aware k (:mod:`analysis.groups`); falls back to one group or none."""
    found = groups_math.robust_groups(points, random_state=random_state)
    if found is None:
        bc = clustering.base_clusters(points)
        n_base = len(bc.ids)
        centres = bc.centers[:1].copy() if n_base else np.zeros((0, 2))
        return bc, min(n_base, 1), centres, np.zeros(n_base, dtype=np.int64), {}, {}, False
    sizes = np.bincount(found.base_labels, minlength=len(found.base_centers)).astype(np.int64)
    bc = clustering.BaseClusters(
        ids=np.arange(len(found.base_centers), dtype=np.int64),
        centers=found.base_centers,
        labels=found.base_labels,
        sizes=sizes,
    )
    candidates = {found.k: (found.centers, found.base_group)}
    return bc, found.k, found.centers, found.base_group, dict(found.k_scores), candidates, found.k_tied


def run_analysis(
    votes,
    *,
    mod_out=(),
    meta=(),
    banned=(),
    previous: AnalysisResult | None = None,
    random_state: int | None = 0,
    clustering_mode: str = "robust",
    min_voters: int = evidence.DEFAULT_VOTERS,
) -> AnalysisResult:
    """Run the whole analysis of polis-math.md on one consultation's votes.

    Parameters
    ----------
    votes : array-like of shape (n, 3), or tuple of three arrays of shape (n,)
        ``(participant_id, statement_id, vote)`` in chronological order, vote ∈ {-1, 0, 1} (agree = +1);
        the last vote per (participant, statement) wins.
    mod_out : iterable of int
        Moderated-out statement ids (zeroed in the PCA, never representative nor consensus).
    meta : iterable of int
        Meta statement ids: mod-out in the math, priority 49.
    banned : iterable of int
        Participant ids removed from the math entirely.
    previous : AnalysisResult, optional
        The previous run (warm starts, stable signs and group ids, in-conversation set, k-smoother).
    random_state : int or None
        Seeds the clustering's draws (robust mode) and the headline/bridging resampling; results do not depend on
        the order of the votes' rows or on participant and statement labels.
    clustering_mode : {"robust", "polis"}
        Order-free groups with a noise-aware k (default), or Pol.is's own arrival-order clustering (see the module
        docstring, divergence 4).
    min_voters : int
        The evidence floor (:mod:`analysis.evidence`): statements with fewer voters are never headline candidates.

    Returns
    -------
    AnalysisResult
    """
    if previous is not None and not isinstance(previous, AnalysisResult):
        raise TypeError(f"previous must be an AnalysisResult or None, got {type(previous).__name__}")
    if random_state is not None and not isinstance(random_state, int | np.integer):
        raise ValueError(f"random_state must be an int or None, got {random_state!r}")
    if clustering_mode not in CLUSTERING_MODES:
        raise ValueError(f"clustering_mode must be one of {CLUSTERING_MODES}, got {clustering_mode!r}")
    mod_out_ids, meta_ids, banned_ids = _ids(mod_out, "mod_out"), _ids(meta, "meta"), _ids(banned, "banned")

    # §1 matrix
    vm = build_vote_matrix(votes, banned=banned_ids)
    pids, sids = vm.participant_ids, vm.statement_ids
    n_p, n_c = vm.shape
    modout = vm.column_mask(set(mod_out_ids) | set(meta_ids))
    is_meta = vm.column_mask(meta_ids)
    n_votes = vm.n_votes()

    # §2-3 PCA and projections
    prev_comps = None
    if previous is not None and len(previous.statement_ids):
        prev_comps = _align(previous.statement_ids, previous.pca_components.T, sids).T
    column_tallies = column_counts(vm.values)  # (A, D, S) per statement over everyone: §2 means and §8
    pca = projection.fit_pca(
        vm.values, modout, previous_components=prev_comps, random_state=random_state, counts=column_tallies
    )
    proj = projection.participant_projection(pca.centred, pca.components, modout)
    st_proj = projection.statement_projection(pca.center, pca.components)
    extremity = np.sqrt((st_proj**2).sum(axis=1))

    # §4 in-conversation
    in_conv_mask = clustering.in_conversation(pids, n_votes, n_c, previous=() if previous is None else previous.in_conv)
    in_rows = np.flatnonzero(in_conv_mask)
    k_tied = False
    if clustering_mode == "polis":
        # Cluster in arrival order (first vote), as Pol.is's matrix rows are: cold starts take the first k points.
        in_rows = in_rows[np.argsort(vm.first_seen[in_rows], kind="stable")]
        bc, k, g_centres, base_group, silhouettes, candidates, smoother = _polis_groups(
            proj[in_rows], previous, random_state
        )
    else:
        bc, k, g_centres, base_group, silhouettes, candidates, k_tied = _robust_groups(proj[in_rows], random_state)
        smoother = clustering.KSmoother() if previous is None else previous.k_smoother
        if k >= 2:
            smoother = smoother.update(k)
    n_base = len(bc.ids)
    prev_groups = () if previous is None else previous.groups

    # members: participant ids per base cluster and per group
    in_ids = pids[in_rows]
    by_base = np.lexsort((in_ids, bc.labels))  # one sort instead of a mask per base cluster
    base_members = tuple(np.split(in_ids[by_base], np.cumsum(bc.sizes)[:-1])) if n_base else ()
    point_group = base_group[bc.labels] if n_base else np.zeros(0, dtype=np.int64)
    new_members = [np.sort(in_ids[point_group == g]) for g in range(k)]
    group_ids = clustering.match_ids(new_members, [g.members for g in prev_groups], [g.id for g in prev_groups])
    order = np.argsort(group_ids, kind="stable")
    groups = tuple(
        OpinionGroup(
            id=int(group_ids[g]),
            members=new_members[g],
            center=(float(g_centres[g, 0]), float(g_centres[g, 1])),
        )
        for g in order
    )
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)

    # §6 tallies (in-conv members, raw matrix)
    row_group = np.full(n_p, -1, dtype=np.int64)
    row_group[in_rows] = rank[point_group] if k else -1
    A, D, S = stats.group_tallies(vm.values, row_group, k)

    # §7 repness
    rep = stats.repness_stats(A, D, S)
    rep_lists = stats.select_repness(rep, sids, modout) if k >= 2 else [() for _ in range(k)]
    repness = {g.id: reps for g, reps in zip(groups, rep_lists, strict=True)}

    # §8 consensus (everyone), §9 group-aware consensus, §10 priorities (current tallies over groups)
    cA, cD, cS = column_tallies
    consensus = stats.select_consensus(cA, cD, cS, sids, modout)
    gac = stats.group_aware_consensus(A, S) if k else np.zeros(n_c)
    jeff = stats.group_consensus_jeffreys(A, S)
    prio = stats.priorities(A.sum(0), D.sum(0), S.sum(0), extremity, is_meta)

    # group-free bridging score (Community Notes' intercept) and the proportional headline list with its JR check
    accepted = ~modout
    br = bridging_math.bridging_scores(
        vm.values,
        accepted,
        pca.components[0],
        np.asarray(pca.centred @ pca.components[0]),
        random_state=random_state,
    )
    br_ids = sids[br.columns].tolist()
    finite = np.isfinite(br.score)
    bridging = {s: float(x) for s, x, ok in zip(br_ids, br.score, finite, strict=True) if ok}
    bridging_interval = {
        s: (float(lo), float(hi)) for s, lo, hi, ok in zip(br_ids, br.low, br.high, finite, strict=True) if ok
    }
    head = headline_math.select_headline(
        vm.values,
        accepted,
        size=min(headline_math.DEFAULT_SIZE, max(int(accepted.sum()), 5)),
        min_voters=min_voters,
        counts=column_tallies,
    )

    return AnalysisResult(
        participant_ids=pids,
        statement_ids=sids,
        n_votes=n_votes,
        in_conv=np.sort(in_ids),
        pca_center=pca.center,
        pca_components=pca.components,
        participant_projection=proj,
        statement_projection=st_proj,
        extremity=extremity,
        base_cluster_ids=bc.ids,
        base_cluster_centers=bc.centers,
        base_cluster_members=base_members,
        groups=groups,
        k=int(k),
        silhouettes=silhouettes,
        group_votes=stats_group_votes(A, D, S),
        repness=repness,
        consensus=consensus,
        group_aware_consensus=dict(zip(sids.tolist(), gac.tolist(), strict=True)),
        group_consensus_jeffreys=dict(zip(sids.tolist(), jeff.tolist(), strict=True)),
        priorities=dict(zip(sids.tolist(), prio.tolist(), strict=True)),
        mod_out=mod_out_ids,
        meta=meta_ids,
        banned=banned_ids,
        parameters={
            "random_state": random_state,
            "algorithm_version": ALGORITHM_VERSION,
            "z_90": stats.Z_90,
            "min_voters": int(min_voters),
            "min_votes": clustering.MIN_VOTES,
            "min_in_conv": clustering.MIN_IN_CONV,
            "max_base_clusters": clustering.MAX_BASE_CLUSTERS,
            "max_groups": clustering.MAX_GROUPS,
            "kmeans_tolerance": clustering.MOVE_TOLERANCE,
            "kmeans_max_iter": clustering.MAX_ITER,
            "smoothing_runs": clustering.SMOOTHING_RUNS,
            "repness_pick": stats.REPNESS_PICK,
            "consensus_pick": stats.CONSENSUS_PICK,
            "meta_priority": stats.META_PRIORITY,
            "clustering_mode": clustering_mode,
            "k_rule_z": groups_math.Z,
            "bridging_lambda_intercept": bridging_math.LAMBDA_INTERCEPT,
            "bridging_lambda_factor": bridging_math.LAMBDA_FACTOR,
            "headline_size": headline_math.DEFAULT_SIZE,
        },
        k_smoother=smoother,
        group_centers_by_k={kk: c for kk, (c, _) in candidates.items()},
        k_scores=dict(silhouettes),
        k_tied=bool(k_tied),
        bridging=bridging,
        bridging_interval=bridging_interval,
        headline=tuple(int(sids[c]) for c in head.columns),
        headline_jr=bool(head.jr),
        headline_left_out={int(sids[c]): tuple(pids[rows].tolist()) for c, rows in head.left_out.items()},
    )


def stats_group_votes(A, D, S) -> GroupVotes:
    """Wrap (G, C) tallies."""
    return GroupVotes(A=A.astype(np.int64), D=D.astype(np.int64), S=S.astype(np.int64))


def replay(
    votes,
    *,
    batch: int | None = None,
    interval: float | None = None,
    mod_out=(),
    meta=(),
    banned=(),
    random_state: int | None = 0,
) -> Iterator[AnalysisResult]:
    """Re-run the analysis over time-ordered batches, warm-starting each run from the previous one.

    Parameters
    ----------
    votes : array-like of shape (n, 4), or tuple of four arrays of shape (n,)
        ``(participant_id, statement_id, vote, timestamp)``; stably sorted by timestamp first.
    batch : int, optional
        Votes per step (≥ 1). Exactly one of ``batch`` and ``interval`` must be given.
    interval : float, optional
        Timestamp span per step (> 0, in the timestamps' unit), like Pol.is's periodic recompute.

    Yields
    ------
    AnalysisResult
        One per step, on all votes up to the end of that step.
    """
    if (batch is None) == (interval is None):
        raise ValueError("give exactly one of batch (votes per step) or interval (time per step)")
    if batch is not None and batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if interval is not None and not interval > 0:
        raise ValueError(f"interval must be > 0, got {interval}")
    if isinstance(votes, tuple) and len(votes) == 4:
        cols = [np.asarray(a) for a in votes]
    else:
        arr = np.asarray(votes)
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ValueError(
                f"votes must have shape (n, 4) of (participant_id, statement_id, vote, timestamp), got {arr.shape}"
            )
        cols = [arr[:, i] for i in range(4)]
    order = np.argsort(cols[3], kind="stable")
    p, s, v, t = (c[order] for c in cols)
    n = len(t)
    if batch is not None:
        ends = [*list(range(batch, n, batch)), n]
    else:
        tf = t.astype(np.float64)
        bucket = np.floor((tf - tf[0]) / interval) if n else np.zeros(0)
        ends = (np.flatnonzero(np.diff(bucket)) + 1).tolist() + ([n] if n else [])
    previous = None
    for end in ends:
        previous = run_analysis(
            (p[:end], s[:end], v[:end]),
            mod_out=mod_out,
            meta=meta,
            banned=banned,
            previous=previous,
            random_state=random_state,
        )
        yield previous
