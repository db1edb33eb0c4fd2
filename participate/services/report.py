"""The consensus report: a snapshot and the database rows turned into one plain data structure.

:func:`build` returns a dict of numbers, ids and texts (no sentences: those come from translatable templates),
so the same structure is rendered as HTML and PDF, downloaded as JSON and CSV, and frozen in a
:class:`~participate.models.ReportSnapshot` by :func:`participate.services.publishing.publish`. Web requests only
read: the analysis and its checks (robustness, integrity) are computed by the background runner
(:func:`participate.services.snapshots.runner.analyse`).
"""

import hashlib
import json
import math
import threading
from collections import OrderedDict

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from analysis import ALGORITHM_VERSION, evidence
from analysis import robustness as robustness_math

from ..models import (
    AnalysisSnapshot,
    AuditLogEntry,
    Consultation,
    CurrentVote,
    ModerationLogEntry,
    ModerationState,
    Participant,
    Statement,
    Vote,
)
from . import polis_exchange, population, report_map, shared_cache
from . import statements as statement_service
from .snapshots import SnapshotView, checks, integrity, store, view_of
from .snapshots import votes as snapshot_votes

REPORT_FORMAT = "participate-report/1"
MIN_PEOPLE = 7  # opinion groups are shown once this many people…
MIN_VOTES = 7  # …have each voted on this many statements (or on all of them, when there are fewer)
TOP = 5  # statements listed in the divisive and uncertain sections
POLIS_ATTRIBUTION = (
    "Data was gathered using the Polis software (compdemocracy.org/polis) and is sub-licensed under CC BY 4.0 "
    "with Attribution to The Computational Democracy Project."
)
SORTS = ("order", "votes", "agree", "consensus", "divisive", "pass")


def _snapshot_ids(session: Session, consultation_id: int) -> tuple[int | None, int | None]:
    """The consultation's latest snapshot id and its newest checked one (with its robustness check).

    The report shows the newest checked snapshot, else the latest (its checks pending).
    """
    return session.scalar(store.latest_id(consultation_id)), session.scalar(store.checked_id(consultation_id))


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _share(n: int, d: int) -> float | None:
    return n / d if d else None


def _tally(a: int, d: int, s: int) -> dict:
    return {"agree": int(a), "disagree": int(d), "pass": int(s - a - d), "votes": int(s)}


BUILT_CACHE_SIZE = 16  # consultations whose built report each process keeps in memory, in front of the shared cache
_built: OrderedDict[tuple[str, int], tuple[str, dict]] = OrderedDict()
_built_lock = threading.Lock()


def forget_built() -> None:
    """Forget the reports this process keeps in memory, as a fresh process would have none (tests, benchmarks)."""
    with _built_lock:
        _built.clear()


def build(session: Session, consultation: Consultation) -> dict:
    """The report as it stands: figures from the newest checked snapshot (:func:`_snapshot_ids`), counts from now.

    Building it reads every current vote (0.5 s for 2,000 people and 900 statements; tens of seconds for a million
    votes), so it is built once for all processes: the analysis runner builds it after each snapshot and stores it
    in the shared cache (:mod:`.shared_cache`) under a key of everything it shows — the snapshot it reports, the
    moderation counts, the statements (text, moderation, themes) and the consultation's own fields — and a caller
    that misses builds it only if no other process is building it (else it waits for that one). Each process also
    keeps the last :data:`BUILT_CACHE_SIZE` in memory. Only ``newer_votes`` is counted on every call. Callers share the
    returned structure: they read it and never change it.
    """
    return _lookup(session, consultation, build=True)


def cached(session: Session, consultation: Consultation) -> dict | None:
    """The report if some process has built it for what the consultation shows now, else None; never builds (for
    requests that must not do heavy work: anonymous ones, and staff pages of a large consultation)."""
    return _lookup(session, consultation, build=False)


def vote_count_at_least(session: Session, consultation: Consultation, floor: int) -> bool:
    """Whether the consultation holds at least ``floor`` votes (how heavy a report build is): the latest snapshot's
    count (one indexed read), or before the first snapshot a count that stops at ``floor`` rows."""
    analysed = session.scalar(
        select(AnalysisSnapshot.vote_count).where(
            AnalysisSnapshot.id == store.latest_id(consultation.id).scalar_subquery()
        )
    )
    if analysed is not None and analysed >= floor:
        return True
    some = select(CurrentVote.participant_id).where(CurrentVote.consultation_id == consultation.id).limit(floor)
    return session.scalar(select(func.count()).select_from(some.subquery())) >= floor


