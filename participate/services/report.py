"""The consensus report: a snapshot and the database rows turned into one plain data structure.

:func:`build` returns a dict of numbers, ids and texts (no sentences: those come from translatable templates),
so the same structure is rendered as HTML and PDF, downloaded as JSON and CSV, and frozen in a
:class:`~participate.models.ReportSnapshot` by :func:`publish`. Web requests only read: the analysis and its
checks (robustness, integrity) are computed by the background runner (:func:`analyse`).
"""

import hashlib
import io
import math
import secrets
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, timedelta
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from analysis import ALGORITHM_VERSION, csv_safe
from analysis import robustness as robustness_math

from ..config import Defaults
from ..models import (
    Account,
    AnalysisRobustness,
    AnalysisSnapshot,
    Consultation,
    CurrentVote,
    ReportSnapshot,
    Statement,
    StatementTheme,
    Vote,
    utcnow,
)
from . import N_, InvalidInput, NotFound, audit, integrity, moderation, results
from . import statements as statement_service
from .results import VoteArrays
from .snapshots import SnapshotView, store, view_of

REPORT_FORMAT = "participate-report/1"
MIN_PEOPLE = 7  # opinion groups are shown once this many people…
MIN_VOTES = 7  # …have each voted on this many statements (or on all of them, when there are fewer)
TOP = 5  # statements listed in the divisive and uncertain sections
POLIS_ATTRIBUTION = (
    "Data was gathered using the Polis software (compdemocracy.org/polis) and is sub-licensed under CC BY 4.0 "
    "with Attribution to The Computational Democracy Project."
)
SORTS = ("order", "votes", "agree", "consensus", "divisive", "pass")
MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 640, 400, 36


# ----------------------------------------------------------------------------------------------------
# Votes: what a snapshot was computed from, and their canonical export
# ----------------------------------------------------------------------------------------------------
def canonical_csv(votes: VoteArrays) -> bytes:
    """``participant_id,statement_id,vote`` rows sorted by participant then statement, LF line ends, UTF-8.

    Its SHA-256 identifies the exact votes a published report was computed from (agree = 1, disagree = -1,
    pass = 0).
    """
    order = np.lexsort((votes.statement_ids, votes.participant_ids))
    lines = ["participant_id,statement_id,vote"]
    lines += [
        f"{p},{s},{v}"
        for p, s, v in zip(
            votes.participant_ids[order].tolist(),
            votes.statement_ids[order].tolist(),
            votes.values[order].tolist(),
            strict=True,
        )
    ]
    return ("\n".join(lines) + "\n").encode()


@cache
def code_version() -> str:
    """The package version, the git commit when running from a checkout, and the algorithm version."""
    try:
        version = metadata.version("participate")
    except metadata.PackageNotFoundError:  # pragma: no cover - always installed in practice
        version = "unknown"
    commit = ""
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            commit = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            commit = ""
    return f"participate {version}{f' ({commit})' if commit else ''}; {ALGORITHM_VERSION}"[:100]


# ----------------------------------------------------------------------------------------------------
# The checks: robustness and integrity, computed by the background runner when voting pauses
# ----------------------------------------------------------------------------------------------------
def compute_robustness(
    session: Session,
    snapshot: AnalysisSnapshot,
    *,
    votes: VoteArrays | None = None,
    n_resamples: int = robustness_math.N_RESAMPLES,
    random_state=0,
) -> AnalysisRobustness:
    """Bootstrap the snapshot's claims over participants and store the check next to it (one commit).

    ``votes``: the snapshot's votes (:func:`results.votes_until`), when the caller has read them already.
    """
    started = time.perf_counter()
    if votes is None:
        votes = results.votes_until(session, snapshot.consultation_id, snapshot.last_vote_id)
    result = store.analysis_of(snapshot)
    check = robustness_math.assess(
        (votes.participant_ids, votes.statement_ids, votes.values),
        result,
        n_resamples=n_resamples,
        random_state=random_state,
    )
    row = session.get(AnalysisRobustness, snapshot.id) or AnalysisRobustness(snapshot_id=snapshot.id)
    row.result = check.to_dict()
    row.seconds = time.perf_counter() - started
    session.add(row)
    session.commit()
    return row


