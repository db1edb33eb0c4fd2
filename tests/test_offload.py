"""Long work off the request path: jobs with a status page, caches shared between processes with one builder per
key, and "where I stand" read from what the analysis runner prepared (issues 21, 23 M4, 26).

Speed is not asserted here (the machine is shared): these tests assert that the requests do no heavy work — the
builders are spies that fail if a request calls them, and the SQL a request sends is counted. ``bench/large.py``
measures the seconds on a million votes.
"""

import io
import zipfile
from pathlib import Path

import pytest
from flask import has_request_context
from sqlalchemy import event, func, select

from participate import background, tasks
from participate.extensions import db
from participate.models import (
    AnalysisSnapshot,
    Job,
    JobStatus,
    ModerationAction,
    ReportVisibility,
    SharedCache,
    SnapshotMember,
)
from participate.services import consultations, moderation, monitoring, report, shared_cache
from participate.services.snapshots import runner, store
from participate.views import report as report_views
from tests import factories
from tests.factories import make_hand_consultation

TINY_EXPORT = Path(__file__).resolve().parent / "analysis" / "data" / "tiny-export"


@pytest.fixture(autouse=True)
def _job_files(app, tmp_path):
    app.config["JOBS_FOLDER"] = str(tmp_path / "jobs")


@pytest.fixture
def statements_sent():
    """Every SQL statement sent from the moment the test asks, as a list (cleared by the test when it likes)."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield sent
    event.remove(db.engine, "before_cursor_execute", record)


# ---- the shared cache ----------------------------------------------------------------------------------------


def test_one_builder_per_key_and_the_others_wait_for_its_value(app):
    name = shared_cache.key("report", None, "x")
    assert shared_cache.take_lease(db.session, name, consultation_id=None)
    assert not shared_cache.take_lease(db.session, name, consultation_id=None)  # a simultaneous miss: not twice
    built = []

    def other_process_finishes(seconds):  # while this caller waits, the lease holder stores its value
        shared_cache.put(db.session, name, b"built elsewhere", consultation_id=None)

    value = shared_cache.get_or_build(
        db.session, name, lambda: built.append(1) or b"mine", consultation_id=None, sleep=other_process_finishes
    )
    assert value == b"built elsewhere" and built == []


def test_a_dead_builders_lease_expires_and_a_failed_build_releases_it(app):
    name = shared_cache.key("pdf", None, "y")
    assert shared_cache.take_lease(db.session, name, consultation_id=None, seconds=-1)  # already expired
    assert shared_cache.take_lease(db.session, name, consultation_id=None)
    assert shared_cache.get_or_build(db.session, name, _fail, consultation_id=None, wait=0) is None  # held
    shared_cache.release(db.session, name)
    with pytest.raises(RuntimeError):
        shared_cache.get_or_build(db.session, name, _fail, consultation_id=None)
    assert shared_cache.get_or_build(db.session, name, lambda: b"ok", consultation_id=None) == b"ok"


def _fail():
    raise RuntimeError("the build failed")


def test_a_held_lease_without_waiting_answers_none_without_building(app):
    name = shared_cache.key("pdf", None, "z")
    assert shared_cache.take_lease(db.session, name, consultation_id=None)
    assert shared_cache.get_or_build(db.session, name, _fail, consultation_id=None, wait=0) is None


def test_old_values_of_a_consultation_are_pruned(make_consultation):
    cid = make_consultation().id
    for i in range(shared_cache.KEEP + 3):
        shared_cache.put(db.session, shared_cache.key("pdf", cid, str(i)), b"x", consultation_id=cid)
    shared_cache.put(db.session, shared_cache.key("monitor", cid, "m"), b"x", consultation_id=cid)
    keys = db.session.scalars(select(SharedCache.key).where(SharedCache.consultation_id == cid)).all()
    assert len([k for k in keys if k.startswith("pdf:")]) == shared_cache.KEEP and f"monitor:{cid}:m" in keys


def test_a_report_built_by_one_process_is_read_by_another(make_consultation, monkeypatch):
    consultation, _, _ = make_hand_consultation(make_consultation)  # the runner built it
    built_here = report.build(db.session, consultation)
    report.forget_built()  # another process: nothing in its memory
    monkeypatch.setattr(report, "build_fresh", _fail)
    again = report.build(db.session, consultation)
    assert again["statements"] == built_here["statements"] and again["groups"] == built_here["groups"]


# ---- where I stand ---------------------------------------------------------------------------------------------


def test_the_runner_records_each_grouped_participants_group(make_consultation):
    consultation, _, people = make_hand_consultation(make_consultation)
    snapshot = store.latest_snapshot(db.session, consultation)
    rows = dict(
        db.session.execute(
            select(SnapshotMember.participant_id, SnapshotMember.group_id).where(
                SnapshotMember.snapshot_id == snapshot.id
            )
        ).all()
    )
    expected = {pid: g["id"] for g in snapshot.result["groups"] for pid in g["members"]}
    assert rows == expected and len(rows) > 0
    assert store.group_id_of(db.session, snapshot.id, people[0].id) == expected.get(people[0].id)


def test_mine_json_for_a_new_voter_does_no_heavy_work(client, make_consultation, no_heavy_work, statements_sent):
    consultation, _, _ = make_hand_consultation(make_consultation)
    consultation.report_visibility = ReportVisibility.PUBLIC
    db.session.commit()
    no_heavy_work()
    client.get("/c/hand")  # a new browser
    statements_sent.clear()
    response = client.get("/c/hand/mine.json")
    assert response.status_code == 200, response.text
    stand = response.get_json()["where_i_stand"]
    assert stand["group"] is None and stand["missing"]
    assert len(statements_sent) < 25, statements_sent
    assert not any("FROM current_vote" in s and "GROUP BY" in s for s in statements_sent)  # no tallies
    assert not any("analysis_snapshot.result" in s for s in statements_sent)  # no snapshot JSON


def test_when_the_report_must_be_rebuilt_mine_json_asks_a_job_and_says_so(
    client, make_consultation, make_account, no_heavy_work, queued
):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    moderation.act(db.session, make_account("admin"), consultation, [sids[9]], ModerationAction.REJECT, "off-topic")
    no_heavy_work()
    response = client.get("/c/hand/mine.json")
    assert response.status_code == 200
    assert "being worked out" in response.get_json()["where_i_stand"]["missing"]
    assert queued == ["report"]


# ---- jobs ------------------------------------------------------------------------------------------------------


def test_a_job_records_progress_and_result_and_a_refusal_in_words(app, make_consultation):
    cid = make_consultation().id
    steps = []

    @background.task("test-ok")
    def ok(session, params, progress):
        progress(50, "Halfway")
        with db.engine.connect() as connection:  # as the status page, in another process, reads it
            steps.append(connection.execute(select(Job.progress, Job.step).where(Job.kind == "test-ok")).one())
        return {"answer": 42}

    @background.task("test-refused")
    def refused(session, params, progress):
        from participate.services import InvalidInput

        raise InvalidInput("Import refused: %(reason)s", reason="no votes")

    try:
        done = background.submit("test-ok", consultation_id=cid)
        db.session.expire_all()
        job = db.session.get(Job, done)
        assert job.status == JobStatus.DONE and job.outcome == {"answer": 42} and job.progress == 100
        assert steps == [(50, "Halfway")]
        failed = db.session.get(Job, background.submit("test-refused", consultation_id=cid))
        assert failed.status == JobStatus.FAILED and failed.error == "Import refused: %(reason)s"
        assert failed.outcome == {"error_params": {"reason": "no votes"}}
    finally:
        background.TASKS.pop("test-ok")
        background.TASKS.pop("test-refused")


def test_once_reuses_a_waiting_job(app, make_consultation, queued):
    cid = make_consultation().id
    first = background.submit("pdf", consultation_id=cid, params={"a": 1}, once=True)
    assert first == background.submit("pdf", consultation_id=cid, params={"a": 1}, once=True)
    assert first != background.submit("pdf", consultation_id=cid, params={"a": 2}, once=True)


def test_read_or_submit_reads_then_asks_one_job_for_all_the_misses(app, make_consultation, queued):
    cid = make_consultation().id
    name = shared_cache.key("monitor", cid, "v1")
    params = {"consultation_id": cid, "version": "v1"}

    def read():
        return shared_cache.get(db.session, name)

    assert background.read_or_submit(read, "monitor", consultation_id=cid, params=params) is None
    assert background.read_or_submit(read, "monitor", consultation_id=cid, params=params) is None
    assert queued == ["monitor", "monitor"]  # asked twice, one job
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == "monitor")) == 1
    shared_cache.put(db.session, name, b"figures", consultation_id=cid)
    assert background.read_or_submit(read, "monitor", consultation_id=cid, params=params) == b"figures"
    assert queued == ["monitor", "monitor"]  # a hit asks no job


def test_read_or_submit_under_the_sync_runner_answers_what_the_job_built(app, make_consultation):
    cid = make_consultation().id
    name = shared_cache.key("test-build", cid, "x")

    @background.task("test-build")
    def build(session, params, progress):
        shared_cache.put(session, name, params["value"].encode(), consultation_id=cid)
        return {}

    try:
        found = background.read_or_submit(
            lambda: shared_cache.get(db.session, name), "test-build", consultation_id=cid, params={"value": "built"}
        )
    finally:
        background.TASKS.pop("test-build")
    assert found == b"built"


def _tiny_zip() -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(TINY_EXPORT.iterdir()):
            archive.write(path, f"tiny/{path.name}")
    buffer.seek(0)
    return buffer


def test_an_import_through_the_form_is_a_job_with_a_status_page(client, login, queued):
    login(client)
    response = client.post_form(
        "/facilitate/import", {"export": (_tiny_zip(), "tiny.zip"), "slug": "tiny"}, content_type="multipart/form-data"
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/facilitate/jobs/")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.text and "<progress" in page.text
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    factories.run_queued()
    done = client.get(response.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"] == "/facilitate/tiny"
    assert not Path(db.session.get(Job, job_id).params["folder"]).exists()  # the upload is removed


def test_a_job_page_is_only_for_its_owner_and_the_consultations_staff(client, other_client, login, queued):
    login(client)
    response = client.post_form(
        "/facilitate/import", {"export": (_tiny_zip(), "tiny.zip")}, content_type="multipart/form-data"
    )
    login(other_client, email="someone-else@example.org")
    assert other_client.get(response.headers["Location"]).status_code == 404
    assert client.get("/facilitate/jobs/not-a-job").status_code == 404


def test_a_refused_import_shows_the_form_again_with_why(client, login):
    login(client)
    response = client.post_form(
        "/facilitate/import", {"export": (io.BytesIO(b"not a zip"), "bad.zip")}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "Import refused" in response.text


# ---- a large consultation's staff pages -------------------------------------------------------------------------


@pytest.fixture
def large(app, make_consultation, login, client):
    """The hand consultation treated as large (so its staff pages take the path a million votes take), with its
    facilitator signed in."""
    app.config["LARGE_VOTES"] = 1
    consultation, _, _ = make_hand_consultation(make_consultation)
    login(client, "admin")
    return consultation


def test_staff_pages_of_a_large_consultation_only_enqueue_and_read(client, large, no_heavy_work, queued):
    slug = large.slug
    no_heavy_work()
    assert client.get(f"/facilitate/{slug}").status_code == 200  # overview
    assert client.get(f"/facilitate/{slug}/moderate").status_code == 200
    assert client.get(f"/c/{slug}/report").status_code == 200  # built by the runner, read from the cache
    monitor = client.get(f"/facilitate/{slug}/monitor")
    assert monitor.status_code == 202 and 'http-equiv="refresh"' in monitor.text
    pdf = client.get(f"/c/{slug}/report.pdf")
    assert pdf.status_code == 202 and "The PDF is being prepared" in pdf.text and f"/c/{slug}/report" in pdf.text
    export = client.get(f"/facilitate/{slug}/export.zip")
    assert export.status_code == 302 and "/facilitate/jobs/" in export.headers["Location"]
    publish = client.post_form(f"/c/{slug}/report/publish", {})
    assert publish.status_code == 302 and "/facilitate/jobs/" in publish.headers["Location"]
    assert queued == ["monitor", "pdf", "export", "publish"]
    again = client.get(f"/c/{slug}/report.pdf")  # asked again while it is being built: no second job
    assert again.status_code == 202 and queued.count("pdf") == 2
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == "pdf")) == 1
    export_again = client.get(f"/facilitate/{slug}/export.zip")  # a second click leads to the same job
    assert export_again.headers["Location"] == export.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == "export")) == 1


def test_the_jobs_then_serve_the_pages_from_the_cache(client, large, queued, monkeypatch):
    slug = large.slug
    client.get(f"/facilitate/{slug}/monitor")
    client.get(f"/c/{slug}/report.pdf")
    export = client.get(f"/facilitate/{slug}/export.zip").headers["Location"]
    publish = client.post_form(f"/c/{slug}/report/publish", {}).headers["Location"]
    factories.run_queued()
    monkeypatch.setattr(report_views, "render_pdf", _fail)
    monkeypatch.setattr(monitoring, "monitor", _fail)
    assert client.get(f"/facilitate/{slug}/monitor").status_code == 200
    pdf = client.get(f"/c/{slug}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.headers["X-Participate-Cache"] == "hit"
    page = client.get(export)
    assert "Download the export" in page.text
    with client.get(export + "/file") as download:
        assert download.status_code == 200 and zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    published = client.get(publish)
    assert published.status_code == 302 and published.headers["Location"].startswith("/r/")


def test_a_published_reports_pdf_is_built_when_it_is_published(client, make_consultation, login, app):
    app.config["PDF_PREBUILD"] = True
    make_hand_consultation(make_consultation)
    login(client, "admin")
    location = client.post_form("/c/hand/report/publish", {}).headers["Location"]
    token = location.rsplit("/", 1)[1]
    assert db.session.scalar(select(Job.status).where(Job.kind == "pdf")) == JobStatus.DONE  # sync runner
    cached = db.session.scalars(select(SharedCache.key).where(SharedCache.key.like("pdf:%"))).all()
    assert len(cached) == 1
    pdf = client.get(f"/r/{token}.pdf")
    assert pdf.status_code == 200 and pdf.headers["X-Participate-Cache"] == "hit"


def test_a_pdf_built_for_its_request_says_so_and_the_next_comes_from_the_cache(client, make_consultation, login):
    make_hand_consultation(make_consultation)
    login(client, "admin")
    first = client.get("/c/hand/report.pdf")  # the sync runner builds it before answering
    assert first.status_code == 200 and first.headers["X-Participate-Cache"] == "miss"
    again = client.get("/c/hand/report.pdf")
    assert again.headers["X-Participate-Cache"] == "hit" and again.data == first.data


def test_tasks_are_registered():
    assert {"import", "export", "pdf", "publish", "report", "monitor"} <= set(background.TASKS)
    assert tasks.import_polis is background.TASKS["import"]


def test_an_import_under_the_sync_runner_is_analysed_once(client, login, monkeypatch):
    analysed = []
    real_analyse = runner.analyse

    def counting(session, consultation_id, **kwargs):
        analysed.append(consultation_id)
        return real_analyse(session, consultation_id, **kwargs)

    monkeypatch.setattr(runner, "analyse", counting)
    login(client)
    response = client.post_form(
        "/facilitate/import", {"export": (_tiny_zip(), "tiny.zip"), "slug": "tiny"}, content_type="multipart/form-data"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/facilitate/tiny"
    tiny = consultations.get_any(db.session, "tiny")
    assert analysed == [tiny.id]
    stored = db.session.scalar(select(func.count()).where(AnalysisSnapshot.consultation_id == tiny.id))
    assert stored == 1


def test_a_job_run_by_the_sync_runner_is_outside_the_request_that_asked(app, make_consultation):
    cid = make_consultation().id
    seen = []

    @background.task("test-context")
    def record(session, params, progress):
        seen.append(has_request_context())
        return {}

    try:
        with app.test_request_context("/"):
            background.submit("test-context", consultation_id=cid)
    finally:
        background.TASKS.pop("test-context")
    assert seen == [False]  # as under the thread and rq runners: a job never sees the request's context
