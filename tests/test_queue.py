"""The RQ analysis queue: one job in flight per consultation, bursts coalesced, nothing lost when a worker dies."""

import os
import subprocess
import sys
import time

import pytest
from rq import SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from participate import jobs
from participate.extensions import db
from participate.models import AnalysisRobustness, AnalysisSnapshot, Vote
from participate.services.snapshots import store


@pytest.fixture
def rq_app(app, redis_url):
    app.config.update(ANALYSIS_RUNNER="rq", REDIS_URL=redis_url, ANALYSIS_DEBOUNCE_SECONDS=0, ANALYSIS_LEASE_SECONDS=30)
    yield app
    jobs.redis_client(app).close()


def _vote_all(client, consultation, word="agree"):
    for statement in consultation.statements:
        response = client.post_json(
            f"/api/v1/consultations/{consultation.slug}/votes", {"statement_id": statement.id, "vote": word}
        )
        assert response.status_code == 201


def _keys(app, consultation_id):
    client = jobs.redis_client(app)
    return (
        client.get(jobs.DIRTY_KEY.format(consultation_id)),
        client.get(jobs.LEASE_KEY.format(consultation_id)),
    )


def _work(app):
    jobs.work(app, burst=True, worker_class=SimpleWorker)


def _max_vote_id(consultation_id):
    return db.session.scalar(select(func.max(Vote.id)).where(Vote.consultation_id == consultation_id))


def test_a_burst_of_votes_enqueues_one_job(rq_app, client, other_client, make_consultation):
    consultation = make_consultation()
    _vote_all(client, consultation)
    _vote_all(other_client, consultation, "disagree")
    assert jobs.queue(rq_app).count == 1
    dirty, lease = _keys(rq_app, consultation.id)
    assert int(dirty) == 6 and lease.decode() == jobs.queue(rq_app).job_ids[0]


def test_the_worker_writes_a_snapshot_with_every_vote_and_releases_the_lease(rq_app, client, make_consultation):
    consultation = make_consultation()
    _vote_all(client, consultation)
    _work(rq_app)
    db.session.expire_all()
    snapshot = db.session.scalars(select(AnalysisSnapshot)).one()
    assert snapshot.last_vote_id == _max_vote_id(consultation.id) and snapshot.vote_count == 3
    assert _keys(rq_app, consultation.id) == (None, None)
    assert jobs.queue(rq_app).count == 0


def test_votes_arriving_during_a_job_get_a_follow_up_job(rq_app, client, other_client, make_consultation, monkeypatch):
    consultation = make_consultation()
    _vote_all(client, consultation)
    real = store.compute_snapshot
    calls = []

    def analyse_while_someone_votes(session, consultation_id, **kwargs):
        calls.append(consultation_id)
        if len(calls) == 1:
            with rq_app.test_request_context():
                _vote_all(other_client, consultation, "disagree")  # bumps the counter; the lease is held
        return real(session, consultation_id, **kwargs)

    monkeypatch.setattr(store, "compute_snapshot", analyse_while_someone_votes)
    _work(rq_app)
    assert calls == [consultation.id, consultation.id]
    db.session.expire_all()
    latest = db.session.scalar(select(func.max(AnalysisSnapshot.last_vote_id)))
    assert latest == _max_vote_id(consultation.id)
    assert _keys(rq_app, consultation.id) == (None, None)


def test_a_job_leaves_the_checks_to_its_follow_up_when_the_consultation_is_asked_for_again(
    rq_app, client, make_consultation, monkeypatch
):
    consultation = make_consultation()
    _vote_all(client, consultation)
    _work(rq_app)  # the first snapshot, checked
    _vote_all(client, consultation, "disagree")
    real = store.compute_snapshot
    calls = []

    def asked_again(session, consultation_id, **kwargs):
        calls.append(consultation_id)
        if len(calls) == 1:
            jobs.rq_request(rq_app, consultation_id)  # bumps the counter while this job holds the lease
        return real(session, consultation_id, **kwargs)

    monkeypatch.setattr(store, "compute_snapshot", asked_again)
    _work(rq_app)
    assert len(calls) == 2
    db.session.expire_all()
    first, busy, quiet = db.session.scalars(select(AnalysisSnapshot).order_by(AnalysisSnapshot.id)).all()
    checked = [db.session.get(AnalysisRobustness, s.id) is not None for s in (first, busy, quiet)]
    assert checked == [True, False, True]