def checks_due(session: Session, snapshot: AnalysisSnapshot, *, more_coming: bool, checks_every: float) -> bool:
    """Whether to check ``snapshot`` now: nothing newer is waiting, or the latest check is ``checks_every`` s old.

    Newer votes in the database or the runner's ``more_coming`` mean another snapshot follows at once; checking
    this one would be wasted unless the report's check has fallen too far behind.
    """
    cid = snapshot.consultation_id
    if session.get(AnalysisRobustness, snapshot.id) is not None:
        return False
    last_vote_id = session.scalar(select(func.max(Vote.id)).where(Vote.consultation_id == cid)) or 0
    if not more_coming and last_vote_id <= snapshot.last_vote_id:
        return True
    checked_at = session.scalar(
        select(func.max(AnalysisRobustness.computed_at))
        .join(AnalysisSnapshot, AnalysisSnapshot.id == AnalysisRobustness.snapshot_id)
        .where(AnalysisSnapshot.consultation_id == cid)
    )
    if checked_at is None:
        return True
    if checked_at.tzinfo is None:  # SQLite keeps no time zone; every time stored is UTC
        checked_at = checked_at.replace(tzinfo=UTC)
    return utcnow() - checked_at >= timedelta(seconds=checks_every)


def compute_checks(session: Session, snapshot: AnalysisSnapshot) -> None:
    """The snapshot's integrity annex, then its robustness check, both on the votes the snapshot was computed from.

    Robustness goes last: its row marks the snapshot as checked (:func:`_snapshot_ids`), so the report never
    picks a snapshot whose annex is still being computed.
    """
    votes = results.votes_until(session, snapshot.consultation_id, snapshot.last_vote_id)
    integrity.compute(session, snapshot, votes=votes)
    compute_robustness(session, snapshot, votes=votes)


def analyse(
    session: Session,
    consultation_id: int,
    *,
    more_coming: Callable[[], bool] = lambda: False,
    checks_every: float = Defaults.ANALYSIS_CHECKS_INTERVAL_SECONDS,
    new_snapshot: bool = True,
) -> AnalysisSnapshot | None:
    """What the runner does: a new snapshot, then its checks when :func:`checks_due`.

    Snapshots are cheap and keep the next-statement draw and "your group" current; the checks cost several
    snapshots each, so under continuous voting they run once every ``checks_every`` seconds and once voting pauses,
    and the report shows the newest checked snapshot meanwhile. ``more_coming``: the runner's word that another run
    is already wanted (asked after the snapshot is stored). ``new_snapshot=False``: the latest snapshot began after
    the request and so answers it (another process made it); only its checks may still be owed.
    """
    if new_snapshot:
        snapshot = results.compute_snapshot(session, consultation_id)
    else:
        snapshot = results.latest_snapshot(session, consultation_id)
    if snapshot is not None and checks_due(session, snapshot, more_coming=more_coming(), checks_every=checks_every):
        compute_checks(session, snapshot)
    return snapshot


def _snapshot_ids(session: Session, consultation_id: int) -> tuple[int | None, int | None]:
    """The consultation's latest snapshot id and its newest checked one (with its robustness check).

    The report shows the newest checked snapshot, else the latest (its checks pending).
    """
    latest = session.scalar(
        select(func.max(AnalysisSnapshot.id)).where(AnalysisSnapshot.consultation_id == consultation_id)
    )
    checked = session.scalar(
        select(func.max(AnalysisRobustness.snapshot_id))
        .join(AnalysisSnapshot, AnalysisSnapshot.id == AnalysisRobustness.snapshot_id)
        .where(AnalysisSnapshot.consultation_id == consultation_id)
    )
    return latest, checked


# ----------------------------------------------------------------------------------------------------
# The report data structure
# ----------------------------------------------------------------------------------------------------
def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _share(n: int, d: int) -> float | None:
    return n / d if d else None


def _tally(a: int, d: int, s: int) -> dict:
    return {"agree": int(a), "disagree": int(d), "pass": int(s - a - d), "votes": int(s)}


