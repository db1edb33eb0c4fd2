"""A typed, read-only view of a stored snapshot's analysis result.

The stored result is :meth:`analysis.AnalysisResult.to_dict` output (string keys, lists). Readers use
:class:`SnapshotView` instead, so the string keys and list positions are spelled out once, here. Fields added
by later analysis versions are optional attributes, ``None`` when an older snapshot lacks them.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np


def group_label(index: int) -> str:
    """Opinion groups are shown as A, B, C… in order of their ids."""
    return chr(ord("A") + index) if index < 26 else str(index + 1)


def source_labels(groups: Mapping[int, Sequence[int]], source_group: Mapping[int, int]) -> dict[int, str]:
    """{group id: letter}, following the source's own groups where one of ours maps to one of theirs.

    ``groups`` maps each group id to its members; ``source_group`` each imported participant to the source's
    0-based group id (Pol.is's ``group-id``: 0 is A). A group takes the source group's letter when each is the
    other's largest overlap (one maps to one), so two reports of one conversation name the same people "A"; the
    other groups take the letters left, in id order.
    """
    overlap: dict[tuple[int, int], int] = {}
    for gid, members in groups.items():
        for p in members:
            s = source_group.get(p)
            if s is not None:
                overlap[gid, s] = overlap.get((gid, s), 0) + 1

    def best(pairs):
        return max(pairs, key=lambda kv: (kv[1], -kv[0]))[0] if pairs else None

    labels: dict[int, str] = {}
    for gid in groups:
        s = best([(s, n) for (g, s), n in overlap.items() if g == gid])
        if s is not None and best([(g, n) for (g, t), n in overlap.items() if t == s]) == gid:
            labels[gid] = group_label(s)
    free = (group_label(i) for i in range(len(groups) + len(labels) + 26) if group_label(i) not in labels.values())
    for gid in sorted(groups):
        if gid not in labels:
            labels[gid] = next(free)
    return labels


@dataclass(frozen=True)
class GroupView:
    """One opinion group: its id in the result, its report letter and its members' participant ids."""

    id: int
    label: str
    members: tuple[int, ...]
    center: tuple[float, float]

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True)
class RepView:
    """One representative statement of a group (polis-math.md §7): the side it stands for and its scores."""

    statement_id: int
    side: str  # "agree" or "disagree"
    repness: float
    repness_test: float


@dataclass(frozen=True)
class MajorityView:
    """One statement of Pol.is's overall majority lists: its successes among the trials (all votes cast)."""

    statement_id: int
    n_success: int
    n_trials: int