def _lookup(session: Session, consultation: Consultation, *, build: bool) -> dict | None:
    statements = session.scalars(
        select(Statement)
        .where(statement_service.reportable(consultation))
        .options(selectinload(Statement.themes))
        .order_by(Statement.id)
    ).all()
    latest_id, checked_id = _snapshot_ids(session, consultation.id)
    shown = checked_id or latest_id
    imported = consultation.imported_from_polis
    moderated = _moderation(session, consultation, imported)
    # A newer snapshot still being checked changes nothing the report shows: only the snapshot shown is in the key
    # (the runner would otherwise rebuild the report after every snapshot of a busy consultation).
    version = (
        shown,
        imported,
        moderated,
        _consultation_fields(consultation),
        _statement_fields(statements),
        population.fingerprint(session, consultation),
    )
    digest = hashlib.sha256(json.dumps(version, default=str).encode()).hexdigest()[:40]
    name = shared_cache.key("report", consultation.id, digest)
    key = (str(session.get_bind().url), consultation.id)
    with _built_lock:
        cached = _built.get(key)
        hit = cached is not None and cached[0] == name
        if hit:
            _built.move_to_end(key)
    if hit:
        report = cached[1]
    else:

        def make() -> bytes:
            return json.dumps(build_fresh(session, consultation, statements, shown, imported, moderated)).encode()

        if build:
            blob = shared_cache.get_or_build(session, name, make, consultation_id=consultation.id)
        else:
            blob = shared_cache.get(session, name)
        if blob is None:
            return None
        report = json.loads(blob)
        with _built_lock:
            _built[key] = (name, report)
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


def floors_of(consultation: Consultation) -> evidence.Floors:
    """The consultation's evidence floors: the defaults unless its facilitators raised them (never lower)."""
    return evidence.Floors.raised(
        getattr(consultation, "floor_voters", None), getattr(consultation, "floor_group_voters", None)
    )


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
        consultation.vote_times,
        tuple(sorted((consultation.group_names or {}).items())),
        consultation.language,
        consultation.organiser,
        floors_of(consultation),
    )


def _statement_fields(statements) -> tuple:
    return tuple(
        (s.id, s.text, s.moderation, s.is_meta, s.about_participants, s.origin, tuple(s.theme_names), s.source_id)
        for s in statements
    )