def _map(view: SnapshotView) -> dict:
    """Base clusters scaled into an SVG box, with their opinion group; group centres for the labels."""
    centers = view.base_cluster_centers
    members = view.base_cluster_members
    group_of = view.group_of()
    labels = view.labels
    if len(centers) == 0:
        return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "clusters": [], "groups": []}
    lo, hi = centers.min(axis=0), centers.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)

    def place(xy):
        x = MAP_MARGIN + (xy[0] - lo[0]) / span[0] * (MAP_WIDTH - 2 * MAP_MARGIN)
        y = MAP_HEIGHT - MAP_MARGIN - (xy[1] - lo[1]) / span[1] * (MAP_HEIGHT - 2 * MAP_MARGIN)
        return round(float(x), 1), round(float(y), 1)

    biggest = max((len(m) for m in members), default=1) or 1
    clusters = []
    for xy, m in zip(centers, members, strict=True):
        if not m:
            continue
        gid = group_of.get(m[0])
        x, y = place(xy)
        clusters.append(
            {
                "x": x,
                "y": y,
                "size": len(m),
                "r": round(4 + 12 * math.sqrt(len(m) / biggest), 1),
                "group": labels.get(gid, "?") if gid is not None else None,
            }
        )
    groups = []
    for g in view.groups:
        x, y = place(g.center)
        groups.append({"label": g.label, "x": x, "y": y, "size": g.size})
    return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "clusters": clusters, "groups": groups}


BUILT_CACHE_SIZE = 16  # consultations whose built report each process keeps
_built: OrderedDict[tuple[str, int], tuple[tuple, dict]] = OrderedDict()
_built_lock = threading.Lock()


def build(session: Session, consultation: Consultation) -> dict:
    """The report as it stands: figures from the newest checked snapshot (:func:`_snapshot_ids`), counts from now.

    Building it reads every current vote (0.5 s for 2,000 people and 900 statements), so each process keeps the
    built report of its last :data:`BUILT_CACHE_SIZE` consultations, reused while nothing it shows has changed:
    the latest and the reported snapshot (new votes reach the counts with the next snapshot, seconds later), the
    statements (text, moderation, themes) and the consultation's own fields. Only ``newer_votes`` is counted on
    every call. Callers share the returned structure: they read it and never change it.
    """
    statements = session.scalars(
        select(Statement)
        .where(statement_service.reportable(consultation))
        .options(selectinload(Statement.themes))
        .order_by(Statement.id)
    ).all()
    latest_id, checked_id = _snapshot_ids(session, consultation.id)
    imported = consultation.imported_from_polis
    version = (latest_id, checked_id, imported, _consultation_fields(consultation), _statement_fields(statements))
    key = (str(session.get_bind().url), consultation.id)
    with _built_lock:
        cached = _built.get(key)
        hit = cached is not None and cached[0] == version
        if hit:
            _built.move_to_end(key)
    if hit:
        report = cached[1]
    else:
        shown = checked_id or latest_id
        report = _build(session, consultation, statements, shown, imported)
        with _built_lock:
            _built[key] = (version, report)
            _built.move_to_end(key)
            while len(_built) > BUILT_CACHE_SIZE:
                _built.popitem(last=False)
    if report["analysis"] is None:
        return report
    newer_votes = session.scalar(
        select(func.count())
        .select_from(Vote)
        .where(Vote.consultation_id == consultation.id, Vote.id > report["analysis"]["last_vote_id"])
    )
    return {**report, "analysis": {**report["analysis"], "newer_votes": newer_votes}}


def _consultation_fields(consultation: Consultation) -> tuple:
    return (
        consultation.slug,
        consultation.title,
        consultation.question,
        consultation.description,
        consultation.status,
        consultation.created_at,
        consultation.opened_at,
        consultation.closed_at,
        consultation.is_simulated,
        consultation.recruitment,
        consultation.moderation,  # which statements are reportable
        consultation.data_version,  # deleted votes leave the counts at once
        tuple(sorted((consultation.group_names or {}).items())),
    )


def _statement_fields(statements) -> tuple:
    return tuple((s.id, s.text, s.moderation, s.is_meta, s.origin, tuple(s.theme_names)) for s in statements)


