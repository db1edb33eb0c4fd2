"""The typed view of a stored snapshot, and the brief's use of the fields newer analyses add (issue 15)."""

import numpy as np
from sqlalchemy import delete, select

from analysis import run_analysis
from participate.extensions import db
from participate.models import AnalysisSnapshot, Consultation, SharedCache
from participate.services import brief, report, simulate
from participate.services.snapshots import SnapshotView
from participate.services.snapshots import view as snapshot_view


def demo_result():
    rng = np.random.default_rng(3)
    camp = np.repeat([0, 1], 12)
    pids, sids, values = [], [], []
    for p in range(24):
        for s in range(8):
            agree = (s < 4) == (camp[p] == 0) if s else True
            value = 1 if agree else -1
            if rng.random() < 0.1:
                value = 0
            pids.append(p)
            sids.append(100 + s)
            values.append(value)
    return run_analysis((np.array(pids), np.array(sids), np.array(values))).to_dict()


NEWER = ("k_scores", "k_tied", "bridging", "bridging_interval", "headline", "headline_jr")


def test_the_view_reads_a_result_and_leaves_missing_newer_fields_none():
    stored = {key: value for key, value in demo_result().items() if key not in NEWER}  # as stored before issue 15
    view = SnapshotView.from_result(stored)
    assert view.statement_ids == tuple(stored["statement_ids"])
    assert [g.label for g in view.groups_by_label] == ["A", "B"][: len(view.groups)]
    assert view.votes.shape == (len(view.groups), len(view.statement_ids))
    for i, g in enumerate(stored["groups"]):
        for c, sid in enumerate(stored["statement_ids"]):
            expected = (
                stored["group_votes"]["A"][i][c],
                stored["group_votes"]["D"][i][c],
                stored["group_votes"]["S"][i][c],
            )
            assert view.tally(g["id"], sid) == expected
    assert view.tally(view.groups[0].id, 999) == (0, 0, 0), "a statement the snapshot does not cover"
    assert view.k == stored["k"] and view.silhouette == stored["silhouettes"].get(str(stored["k"]))
    assert view.consensus == {int(k): v for k, v in stored["group_aware_consensus"].items()}
    assert (view.k_scores, view.k_tied, view.bridging, view.bridging_interval, view.headline, view.headline_jr) == (
        None,
        None,
        None,
        None,
        None,
        None,
    )
    newer = {
        **stored,
        "k_scores": {"2": 0.41, "3": 0.40},
        "k_tied": True,
        "bridging": {"100": 0.9, "101": 0.2},
        "bridging_interval": {"100": [0.8, 0.95], "101": [float("nan"), float("nan")]},
        "headline": [101, 100],
        "headline_jr": True,
    }
    view = SnapshotView.from_result(newer)
    assert view.k_scores == {2: 0.41, 3: 0.40} and view.k_tied is True and view.headline == (101, 100)
    assert view.bridging == {100: 0.9, 101: 0.2} and view.bridging_interval == {100: (0.8, 0.95)}


def test_the_brief_uses_the_headline_list_the_k_tie_and_bridging_when_the_snapshot_has_them(app):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    demo = db.session.scalar(select(Consultation).where(Consultation.slug == simulate.DEMO_SLUG))
    snapshot = db.session.scalar(select(AnalysisSnapshot).where(AnalysisSnapshot.consultation_id == demo.id))
    sids = snapshot.result["statement_ids"]
    bridging = {str(sid): sid / 1000 for sid in sids}  # the later a statement, the more it bridges
    snapshot.result = {  # as a newer analysis stores it, before anything has read this snapshot
        **snapshot.result,
        "k_scores": {"2": 0.52, "3": 0.51, "4": 0.3},
        "k_tied": True,
        "bridging": bridging,
        "bridging_interval": {sid: [s - 0.05, s + 0.05] for sid, s in bridging.items()},
        "headline": [sids[-1], sids[0]],
        "headline_jr": True,
    }
    # Stored snapshots never change, so the view and the report built from this one after `init` (cached by
    # snapshot id) would still show its old lists: forget them, as a newer snapshot would.
    db.session.execute(delete(SharedCache).where(SharedCache.consultation_id == demo.id))
    db.session.commit()
    report.forget_built()
    snapshot_view.forget_views()
    with app.test_request_context():
        data = report.build(db.session, demo)
        summary = brief.build(data)
    assert [item["statement_id"] for item in summary["headline"]] == [sids[-1], sids[0]]
    common = [item["statement_id"] for item in summary["common_ground"]]
    assert len(common) >= 2 and common == sorted(common, reverse=True), "most bridging first"
    assert any("fit two and three groups almost equally well" in line for line in summary["certainty"])
    assert {row["id"]: row["bridging"] for row in data["statements"] if row["bridging"] is not None} == {
        int(sid): score for sid, score in bridging.items() if int(sid) in {row["id"] for row in data["statements"]}
    }
