"""A consultation's analyses rest in proportion to how long they take (``ANALYSIS_MAX_SHARE``)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from participate import jobs
from participate.extensions import db
from participate.models import AnalysisSnapshot, VoteValue, utcnow
from participate.services.snapshots import store
from tests import factories
from tests.factories import make_hand_consultation


@pytest.mark.parametrize(
    "took, debounce, share, expected",
    [
        (10.0, 1.0, 0.2, 40.0),  # 10 s of work, then 40 s of rest: a fifth of the time
        (0.1, 1.0, 0.2, 1.0),  # a small consultation: the debounce, as before
        (10.0, 1.0, 1.0, 1.0),  # no cap
        (3.0, 1.0, 0.5, 3.0),
    ],
)
def test_the_rest_after_an_analysis_is_in_proportion_to_its_length(took, debounce, share, expected):
    computed = utcnow()
    assert jobs.rest(computed - timedelta(seconds=took), computed, debounce, share) == pytest.approx(expected)
    assert jobs.rest(None, computed, debounce, share) == debounce  # a snapshot from before its start was kept


def _took(consultation, seconds: float) -> AnalysisSnapshot:
    """Make the consultation's latest analysis have taken ``seconds``, ending now."""
    latest = store.latest_snapshot(db.session, consultation)
    latest.computed_at = utcnow()
    latest.started_at = latest.computed_at - timedelta(seconds=seconds)
    db.session.commit()
    return latest


def test_a_long_analysis_is_followed_by_a_rest_in_every_process(app, make_consultation):
    consultation, _, _ = make_hand_consultation(make_consultation)
    app.config.update(ANALYSIS_DEBOUNCE_SECONDS=1.0, ANALYSIS_MAX_SHARE=0.2)
    latest = _took(consultation, 10)
    asked = latest.computed_at + timedelta(seconds=0.5)
    computed = latest.computed_at

    def wanted(after: float):
        return jobs.snapshot_wanted(
            app, consultation.id, asked, 1.0, max_share=0.2, now=computed + timedelta(seconds=after)
        )

    assert wanted(5) is None and wanted(39) is None  # resting: ask again later
    assert wanted(41) is True
    assert jobs.snapshot_wanted(app, consultation.id, asked, 1.0, now=computed + timedelta(seconds=5)) is True  # no cap
    assert jobs.rest_left(app, consultation.id, now=computed + timedelta(seconds=15)) == pytest.approx(25)
    assert jobs.rest_left(app, consultation.id, now=computed + timedelta(seconds=45)) == 0


def test_the_thread_runner_waits_out_the_rest_then_analyses_once(app, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    app.config.update(ANALYSIS_RUNNER="thread", ANALYSIS_MAX_SHARE=0.2, ANALYSIS_CHECKS_INTERVAL_SECONDS=3600)
    factories.cast(db.session, consultation, "late", sids[0], VoteValue.AGREE)
    took = _took(consultation, 10)
    computed, counted = took.computed_at, took.vote_count
    before = db.session.scalar(select(func.count()).select_from(AnalysisSnapshot))
    moment = [computed]

    def sleep(seconds):  # the runner's clock moves only when it waits
        moment[0] += timedelta(seconds=seconds)

    runner = jobs.ThreadRunner(app, debounce=1.0, clock=lambda: moment[0], sleep=sleep)
    runner.request(consultation.id)
    assert runner.wait_idle(timeout=60)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(AnalysisSnapshot)) == before + 1
    assert store.latest_snapshot(db.session, consultation).vote_count == counted + 1  # with the late vote
    waited = (moment[0] - computed).total_seconds()
    assert 40 <= waited <= 42  # the rest (4 x 10 s), to the debounce's grain, and not a wait more