def _build(session: Session, consultation: Consultation, statements, snapshot_id: int | None, imported: bool) -> dict:
    """The report without ``newer_votes``: the votes' tallies read now, the figures of snapshot ``snapshot_id``."""
    tallies: dict[int, list[int]] = {}
    for sid, value, n in session.execute(
        select(CurrentVote.statement_id, CurrentVote.value, func.count())
        .where(CurrentVote.consultation_id == consultation.id)
        .group_by(CurrentVote.statement_id, CurrentVote.value)
    ):
        t = tallies.setdefault(sid, [0, 0, 0])
        t[0 if value > 0 else 1 if value < 0 else 2] += n
    # Votes per participant, in one GROUP BY: the number of voters, of votes and of people past the threshold.
    # Only votes on the statements the report counts: not on meta, pending (pre-moderation) or rejected ones.
    per_person = np.array(
        session.scalars(
            select(func.count())
            .select_from(CurrentVote)
            .join(Statement, Statement.id == CurrentVote.statement_id)
            .where(CurrentVote.consultation_id == consultation.id, statement_service.counted(consultation))
            .group_by(CurrentVote.participant_id)
        ).all(),
        dtype=np.int64,
    )
    n_participants, n_votes = len(per_person), int(per_person.sum())
    n_statements = sum(not st.is_meta for st in statements)
    min_votes = min(MIN_VOTES, n_statements) if n_statements else MIN_VOTES
    qualified = int((per_person >= min_votes).sum())
    snapshot = session.get(AnalysisSnapshot, snapshot_id) if snapshot_id is not None else None
    robustness_row = session.get(AnalysisRobustness, snapshot_id) if snapshot_id is not None else None
    return assemble(
        consultation=consultation,
        statements=statements,
        tallies=tallies,
        n_participants=n_participants,
        n_votes=n_votes,
        qualified=qualified,
        min_votes=min_votes,
        snapshot=snapshot,
        robustness=robustness_row.result if robustness_row else None,
        imported=imported,
    )


def assemble(
    *,
    consultation,
    statements,
    tallies,
    n_participants,
    n_votes,
    qualified,
    min_votes,
    snapshot,
    robustness,
    imported,
) -> dict:
    """Put the report together from already-loaded rows (pure: no database access)."""
    view = view_of(snapshot) if snapshot else None
    ready = view is not None and qualified >= MIN_PEOPLE and view.k >= 1
    report: dict = {
        "format": REPORT_FORMAT,
        "consultation": {
            "slug": consultation.slug,
            "title": consultation.title,
            "question": consultation.question,
            "description": consultation.description or "",
            "status": consultation.status.value,
            "created_at": _iso(consultation.created_at),
            "opened_at": _iso(consultation.opened_at),
            "closed_at": _iso(consultation.closed_at),
            "is_simulated": bool(consultation.is_simulated),
            "recruitment": consultation.recruitment or "",
            "imported_from_polis": bool(imported),
        },
        "group_names": dict(getattr(consultation, "group_names", None) or {}),
        "counts": {
            "participants": int(n_participants),
            "votes": int(n_votes),
            "statements": sum(not st.is_meta for st in statements),  # meta statements stand apart
            "qualified": int(qualified),
            "grouped": len(view.in_conv) if ready else 0,
        },
        "thresholds": {"min_people": MIN_PEOPLE, "min_votes": int(min_votes)},
        "ready": ready,
        "analysis": None,
        "groups": [],
        "statements": [],
        "common_ground": [],
        "common_rejection": [],
        "majority": {"agree": [], "disagree": []},
        "divisive": [],
        "bridging": None,
        "headline": None,
        "headline_jr": None,
        "uncertain": [],
        "map": None,
        "themes": [],
        "grid": None,
        "attribution": POLIS_ATTRIBUTION if imported else None,
    }
    rows = []
    for st in statements:
        a, d, p = tallies.get(st.id, (0, 0, 0))
        rows.append(
            {
                "id": st.id,
                "text": st.text,
                "themes": st.theme_names,
                "is_meta": bool(st.is_meta),
                "origin": st.origin.value,
                "overall": _tally(a, d, a + d + p),
                "pass_rate": _share(p, a + d + p),
                "groups": [],
                "consensus": None,
                "consensus_jeffreys": None,
                "divisiveness": None,
                "common": None,
                "robust": None,
                "bridging": None,
                "bridging_interval": None,
            }
        )
    report["statements"] = rows
    _themes(report)
    if snapshot is not None:
        params = dict(view.parameters)
        report["analysis"] = {
            "snapshot_id": snapshot.id,
            "computed_at": _iso(snapshot.computed_at),
            "seconds": round(float(snapshot.seconds), 3),
            "vote_count": int(snapshot.vote_count),
            "last_vote_id": int(snapshot.last_vote_id),
            "k": view.k,
            "silhouettes": {str(k): round(v, 4) for k, v in view.silhouettes.items()},
            "silhouette": round(view.silhouette, 4) if view.silhouette is not None else None,
            "k_scores": {str(k): round(v, 4) for k, v in view.k_scores.items()} if view.k_scores is not None else None,
            "k_tied": view.k_tied,
            "base_clusters": len(view.base_cluster_members),
            "algorithm_version": params.get("algorithm_version", ALGORITHM_VERSION),
            "parameters": params,
            "robustness": robustness.get("parameters") if robustness else None,
            "excluded_participants": len(view.banned),
        }
    _uncertain(report)
    if not ready:
        return report
    _analysed(report, view, robustness)
    return report