def test_a_failing_analysis_keeps_the_consultation_dirty_for_the_retry(rq_app, client, make_consultation, monkeypatch):
    consultation = make_consultation()
    _vote_all(client, consultation)

    def broken(session, consultation_id, **kwargs):
        raise RuntimeError("worker lost its database")

    monkeypatch.setattr(store, "compute_snapshot", broken)
    _work(rq_app)
    dirty, _ = _keys(rq_app, consultation.id)
    assert int(dirty) == 3  # not cleared: the retry (or the sweeper) analyses these votes


def test_the_sweeper_recovers_a_consultation_left_dirty_by_a_dead_worker(rq_app, client, make_consultation):
    consultation = make_consultation()
    _vote_all(client, consultation)
    redis = jobs.redis_client(rq_app)
    # A worker died mid-job: its job is gone, its lease has expired, the counter is still set.
    jobs.queue(rq_app).empty()
    redis.delete(jobs.LEASE_KEY.format(consultation.id))
    assert jobs.sweep(rq_app) == 1
    assert jobs.sweep(rq_app) == 0  # the new job holds the lease
    _work(rq_app)
    db.session.expire_all()
    assert db.session.scalar(select(func.max(AnalysisSnapshot.last_vote_id))) == _max_vote_id(consultation.id)


def test_a_stale_job_does_nothing_when_another_holds_the_lease(rq_app, client, make_consultation, monkeypatch):
    consultation = make_consultation()
    _vote_all(client, consultation)
    (job_id,) = jobs.queue(rq_app).job_ids
    jobs.redis_client(rq_app).set(jobs.LEASE_KEY.format(consultation.id), "someone-else")
    calls = []
    # A failure raised inside the job would be caught by RQ (the job fails, the test would not): record instead.
    monkeypatch.setattr(store, "compute_snapshot", lambda *a, **k: calls.append(a))
    _work(rq_app)
    assert Job.fetch(job_id, connection=jobs.redis_client(rq_app)).get_status() == JobStatus.FINISHED
    assert calls == []
    assert db.session.scalar(select(func.count()).select_from(AnalysisSnapshot)) == 0
    assert _keys(rq_app, consultation.id)[1] == b"someone-else"


def test_votes_are_acknowledged_when_redis_is_down(app, client, make_consultation):
    app.config.update(ANALYSIS_RUNNER="rq", REDIS_URL="redis://127.0.0.1:1/0")
    consultation = make_consultation()
    _vote_all(client, consultation)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 3


def test_readyz_checks_database_migrations_and_redis(app, client, redis_url):
    body = client.get("/readyz").get_json()
    assert body == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    app.config["REDIS_URL"] = redis_url
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"


def test_readyz_is_unavailable_when_redis_or_migrations_are_not(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["redis"].startswith("unreachable")
    app.config["REDIS_URL"] = None
    db.session.execute(db.text("UPDATE alembic_version SET version_num = 'older'"))
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["migrations"].startswith("at ['older']")


@pytest.mark.slow
def test_an_idle_worker_keeps_waiting_for_jobs(app, redis_url, tmp_path):
    """The worker blocks on Redis for minutes; it must not time out on the shared client's 5 s socket timeout."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "idle-worker-test",
        "PARTICIPATE_ANALYSIS_LEASE_SECONDS": "2",  # the sweeper uses the shared client every second
    }
    with open(tmp_path / "worker.log", "w+") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "participate.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 180  # however busy the machine: the bound only stops a hang
            while "Listening on" not in (tmp_path / "worker.log").read_text() and time.monotonic() < deadline:
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
                time.sleep(0.2)
            assert "Listening on" in (tmp_path / "worker.log").read_text()
            time.sleep(8)  # longer than the client's 5 s socket timeout: the claim is about real seconds
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
        finally:
            worker.terminate()
            worker.wait(20)