def build_fresh(
    session: Session, consultation: Consultation, statements, snapshot_id: int | None, imported: bool, moderated: dict
) -> dict:
    """The report without ``newer_votes``: every count from the votes snapshot ``snapshot_id`` was computed from.

    The heavy part of :func:`build`, which calls it on a miss; public so that tests can check who runs it.

    Counts, tallies and the analysis's figures thus describe the same votes (those whose SHA-256 a published report
    names); with no snapshot yet, the current votes. Banned participants' votes count nowhere, as in the analysis.
    """
    snapshot = session.get(AnalysisSnapshot, snapshot_id) if snapshot_id is not None else None
    view = view_of(snapshot) if snapshot is not None else None
    if snapshot is not None:
        votes = snapshot_votes.votes_until(session, consultation.id, snapshot.last_vote_id)
        banned = np.fromiter(view.banned, dtype=np.int64)
    else:
        votes = snapshot_votes.current_votes(session, consultation.id)
        banned = np.array(
            session.scalars(
                select(Participant.id).where(
                    Participant.consultation_id == consultation.id, Participant.is_banned.is_(True)
                )
            ).all(),
            dtype=np.int64,
        )
    keep = ~np.isin(votes.participant_ids, banned)
    counted = [st.id for st in statements if not st.is_meta]
    groups = [g.members for g in view.groups_by_label] if view is not None else []
    tallies = evidence.tally(
        votes.participant_ids[keep],
        votes.statement_ids[keep],
        votes.values[keep],
        statements=[st.id for st in statements],
        groups=groups,
        counted=counted,
    )
    # Votes per participant on counted statements: who passed the threshold for opinion groups.
    on_counted = keep & np.isin(votes.statement_ids, counted)
    _, per_person = np.unique(votes.participant_ids[on_counted], return_counts=True)
    n_statements = len(counted)
    min_votes = min(MIN_VOTES, n_statements) if n_statements else MIN_VOTES
    qualified = int((per_person >= min_votes).sum())
    report = assemble(
        consultation=consultation,
        statements=statements,
        tallies=tallies,
        qualified=qualified,
        min_votes=min_votes,
        snapshot=snapshot,
        robustness=checks.robustness_of(session, snapshot_id),
        imported=imported,
    )
    # When people voted: the first and the last vote the report counts (of the snapshot, when there is one).
    span = select(func.min(Vote.created_at), func.max(Vote.created_at)).where(Vote.consultation_id == consultation.id)
    if snapshot is not None:
        span = span.where(Vote.id <= snapshot.last_vote_id)
    # An import whose source recorded no vote times has none to give (its votes carry the import's time).
    first_vote, last_vote = session.execute(span).one() if consultation.vote_times else (None, None)
    report["consultation"].update(first_vote=_iso(first_vote), last_vote=_iso(last_vote))
    report["moderation"] = moderated  # counted by the lookup, whose key they are part of
    report["integrity"] = _integrity(session, consultation, snapshot)
    if imported:
        report["source_counts"] = _source_counts(session, consultation, len(np.unique(votes.participant_ids[keep])))
    counted_votes = (votes.participant_ids[on_counted], votes.statement_ids[on_counted], votes.values[on_counted])
    report["population"] = population.section(session, consultation, report, counted_votes, view)
    return report


def _moderation(session: Session, consultation: Consultation, imported: bool) -> dict:
    """How many statements were submitted and how many moderators removed; for imports, how many the source did."""
    states = dict(
        session.execute(
            select(Statement.moderation, func.count())
            .where(Statement.consultation_id == consultation.id)
            .group_by(Statement.moderation)
        ).all()
    )
    in_source = 0
    if imported:
        in_source = session.scalar(
            select(func.count())
            .select_from(ModerationLogEntry)
            .where(
                ModerationLogEntry.consultation_id == consultation.id,
                ModerationLogEntry.reason == polis_exchange.REMOVED_IN_SOURCE,
            )
        )
    return {
        "submitted": int(sum(states.values())),
        "removed": int(states.get(ModerationState.REJECTED, 0)),
        "source": "import" if imported else "here",
        "removed_in_source": int(in_source),
    }


def _integrity(session: Session, consultation: Consultation, snapshot) -> dict:
    """The integrity annex as the report shows it, without anyone's id: counts, whether vote times exist, the lists."""
    annex = integrity.for_snapshot(session, snapshot.id) if snapshot is not None else None
    vote_times = bool(consultation.vote_times)
    if not annex:
        return {"computed": False, "flagged": None, "vote_times": vote_times}
    return {
        "computed": True,
        "flagged": len(annex.get("flagged", [])),
        "vote_times": bool(annex.get("vote_times", vote_times)),
        "flagged_by": annex.get("flagged_by"),
        "with_flagged": annex.get("with_flagged"),
        "without_flagged": annex.get("without_flagged"),
    }


def _source_counts(session: Session, consultation: Consultation, voters: int) -> dict | None:
    """An import's counts against its source's summary: who voted here, and on what the source counted them."""
    details = session.scalar(
        select(AuditLogEntry.details)
        .where(AuditLogEntry.consultation_id == consultation.id, AuditLogEntry.action == "imported")
        .order_by(AuditLogEntry.id)
        .limit(1)
    )
    summary = (details or {}).get("source_summary") or {}
    return {
        "voters": int(summary["voters"]) if "voters" in summary else None,
        "statements": int(summary["comments"]) if "comments" in summary else None,
        "imported_voters": voters,
    }