def theme_label(name: str) -> str:
    """A theme tag as readers see it: ``use:facial-recognition`` → "facial recognition" (the key stays in data).

    Otherwise as the facilitators wrote it: a tag is their text, in the consultation's language, not interface text.
    """
    return name.split(":", 1)[-1].replace("-", " ").replace("_", " ").strip() or name


def _themes(report: dict) -> None:
    """Statements grouped by theme, and the use-by-condition grid when there are ``use:``/``condition:`` tags."""
    names: dict[str, list[int]] = {}
    for row in report["statements"]:
        for name in row["themes"]:
            names.setdefault(name, []).append(row["id"])
    report["themes"] = [{"name": n, "label": theme_label(n), "statements": ids} for n, ids in sorted(names.items())]
    uses = [n for n in names if n.startswith("use:")]
    conditions = [n for n in names if n.startswith("condition:")]
    if not uses or not conditions:
        return
    order = {row["id"]: i for i, row in enumerate(report["statements"])}
    first = {n: min(order[i] for i in names[n]) for n in names}
    uses.sort(key=first.get)
    conditions.sort(key=first.get)
    cells = {}
    for row in report["statements"]:
        u = next((t for t in row["themes"] if t.startswith("use:")), None)
        c = next((t for t in row["themes"] if t.startswith("condition:")), None)
        if u and c:
            cells.setdefault(u, {}).setdefault(c, []).append(row["id"])
    report["grid"] = {
        "uses": [{"name": u, "label": theme_label(u)} for u in uses],
        "conditions": [{"name": c, "label": theme_label(c)} for c in conditions],
        "cells": cells,
    }


def _uncertain(report: dict) -> None:
    """The statements people were least sure about: highest pass rate, among those with a few votes."""
    cand = [
        r for r in report["statements"] if not r["is_meta"] and r["overall"]["votes"] >= 3 and r["overall"]["pass"] > 0
    ]
    cand.sort(key=lambda r: (-r["pass_rate"], -r["overall"]["votes"], r["id"]))
    report["uncertain"] = [r["id"] for r in cand[:TOP]]