@dataclass(frozen=True, eq=False)
class SnapshotView:
    """The figures of one snapshot, built once by :meth:`from_result` from its stored JSON.

    Attributes
    ----------
    statement_ids : (C,) statement ids, the columns of ``agree``/``disagree``/``votes``.
    groups : (G,) opinion groups, in the result's order; ``labels`` maps each id to its letter (A, B… by id).
    agree, disagree, votes : (G, C) int arrays, each group's agree and disagree votes and all votes cast.
    in_conv : participant ids placed in opinion groups.
    k : the number of groups chosen; ``silhouettes`` {k: silhouette} of the candidates.
    repness : {group id: representative statements, most representative first}.
    majority : {"agree"|"disagree": Pol.is's overall majority statements}.
    consensus, consensus_jeffreys, priorities : {statement id: score}.
    mod_out, meta, banned : statement ids moderated out, meta statement ids, participant ids excluded.
    base_cluster_centers : (B, 2) base-cluster centres in the projection; ``base_cluster_members`` their members.
    parameters : the analysis parameters (``algorithm_version``, ``z_90``…).
    k_scores : {k: score} of the candidate numbers of groups, or None (older snapshots).
    k_tied : whether two numbers of groups fit almost equally well, or None.
    bridging : {statement id: bridging score}, or None; ``bridging_interval`` {statement id: (low, high)}, or None.
    headline : statement ids the analysis proposes as the headline, or None; ``headline_jr`` whether that list
        gives every sizeable group a statement it agrees with (justified representation), or None.
    """

    statement_ids: tuple[int, ...]
    participants: int  # participants with a vote (banned left out), grouped or not
    groups: tuple[GroupView, ...]
    agree: np.ndarray
    disagree: np.ndarray
    votes: np.ndarray
    in_conv: tuple[int, ...]
    k: int
    silhouettes: Mapping[int, float]
    repness: Mapping[int, tuple[RepView, ...]]
    majority: Mapping[str, tuple[MajorityView, ...]]
    consensus: Mapping[int, float]
    consensus_jeffreys: Mapping[int, float]
    priorities: Mapping[int, float]
    mod_out: frozenset[int]
    meta: frozenset[int]
    banned: frozenset[int]
    base_cluster_centers: np.ndarray
    base_cluster_members: tuple[tuple[int, ...], ...]
    parameters: Mapping[str, Any]
    k_scores: Mapping[int, float] | None = None
    k_tied: bool | None = None
    bridging: Mapping[int, float] | None = None
    bridging_interval: Mapping[int, tuple[float, float]] | None = None
    headline: tuple[int, ...] | None = None
    headline_jr: bool | None = None
    headline_left_out: Mapping[int, int] | None = None  # {statement id: people who agreed with it and nothing listed}

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> SnapshotView:
        """The view of a stored result (``AnalysisResult.to_dict`` output, possibly from an older version)."""
        sids = tuple(int(s) for s in result.get("statement_ids", []))
        raw_groups = list(result.get("groups", []))
        labels = {g["id"]: group_label(i) for i, g in enumerate(sorted(raw_groups, key=lambda g: g["id"]))}
        # An import's groups are lettered as the source lettered its own (see :func:`source_labels`).
        labels.update({int(gid): str(label) for gid, label in (result.get("group_labels") or {}).items()})
        groups = tuple(
            GroupView(
                id=int(g["id"]),
                label=labels[g["id"]],
                members=tuple(int(p) for p in g.get("members", [])),
                center=tuple(float(c) for c in g.get("center", (0.0, 0.0))),
            )
            for g in raw_groups
        )
        shape = (len(groups), len(sids))
        gv = result.get("group_votes", {})

        def counts(f: str) -> np.ndarray:
            a = np.asarray(gv.get(f, []), dtype=np.int64)
            return a.reshape(shape) if a.size == shape[0] * shape[1] else np.zeros(shape, dtype=np.int64)

        def scores(name: str) -> dict[int, float]:
            return {int(k): float(v) for k, v in (result.get(name) or {}).items()}

        optional = {}
        if result.get("k_scores") is not None:
            optional["k_scores"] = scores("k_scores")
        if result.get("k_tied") is not None:
            optional["k_tied"] = bool(result["k_tied"])
        if result.get("bridging") is not None:
            optional["bridging"] = scores("bridging")
        if result.get("bridging_interval") is not None:
            optional["bridging_interval"] = {
                int(k): (float(v[0]), float(v[1]))
                for k, v in result["bridging_interval"].items()
                if v is not None and not any(x is None or math.isnan(float(x)) for x in v)
            }
        if result.get("headline") is not None:
            optional["headline"] = tuple(int(s) for s in result["headline"])
        if result.get("headline_jr") is not None:
            optional["headline_jr"] = bool(result["headline_jr"])
        if result.get("headline_left_out") is not None:
            optional["headline_left_out"] = {int(k): len(v) for k, v in result["headline_left_out"].items()}
        centers = np.asarray(result.get("base_cluster_centers", []), dtype=float).reshape(-1, 2)
        return cls(
            statement_ids=sids,
            participants=len(result.get("participant_ids", [])),
            groups=groups,
            agree=counts("A"),
            disagree=counts("D"),
            votes=counts("S"),
            in_conv=tuple(int(p) for p in result.get("in_conv", [])),
            k=int(result.get("k", 0)),
            silhouettes={int(k): float(v) for k, v in result.get("silhouettes", {}).items()},
            repness={
                int(gid): tuple(
                    RepView(
                        statement_id=int(r["statement_id"]),
                        side=r["repful_for"],
                        repness=float(r["repness"]),
                        repness_test=float(r["repness_test"]),
                    )
                    for r in reps
                )
                for gid, reps in result.get("repness", {}).items()
            },
            majority={
                side: tuple(
                    MajorityView(int(c["statement_id"]), int(c["n_success"]), int(c["n_trials"]))
                    for c in result.get("consensus", {}).get(side, [])
                )
                for side in ("agree", "disagree")
            },
            consensus=scores("group_aware_consensus"),
            consensus_jeffreys=scores("group_consensus_jeffreys"),
            priorities=scores("priorities"),
            mod_out=frozenset(int(s) for s in result.get("mod_out", [])),
            meta=frozenset(int(s) for s in result.get("meta", [])),
            banned=frozenset(int(p) for p in result.get("banned", [])),
            base_cluster_centers=centers,
            base_cluster_members=tuple(tuple(int(p) for p in m) for m in result.get("base_cluster_members", [])),
            parameters=dict(result.get("parameters", {})),
            **optional,
        )

    @property
    def labels(self) -> dict[int, str]:
        """{group id: letter}; letters follow the group ids (A is the lowest id), or an import's source groups."""
        return {g.id: g.label for g in self.groups}

    @property
    def groups_by_label(self) -> tuple[GroupView, ...]:
        """The groups in the report's order (A, B, C…)."""
        return tuple(sorted(self.groups, key=lambda g: (len(g.label), g.label)))

    @property
    def silhouette(self) -> float | None:
        """The silhouette of the chosen k, or None when it was not computed."""
        return self.silhouettes.get(self.k)

    def column(self, statement_id: int) -> int | None:
        """The statement's column in the (G, C) arrays, or None when the snapshot does not cover it."""
        return self._columns.get(statement_id)

    def tally(self, group_id: int, statement_id: int) -> tuple[int, int, int]:
        """(agree, disagree, votes) of one group on one statement; zeros when the snapshot does not cover it."""
        c = self.column(statement_id)
        if c is None:
            return 0, 0, 0
        g = self._rows[group_id]
        return int(self.agree[g, c]), int(self.disagree[g, c]), int(self.votes[g, c])

    def group_of(self) -> dict[int, int]:
        """{participant id: group id} of every grouped participant."""
        return {p: g.id for g in self.groups for p in g.members}

    @cached_property
    def _columns(self) -> dict[int, int]:
        return {sid: i for i, sid in enumerate(self.statement_ids)}

    @cached_property
    def _rows(self) -> dict[int, int]:
        return {g.id: i for i, g in enumerate(self.groups)}


VIEW_CACHE_SIZE = 32  # snapshots whose view each process keeps
_views: OrderedDict[tuple, SnapshotView] = OrderedDict()
_views_lock = threading.Lock()


def forget_views() -> None:
    """Forget the views this process keeps, as a fresh process would have none (tests that rewrite a snapshot)."""
    with _views_lock:
        _views.clear()


def view_of(snapshot) -> SnapshotView:
    """The view of an :class:`~participate.models.AnalysisSnapshot`, built once per snapshot in each process."""
    key = (snapshot.id, snapshot.consultation_id, snapshot.last_vote_id, snapshot.vote_count, snapshot.computed_at)
    with _views_lock:
        view = _views.get(key)
        if view is not None:
            _views.move_to_end(key)
            return view
    view = SnapshotView.from_result(snapshot.result or {})
    with _views_lock:
        _views[key] = view
        while len(_views) > VIEW_CACHE_SIZE:
            _views.popitem(last=False)
    return view
