"""The report data structure, robustness in the background, simulated voters and published snapshots."""

import hashlib
import math

import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import AnalysisRobustness, Participant, ReportSnapshot, Statement, VoteValue
from participate.services import publishing, report, simulate
from participate.services.snapshots import runner, store
from participate.services.snapshots import votes as snapshot_votes
from tests import factories
from tests.factories import CAMP_X, CAMP_Y, PEOPLE, hand_votes, make_hand_consultation

AGREE, DISAGREE, PASS = VoteValue.AGREE, VoteValue.DISAGREE, VoteValue.PASS


def test_empty_consultation_report_says_what_is_missing(make_consultation):
    consultation = make_consultation()
    data = report.build(db.session, consultation)
    assert not data["ready"] and data["analysis"] is None
    assert data["counts"] == {"participants": 0, "votes": 0, "statements": 3, "qualified": 0, "grouped": 0}
    assert data["thresholds"] == {"min_people": 7, "min_votes": 3}
    assert [r["overall"]["votes"] for r in data["statements"]] == [0, 0, 0]


def test_below_threshold_shows_raw_tallies(make_consultation):
    consultation = make_consultation()
    sid = consultation.statements[0].id
    for i, value in enumerate([AGREE, AGREE, DISAGREE, PASS]):
        factories.cast(db.session, consultation, f"p{i}", sid, value)
    runner.analyse(db.session, consultation.id)
    data = report.build(db.session, consultation)
    assert not data["ready"] and data["analysis"] is not None
    assert data["counts"]["participants"] == 4 and data["counts"]["qualified"] == 0
    row = report.statement_index(data)[sid]
    assert row["overall"] == {"agree": 2, "disagree": 1, "pass": 1, "votes": 4}
    assert data["groups"] == [] and data["common_ground"] == []


def test_hand_made_figures(make_consultation):
    consultation, sids, people = make_hand_consultation(make_consultation)
    votes = hand_votes()
    data = report.build(db.session, consultation)
    assert data["ready"]
    assert data["counts"]["participants"] == PEOPLE and data["counts"]["votes"] == len(votes)
    result = store.latest_snapshot(db.session, consultation).result
    assert result["k"] == 2
    groups = sorted(result["groups"], key=lambda g: g["id"])
    members = [{people.index(next(p for p in people if p.id == m)) for m in g["members"]} for g in groups]
    assert sorted(map(sorted, members)) == [list(CAMP_X), list(CAMP_Y)]
    assert [g["size"] for g in data["groups"]] == [len(m) for m in members]
    by_id = report.statement_index(data)
    for s, sid in enumerate(sids):
        row = by_id[sid]
        cast = [v for (p, t), v in votes.items() if t == s]
        assert row["overall"]["agree"] == cast.count(AGREE)
        assert row["overall"]["disagree"] == cast.count(DISAGREE)
        assert row["overall"]["pass"] == cast.count(PASS)
        shares, jeffreys = [], 0.0
        for g, group in enumerate(members):
            in_group = [v for (p, t), v in votes.items() if t == s and p in group]
            a, n = in_group.count(AGREE), len(in_group)
            assert (row["groups"][g]["agree"], row["groups"][g]["votes"]) == (a, n)
            shares.append(a / n)
            jeffreys += math.log((a + 0.5) / (n + 1))
        assert row["consensus_jeffreys"] == pytest.approx(math.exp(jeffreys / len(members)))
        assert row["divisiveness"] == pytest.approx(max(shares) - min(shares))
    assert data["common_ground"] == [sids[0]]
    assert by_id[sids[0]]["robust"] is not None


def test_robustness_is_stored_next_to_the_snapshot_and_pruned_with_it(make_consultation):
    consultation, _, _ = make_hand_consultation(make_consultation)
    snapshot = store.latest_snapshot(db.session, consultation)
    row = db.session.get(AnalysisRobustness, snapshot.id)
    assert row is not None and row.result["parameters"]["n_resamples"] == 200
    for _ in range(4):
        runner.analyse(db.session, consultation.id)
    assert db.session.scalar(select(func.count()).select_from(AnalysisRobustness)) == store.KEEP_SNAPSHOTS


def test_fragile_common_ground_loses_its_robust_mark(make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    assert report.statement_index(report.build(db.session, consultation))[sids[0]]["robust"] is True
    votes = hand_votes()
    for person in (9, 10, 20, 21):
        votes[(person, 0)] = DISAGREE  # now 6 of 10 in camp Y agree: still a majority, but a fragile one
    fragile, fsids, _ = make_hand_consultation(lambda *a, **k: _renamed(make_consultation, "fragile", **k), votes)
    row = report.statement_index(report.build(db.session, fragile))[fsids[0]]
    assert row["common"] == "agree" and row["robust"] is False


def _renamed(make_consultation, slug, **kwargs):
    kwargs.pop("slug", None)
    return make_consultation(slug, **kwargs)


def test_published_snapshot_does_not_change_after_more_votes(make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    published = publishing.publish(db.session, consultation)
    frozen = dict(published.report)
    assert len(published.token) >= 32 and published.vote_count == len(hand_votes())
    csv_bytes = snapshot_votes.canonical_csv(snapshot_votes.votes_until(db.session, consultation.id, 10**9))
    assert published.votes_sha256 == hashlib.sha256(csv_bytes).hexdigest()
    assert csv_bytes.startswith(b"participant_id,statement_id,vote\n")
    for i in range(5):
        factories.cast(db.session, consultation, f"late-{i}", sids[0], DISAGREE)
    runner.analyse(db.session, consultation.id)
    db.session.expire_all()
    again = db.session.get(ReportSnapshot, published.id)
    assert again.report == frozen and again.vote_count == len(hand_votes())
    assert report.build(db.session, consultation)["counts"]["votes"] == len(hand_votes()) + 5


def test_simulated_votes_mark_the_consultation_and_fill_a_sample(app, make_consultation):
    app.test_cli_runner().invoke(args=["init"])
    from participate.services import consultations

    sample = consultations.get_any(db.session, "public-interest-ai")
    added = simulate.simulate_votes(db.session, sample, 150, seed=3)
    assert sample.is_simulated
    n_statements = db.session.scalar(
        select(func.count()).select_from(Statement).where(Statement.consultation_id == sample.id)
    )
    assert 150 <= added <= 150 * n_statements
    xids = db.session.scalars(select(Participant.xid).where(Participant.consultation_id == sample.id)).all()
    assert len(xids) == 150 and all(x.startswith("simulated-") for x in xids)
    runner.analyse(db.session, sample.id)
    data = report.build(db.session, sample)
    assert data["ready"] and data["consultation"]["is_simulated"] and data["groups"]
    assert data["themes"] and data["grid"] is None