def _analysed(report: dict, view: SnapshotView, robustness: dict | None) -> None:
    """Fill in everything that needs the analysis: groups, common ground, division, map, robustness."""
    groups = view.groups_by_label
    grouped = len(view.in_conv)
    rb = robustness_math.Robustness.from_dict(robustness) if robustness else None
    rb_col = {sid: i for i, sid in enumerate(rb.statement_ids.tolist())} if rb else {}
    rb_group = {gid: i for i, gid in enumerate(rb.group_ids.tolist())} if rb else {}
    robust = (
        {name: rb.robust(name) for name in ("common_agree", "common_disagree", "distinct_agree", "distinct_disagree")}
        if rb
        else None
    )

    def interval(kind: str, gid: int, sid: int):
        if rb is None or sid not in rb_col or gid not in rb_group:
            return None
        lo, hi = getattr(rb, f"{kind}_interval")[rb_group[gid], rb_col[sid]]
        return None if math.isnan(lo) else [round(float(lo), 4), round(float(hi), 4)]

    def group_tally(gid: int, sid: int) -> dict:
        a, d, s = view.tally(gid, sid)
        return _tally(a, d, s)

    names = report.get("group_names") or {}
    report["groups"] = [
        {
            "id": g.id,
            "label": g.label,
            "name": names.get(g.label) or None,
            "size": g.size,
            "share": _share(g.size, grouped),
        }
        for g in groups
    ]
    by_id = {r["id"]: r for r in report["statements"]}
    # Out of every list: the analysis's mod-out and meta statements, and those marked meta since it ran.
    mod_out = view.mod_out | view.meta | {r["id"] for r in report["statements"] if r["is_meta"]}
    for row in report["statements"]:
        sid = row["id"]
        row["groups"] = []
        for g in groups:
            t = group_tally(g.id, sid)
            t["label"] = g.label
            t["agree_interval"] = interval("agree", g.id, sid)
            t["disagree_interval"] = interval("disagree", g.id, sid)
            row["groups"].append(t)
        if view.column(sid) is not None:
            row["consensus"] = view.consensus.get(sid)
            row["consensus_jeffreys"] = view.consensus_jeffreys.get(sid)
        if view.bridging is not None and sid not in mod_out:
            row["bridging"] = view.bridging.get(sid)
            iv = (view.bridging_interval or {}).get(sid)
            row["bridging_interval"] = [round(iv[0], 4), round(iv[1], 4)] if iv else None
        shares = [_share(t["agree"], t["votes"]) for t in row["groups"] if t["votes"]]
        if len(shares) >= 2 and len(shares) == len(row["groups"]):
            row["divisiveness"] = max(shares) - min(shares)
        voted_everywhere = all(t["votes"] for t in row["groups"]) and row["groups"] and sid not in mod_out
        if voted_everywhere and all(t["agree"] * 2 > t["votes"] for t in row["groups"]):
            row["common"] = "agree"
        elif voted_everywhere and all(t["disagree"] * 2 > t["votes"] for t in row["groups"]):
            row["common"] = "disagree"
        if row["common"] and robust is not None and sid in rb_col:
            row["robust"] = bool(robust[f"common_{row['common']}"][rb_col[sid]])

    common = [r for r in report["statements"] if r["common"] == "agree"]
    common.sort(key=lambda r: (-(r["consensus"] or 0), -(r["consensus_jeffreys"] or 0), r["id"]))
    report["common_ground"] = [r["id"] for r in common]
    rejected = [r for r in report["statements"] if r["common"] == "disagree"]
    rejected.sort(key=lambda r: (-min(t["disagree"] / t["votes"] for t in r["groups"]), r["id"]))
    report["common_rejection"] = [r["id"] for r in rejected]
    for side in ("agree", "disagree"):
        report["majority"][side] = [
            {"statement_id": c.statement_id, "n_success": c.n_success, "n_trials": c.n_trials}
            for c in view.majority[side]
            if c.statement_id in by_id and c.statement_id not in mod_out
        ]
    divisive = [r for r in report["statements"] if r["divisiveness"] is not None and r["id"] not in mod_out]
    divisive.sort(key=lambda r: (-r["divisiveness"], r["id"]))
    report["divisive"] = [r["id"] for r in divisive[:TOP] if r["divisiveness"] > 0]
    if view.bridging is not None:
        bridging = [r for r in report["statements"] if r.get("bridging") is not None]
        bridging.sort(key=lambda r: (-r["bridging"], r["id"]))
        report["bridging"] = [r["id"] for r in bridging[:TOP]]
    if view.headline is not None:
        report["headline"] = [sid for sid in view.headline if sid in by_id and sid not in mod_out]
        report["headline_jr"] = view.headline_jr

    for entry, g in zip(report["groups"], groups, strict=True):
        reps = []
        for rep in view.repness.get(g.id, ()):
            sid = rep.statement_id
            if sid not in by_id or sid in mod_out:
                continue
            inside = group_tally(g.id, sid)
            others = [group_tally(h.id, sid) for h in groups if h.id != g.id]
            outside = _tally(
                sum(t["agree"] for t in others), sum(t["disagree"] for t in others), sum(t["votes"] for t in others)
            )
            flag = None
            if robust is not None and sid in rb_col and g.id in rb_group:
                flag = bool(robust[f"distinct_{rep.side}"][rb_group[g.id], rb_col[sid]])
            reps.append(
                {
                    "statement_id": sid,
                    "side": rep.side,
                    "inside": inside,
                    "outside": outside,
                    "interval": interval(rep.side, g.id, sid),
                    "robust": flag,
                    "repness": round(rep.repness, 4),
                    "repness_test": round(rep.repness_test, 4),
                }
            )
        entry["repness"] = reps
    report["map"] = _map(view)
    for theme in report["themes"]:
        means = []
        for i in range(len(groups)):
            shares = [
                _share(by_id[s]["groups"][i]["agree"], by_id[s]["groups"][i]["votes"])
                for s in theme["statements"]
                if by_id[s]["groups"][i]["votes"]
            ]
            means.append(sum(shares) / len(shares) if shares else None)
        theme["group_mean_agree"] = means


# ----------------------------------------------------------------------------------------------------
# Reading helpers for the views and downloads
# ----------------------------------------------------------------------------------------------------
def statement_index(report: dict) -> dict[int, dict]:
    return {r["id"]: r for r in report["statements"]}


