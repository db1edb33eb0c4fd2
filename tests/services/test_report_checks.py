"""Snapshots are frequent, their checks (robustness, integrity) occasional; the report shows the newest checked one."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from participate import jobs
from participate.extensions import db
from participate.models import AnalysisIntegrity, AnalysisRobustness, AnalysisSnapshot, VoteValue, utcnow
from participate.services import report
from participate.services.snapshots import checks, integrity, runner, store
from tests import factories
from tests.factories import PEOPLE, hand_votes, make_hand_consultation

AGREE, DISAGREE = VoteValue.AGREE, VoteValue.DISAGREE


def _checked(snapshot) -> tuple[bool, bool]:
    """(robustness stored, integrity annex stored) for the snapshot."""
    return (
        db.session.get(AnalysisRobustness, snapshot.id) is not None,
        db.session.get(AnalysisIntegrity, snapshot.id) is not None,
    )


def _late_votes(consultation, sids, n=3):
    for i in range(n):
        factories.cast(db.session, consultation, f"late-{i}", sids[0], DISAGREE)


def test_a_run_with_more_coming_stores_a_snapshot_without_checks_and_the_report_keeps_the_checked_one(
    make_consultation,
):
    consultation, sids, _ = make_hand_consultation(make_consultation)  # a quiet run: snapshot and checks
    first = store.latest_snapshot(db.session, consultation)
    assert _checked(first) == (True, True)
    _late_votes(consultation, sids)
    second = runner.analyse(db.session, consultation.id, more_coming=lambda: True)
    assert second.id > first.id and second.vote_count == len(hand_votes()) + 3
    assert _checked(second) == (False, False)
    data = report.build(db.session, consultation)
    assert data["analysis"]["snapshot_id"] == first.id
    assert data["analysis"]["vote_count"] == len(hand_votes())
    assert data["analysis"]["newer_votes"] == 3
    assert data["counts"]["votes"] == len(hand_votes())  # one set of counts: the snapshot's votes
    third = runner.analyse(db.session, consultation.id)  # voting has paused: the latest snapshot gets its checks
    assert _checked(third) == (True, True)
    data = report.build(db.session, consultation)
    assert data["analysis"]["snapshot_id"] == third.id and data["analysis"]["newer_votes"] == 0
    assert data["analysis"]["robustness"]["n_resamples"] == 200


def test_newer_votes_in_the_database_postpone_the_checks(make_consultation, monkeypatch):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    real = store.compute_snapshot

    def someone_votes_meanwhile(session, consultation_id, **kwargs):
        snapshot = real(session, consultation_id, **kwargs)
        _late_votes(consultation, sids, n=1)  # another process's vote, committed after the snapshot read
        return snapshot

    monkeypatch.setattr(store, "compute_snapshot", someone_votes_meanwhile)
    snapshot = runner.analyse(db.session, consultation.id)
    assert _checked(snapshot) == (False, False)


def test_checks_run_anyway_once_the_last_one_is_older_than_the_interval(make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    _late_votes(consultation, sids, n=1)
    recent = runner.analyse(db.session, consultation.id, more_coming=lambda: True, checks_every=3600)
    assert _checked(recent) == (False, False)
    _late_votes(consultation, sids, n=2)
    overdue = runner.analyse(db.session, consultation.id, more_coming=lambda: True, checks_every=0)
    assert _checked(overdue) == (True, True)


def test_the_first_snapshot_is_checked_even_while_votes_keep_coming(make_consultation):
    consultation = make_consultation()
    factories.cast(db.session, consultation, "x", consultation.statements[0].id, AGREE)
    snapshot = runner.analyse(db.session, consultation.id, more_coming=lambda: True)
    assert _checked(snapshot) == (True, True)


def test_pruning_keeps_the_snapshot_the_report_shows(make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    checked = store.latest_snapshot(db.session, consultation).id
    for i in range(store.KEEP_SNAPSHOTS + 2):
        factories.cast(db.session, consultation, f"busy-{i}", sids[1], AGREE)
        runner.analyse(db.session, consultation.id, more_coming=lambda: True)
    ids = db.session.scalars(select(AnalysisSnapshot.id).order_by(AnalysisSnapshot.id)).all()
    assert len(ids) == store.KEEP_SNAPSHOTS + 1 and ids[0] == checked
    assert report.build(db.session, consultation)["analysis"]["snapshot_id"] == checked
    quiet = runner.analyse(db.session, consultation.id)  # the latest is checked: the old checked one may go
    assert report.build(db.session, consultation)["analysis"]["snapshot_id"] == quiet.id
    runner.analyse(db.session, consultation.id)
    assert checked not in db.session.scalars(select(AnalysisSnapshot.id)).all()
    assert db.session.scalar(select(func.count()).select_from(AnalysisSnapshot)) == store.KEEP_SNAPSHOTS


def test_the_integrity_annex_describes_the_snapshots_votes_not_later_ones(make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    snapshot = store.latest_snapshot(db.session, consultation)
    for bot in range(4):  # straight-liners arriving after the snapshot
        for sid in sids:
            factories.cast(db.session, consultation, f"bot-{bot}", sid, DISAGREE)
    annex = integrity.compute(db.session, snapshot).result
    assert annex["straight_liners"] == [] and annex["with_flagged"]["participants"] == PEOPLE
    robustness = checks.compute_robustness(db.session, snapshot).result
    assert robustness["statement_ids"] == snapshot.result["statement_ids"]


def test_the_thread_runner_postpones_checks_while_the_consultation_is_asked_for_again(
    app, make_consultation, monkeypatch
):
    consultation, _, _ = make_hand_consultation(make_consultation)
    app.config.update(ANALYSIS_RUNNER="thread", ANALYSIS_DEBOUNCE_SECONDS=0)
    runner = jobs.runner(app)
    real = store.compute_snapshot
    calls = []

    def asked_again_during_the_first_run(session, consultation_id, **kwargs):
        calls.append(consultation_id)
        snapshot = real(session, consultation_id, **kwargs)
        if len(calls) == 1:
            runner.request(consultation_id)  # e.g. a moderation change: no new vote, but another run is wanted
        return snapshot

    monkeypatch.setattr(store, "compute_snapshot", asked_again_during_the_first_run)
    runner.request(consultation.id)
    assert runner.wait_idle(timeout=30)
    assert calls == [consultation.id, consultation.id]
    db.session.expire_all()
    busy, quiet = db.session.scalars(select(AnalysisSnapshot).order_by(AnalysisSnapshot.id)).all()[-2:]
    assert _checked(busy) == (False, False) and _checked(quiet) == (True, True)


def test_web_processes_share_the_analysis_of_a_consultation(app, make_consultation):
    """A snapshot begun after a request answers it, whichever process made it; only its checks may still be owed."""
    consultation, sids, _ = make_hand_consultation(make_consultation)
    app.config.update(ANALYSIS_RUNNER="thread", ANALYSIS_DEBOUNCE_SECONDS=0)
    _late_votes(consultation, sids)
    # A request made when the latest snapshot began: not answered by it, and before the run below, which begins
    # after a whole analysis has run since (no two moments compared at the clock's grain)
    asked_at = store.latest_snapshot(db.session, consultation).started_at
    assert jobs.snapshot_wanted(app, consultation.id, asked_at, debounce=0) is True
    jobs.run(app, consultation.id, more_coming=lambda: True)  # another process: a snapshot, its checks postponed
    later = utcnow() + timedelta(seconds=1)
    wanted = jobs.snapshot_wanted
    assert wanted(app, consultation.id, asked_at, debounce=60, now=later) is None  # stored just now: ask later
    assert wanted(app, consultation.id, asked_at, debounce=0, now=later) is False  # begun after it: answered
    assert wanted(app, consultation.id, later, debounce=0, now=later) is True  # a later request is not
    assert _checked(store.latest_snapshot(db.session, consultation)) == (False, False)


def test_a_runner_leaves_a_request_answered_by_another_process_to_its_snapshot(app, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    _late_votes(consultation, sids)
    app.config.update(ANALYSIS_RUNNER="thread", ANALYSIS_CHECKS_INTERVAL_SECONDS=3600)
    # The runner's own clock: it moves by the debounce each time the runner waits, and the first wait lasts until
    # the other process's run below has ended, however long that takes on a busy machine.
    other_run_done = threading.Event()
    moment = [utcnow() - timedelta(seconds=1)]

    def wait(seconds):
        assert other_run_done.wait(timeout=60)
        moment[0] = max(moment[0], utcnow()) + timedelta(seconds=seconds)

    this_process = jobs.ThreadRunner(app, debounce=1.5, clock=lambda: moment[0], sleep=wait)
    this_process.request(consultation.id)
    jobs.run(app, consultation.id, more_coming=lambda: True)  # meanwhile another process's run begins and ends
    other_run_done.set()
    snapshots = db.session.scalar(select(func.count()).select_from(AnalysisSnapshot))
    assert this_process.wait_idle(timeout=30)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AnalysisSnapshot)) == snapshots  # no second snapshot
    assert _checked(store.latest_snapshot(db.session, consultation)) == (True, True)  # but the checks it owed
