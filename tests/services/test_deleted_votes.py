"""Deleting one's data takes one's votes out of the results: the report, its downloads, priorities and snapshots."""

import pytest
from sqlalchemy import func, select

from participate import jobs
from participate.extensions import db
from participate.models import AnalysisSnapshot, ConsultationStatus, Participant, VoteValue
from participate.services import privacy, report
from participate.services.snapshots import runner, store
from participate.services.snapshots import votes as snapshot_votes
from tests import factories
from tests.factories import PEOPLE, hand_votes, make_hand_consultation

HAND_VOTES = len(hand_votes())


def _take_part(client, consultation, sids) -> None:
    """A newcomer votes on every statement through the page; then the analysis runs once, as a runner would after
    the burst (not after each vote, as the tests' synchronous runner does)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "analysis_wanted", lambda consultation_id: None)
        client.get("/c/hand")
        for sid in sids:
            assert client.post_form("/c/hand/vote", {"statement_id": sid, "vote": "agree"}).status_code == 302
    runner.analyse(db.session, consultation.id)


def _newest_participant() -> Participant:
    return db.session.scalar(select(Participant).order_by(Participant.id.desc()).limit(1))


def test_on_a_closed_consultation_deleted_votes_leave_the_report(client, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    # The newest votes: the ones a later snapshot's vote ids would not tell apart.
    _take_part(client, consultation, sids)
    consultation.status = ConsultationStatus.CLOSED
    db.session.commit()
    runner.analyse(db.session, consultation.id)
    before = client.get("/c/hand/report.json").get_json()["report"]
    assert before["counts"]["votes"] == HAND_VOTES + len(sids) and before["counts"]["participants"] == PEOPLE + 1
    assert before["analysis"]["vote_count"] == HAND_VOTES + len(sids)

    assert client.post_form("/c/hand/mine/delete", {"confirmed": "1"}).status_code == 302
    runner.analyse(db.session, consultation.id)  # what the runner does when asked after a deletion

    after = client.get("/c/hand/report.json").get_json()["report"]
    assert after["counts"]["votes"] == HAND_VOTES and after["counts"]["participants"] == PEOPLE
    assert after["analysis"]["vote_count"] == HAND_VOTES
    snapshot = db.session.get(AnalysisSnapshot, after["analysis"]["snapshot_id"])
    assert len(snapshot.result["participant_ids"]) == PEOPLE
    csv_votes = client.get("/c/hand/report.csv").get_data(as_text=True).splitlines()[1].split(",")
    assert int(csv_votes[4]) <= PEOPLE  # the first statement's votes: the hand-made people at most


def test_no_snapshot_with_the_deleted_votes_is_served_meanwhile(client, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    _take_part(client, consultation, sids)
    stale = store.latest_snapshot(db.session, consultation).id
    assert store.latest(db.session, consultation).snapshot_id == stale  # cached by this process
    privacy.delete_mine(db.session, _newest_participant())
    # Before any new analysis: the snapshots that counted the votes are gone, with their checks.
    assert db.session.get(AnalysisSnapshot, stale) is None
    view = store.latest(db.session, consultation)
    assert view is None or view.snapshot_id < stale
    data = report.build(db.session, consultation)
    assert data["analysis"] is None or data["analysis"]["vote_count"] <= HAND_VOTES
    assert data["counts"]["votes"] == HAND_VOTES


def test_an_analysis_that_read_the_deleted_votes_is_not_stored(client, make_consultation, monkeypatch):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    _take_part(client, consultation, sids)
    leaving = _newest_participant()
    analyse = store.run_analysis

    def deleted_meanwhile(*args, **kwargs):
        outcome = analyse(*args, **kwargs)  # computed from the votes read before the deletion
        privacy.delete_mine(db.session, leaving)
        return outcome

    monkeypatch.setattr(store, "run_analysis", deleted_meanwhile)
    store.compute_snapshot(db.session, consultation.id)
    monkeypatch.undo()
    counted = db.session.scalars(
        select(AnalysisSnapshot.vote_count).where(AnalysisSnapshot.consultation_id == consultation.id)
    ).all()
    assert all(n <= HAND_VOTES for n in counted)
    assert store.compute_snapshot(db.session, consultation.id).vote_count == HAND_VOTES


def test_snapshot_ids_are_never_reused(client, make_consultation):
    """A new snapshot never takes a deleted one's id (SQLite would, without AUTOINCREMENT): caches trust ids."""
    consultation, sids, _ = make_hand_consultation(make_consultation)
    _take_part(client, consultation, sids)
    highest = db.session.scalar(select(func.max(AnalysisSnapshot.id)))
    privacy.delete_mine(db.session, _newest_participant())
    assert (db.session.scalar(select(func.max(AnalysisSnapshot.id))) or 0) < highest
    assert store.compute_snapshot(db.session, consultation.id).id > highest


@pytest.mark.parametrize("mode", ["anonymise", "remove"])
def test_older_snapshots_without_the_votes_stay(make_consultation, mode):
    """Only the snapshots that counted a deleted vote go: older ones never saw it (and warm-start the next)."""
    consultation, _, _ = make_hand_consultation(make_consultation)
    kept = store.latest_snapshot(db.session, consultation).id
    factories.submit_statement(db.session, consultation, "latecomer", "A late idea")
    runner.analyse(db.session, consultation.id)
    privacy.delete_mine(db.session, _newest_participant(), mode)
    assert db.session.get(AnalysisSnapshot, kept) is not None
    assert store.latest_snapshot(db.session, consultation).id == kept


def test_vote_ids_reused_after_a_deletion_never_enter_an_older_snapshot(make_consultation):
    """SQLite hands a deleted vote's id to the next vote; every snapshot kept predates every deleted vote, so the
    votes up to its last vote id are still exactly the votes it was computed from."""
    consultation, sids, _ = make_hand_consultation(make_consultation)
    kept = store.latest_snapshot(db.session, consultation)
    factories.submit_statement(db.session, consultation, "latecomer", "A late idea")
    runner.analyse(db.session, consultation.id)
    privacy.delete_mine(db.session, _newest_participant())
    for sid in sids[:3]:
        factories.cast(db.session, consultation, "newcomer", sid, VoteValue.PASS)
    assert len(snapshot_votes.votes_until(db.session, consultation.id, kept.last_vote_id)) == kept.vote_count
    data = report.build(db.session, consultation)
    assert data["analysis"]["snapshot_id"] == kept.id and data["analysis"]["newer_votes"] == 3