def sorted_statements(report: dict, sort: str = "order", theme: str | None = None) -> list[dict]:
    """The "all statements" table: sorted by ``sort`` (one of :data:`SORTS`), optionally one theme only."""
    rows = [r for r in report["statements"] if not theme or theme in r["themes"]]
    keys = {
        "order": lambda r: r["id"],
        "votes": lambda r: (-r["overall"]["votes"], r["id"]),
        "agree": lambda r: (-(_share(r["overall"]["agree"], r["overall"]["votes"]) or -1), r["id"]),
        "consensus": lambda r: (-(r["consensus_jeffreys"] if r["consensus_jeffreys"] is not None else -1), r["id"]),
        "divisive": lambda r: (-(r["divisiveness"] if r["divisiveness"] is not None else -1), r["id"]),
        "pass": lambda r: (-(r["pass_rate"] if r["pass_rate"] is not None else -1), r["id"]),
    }
    return sorted(rows, key=keys.get(sort, keys["order"]))


def to_csv(report: dict) -> str:
    """One row per statement with every figure of the report; group columns follow the group letters."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    labels = [g["label"] for g in report["groups"]]
    header = [
        "statement_id",
        "text",
        "themes",
        "is_meta",
        "votes",
        "agree",
        "disagree",
        "pass",
        "agree_share",
        "disagree_share",
        "pass_share",
        "group_aware_consensus",
        "group_consensus_jeffreys",
        "divisiveness",
        "common_ground",
        "robust",
    ]
    for label in labels:
        header += [
            f"group_{label}_votes",
            f"group_{label}_agree",
            f"group_{label}_disagree",
            f"group_{label}_pass",
            f"group_{label}_agree_share",
            f"group_{label}_agree_low90",
            f"group_{label}_agree_high90",
        ]
    writer.writerow(header)

    def num(x):
        return "" if x is None else f"{x:.4f}"

    for r in report["statements"]:
        o = r["overall"]
        row = [
            r["id"],
            r["text"],
            ";".join(r["themes"]),
            int(r["is_meta"]),
            o["votes"],
            o["agree"],
            o["disagree"],
            o["pass"],
            num(_share(o["agree"], o["votes"])),
            num(_share(o["disagree"], o["votes"])),
            num(_share(o["pass"], o["votes"])),
            num(r["consensus"]),
            num(r["consensus_jeffreys"]),
            num(r["divisiveness"]),
            r["common"] or "",
            "" if r["robust"] is None else int(r["robust"]),
        ]
        for t in r["groups"]:
            iv = t["agree_interval"] or [None, None]
            row += [
                t["votes"],
                t["agree"],
                t["disagree"],
                t["pass"],
                num(_share(t["agree"], t["votes"])),
                num(iv[0]),
                num(iv[1]),
            ]
        writer.writerow(row)
    return out.getvalue()


def votes_sha256(session: Session, consultation: Consultation, analysis: dict | None) -> str:
    """SHA-256 of the :func:`canonical_csv` of the votes a report's analysis was computed from (all when none)."""
    if analysis is None:
        votes = results.current_votes(session, consultation.id)
    else:
        votes = results.votes_until(session, consultation.id, analysis["last_vote_id"])
    return hashlib.sha256(canonical_csv(votes)).hexdigest()


# ----------------------------------------------------------------------------------------------------
# Published snapshots
# ----------------------------------------------------------------------------------------------------
def publish(session: Session, consultation: Consultation, *, account: Account | None = None) -> ReportSnapshot:
    """Freeze the report as it stands now, with the analysis, the votes' SHA-256 and the code version."""
    report = build(session, consultation)
    snapshot = session.get(AnalysisSnapshot, report["analysis"]["snapshot_id"]) if report["analysis"] else None
    if snapshot is not None:
        votes = results.votes_until(session, consultation.id, snapshot.last_vote_id)
        robustness_row = session.get(AnalysisRobustness, snapshot.id)
        analysis = {"result": store.document(snapshot), "robustness": robustness_row.result if robustness_row else None}
        analysis["integrity"] = integrity.for_snapshot(session, snapshot.id)  # frozen with it
    else:
        votes = results.current_votes(session, consultation.id)
        analysis = None
    published = ReportSnapshot(
        token=secrets.token_urlsafe(24),
        consultation_id=consultation.id,
        published_by_id=account.id if account is not None else None,
        analysis_snapshot_id=snapshot.id if snapshot else None,
        vote_count=len(votes),
        votes_sha256=hashlib.sha256(canonical_csv(votes)).hexdigest(),
        moderation_sha256=hashlib.sha256(moderation.canonical_log_csv(session, consultation.id)).hexdigest(),
        code_version=code_version(),
        report=report,
        analysis=analysis,
    )
    session.add(published)
    session.flush()
    audit.record(session, account, consultation, "report_published", token=published.token, votes=len(votes))
    session.commit()
    return published