def assemble(
    *,
    consultation,
    statements,
    tallies: evidence.Tallies,
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
            "language": getattr(consultation, "language", None) or "en",
            "organiser": getattr(consultation, "organiser", None) or "",
        },
        "group_names": dict(getattr(consultation, "group_names", None) or {}),
        "counts": {
            "participants": tallies.participants,
            "votes": tallies.votes,
            "statements": sum(not st.is_meta for st in statements),  # meta statements stand apart
            "qualified": int(qualified),
            "grouped": len(view.in_conv) if ready else 0,
        },
        "thresholds": {"min_people": MIN_PEOPLE, "min_votes": int(min_votes)},
        "floor": floors_of(consultation).to_dict(),
        "thin": [],
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
        "headline_jr_line": None,
        "uncertain": [],
        "map": None,
        "themes": [],
        "grid": None,
        "attribution": POLIS_ATTRIBUTION if imported else None,
    }
    floors = floors_of(consultation)
    rows = []
    column = {int(sid): i for i, sid in enumerate(tallies.statement_ids.tolist())}
    for st in statements:
        a, d, p, _ = tallies.everyone[column[st.id]].tolist()
        rows.append(
            {
                "id": st.id,
                "text": st.text,
                "themes": st.theme_names,
                "is_meta": bool(st.is_meta),
                "origin": st.origin.value,
                "source_id": getattr(st, "source_id", None),
                "origin_stated": bool(getattr(st, "origin_stated", True)),
                "about_participants": bool(getattr(st, "about_participants", False)),
                "overall": _tally(a, d, a + d + p),
                "at_floor": floors.everyone(a + d + p),
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
    report["about_participants"] = [r["id"] for r in rows if r["about_participants"]]
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
    _analysed(report, view, robustness, tallies)
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


def _common(row: dict) -> str | None:
    """ "agree" or "disagree" when a majority of every group's voters took that side (every group voted)."""
    groups = row["groups"]
    if not groups or not all(t["votes"] for t in groups):
        return None
    if all(t["agree"] * 2 > t["votes"] for t in groups):
        return "agree"
    if all(t["disagree"] * 2 > t["votes"] for t in groups):
        return "disagree"
    return None


def _uncertain(report: dict) -> None:
    """The statements people were least sure about: highest pass rate, among those with a few votes."""
    cand = [
        r for r in report["statements"] if not r["is_meta"] and r["overall"]["votes"] >= 3 and r["overall"]["pass"] > 0
    ]
    cand.sort(key=lambda r: (-r["pass_rate"], -r["overall"]["votes"], r["id"]))
    report["uncertain"] = [r["id"] for r in cand[:TOP]]


def _analysed(report: dict, view: SnapshotView, robustness: dict | None, tallies: evidence.Tallies) -> None:
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

    column = {int(sid): i for i, sid in enumerate(tallies.statement_ids.tolist())}
    group_row = {g.id: i for i, g in enumerate(groups)}

    def group_tally(gid: int, sid: int) -> dict:
        a, d, _, s = tallies.groups[group_row[gid], column[sid]].tolist()
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
    floors = evidence.Floors.from_dict(report["floor"])
    thin: set[int] = set()  # statements a list would hold but for the floors
    # Out of every list: the analysis's mod-out and meta statements, and those marked meta since it ran.
    mod_out = view.mod_out | view.meta | {r["id"] for r in report["statements"] if r["is_meta"]}
    for row in report["statements"]:
        sid = row["id"]
        row["groups"] = []
        for g in groups:
            t = group_tally(g.id, sid)
            t["label"] = g.label
            t["at_floor"] = floors.group(t["votes"])
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

    # Common ground and rejection by all: one definition (analysis.evidence), floors included, shared with the annex.
    report["common_ground"] = evidence.common_ground(
        tallies, floors, consensus=view.consensus, consensus_jeffreys=view.consensus_jeffreys, exclude=mod_out
    )
    report["common_rejection"] = evidence.common_ground(tallies, floors, side="disagree", exclude=mod_out)
    common = dict.fromkeys(report["common_ground"], "agree") | dict.fromkeys(report["common_rejection"], "disagree")
    for row in report["statements"]:
        sid = row["id"]
        row["common"] = common.get(sid)
        if row["common"] is None and sid not in mod_out and _common(row):
            thin.add(sid)  # a majority in every group, but below a floor: no claim about every group
        if row["common"] and robust is not None and sid in rb_col:
            row["robust"] = bool(robust[f"common_{row['common']}"][rb_col[sid]])
    for side in ("agree", "disagree"):
        report["majority"][side] = [
            {"statement_id": c.statement_id, "n_success": c.n_success, "n_trials": c.n_trials}
            for c in view.majority[side]
            if c.statement_id in by_id and c.statement_id not in mod_out
        ]
    # A division contrasts groups at the floor only, and needs two of them.
    spread = {}
    for r in report["statements"]:
        if r["id"] in mod_out:
            continue
        at = [t["agree"] / t["votes"] for t in r["groups"] if t["at_floor"]]
        if len(at) >= 2 and max(at) > min(at):
            spread[r["id"]] = max(at) - min(at)
    report["divisive"] = sorted(spread, key=lambda sid: (-spread[sid], sid))[:TOP]
    unfloored = [r for r in report["statements"] if r["divisiveness"] and r["id"] not in mod_out]
    unfloored.sort(key=lambda r: (-r["divisiveness"], r["id"]))
    thin.update(r["id"] for r in unfloored[:TOP] if r["id"] not in spread)
    if view.bridging is not None:
        bridging = [r for r in report["statements"] if r.get("bridging") is not None and r["at_floor"]]
        bridging.sort(key=lambda r: (-r["bridging"], r["id"]))
        report["bridging"] = [r["id"] for r in bridging[:TOP]]
    if view.headline is not None:
        headline = [sid for sid in view.headline if sid in by_id and sid not in mod_out]
        report["headline"] = [sid for sid in headline if by_id[sid]["at_floor"]]
        thin.update(sid for sid in headline if not by_id[sid]["at_floor"])
        report["headline_jr"] = view.headline_jr
        # JR's n: everyone with a vote (banned left out); a block of n / k people is owed a statement
        report["headline_jr_line"] = {
            "holds": view.headline_jr,
            "people": view.participants,
            "size": len(view.headline),
            "left_out": [
                {"statement_id": sid, "people": n}
                for sid, n in sorted((view.headline_left_out or {}).items(), key=lambda kv: (-kv[1], kv[0]))
                if sid in by_id
            ],
        }
    # And whatever a majority of its few voters took one side on: "everyone agreed" is what would be quoted.
    thin.update(
        r["id"]
        for r in report["statements"]
        if r["id"] not in mod_out
        and not r["at_floor"]
        and max(r["overall"]["agree"], r["overall"]["disagree"]) * 2 > r["overall"]["votes"]
    )
    report["thin"] = sorted(thin, key=lambda sid: (-by_id[sid]["overall"]["votes"], sid))

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
                # nothing below a floor is robust
                flag = floors.group(inside["votes"]) and bool(
                    robust[f"distinct_{rep.side}"][rb_group[g.id], rb_col[sid]]
                )
            reps.append(
                {
                    "statement_id": sid,
                    "side": rep.side,
                    "inside": inside,
                    "outside": outside,
                    "interval": interval(rep.side, g.id, sid),
                    "robust": flag,
                    "at_floor": floors.group(inside["votes"]),
                    "repness": round(rep.repness, 4),
                    "repness_test": round(rep.repness_test, 4),
                }
            )
        entry["repness"] = reps
    report["map"] = report_map.geometry(view)
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


def participant_rows(session: Session, consultation: Consultation, report: dict) -> list[tuple]:
    """``(participant_id, source_participant_id, group_id, source_group)`` of everyone who voted, by our id.

    The group is the one in the report's snapshot (None when the person is in no group, or the report has none).
    """
    snapshot_id = (report.get("analysis") or {}).get("snapshot_id")
    snapshot = session.get(AnalysisSnapshot, snapshot_id) if snapshot_id is not None else None
    group_of = view_of(snapshot).group_of() if snapshot is not None and report.get("ready") else {}
    voters = select(CurrentVote.participant_id).where(CurrentVote.consultation_id == consultation.id).distinct()
    return [
        (pid, source_id, group_of.get(pid), source_group)
        for pid, source_id, source_group in session.execute(
            select(Participant.id, Participant.source_id, Participant.source_group)
            .where(Participant.consultation_id == consultation.id, Participant.id.in_(voters))
            .order_by(Participant.id)
        )
    ]


def group_letters(report: dict) -> dict[int, str]:
    """{group id: letter} of the report's groups."""
    return {g["id"]: g["label"] for g in report["groups"]}