def get_published(session: Session, token: str) -> ReportSnapshot:
    """A published report by its token."""
    published = session.scalar(select(ReportSnapshot).where(ReportSnapshot.token == token)) if token else None
    if published is None:
        raise NotFound(N_("There is no published report at this address."))
    return published


def published_list(session: Session, consultation: Consultation) -> list[ReportSnapshot]:
    """The consultation's published reports, newest first."""
    return list(
        session.scalars(
            select(ReportSnapshot)
            .where(ReportSnapshot.consultation_id == consultation.id)
            .order_by(ReportSnapshot.id.desc())
        )
    )


# ----------------------------------------------------------------------------------------------------
# Themes: the facilitator's tags on statements
# ----------------------------------------------------------------------------------------------------
THEME_MAX_LENGTH = 60
THEMES_PER_STATEMENT = 12


def parse_themes(text: str) -> list[str]:
    """Comma- or line-separated theme names, trimmed, without repeats; e.g. ``"use:policing, condition:never"``."""
    names = []
    for part in (text or "").replace("\n", ",").split(","):
        name = " ".join(part.split())
        if not name:
            continue
        if len(name) > THEME_MAX_LENGTH:
            raise InvalidInput(
                N_("The theme “%(start)s…” is longer than %(most)d characters."), start=name[:20], most=THEME_MAX_LENGTH
            )
        if name not in names:
            names.append(name)
    if len(names) > THEMES_PER_STATEMENT:
        raise InvalidInput(N_("A statement can have at most %(most)d themes."), most=THEMES_PER_STATEMENT)
    return names


def set_themes(session: Session, account: Account | None, consultation: Consultation, wanted: dict[int, str]) -> int:
    """Replace the themes of the given statements (id → comma-separated names); returns how many changed."""
    parsed = {sid: parse_themes(text) for sid, text in wanted.items()}  # all validated before anything changes
    rows = session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id, Statement.id.in_(list(parsed)))
    ).all()
    changed = 0
    for statement in rows:
        names = parsed[statement.id]
        if sorted(names) == sorted(statement.theme_names):
            continue
        kept = {t.name: t for t in statement.themes}
        statement.themes = [kept.get(name) or StatementTheme(name=name) for name in names]
        changed += 1
    if changed:
        audit.record(session, account, consultation, "themes_changed", statements=changed)
    session.commit()
    return changed


# ----------------------------------------------------------------------------------------------------
# Group names: what the facilitators call each opinion group in the brief
# ----------------------------------------------------------------------------------------------------
GROUP_NAME_MAX_LENGTH = 60


def set_group_names(
    session: Session, account: Account | None, consultation: Consultation, wanted: dict[str, str]
) -> int:
    """Name the opinion groups by letter (``{"A": "Cautious adopters"}``; empty clears); returns how many changed.

    Names follow the letters, so a facilitator checks them when new votes regroup people.
    """
    names = dict(consultation.group_names or {})
    cleaned = {}
    for label, text in wanted.items():
        if not (len(label) == 1 and "A" <= label <= "Z"):
            raise InvalidInput(N_("There is no opinion group “%(label)s”."), label=label[:5])
        name = " ".join((text or "").split())
        if len(name) > GROUP_NAME_MAX_LENGTH:
            raise InvalidInput(
                N_("The name of group %(label)s is longer than %(most)d characters."),
                label=label,
                most=GROUP_NAME_MAX_LENGTH,
            )
        cleaned[label] = name
    changed = 0
    for label, name in cleaned.items():
        if names.get(label, "") == name:
            continue
        if name:
            names[label] = name
        else:
            names.pop(label, None)
        changed += 1
    if changed:
        consultation.group_names = names
        audit.record(session, account, consultation, "group_names_changed", groups=changed)
    session.commit()
    return changed
